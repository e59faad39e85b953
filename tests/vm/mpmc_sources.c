// SPDX-License-Identifier: GPL-2.0
/*
 * mpmc_sources.c - kernel producers into an MPMC queue: a SYNTH source
 * (kernel threads, hardirq and softirq timers) produces into a named MPMC
 * queue while three consumer processes, each a file of its own, share
 * the records. Every record arrives at most once, whole, from the
 * context its producer runs in, in order per producer within each
 * consumer; the records that never arrive are exactly the ones the
 * kernel dropped on a full ring (lfq_stats.dropped), and every producer
 * ran to its count. Then again with a consumer killed now and then: what
 * it held is counted lost, and still nothing arrives twice.
 *
 * Runs in the test VM as root with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "sources_util.h"
#include "tap.h"
#include "test_util.h"

#define NAME		"t-mpmcsrc"
#define THREADS		2
#define TIMERS		1	/* hardirq, and as many softirq */
#define PRODUCERS	(THREADS + 2 * TIMERS)
#define CONSUMERS	3
#define COUNT		100000ull	/* records per producer */

/* What the consumers saw, shared: a bit per record, and the errors. */
struct tally {
	uint64_t twice, bad, got, stop;
	uint64_t bits[(PRODUCERS * COUNT + 63) / 64];
};

static uint32_t context_of(uint32_t producer)
{
	return producer < THREADS ? LFQ_CONTEXT_THREAD :
	       producer < THREADS + TIMERS ? LFQ_CONTEXT_HARDIRQ :
					     LFQ_CONTEXT_SOFTIRQ;
}

/* What one consumer process saw last of each producer, and the tally. */
struct consumer {
	struct tally *t;
	uint64_t last[PRODUCERS];
};

static void check_span(const void *span, int got, void *arg)
{
	const struct lfq_event_synth *e = span;
	struct consumer *c = arg;
	struct tally *t = c->t;

	for (int i = 0; i < got; i++) {
		uint32_t p = e[i].producer;
		uint64_t s = e[i].seq, bit = p * COUNT + s;

		if (e[i].hdr.type != LFQ_EVENT_SYNTH ||
		    p >= PRODUCERS || s >= COUNT ||
		    e[i].context != context_of(p) ||
		    (c->last[p] != UINT64_MAX && s <= c->last[p])) {
			__atomic_fetch_add(&t->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		c->last[p] = s;
		if (bit_seen_twice(t->bits, bit))
			__atomic_fetch_add(&t->twice, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&t->got, 1, __ATOMIC_RELAXED);
	}
}

/* A consumer process: its own file, until told to stop (or killed). */
static void consume(struct tally *t)
{
	LFQ_OPTS(lfq_open_opts, o, .name = NAME, .role = LFQ_ROLE_CONSUMER);
	struct consumer c = { .t = t };
	struct lfq *q;

	for (int p = 0; p < PRODUCERS; p++)
		c.last[p] = UINT64_MAX;
	if (lfq_open(&o, &q))
		_exit(2);
	consume_until_stop(q, &t->stop, check_span, &c);
}

static pid_t spawn(struct tally *t)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid)
		consume(t);
	return pid;
}

static void run(int kills)
{
	LFQ_OPTS(lfq_create_opts, c, .type = LFQ_TYPE_MPMC, .slot_size = 32,
		 .slot_count = 1024, .backend = LFQ_BACKEND_KERNEL,
		 .name = NAME, .mode = 0600, .role = LFQ_ROLE_PRODUCER);
	struct lfq_source src = synth(THREADS, TIMERS, TIMERS, COUNT, 20000);
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct lfq_stats st = { .size = sizeof(st) };
	pid_t pid[CONSUMERS];
	uint64_t seen = 0, bit;
	int64_t t0 = now_ns();
	int id, i, k = 0, rc = 0, storm = kills > 0;
	struct lfq *q;

	lfq_unlink(NAME);
	if (t == MAP_FAILED || lfq_create(&c, &q)) {
		tap_ok(0, "create the MPMC queue");
		return;
	}
	for (i = 0; i < CONSUMERS; i++)
		pid[i] = spawn(t);
	id = lfq_source_attach(q, &src);
	if (id < 0) {
		tap_ok(0, "attach the SYNTH source: %d", id);
		rc = -1;
	}
	/* Until every producer ran to its count and all is consumed. */
	while (id >= 0 && now_ns() - t0 < 300 * SEC) {
		usleep(10000);
		lfq_get_stats(q, &st);
		if (st.produced + st.dropped == PRODUCERS * COUNT &&
		    st.consumed == st.produced)
			break;
		if (kills && !(++k % 7)) {
			/* Kill one, start another in its place. */
			i = k % CONSUMERS;
			kill(pid[i], SIGKILL);
			child_status(pid[i]);
			pid[i] = spawn(t);
			kills--;
		}
	}
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < CONSUMERS; i++)
		if (child_ok(pid[i]))
			rc = -1;
	if (id >= 0)
		lfq_source_detach(q, id);
	usleep(200000);		/* the recovery of the last kills */
	lfq_get_stats(q, &st);
	for (bit = 0; bit < PRODUCERS * COUNT; bit++)
		seen += !!(t->bits[bit / 64] & (1ull << (bit % 64)));
	if (!tap_ok(!rc && !t->twice && !t->bad &&
		    st.produced + st.dropped == PRODUCERS * COUNT &&
		    (storm ? seen + st.lost >= st.produced &&
				       seen <= st.produced :
				      seen == st.produced),
		    "%s: %d kernel producers (threads, hardirq, softirq) x %llu records into an MPMC queue, %d consumer processes: %llu arrived once, %llu dropped, %llu lost, none twice (%.1f s)",
		    storm ? "with consumers killed" : "steady", PRODUCERS,
		    (unsigned long long)COUNT, CONSUMERS,
		    (unsigned long long)seen, (unsigned long long)st.dropped,
		    (unsigned long long)st.lost,
		    (double)(now_ns() - t0) / 1e9))
		tap_diag("  rc %d twice %llu bad %llu produced %llu consumed %llu",
			 rc, (unsigned long long)t->twice,
			 (unsigned long long)t->bad,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);
	lfq_close(q);
	lfq_unlink(NAME);
	munmap(t, sizeof(*t));
}

int main(void)
{
	tap_plan(2);
	run(0);
	run(20);
	return tap_done();
}
