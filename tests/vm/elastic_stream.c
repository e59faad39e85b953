// SPDX-License-Identifier: GPL-2.0
/*
 * elastic_stream.c - a long stream through an elastic /dev/lfq queue that
 * grows and shrinks all along loses, duplicates and reorders nothing:
 *
 *   - SPSC: one producer process, one consumer process;
 *   - MPSC: four producer processes, a handle each, one consumer;
 *   - MPSC: kernel producers (an LFQ_SOURCE_SYNTH source's threads, flat
 *     out) with 63 spare segments at rest (seg_min 64) and seg_max far
 *     above what the consumer's pauses need. Kernel producers drop a
 *     record when the pool is empty; its low-water mark doubles each time
 *     until the refill keeps up, so drops stay under 0.1% (-D, default
 *     MAX_DROP_PPM)
 *     and each producer's gaps are exactly the records counted dropped.
 *
 * Every producer numbers its messages; the consumer checks each one's
 * integrity and that every producer's numbers arrive once each, in
 * order. The consumer pauses now and then, so that the producers fill
 * segment after segment (the queue grows) and the consumer then drains
 * them (they retire: it shrinks); the queue's counters must show at least
 * CYCLES grows and CYCLES shrinks in each case. A consumer that gets
 * SIGBUS (a frame whose segment is gone) fails the rest of its case, and
 * the next case runs.
 *
 * Usage: elastic_stream [-n MESSAGES] [-k RECORDS] [-c CYCLES] [-T THREADS]
 *		       [-D PPM]
 *	-n  messages per process case (default 10^8)
 *	-k  kernel-produced records (default: as -n)
 *	-c  grows and shrinks each case must reach (default 10^4)
 *	-T  SYNTH threads (default 2)
 *	-D  kernel drops allowed, per million records (default 1000); the
 *	    debug kernels' refill work runs 10-50 times slower than their
 *	    producers' hot loop under TCG, so their run allows more
 *
 * Runs in the test VM with lfq.ko loaded, as root (SYNTH needs
 * CAP_PERFMON or CAP_SYS_ADMIN).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "elastic_util.h"
#include "lfq_event.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define SLOT		64u	/* process messages: one per slot */
#define SEG		1024u	/* slots per segment: 64 KiB */
#define SEG_MIN		2u
#define SEG_MAX		64u
#define NPROD_MPSC	4u
#define BATCH		64u
#define K_SLOT		32u	/* sizeof(struct lfq_event_synth) */
#define K_SEG		512u	/* kernel case: 16 KiB segments */
#define K_SEG_MIN	64u	/* 63 spares at rest */
#define K_SEG_MAX	1024u
#define WAIT_NS		(10ll * 1000000000)
#define STALL_NS	(60ll * 1000000000)	/* no progress: give up */
#define MAGIC		0x6c66712d656c6153ull
#define MAX_DROP_PPM	1000	/* kernel case: records per million */

static uint64_t max_drop_ppm = MAX_DROP_PPM;

struct msg {
	uint64_t magic;
	uint32_t producer;
	uint32_t pad;
	uint64_t seq;
	uint64_t check;
	uint64_t fill[4];
};

_Static_assert(sizeof(struct msg) == SLOT, "one message per slot");

static uint64_t n_msgs = 100000000ull, k_recs, cycles = 10000;
static unsigned int k_threads = 2;

/*
 * A consumer that touches a frame whose segment is gone gets SIGBUS: the
 * case then fails its remaining checks, and the next case runs.
 */
#define CASE_CHECKS	5	/* per case, after the kernel case's attach */
static sigjmp_buf case_jmp;
static void *volatile fault_addr, *volatile fault_pc;
static pid_t case_pids[NPROD_MPSC];
static unsigned int case_nprod;

/* Where the faulting instruction was (addr2line -f -i -e this binary). */
static void *fault_ip(void *uc)
{
#if defined(__x86_64__)
	return (void *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#else
	(void)uc;
	return NULL;
#endif
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	fault_pc = fault_ip(uc);
	siglongjmp(case_jmp, sig);
}

/* A producer's SIGBUS: say where, then die of it as the parent expects. */
static void on_producer_sigbus(int sig, siginfo_t *si, void *uc)
{
	char line[128];
	int n = snprintf(line, sizeof(line),
			 "# producer %d: SIGBUS at %p, pc %p\n", (int)getpid(),
			 si->si_addr, fault_ip(uc));

	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* After a SIGBUS: stop the case's producers, fail what is left of it. */
static void case_crashed(const char *name, int end, uint64_t seen)
{
	unsigned int i;

	tap_diag("%s: the consumer got SIGBUS at %p, pc %p, after %llu messages (a frame with no live segment)",
		 name, fault_addr, fault_pc, (unsigned long long)seen);
	for (i = 0; i < case_nprod; i++) {
		kill(case_pids[i], SIGKILL);
		waitpid(case_pids[i], NULL, 0);
	}
	case_nprod = 0;
	while (tap_n < end)
		tap_ok(0, "%s: not reached: the consumer got SIGBUS", name);
}

static uint64_t msg_check(uint32_t producer, uint64_t seq)
{
	uint64_t x = (seq + 1) * 0x9e3779b97f4a7c15ull ^
		     ((uint64_t)producer << 56);

	return x ^ (x >> 29);
}

/* What the consumer saw of a case. */
struct run {
	uint64_t seen, corrupt, pauses, grown, seg_high, empty_waits, gapdiag;
	int64_t pause_ns;
	int timeout;
	double secs;
};

/*
 * Messages between two pauses of the consumer: about CYCLES / @per
 * pauses, each long enough for the producers to fill a few segments.
 */
static uint64_t pause_every(uint64_t total, uint64_t per)
{
	return per * total / cycles > 4096 ? per * total / cycles : 4096;
}

/*
 * The consumer's pause: it sleeps @ms, then looks at how many segments
 * the producers filled meanwhile.
 */
static void pause_and_look(struct lfq *q, struct run *r, unsigned int ms)
{
	struct lfq_stats st;
	int64_t t0 = now_ns();

	msleep(ms);
	st = el_stats(q);
	r->pauses++;
	if (st.segments > 1)	/* more than the one live at rest */
		r->grown++;
	if (st.segments > r->seg_high)
		r->seg_high = st.segments;
	r->pause_ns += now_ns() - t0;
}

/* A producer process: @count messages numbered 0.., as producer @id. */
static void produce(struct lfq *q, uint32_t id, uint64_t count)
{
	struct sigaction sa = { .sa_sigaction = on_producer_sigbus,
				.sa_flags = SA_SIGINFO };
	struct msg m = { .magic = MAGIC, .producer = id };
	unsigned int spins;
	uint64_t seq;
	int err;

	sigaction(SIGBUS, &sa, NULL);	/* the consumer's is not ours */

	/*
	 * The consumer first: it keeps up but when it pauses. (Producers
	 * that outrun it for good keep an MPSC queue at seg_max, where the
	 * segments it drained wait for the periodic reclaim.)
	 */
	if (nice(10) < 0)
		tap_diag("producer %u: nice: %s", id, strerror(errno));
	for (seq = 0; seq < count; seq++) {
		m.seq = seq;
		m.check = msg_check(id, seq);
		m.fill[seq & 3] = seq;
		spins = 0;
		while ((err = lfq_push(q, &m, sizeof(m))) == -EAGAIN) {
			/* At seg_max: let the consumer catch up. */
			if (spins++ < 8)
				sched_yield();
			else
				usleep(100);
		}
		if (err) {
			tap_diag("producer %u: lfq_push of seq %llu: %d (%s)",
				 id, (unsigned long long)seq, err, ename(-err));
			_exit(2);
		}
	}
	_exit(0);
}

/* Check and account the messages of one peeked span. */
static void check_msgs(const struct msg *m, uint32_t n, struct el_seq *t,
		       uint32_t nprod, struct run *r)
{
	uint32_t i;

	for (i = 0; i < n; i++, m++) {
		if (m->magic != MAGIC || m->producer >= nprod ||
		    m->check != msg_check(m->producer, m->seq)) {
			if (r->corrupt++ < 3)
				tap_diag("  corrupt message: magic %llx producer %u seq %llu",
					 (unsigned long long)m->magic,
					 m->producer,
					 (unsigned long long)m->seq);
			continue;
		}
		el_seq_note(&t[m->producer], m->seq, "producer", m->producer);
	}
}

/* Consume @total messages from @nprod producer processes. */
static void consume(struct lfq *q, struct el_seq *t, uint32_t nprod,
		    uint64_t total, struct run *r)
{
	uint64_t every = pause_every(total, 2), next_pause = every;
	int64_t t0 = now_ns();
	const void *span;
	int got, err;

	while (r->seen < total) {
		got = lfq_peek(q, BATCH, &span);
		if (got == -EAGAIN) {
			r->empty_waits++;
			err = lfq_wait_data(q, 1, WAIT_NS);
			if (err == -ETIMEDOUT) {
				tap_diag("  no message for 10 s after %llu",
					 (unsigned long long)r->seen);
				r->timeout = 1;
				break;
			}
			continue;
		}
		if (got < 0) {
			tap_diag("  lfq_peek: %d (%s)", got, ename(-got));
			r->timeout = 1;
			break;
		}
		check_msgs(span, (uint32_t)got, t, nprod, r);
		lfq_release(q, (uint32_t)got);
		r->seen += (uint64_t)got;
		if (r->seen >= next_pause) {
			pause_and_look(q, r, 1);
			next_pause += every;
		}
	}
	r->secs = (now_ns() - t0) / 1e9;
}

/* Both counters reached the cycles asked for; report them either way. */
static void check_cycles(const char *name, const struct lfq_stats *st,
			 const struct run *r)
{
	tap_ok(st->grows >= cycles && st->shrinks >= cycles,
	       "%s: %llu grows and %llu shrinks (>= %llu each), peak %llu segments",
	       name, (unsigned long long)st->grows,
	       (unsigned long long)st->shrinks, (unsigned long long)cycles,
	       (unsigned long long)st->segments_peak);
	tap_ok(r->pauses && r->grown * 2 >= r->pauses,
	       "%s: the queue grew (more than one live segment) in %llu of %llu consumer pauses (>= half), up to %llu segments",
	       name, (unsigned long long)r->grown,
	       (unsigned long long)r->pauses,
	       (unsigned long long)r->seg_high);
}

/* One process case: @nprod producer processes into an elastic queue. */
static void test_processes(uint32_t type, uint32_t nprod, const char *name)
{
	static struct el_seq t[NPROD_MPSC];
	static struct run r;
	struct lfq *q = el_queue(type, SLOT, SEG, SEG_MIN, SEG_MAX);
	pid_t *pids = case_pids;
	struct lfq_stats st;
	struct el_seq_sum sum;
	int children_ok = 1, left, end = tap_n + CASE_CHECKS;
	const void *span;
	uint32_t i;

	memset(t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	if (sigsetjmp(case_jmp, 1)) {
		case_crashed(name, end, r.seen);
		lfq_close(q);
		return;
	}
	for (i = 0; i < nprod; i++) {
		t[i].count = n_msgs / nprod + (i < n_msgs % nprod);
		fflush(stdout);
		pids[i] = fork();
		if (pids[i] == 0) {
			struct lfq *p = q;

			/* MPSC: a handle (and a claim) of its own. */
			if (type == LFQ_TYPE_MPSC && !(p = open_fd(lfq_fd(q))))
				_exit(3);
			produce(p, i, t[i].count);
		}
		case_nprod = i + 1;
	}
	consume(q, t, nprod, n_msgs, &r);
	case_nprod = 0;
	if (r.timeout)
		for (i = 0; i < nprod; i++)
			kill(pids[i], SIGKILL);
	for (i = 0; i < nprod; i++)
		if (child_ok(pids[i]))
			children_ok = 0;
	/* Nothing more may come. */
	left = lfq_peek(q, 1, &span);
	st = el_stats(q);
	sum = el_seq_sum(t, nprod);
	tap_ok(children_ok && !r.timeout && left == -EAGAIN,
	       "%s: %u producer process(es) pushed %llu messages, the consumer took %llu in %.1f s (%.0f/s)",
	       name, nprod, (unsigned long long)n_msgs,
	       (unsigned long long)r.seen, r.secs,
	       r.secs > 0 ? r.seen / r.secs : 0.0);
	if (!tap_ok(sum.complete && !r.corrupt && r.seen == n_msgs,
		    "%s: every message intact, once, in its producer's order (lost %llu, gaps %llu, repeated or reordered %llu, corrupt %llu)",
		    name, (unsigned long long)sum.missing,
		    (unsigned long long)sum.gaps,
		    (unsigned long long)sum.bad,
		    (unsigned long long)r.corrupt))
		tap_diag("  seen %llu of %llu", (unsigned long long)sum.seen,
			 (unsigned long long)sum.count);
	tap_ok(st.produced == n_msgs && st.consumed == n_msgs &&
	       st.dropped == 0,
	       "%s: stats produced %llu, consumed %llu, dropped %llu; %llu full events, %llu empty waits",
	       name, (unsigned long long)st.produced,
	       (unsigned long long)st.consumed,
	       (unsigned long long)st.dropped,
	       (unsigned long long)st.full_events,
	       (unsigned long long)r.empty_waits);
	tap_diag("%s: %llu pauses took %.1f s", name,
		 (unsigned long long)r.pauses, r.pause_ns / 1e9);
	check_cycles(name, &st, &r);
	lfq_close(q);
}

/* Drain SYNTH records into the per-producer accounts. */
static uint64_t take_records(struct lfq *q, struct el_seq *t, struct run *r)
{
	const struct lfq_event_synth *e;
	uint64_t n = 0;
	const void *span;
	int got, i;

	while ((got = lfq_peek(q, BATCH, &span)) > 0) {
		e = span;
		for (i = 0; i < got; i++, e++) {
			if (e->hdr.type != LFQ_EVENT_SYNTH ||
			    e->hdr.size != sizeof(*e) ||
			    e->context != LFQ_CONTEXT_THREAD ||
			    e->producer >= k_threads) {
				if (r->corrupt++ < 3)
					tap_diag("  stray record: type %u size %u producer %u context %u",
						 e->hdr.type, e->hdr.size,
						 e->producer, e->context);
				continue;
			}
			if (el_seq_note(&t[e->producer], e->seq, "synth thread",
					e->producer) > 0 && r->gapdiag++ < 5)
				tap_diag("  gap before seq %llu of thread %u (total gaps %llu)",
					 (unsigned long long)e->seq, e->producer,
					 (unsigned long long)t[e->producer].gaps);
		}
		lfq_release(q, (uint32_t)got);
		n += (uint64_t)got;
	}
	if (got != -EAGAIN) {
		tap_diag("  lfq_peek: %d (%s)", got, ename(-got));
		r->timeout = 1;
	}
	return n;
}

/* Kernel producers: SYNTH threads flat out into an elastic MPSC queue. */
static void test_kernel(void)
{
	static struct el_seq t[LFQ_SYNTH_PRODUCERS_MAX];
	struct lfq *q = el_queue(LFQ_TYPE_MPSC, K_SLOT, K_SEG, K_SEG_MIN,
				 K_SEG_MAX);
	struct lfq_source src = {
		.size = sizeof(src), .type = LFQ_SOURCE_SYNTH,
		.threads = k_threads, .count = k_recs / k_threads,
	};
	uint64_t total = src.count * k_threads, every, next_pause, n;
	int64_t t0, last;
	struct el_seq_sum sum;
	struct lfq_stats st;
	static struct run r;
	uint32_t i;
	int id, end = tap_n + 1 + CASE_CHECKS;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < k_threads; i++)
		t[i].count = src.count;
	every = pause_every(total, 1);
	next_pause = every;
	id = lfq_source_attach(q, &src);
	if (!tap_ok(id >= 0,
		    "kernel: SYNTH, %u threads x %llu records, into an elastic MPSC queue of %u-slot segments, seg_min %u, seg_max %u (%d)",
		    k_threads, (unsigned long long)src.count, K_SEG, K_SEG_MIN,
		    K_SEG_MAX, id)) {
		while (tap_n < end)
			tap_ok(0, "kernel: not run (no source)");
		lfq_close(q);
		return;
	}
	if (sigsetjmp(case_jmp, 1)) {
		case_crashed("kernel", end, r.seen);
		lfq_source_detach(q, id);
		lfq_close(q);
		return;
	}
	t0 = last = now_ns();
	for (;;) {
		n = take_records(q, t, &r);
		r.seen += n;
		if (n)
			last = now_ns();
		if (r.timeout)
			break;
		st = el_stats(q);
		if (r.seen + st.dropped >= total)
			break;
		if (now_ns() - last > STALL_NS) {
			tap_diag("  no record for 60 s after %llu",
				 (unsigned long long)r.seen);
			r.timeout = 1;
			break;
		}
		if (r.seen >= next_pause) {
			pause_and_look(q, &r, 2);
			next_pause += every;
		} else if (!n) {
			r.empty_waits++;
			lfq_wait_data(q, 1, 100 * 1000000ll);
		}
	}
	r.secs = (now_ns() - t0) / 1e9;
	/* Nothing may trickle in after the accounts balance. */
	msleep(100);
	n = take_records(q, t, &r);
	st = el_stats(q);
	sum = el_seq_sum(t, k_threads);
	tap_ok(!r.timeout && !n &&
	       st.dropped * 1000000 <= total * max_drop_ppm,
	       "kernel: %llu records in %.1f s (%.0f/s), dropped %llu while the pool was empty (%.4f%%, at most %.1f%%), %llu after the end",
	       (unsigned long long)r.seen, r.secs,
	       r.secs > 0 ? r.seen / r.secs : 0.0,
	       (unsigned long long)st.dropped, 100.0 * st.dropped / total,
	       max_drop_ppm / 1e4, (unsigned long long)n);
	if (!tap_ok(!sum.bad && !r.corrupt && sum.missing == st.dropped &&
		    r.seen + st.dropped == total,
		    "kernel: every record placed arrives once, in its producer's order, and the gaps are exactly the drops (gaps %llu records, dropped %llu, repeated or reordered %llu, stray %llu)",
		    (unsigned long long)sum.missing,
		    (unsigned long long)st.dropped, (unsigned long long)sum.bad,
		    (unsigned long long)r.corrupt))
		tap_diag("  seen %llu of %llu", (unsigned long long)sum.seen,
			 (unsigned long long)sum.count);
	tap_ok(st.produced == r.seen && st.consumed == r.seen &&
	       st.produced + st.dropped == total,
	       "kernel: stats produced %llu + dropped %llu = %llu, consumed %llu; %llu spares now, %llu empty waits",
	       (unsigned long long)st.produced,
	       (unsigned long long)st.dropped, (unsigned long long)total,
	       (unsigned long long)st.consumed, (unsigned long long)st.pool,
	       (unsigned long long)r.empty_waits);
	tap_diag("kernel: %llu pauses took %.1f s, peak %llu segments",
		 (unsigned long long)r.pauses, r.pause_ns / 1e9,
		 (unsigned long long)r.seg_high);
	check_cycles("kernel", &st, &r);
	lfq_source_detach(q, id);
	lfq_close(q);
}

static uint64_t arg_count(const char *s)
{
	char *end;
	double v = strtod(s, &end);	/* 1e8 as well as 100000000 */

	if (*end || v < 1) {
		fprintf(stderr, "bad count %s\n", s);
		exit(2);
	}
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:k:c:T:D:")) != -1) {
		switch (c) {
		case 'n':
			n_msgs = arg_count(optarg);
			break;
		case 'k':
			k_recs = arg_count(optarg);
			break;
		case 'c':
			cycles = arg_count(optarg);
			break;
		case 'T':
			k_threads = (unsigned int)arg_count(optarg);
			break;
		case 'D':
			max_drop_ppm = arg_count(optarg);
			break;

		default:
			fprintf(stderr,
				"usage: %s [-n MESSAGES] [-k RECORDS] [-c CYCLES] [-T THREADS] [-D PPM]\n",
				argv[0]);
			return 2;
		}
	}
	if (!k_recs)
		k_recs = n_msgs;
	{
		struct sigaction sa = { .sa_sigaction = on_sigbus,
					.sa_flags = SA_SIGINFO };

		sigaction(SIGBUS, &sa, NULL);
	}
	if (k_threads > LFQ_SYNTH_PRODUCERS_MAX || k_recs < k_threads) {
		fprintf(stderr, "bad -T %u\n", k_threads);
		return 2;
	}
	tap_plan(2 * CASE_CHECKS + 1 + CASE_CHECKS);
	tap_diag("%llu messages per process case, %llu kernel records, %llu cycles",
		 (unsigned long long)n_msgs, (unsigned long long)k_recs,
		 (unsigned long long)cycles);
	test_processes(LFQ_TYPE_SPSC, 1, "SPSC");
	test_processes(LFQ_TYPE_MPSC, NPROD_MPSC, "MPSC");
	test_kernel();
	return tap_done();
}
