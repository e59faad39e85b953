// SPDX-License-Identifier: MIT
/*
 * elastic_mt.c - in-process elastic queues (libuser/lfq_local.c: segments
 * reclaimed with liburcu), with threads:
 *   1. SPSC, a consumer that pauses every so often: every message arrives
 *      once and in order through thousands of grow/shrink cycles;
 *   2. MPSC, 4 producer threads (a handle each) and a pausing consumer:
 *      every producer's messages arrive once and in order;
 *   3. at seg_max a reservation fails with -EAGAIN, and fits again once
 *      the consumer drains; a blocking push there sleeps (it does not
 *      spin between "a segment's worth" and "full") until the consumer
 *      frees room;
 *   4. after a drain and an idle period the queue's memory is back to
 *      seg_min segments;
 *   5. a consumer that drained a sealed segment while the next one holds
 *      nothing committed is not told that data is ready; one that waits
 *      for more than its sealed segment has left is, when the segments
 *      after it hold the rest; an MPSC producer handle that stayed idle
 *      while its segment was retired and reopened pushes again;
 *   6. the fast path inside a segment makes no system call: a producer
 *      and a consumer alternate through one segment with the seccomp
 *      filter of no_syscalls.c's kind... (checked there for fixed queues;
 *      here the counters of a pass that never grows say so: no grow);
 *   7. a full segment with no segment to be had after it (the other
 *      frame waiting for its grace period) is not sealed: the producer
 *      goes on in it as the consumer frees room, as in a fixed ring, SPSC
 *      and MPSC; a blocking push asleep on it, with nothing popped, is
 *      woken when the frame comes back, and goes on in it.
 * Built plain (10^8 SPSC messages) and with ThreadSanitizer (fewer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <urcu-bp.h>

#include "test_util.h"
#include "blocked_push.h"

/*
 * Grow/shrink cycles at least. A full segment is followed only when a
 * segment can be had: with both CPUs spinning, retired frames wait for
 * the call_rcu thread, and the producer goes on in its segment meanwhile
 * (test 7). Seen on this 2-CPU machine: plain build 7,100-10,100 cycles
 * (SPSC, 10^8 messages) and 6,200-6,700 (MPSC, 2x10^7); ThreadSanitizer
 * build 7,500-7,900 and 3,800-3,900 with its shorter runs. Before that
 * change a producer sealed anyway and waited for the grace period:
 * 333,525 SPSC cycles, and 53 s for the 10^8 messages (1.6 s now).
 */
#ifdef LFQ_TSAN
#define SPSC_MSGS	2000000ull
#define MPSC_MSGS	300000ull	/* per producer */
#define MIN_CYCLES	100
#else
#define SPSC_MSGS	100000000ull
#define MPSC_MSGS	5000000ull
#define MIN_CYCLES	2000
#endif
#define PRODUCERS	4
#define SEG_SLOTS	64		/* 64 slots of 64 bytes: a 4 KiB segment */
#define SLOT		64
#define PAUSE_EVERY	4096		/* the consumer pauses every so many */

struct msg {
	uint64_t seq;
	uint32_t producer;
	uint32_t check;
};

static struct lfq *elastic(uint32_t type, uint32_t seg_min, uint32_t seg_max)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = SLOT,
		 .slot_count = SEG_SLOTS, .flags = LFQ_CREATE_ELASTIC,
		 .backend = LFQ_BACKEND_MEMFD, .seg_min = seg_min,
		 .seg_max = seg_max);

	return queue_or_exit(&o);
}

/*
 * Away for a while: long enough for a producer to fill a few segments.
 * Under ThreadSanitizer the producer is too slow for a busy pause of the
 * same length to make it grow reliably (58 grows of the 100 wanted, once):
 * the consumer sleeps 1 ms instead.
 */
static void pause_consumer(void)
{
#ifdef LFQ_TSAN
	msleep(1);
#else
	volatile unsigned int i;

	for (i = 0; i < 20000; i++)
		;
#endif
}

struct producer {
	struct lfq *q;
	uint32_t id;
	uint64_t count;
	uint64_t full;		/* -EAGAIN answers (the queue at seg_max) */
	int err;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct msg *m;
	void *span;
	uint64_t i;
	int n;

	for (i = 0; i < p->count; i++) {
		while ((n = lfq_reserve(p->q, 1, &span)) == -EAGAIN) {
			p->full++;
			sched_yield();
		}
		if (n < 0) {
			p->err = n;
			return NULL;
		}
		m = span;
		m->seq = i;
		m->producer = p->id;
		m->check = (uint32_t)(i * 2654435761u) ^ p->id;
		lfq_commit(p->q, 1);
	}
	return NULL;
}

/* Consume @total messages of @np producers; 0 if all arrived in order. */
static int consume(struct lfq *q, uint32_t np, uint64_t total, int pause)
{
	uint64_t next[PRODUCERS] = { 0 }, got = 0, bad = 0;
	const struct msg *m;
	const void *span;
	int n, i;


	while (got < total) {
		n = lfq_peek(q, 32, &span);
		if (n == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (n < 0) {
			tap_diag("  peek: %d", n);
			return -1;
		}
		for (i = 0; i < n; i++) {
			m = (const void *)((const char *)span + (size_t)i * SLOT);
			if (m->producer >= np ||
			    m->seq != next[m->producer] ||
			    m->check != ((uint32_t)(m->seq * 2654435761u) ^
					 m->producer)) {
				if (bad++ < 5)
					tap_diag("  bad record: producer %u seq %llu (want %llu)",
						 m->producer,
						 (unsigned long long)m->seq,
						 (unsigned long long)(m->producer < np ?
							next[m->producer] : 0));
			} else {
				next[m->producer]++;
			}
		}
		lfq_release(q, (uint32_t)n);
		got += (uint64_t)n;
		if (pause && got % PAUSE_EVERY < (uint64_t)n)
			pause_consumer();
	}
	return bad ? -1 : 0;
}

static void test_spsc(void)
{
	struct lfq *q = elastic(LFQ_TYPE_SPSC, 1, 64);
	struct producer p = { .q = q, .count = SPSC_MSGS };
	struct lfq_stats st;
	pthread_t t;
	int64_t t0 = now_ns();
	int ok;

	pthread_create(&t, NULL, produce, &p);
	ok = !consume(q, 1, SPSC_MSGS, 1);
	pthread_join(t, NULL);
	lfq_get_stats(q, &st);
	tap_ok(ok && !p.err, "SPSC: %llu messages, each once and in order, in %.1f s",
	       SPSC_MSGS, (now_ns() - t0) / 1e9);
	tap_ok(st.grows >= MIN_CYCLES && st.shrinks >= MIN_CYCLES &&
	       st.grows - st.shrinks == st.segments - 1,
	       "SPSC: %llu grows, %llu shrinks, %llu segments live (peak %llu of 64)",
	       (unsigned long long)st.grows, (unsigned long long)st.shrinks,
	       (unsigned long long)st.segments,
	       (unsigned long long)st.segments_peak);
	lfq_close(q);
}

static void test_mpsc(void)
{
	struct lfq *q = elastic(LFQ_TYPE_MPSC, 2, 64);
	struct producer p[PRODUCERS];
	pthread_t t[PRODUCERS];
	struct lfq_stats st;
	uint32_t i;
	int ok, err = 0;

	for (i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ .q = open_fd(lfq_fd(q)), .id = i,
					  .count = MPSC_MSGS };
		if (!p[i].q)
			exit(1);
		pthread_create(&t[i], NULL, produce, &p[i]);
	}
	ok = !consume(q, PRODUCERS, PRODUCERS * MPSC_MSGS, 1);
	for (i = 0; i < PRODUCERS; i++) {
		pthread_join(t[i], NULL);
		err |= p[i].err;
		lfq_close(p[i].q);
	}
	lfq_get_stats(q, &st);
	tap_ok(ok && !err, "MPSC: %d producers x %llu messages, each once and in order",
	       PRODUCERS, MPSC_MSGS);
	tap_ok(st.grows >= MIN_CYCLES && st.grows - st.shrinks == st.segments - 1,
	       "MPSC: %llu grows, %llu shrinks, %llu segments live (peak %llu)",
	       (unsigned long long)st.grows, (unsigned long long)st.shrinks,
	       (unsigned long long)st.segments,
	       (unsigned long long)st.segments_peak);
	lfq_close(q);
}

/* At seg_max the queue is full; after a drain it takes messages again. */
static void test_max(void)
{
	struct lfq *q = elastic(LFQ_TYPE_MPSC, 1, 4);
	struct lfq_stats st;
	uint64_t pushed = 0, popped = 0;
	struct msg m = { 0 };
	int err, i;

	while (!(err = lfq_push(q, &m, sizeof(m))))
		pushed++;
	lfq_get_stats(q, &st);
	tap_ok(err == -EAGAIN && pushed == 4 * SEG_SLOTS && st.segments == 4,
	       "at seg_max (4 x %d slots) a push is -EAGAIN after %llu (%s)",
	       SEG_SLOTS, (unsigned long long)pushed, ename(-err));
	while (!lfq_pop(q, &m, sizeof(m)))
		popped++;
	/*
	 * The last segment, full while the others were live, stayed a ring:
	 * the push fits there at once (a sealed one's push fits once a
	 * retired segment is pooled, a grace period later).
	 */
	for (i = 0; i < 1000 && (err = lfq_push(q, &m, sizeof(m))); i++)
		msleep(1);
	tap_ok(popped == pushed && !err,
	       "drained (%llu), a push fits again (%d ms)",
	       (unsigned long long)popped, i);
	lfq_close(q);
}

/*
 * A blocking push at seg_max, the newest segment full: asleep (at most
 * MAX_CPU_MS of its thread's CPU over HOLD_MS), then woken once the
 * consumer frees room (in that segment, left unsealed with no frame free;
 * a sealed one's push is woken by lfq_local_retired() when a retired
 * segment's frame is back in the pool).
 */
#define HOLD_MS		500
#define MAX_CPU_MS	50
static void test_max_blocked(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SEG_SLOTS,
		 .flags = LFQ_CREATE_ELASTIC | LFQ_CREATE_BLOCK,
		 .backend = LFQ_BACKEND_MEMFD, .seg_min = 1, .seg_max = 2);
	struct lfq *q = queue_or_exit(&o), *pusher = open_fd(lfq_fd(q));
	struct blocked b;
	struct msg m = { 0 };
	int64_t cpu, waited;
	uint64_t popped = 0;
	void *span;

	while (lfq_reserve(q, 1, &span) == 1)
		lfq_commit(q, 1);
	cpu = blocked_start(&b, pusher, sizeof(m), HOLD_MS);
	tap_ok(cpu >= 0 && cpu <= MAX_CPU_MS && !blocked_done(&b),
	       "at seg_max, a blocking push sleeps: %lld ms of CPU in %d ms (at most %d)",
	       (long long)cpu, HOLD_MS, MAX_CPU_MS);
	while (!lfq_pop(q, &m, sizeof(m)))
		popped++;
	waited = blocked_wait(&b);
	/* Woken at the first room, its message may be in the drain. */
	while (!lfq_pop(q, &m, sizeof(m)))
		popped++;
	tap_ok(blocked_done(&b) && b.rc == 0 && popped == 2 * SEG_SLOTS + 1,
	       "drained, the push is woken once there is room again (rc %d, %lld ms): %llu popped, its message too",
	       b.rc, (long long)waited, (unsigned long long)popped);
	if (!blocked_done(&b))
		return;		/* the pusher still stuck: leave it */
	lfq_close(pusher);
	lfq_close(q);
}

/*
 * Two segments, both allocated: the producer fills both, the consumer
 * drains the first (retired: its frame comes back a grace period later)
 * and takes one message of the second. With no segment to be had, the
 * full second segment was not sealed: the next push takes the slot the
 * consumer freed, and the one after finds it full. (Sealed, it refused
 * every push until the grace period, which with both CPUs spinning waits
 * for the scheduler: lfq-bench's elastic steady state ran at 0.01x to
 * 0.4x the fixed queue.) A read-side section held here keeps the retired
 * frame from coming back, so the steps do not race the grace period.
 */
static void test_full_unsealed(uint32_t type)
{
	struct lfq *q = elastic(type, 2, 2);
	uint64_t pushed = 0, popped = 0, bad = 0;
	struct lfq_stats st;
	struct msg m = { 0 };
	int again, full;

	urcu_bp_read_lock();
	for (m.seq = 0; !lfq_push(q, &m, sizeof(m)); m.seq++)
		pushed++;
	for (; popped < SEG_SLOTS + 1 && !lfq_pop(q, &m, sizeof(m)); popped++)
		bad += m.seq != popped;
	m.seq = pushed;
	again = lfq_push(q, &m, sizeof(m));
	full = lfq_push(q, &m, sizeof(m));
	lfq_get_stats(q, &st);
	urcu_bp_read_unlock();
	pushed += !again;
	for (; !lfq_pop(q, &m, sizeof(m)); popped++)
		bad += m.seq != popped;
	tap_ok(pushed == 2 * SEG_SLOTS + 1 && !again && full == -EAGAIN &&
	       popped == pushed && !bad && st.segments == 1 && st.grows == 1,
	       "%s: a full segment with the other frame retiring stays a ring: %llu pushed, then %s, then %s; %llu popped in order, %llu segment, %llu grow (into the second)",
	       type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC",
	       (unsigned long long)(pushed - !again), ename(-again),
	       ename(-full), (unsigned long long)popped,
	       (unsigned long long)st.segments, (unsigned long long)st.grows);
	lfq_close(q);
}

/*
 * The same two full segments, the consumer moved into the second (the
 * first retiring under a read-side section held here) and popping
 * nothing more: a blocking push sleeps on the full second segment, left
 * unsealed. Once the section ends, the grace period pools the first
 * frame and wakes it (lfq_local_retired()); told that a segment can be
 * had (lfq_elastic_ready()), it seals the second, goes on in the first,
 * and returns, with nothing popped. Without that answer it slept on.
 */
static void test_full_woken(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = SLOT,
		 .slot_count = SEG_SLOTS,
		 .flags = LFQ_CREATE_ELASTIC | LFQ_CREATE_BLOCK,
		 .backend = LFQ_BACKEND_MEMFD, .seg_min = 2, .seg_max = 2);
	struct lfq *q = queue_or_exit(&o);
	uint64_t pushed = 0, popped = 0;
	struct lfq_stats st;
	struct msg m = { 0 };
	const void *span;
	static struct blocked b;	/* outlives a stuck pusher */
	int64_t waited, cpu;
	int peeked, asleep;
	void *slot;

	urcu_bp_read_lock();
	while (lfq_reserve(q, 1, &slot) == 1) {
		lfq_commit(q, 1);
		pushed++;
	}
	while (popped < SEG_SLOTS && !lfq_pop(q, &m, sizeof(m)))
		popped++;
	/* The consumer moves on: the first segment retires. */
	peeked = lfq_peek(q, 1, &span);
	/* SPSC: this thread consumes, the pusher's produces. */
	cpu = blocked_start(&b, q, sizeof(m), 100);
	asleep = !blocked_done(&b) && cpu >= 0 && cpu <= MAX_CPU_MS;
	urcu_bp_read_unlock();
	waited = blocked_wait(&b);
	lfq_get_stats(q, &st);
	tap_ok(pushed == 2 * SEG_SLOTS && popped == SEG_SLOTS && peeked == 1 &&
	       asleep && blocked_done(&b) && b.rc == 0 && st.grows == 2,
	       "a blocking push asleep on a full unsealed segment (%lld ms of CPU in 100), nothing popped: woken when the retired frame is pooled, done in %lld ms (rc %d, %llu grows)",
	       (long long)cpu, (long long)waited, b.rc,
	       (unsigned long long)st.grows);
	if (!blocked_done(&b))
		return;		/* the pusher still stuck: leave it */
	lfq_close(q);
}

/* After a burst, a drain and an idle period: back to seg_min segments. */
static void test_shrink(void)
{
	struct lfq *q = elastic(LFQ_TYPE_SPSC, 2, 32);
	struct lfq_stats burst, idle, first;
	struct msg m = { 0 };
	int i, err;

	lfq_get_stats(q, &first);
	for (i = 0; i < 30 * SEG_SLOTS; i++)
		if (lfq_push(q, &m, sizeof(m)))
			break;
	lfq_get_stats(q, &burst);
	while (!lfq_pop(q, &m, sizeof(m)))
		;
	msleep(400);
	/* A consumer about to sleep gives back what an idle queue holds. */
	err = lfq_wait_data(q, 1, 1000000);
	lfq_get_stats(q, &idle);
	tap_ok(i == 30 * SEG_SLOTS && burst.segments == 30 &&
	       burst.bytes > first.bytes && err == -ETIMEDOUT &&
	       idle.bytes == first.bytes && idle.segments == 1,
	       "memory: %llu bytes at start, %llu in a burst of %llu segments, %llu after drain and idle",
	       (unsigned long long)first.bytes, (unsigned long long)burst.bytes,
	       (unsigned long long)burst.segments,
	       (unsigned long long)idle.bytes);
	lfq_close(q);
}

/*
 * A consumer that drained a sealed segment while the next one, linked,
 * holds only a reservation: nothing is ready, so a wait does not return
 * (it used to answer "a segment to move to", and the pop that followed
 * found nothing); once the reservation is committed, it is.
 */
static void test_wait_drained(uint32_t type)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	struct lfq *q = elastic(type, 1, 4);
	int i, popped = 0, w_now, w_timed, p_early, w_after, p_after;
	struct msg m = { 0 };
	struct lfq_stats st;
	void *span = NULL;

	for (i = 0; i < SEG_SLOTS; i++) {
		m.seq = i;
		if (lfq_push(q, &m, sizeof(m)))
			break;
	}
	/* The segment is full: this seals it and reserves in the next. */
	if (lfq_reserve(q, 1, &span) != 1)
		span = NULL;
	while (popped < SEG_SLOTS && !lfq_pop(q, &m, sizeof(m)) &&
	       m.seq == (uint64_t)popped)
		popped++;
	w_now = lfq_wait_data(q, 1, 0);
	w_timed = lfq_wait_data(q, 1, 20000000);	/* 20 ms */
	p_early = lfq_pop(q, &m, sizeof(m));
	if (span) {
		m.seq = SEG_SLOTS;
		memcpy(span, &m, sizeof(m));
		lfq_commit(q, 1);
	}
	w_after = lfq_wait_data(q, 1, 0);
	p_after = lfq_pop(q, &m, sizeof(m));
	lfq_get_stats(q, &st);
	tap_ok(i == SEG_SLOTS && span && popped == SEG_SLOTS && st.grows == 1 &&
	       w_now == -EAGAIN && w_timed == -ETIMEDOUT &&
	       p_early == -EAGAIN && !w_after && !p_after &&
	       m.seq == SEG_SLOTS,
	       "%s: drained to a seal, the next segment only reserved: a wait is %s, a timed one %s, a pop %s; committed: wait %s, pop %s (message %llu)",
	       name, ename(-w_now), ename(-w_timed), ename(-p_early),
	       ename(-w_after), ename(-p_after), (unsigned long long)m.seq);
	lfq_close(q);
}

/*
 * A consumer waiting for more slots than are left in its sealed segment:
 * ready when the next segments hold the rest (a wait that counted only
 * its own segment slept with the queue full).
 */
static void test_wait_through(uint32_t type)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	struct lfq *q = elastic(type, 1, 4);
	int i, pushed = 0, popped = 0, w_three, w_seg, w_more, inorder = 1;
	struct msg m = { 0 };

	for (i = 0; i < 2 * SEG_SLOTS; i++) {
		m.seq = i;
		if (!lfq_push(q, &m, sizeof(m)))
			pushed++;
	}
	/* Two left in the first segment, sealed; the second one full. */
	for (i = 0; i < SEG_SLOTS - 2; i++)
		if (!lfq_pop(q, &m, sizeof(m)) && m.seq == (uint64_t)popped)
			popped++;
	w_three = lfq_wait_data(q, 3, 0);
	w_seg = lfq_wait_data(q, SEG_SLOTS, 0);
	while (!lfq_pop(q, &m, sizeof(m)))
		inorder &= m.seq == (uint64_t)popped++;
	w_more = lfq_wait_data(q, 1, 0);
	tap_ok(pushed == 2 * SEG_SLOTS && popped == 2 * SEG_SLOTS && inorder &&
	       !w_three && !w_seg && w_more == -EAGAIN,
	       "%s: 2 slots left before a seal and a full segment after it: a wait for 3 is %s, for %d %s; all %d popped in order, then a wait is %s",
	       name, ename(-w_three), SEG_SLOTS, ename(-w_seg), popped,
	       ename(-w_more));
	lfq_close(q);
}

/* A consumer thread's wait for @min_count, and how it ended. */
struct waiter {
	struct lfq *q;
	uint32_t min_count;
	int rc;
	int64_t ns;
};

static void *wait_data_thread(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = now_ns();

	w->rc = lfq_wait_data(w->q, w->min_count, 2000000000ll);
	w->ns = now_ns() - t0;
	return NULL;
}

/*
 * The same wait asleep: 2 slots left before a seal and the next segment
 * empty, a consumer thread waits for 3; a commit in the next segment
 * wakes it, and its count then runs through the seal (it used to count
 * 2 and sleep again until its timeout).
 */
static void test_wait_through_wakes(void)
{
	struct lfq *q = elastic(LFQ_TYPE_SPSC, 1, 4);
	struct waiter w = { .q = q, .min_count = 3, .rc = 1 };
	struct msg m = { 0 };
	void *span = NULL;
	int i, popped = 0;
	pthread_t t;

	for (i = 0; i < SEG_SLOTS; i++)
		lfq_push(q, &m, sizeof(m));
	/* Full: this seals it and reserves in the next one. */
	if (lfq_reserve(q, 1, &span) != 1)
		span = NULL;
	for (i = 0; i < SEG_SLOTS - 2; i++)
		popped += !lfq_pop(q, &m, sizeof(m));
	pthread_create(&t, NULL, wait_data_thread, &w);
	msleep(100);		/* asleep by now, most likely */
	if (span) {
		memcpy(span, &m, sizeof(m));
		lfq_commit(q, 1);
	}
	pthread_join(t, NULL);
	tap_ok(span && popped == SEG_SLOTS - 2 && !w.rc &&
	       w.ns < 1000000000ll,
	       "SPSC: a wait for 3 with 2 left before a seal is woken by a commit in the next segment (%s after %lld ms)",
	       ename(-w.rc), (long long)(w.ns / 1000000));
	lfq_close(q);
}

/*
 * An MPSC producer handle that stays idle while its segment is drained,
 * retired and reopened for a later life: its next push goes on (it used
 * to keep the old life's base, and its lap check refused every slot of
 * the new life's first lap: -EAGAIN until others went a lap there).
 */
#define IDLE_ROUNDS	50
static void test_idle_producer(void)
{
	struct lfq *q = elastic(LFQ_TYPE_MPSC, 1, 4), *p1 = open_fd(lfq_fd(q));
	int i, k, r, refused = 0, lost = 0, others = 0;
	struct msg m = { 0 };
	struct lfq_stats st;

	for (r = 0; r < IDLE_ROUNDS; r++) {
		/*
		 * Two to five times: fill the newest segment and one more
		 * slot (sealed, grown: a push waits for a retired frame's
		 * grace period when none is pooled), and drain: p1's frame
		 * goes round, and may be live again in a later life.
		 */
		for (k = 0; k <= 1 + r % 4; k++) {
			for (i = 0; i < SEG_SLOTS + 1; i++)
				while (lfq_push(q, &m, sizeof(m)) &&
				       others++ < 100000)
					msleep(1);
			while (!lfq_pop(q, &m, sizeof(m)))
				;
		}
		m.producer = 1;
		if (lfq_push(p1, &m, sizeof(m)))
			refused++;
		else if (lfq_pop(q, &m, sizeof(m)) || m.producer != 1)
			lost++;
		m.producer = 0;
	}
	lfq_get_stats(q, &st);
	tap_ok(!refused && !lost && others < 100000 &&
	       st.grows >= 2 * IDLE_ROUNDS,
	       "MPSC: an idle producer's push after its segment was retired and reopened: %d of %d refused, %d lost (%llu grows; the other handle's pushes waited %d ms for grace periods)",
	       refused, IDLE_ROUNDS, lost, (unsigned long long)st.grows,
	       others);
	lfq_close(p1);
	lfq_close(q);
}

/* Another process cannot share an in-process queue: its RCU stays here. */
static void test_private(void)
{
	struct lfq *q = elastic(LFQ_TYPE_SPSC, 1, 4), *o = open_fd(lfq_fd(q));
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = lfq_fd(q));
	struct lfq *x = NULL;
	pid_t pid;
	int status = -1;

	pid = fork();
	if (!pid)
		_exit(lfq_open(&by_fd, &x) == -EOPNOTSUPP ? 0 : 1);
	waitpid(pid, &status, 0);
	tap_ok(o && WIFEXITED(status) && !WEXITSTATUS(status),
	       "another handle in this process; lfq_open() of the fd in another is -EOPNOTSUPP");
	lfq_close(o);
	lfq_close(q);
}

int main(void)
{
	tap_plan(19);
	test_spsc();
	test_mpsc();
	test_max();
	test_wait_drained(LFQ_TYPE_SPSC);
	test_wait_drained(LFQ_TYPE_MPSC);
	test_wait_through(LFQ_TYPE_SPSC);
	test_wait_through(LFQ_TYPE_MPSC);
	test_wait_through_wakes();
	test_idle_producer();
	test_max_blocked();
	test_full_unsealed(LFQ_TYPE_SPSC);
	test_full_unsealed(LFQ_TYPE_MPSC);
	test_full_woken();
	test_shrink();
	test_private();
	return tap_done();
}
