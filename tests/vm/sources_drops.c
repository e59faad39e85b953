// SPDX-License-Identifier: GPL-2.0
/*
 * sources_drops.c - exact drop accounting of kernel event sources: a
 * 64-slot /dev/lfq MPSC queue, SYNTH producers flat out (2 kernel
 * threads and a hardirq hrtimer) and a consumer that sleeps 1 ms per
 * batch. Every producer's sequence must be strictly increasing, records
 * seen + lfq_stats.dropped must equal records produced, exactly, the
 * per-producer gaps must add up to the drops, nothing may arrive after
 * the accounts balance, and the slow consumer must really have caused
 * drops.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "sources_util.h"
#include "tap.h"
#include "test_util.h"

#define B_SLOTS		64u
#define B_SLOT_SIZE	64u
#define B_THREAD_COUNT	50000u
#define B_TIMER_COUNT	5000u

static void test_drop_accounting(void)
{
	static struct synth_set syn;
	struct lfq *q = mpsc_queue_or_exit(B_SLOT_SIZE, B_SLOTS);
	struct lfq_source s_thr = synth(2, 0, 0, B_THREAD_COUNT, 0);
	struct lfq_source s_tmr = synth(0, 1, 0, B_TIMER_COUNT, 100 * 1000);
	const uint64_t total = 2ull * B_THREAD_COUNT + B_TIMER_COUNT;
	int fd = lfq_fd(q), id1, id2, got, left, i;
	uint64_t seen = 0, other = 0, batches = 0;
	int64_t t0, deadline;
	struct synth_sum r;
	struct lfq_stats s;
	const void *span;

	synth_start(&syn);
	t0 = syn.t0;
	deadline = t0 + 120 * SEC;
	synth_expect(&syn, LFQ_CONTEXT_THREAD, 0, 2, B_THREAD_COUNT);
	synth_expect(&syn, LFQ_CONTEXT_HARDIRQ, 0, 1, B_TIMER_COUNT);
	id1 = ioc_source_attach(fd, &s_thr);
	id2 = ioc_source_attach(fd, &s_tmr);
	tap_ok(id1 >= 0 && id2 >= 0,
	       "64-slot ring: attach SYNTH 2 threads x 50000 flat out and a hardirq timer x 5000 (%d, %d)",
	       id1, id2);
	for (;;) {
		got = lfq_peek(q, B_SLOTS, &span);
		if (got > 0) {
			for (i = 0; i < got; i++) {
				const struct lfq_event *h = (const void *)
					((const unsigned char *)span +
					 (size_t)i * B_SLOT_SIZE);

				if (h->type == LFQ_EVENT_SYNTH)
					synth_note(&syn, (const void *)h);
				else
					other++;
			}
			lfq_release(q, (uint32_t)got);
			seen += (uint64_t)got;
			batches++;
		} else {
			drained_or_exit(got);
		}
		get_stats(q, &s);
		if (seen + s.dropped >= total || now_ns() > deadline)
			break;
		/* The slow consumer: the producers outrun it and drop. */
		msleep(1);
	}
	tap_diag("slow consumer: %llu seen + %llu dropped of %llu in %.2f s, %llu batches",
		 (unsigned long long)seen, (unsigned long long)s.dropped,
		 (unsigned long long)total, (now_ns() - t0) / 1e9,
		 (unsigned long long)batches);
	/* Nothing may trickle in after the accounts balance. */
	msleep(200);
	left = lfq_peek(q, B_SLOTS, &span);
	get_stats(q, &s);
	r = synth_sum(&syn, 0);
	if (!tap_ok(seen + s.dropped == total && left == -EAGAIN && !other,
		    "records seen + stats.dropped == records produced, exactly (%llu + %llu == %llu)",
		    (unsigned long long)seen, (unsigned long long)s.dropped,
		    (unsigned long long)total))
		tap_diag("  leftover: lfq_peek %d (want -EAGAIN), non-synth %llu",
			 left, (unsigned long long)other);
	if (!tap_ok(!r.bad && !r.time_bad && !syn.stray && !syn.hdr_bad,
		    "every producer's seqs strictly increasing, producers and contexts right"))
		tap_diag("  bad %llu time_bad %llu stray %llu header %llu",
			 (unsigned long long)r.bad,
			 (unsigned long long)r.time_bad,
			 (unsigned long long)syn.stray,
			 (unsigned long long)syn.hdr_bad);
	if (!tap_ok(r.missing == s.dropped && r.seen == seen,
		    "the per-producer gaps add up to stats.dropped (%llu)",
		    (unsigned long long)s.dropped))
		tap_diag("  missing %llu (gaps %llu), seen by producer %llu",
			 (unsigned long long)r.missing,
			 (unsigned long long)r.gaps,
			 (unsigned long long)r.seen);
	tap_ok(s.dropped > 0 && s.dropped < total,
	       "the slow consumer really caused drops (%llu of %llu)",
	       (unsigned long long)s.dropped, (unsigned long long)total);
	tap_ok(s.produced == seen && s.consumed == seen,
	       "stats: produced %llu == consumed %llu == records seen",
	       (unsigned long long)s.produced, (unsigned long long)s.consumed);
	lfq_close(q);
}

int main(void)
{
	tap_plan(6);
	test_drop_accounting();
	return tap_done();
}
