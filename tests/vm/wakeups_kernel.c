// SPDX-License-Identifier: GPL-2.0
/*
 * wakeups_kernel.c - lost-wakeup hunt with kernel producers: sleep/wake
 * cycles where every record comes from kernel code (an hrtimer in hardirq
 * context, one in softirq context, a kernel thread, or an NMI an hrtimer
 * raises, in turn) and the consumer sleeps for it in LFQ_IOC_WAIT.
 *
 * Each cycle attaches a SYNTH source that produces one record, 10 us
 * later (the shortest timer period) or at once (the thread), and sleeps
 * for it straight away: the record's commit races the consumer's arming,
 * its heavy fence (the queue is asymmetric by default: the kernel
 * producer publishes with a compiler barrier only, and the sleeper sends
 * an IPI to every CPU) and its last check. A wait that times out (5 s)
 * is a lost wakeup. Each record must say the context it was committed
 * in (an NMI producer's, LFQ_CONTEXT_NMI: its NMI really came).
 *
 * With -e, the queue is elastic (LFQ_CREATE_ELASTIC, 8-slot segments):
 * asymmetric as a fixed one. Every 16th cycle is then a burst of BURST
 * records from the kernel thread, more than a segment holds, which the
 * consumer takes one wait at a time: its waits meet producers that
 * sealed a segment and went on in the next, and its re-count after the
 * heavy fence follows the link (lfq_seg_ready_data()). A wait that
 * returns must leave a record to pop: a consumer that drained a sealed
 * segment whose successor holds nothing yet is not ready (liblfq once
 * answered "a segment to move to" there, and the pop found nothing). A
 * burst record a kernel producer drops (no spare segment pooled yet) is
 * counted, not waited for: the consumer waits in slices and reads the
 * drop count between them (a drop counted after its check must not read
 * as a lost wakeup); the queue must have grown.
 *
 * Usage: wakeups_kernel [-e] [CYCLES] (default 100000). Runs in the test
 * VM with lfq.ko loaded, as root (sources need CAP_PERFMON).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define CYCLES		100000u
#define WAIT_NS		5000000000ll
#define SLICES		500	/* -e: a wait in 10 ms slices */

#define NCTX		4
#define BURST		12u	/* -e: records of a burst (segments of 8) */
static const char *const ctx_name[NCTX] = {
	"hardirq", "softirq", "thread", "nmi"
};
static const uint32_t ctx_want[NCTX] = {
	LFQ_CONTEXT_HARDIRQ, LFQ_CONTEXT_SOFTIRQ, LFQ_CONTEXT_THREAD,
	LFQ_CONTEXT_NMI
};

/*
 * Wait for the next record of a cycle, @left of them still to come. On
 * an elastic queue they may have been dropped (counted in stats.dropped
 * from @dropped0 on): wait in slices and look between them. Returns 0
 * (a record is ready), 1 (the rest was dropped) or the wait's error.
 */
static int wait_or_dropped(struct lfq *q, int elastic, uint32_t left,
			   uint64_t dropped0, struct lfq_stats *st)
{
	int err = -ETIMEDOUT, k;

	if (!elastic)
		err = lfq_wait_data(q, 1, WAIT_NS);
	for (k = 0; elastic && k < SLICES; k++) {
		err = lfq_wait_data(q, 1, WAIT_NS / SLICES);
		if (err != -ETIMEDOUT)
			break;
		lfq_get_stats(q, st);
		if (st->dropped - dropped0 >= left)
			return 1;
	}
	if (err)
		lfq_get_stats(q, st);
	return err;
}

int main(int argc, char **argv)
{
	int elastic = argc > 1 && !strcmp(argv[1], "-e");
	uint32_t cycles = argc > 1 + elastic ?
			  (uint32_t)strtoul(argv[1 + elastic], NULL, 0) : CYCLES;
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = 64, .slot_count = 64);
	struct lfq_info info = { .size = sizeof(info) };
	uint64_t per_ctx[NCTX] = { 0 }, bad = 0, sleeps0, sent = 0;
	uint64_t received = 0;
	struct lfq_stats st = { .size = sizeof(st) };
	uint32_t i, lost_at = UINT32_MAX, attach_err = 0;
	struct lfq *q;
	int64_t t0, dt;

	tap_plan(4);
	if (!cycles)
		cycles = CYCLES;
	if (elastic) {
		o.flags = LFQ_CREATE_ELASTIC;
		o.slot_size = 512;
		o.slot_count = 8;
		o.seg_min = 4;	/* spares for kernel producers */
		o.seg_max = 8;
	}
	q = queue_or_exit(&o);
	/* Every wait takes the sleep path. */
	lfq_set_wait_spin(q, 0);
	if (ioctl(lfq_fd(q), LFQ_IOC_INFO, &info))
		info.wake_mode = ~0u;
	tap_ok(info.wake_mode == LFQ_WAKE_ASYMMETRIC,
	       "the %s queue fences wakeups asymmetrically (wake_mode %u)",
	       elastic ? "elastic" : "fixed", info.wake_mode);
	lfq_get_stats(q, &st);
	sleeps0 = st.waits;
	t0 = now_ns();
	for (i = 0; i < cycles; i++) {
		int burst = elastic && i % 16 == 15;
		unsigned int ctx = burst ? 2 : i % NCTX;
		uint32_t n = burst ? BURST : 1, got;
		struct lfq_source s = {
			.size = sizeof(s), .type = LFQ_SOURCE_SYNTH, .count = n,
			.hardirq_timers = ctx == 0 || ctx == 3,
			.softirq_timers = ctx == 1, .threads = ctx == 2,
			.flags = ctx == 3 ? LFQ_SOURCE_SYNTH_NMI : 0,
			.timer_period_ns = ctx != 2 ?
				LFQ_SYNTH_TIMER_PERIOD_MIN_NS : 0,
		};
		struct lfq_event_synth ev;
		uint64_t next = 0, dropped0;
		int id, err;

		/* Before the attach: a record may drop at once. */
		lfq_get_stats(q, &st);
		dropped0 = st.dropped;
		id = lfq_source_attach(q, &s);
		if (id < 0) {
			if (attach_err++ < 3)
				tap_diag("cycle %u: attach: %s", i, strerror(-id));
			break;
		}
		sent += n;
		for (got = 0; got < n; got++) {
			err = wait_or_dropped(q, elastic, n - got, dropped0,
					      &st);
			if (err == 1)
				break;	/* the rest was dropped, and counted */
			if (err) {
				tap_diag("cycle %u (%s): wait %u of %u: %s (%llu produced, %llu consumed, %llu dropped)",
					 i, ctx_name[ctx], got, n,
					 err == -ETIMEDOUT ?
					 "timed out (lost wakeup)" :
					 strerror(-err),
					 (unsigned long long)st.produced,
					 (unsigned long long)st.consumed,
					 (unsigned long long)st.dropped);
				lost_at = i;
				break;
			}
			memset(&ev, 0, sizeof(ev));
			err = lfq_pop(q, &ev, sizeof(ev));
			if (err || ev.hdr.type != LFQ_EVENT_SYNTH || ev.seq < next ||
			    ev.seq >= n || ev.context != ctx_want[ctx]) {
				if (bad++ < 3)
					tap_diag("cycle %u (%s): pop %s: type %u seq %llu context %u",
						 i, ctx_name[ctx], ename(-err),
						 ev.hdr.type,
						 (unsigned long long)ev.seq,
						 ev.context);
			} else {
				next = ev.seq + 1;
				per_ctx[ctx]++;
				received++;
			}
		}
		lfq_source_detach(q, id);
		if (lost_at != UINT32_MAX)
			break;
	}
	dt = now_ns() - t0;
	lfq_get_stats(q, &st);
	tap_diag("%u cycles in %.2f s (%.1f us each); %llu sleeps, %llu wakeups, %llu dropped",
		 i, dt / 1e9, i ? dt / 1e3 / i : 0.0,
		 (unsigned long long)(st.waits - sleeps0),
		 (unsigned long long)st.wakeups,
		 (unsigned long long)st.dropped);
	tap_ok(lost_at == UINT32_MAX && !attach_err && i == cycles,
	       "%u sleep/wake cycles with kernel producers (hardirq %llu, softirq %llu, thread %llu, NMI %llu): no wait timed out",
	       cycles, (unsigned long long)per_ctx[0],
	       (unsigned long long)per_ctx[1], (unsigned long long)per_ctx[2],
	       (unsigned long long)per_ctx[3]);
	if (elastic)
		tap_ok(!bad && received + st.dropped == sent && st.grows > 0,
		       "every record arrived whole and in order, from the context asked for, or was dropped and counted (%llu sent, %llu received, %llu dropped while no spare was pooled, %llu bad); the bursts crossed segments (%llu grows, %llu shrinks)",
		       (unsigned long long)sent,
		       (unsigned long long)received,
		       (unsigned long long)st.dropped,
		       (unsigned long long)bad,
		       (unsigned long long)st.grows,
		       (unsigned long long)st.shrinks);
	else
		tap_ok(!bad && !st.dropped && received == sent,
		       "every cycle's record arrived whole, from the context asked for, none dropped (%llu bad)",
		       (unsigned long long)bad);
	/*
	 * The consumer slept in many cycles: the race was really run (the
	 * stock kernel sleeps in about a third, the debug kernel, whose
	 * arming and IPIs are slower, in about a fifth).
	 */
	tap_ok(st.waits - sleeps0 >= cycles / 10,
	       "the consumer slept in %llu of %u cycles (at least a tenth)",
	       (unsigned long long)(st.waits - sleeps0), cycles);
	lfq_close(q);
	return tap_done();
}
