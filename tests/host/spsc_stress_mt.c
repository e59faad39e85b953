// SPDX-License-Identifier: MIT
/*
 * spsc_stress_mt.c - the SPSC ring under two threads: at least 10^8
 * 64-byte messages with sequence and checksum verification (busy-polling,
 * blocking, and batched), beside a mutex+condvar queue run the same way in
 * the same process, with the rates printed as TAP diagnostics.
 * Built twice: normally, and with ThreadSanitizer (LFQ_TSAN, fewer
 * messages).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define BIG	1000000ull
#define SMALL	200000ull
#else
#define BIG	100000000ull
#define SMALL	10000000ull
#endif

#define MSG_WORDS 8	/* 64-byte messages */

enum mode { BUSY, BLOCKING, BATCH32 };

struct run {
	struct lfq *q;
	enum mode mode;
	uint64_t count;
	uint64_t bad;		/* consumer: sequence or checksum errors */
};

/* A fast-path call failed other than as full or empty: end the test. */
static void fatal(const char *what, int err)
{
	tap_diag("%s: %d (%s)", what, err, ename(-err));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: fewer than two CPUs just means no pinning. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static inline void fill(uint64_t *m, uint64_t seq)
{
	uint64_t sum = 0;
	int i;

	m[0] = seq;
	for (i = 1; i < MSG_WORDS - 1; i++) {
		m[i] = seq * 0x9e3779b97f4a7c15ull + (uint64_t)i;
		sum += m[i] ^ (m[i] >> 17);
	}
	m[MSG_WORDS - 1] = sum + seq;
}

static inline int check(const uint64_t *m, uint64_t seq)
{
	uint64_t sum = 0;
	int i;

	for (i = 1; i < MSG_WORDS - 1; i++)
		sum += m[i] ^ (m[i] >> 17);
	return m[0] == seq && m[MSG_WORDS - 1] == sum + seq;
}

static void *producer(void *arg)
{
	struct run *r = arg;
	uint32_t want = r->mode == BATCH32 ? 32 : 1;
	uint64_t seq = 0;

	pin(0);
	while (seq < r->count) {
		uint32_t n, i;
		void *span;
		int got = lfq_reserve(r->q, want, &span);

		if (got == -EAGAIN) {
			if (r->mode == BLOCKING)
				lfq_wait_space(r->q, 1, -1);
			continue;
		}
		if (got < 0)
			fatal("lfq_reserve", got);
		n = (uint32_t)got;
		if (n > r->count - seq)
			n = (uint32_t)(r->count - seq);
		for (i = 0; i < n; i++)
			fill((uint64_t *)span + i * MSG_WORDS, seq++);
		lfq_commit(r->q, n);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct run *r = arg;
	uint32_t want = r->mode == BATCH32 ? 32 : 1;
	uint64_t seq = 0;

	pin(1);
	while (seq < r->count) {
		const void *span;
		int got = lfq_peek(r->q, want, &span), i;

		if (got == -EAGAIN) {
			if (r->mode == BLOCKING)
				lfq_wait_data(r->q, 1, -1);
			continue;
		}
		if (got < 0)
			fatal("lfq_peek", got);
		for (i = 0; i < got; i++, seq++)
			if (!check((const uint64_t *)span + i * MSG_WORDS, seq))
				r->bad++;
		lfq_release(r->q, (uint32_t)got);
	}
	return NULL;
}

/* Runs one configuration; returns messages per second, or 0 on failure. */
static double run_lfq(enum mode mode, uint64_t count, const char *what)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 1024, .backend = LFQ_BACKEND_MEMFD);
	struct run r = { .mode = mode, .count = count };
	pthread_t pt, ct;
	struct lfq_stats st;
	double t0, dt;
	int ok;

	if (lfq_create(&o, &r.q)) {
		tap_ok(0, "%s: create", what);
		return 0;
	}
	/* Busy pollers never sleep: skip the wakeup barrier, as users would. */
	lfq_set_wakeups(r.q, mode == BLOCKING);
	t0 = now_s();
	pthread_create(&ct, NULL, consumer, &r);
	pthread_create(&pt, NULL, producer, &r);
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	dt = now_s() - t0;
	lfq_get_stats(r.q, &st);
	ok = r.bad == 0 && st.produced == count && st.consumed == count;
	tap_ok(ok, "%s: %llu messages, 0 bad (bad=%llu), %.1f M msg/s",
	       what, (unsigned long long)count, (unsigned long long)r.bad,
	       count / dt / 1e6);
	lfq_close(r.q);
	return ok ? count / dt : 0;
}

/* ------------------------------------------------ mutex+condvar baseline */

struct mcq {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	uint64_t head, tail, count, bad;
	uint64_t slots[1024][MSG_WORDS];
};

static void *mc_producer(void *arg)
{
	struct mcq *q = arg;
	uint64_t seq;

	pin(0);
	for (seq = 0; seq < q->count; seq++) {
		pthread_mutex_lock(&q->lock);
		while (q->head - q->tail == 1024)
			pthread_cond_wait(&q->not_full, &q->lock);
		fill(q->slots[q->head % 1024], seq);
		q->head++;
		pthread_cond_signal(&q->not_empty);
		pthread_mutex_unlock(&q->lock);
	}
	return NULL;
}

static void *mc_consumer(void *arg)
{
	struct mcq *q = arg;
	uint64_t seq;

	pin(1);
	for (seq = 0; seq < q->count; seq++) {
		pthread_mutex_lock(&q->lock);
		while (q->head == q->tail)
			pthread_cond_wait(&q->not_empty, &q->lock);
		if (!check(q->slots[q->tail % 1024], seq))
			q->bad++;
		q->tail++;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->lock);
	}
	return NULL;
}

static double run_mutex(uint64_t count)
{
	struct mcq *q = calloc(1, sizeof(*q));
	pthread_t pt, ct;
	double t0, dt;
	int ok;

	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	q->count = count;
	t0 = now_s();
	pthread_create(&ct, NULL, mc_consumer, q);
	pthread_create(&pt, NULL, mc_producer, q);
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	dt = now_s() - t0;
	ok = q->bad == 0 && q->tail == count;
	tap_ok(ok, "mutex+condvar baseline: %llu messages, %.1f M msg/s",
	       (unsigned long long)count, count / dt / 1e6);
	free(q);
	return ok ? count / dt : 0;
}

int main(void)
{
	double busy, blocking, batch, mutex;

	tap_plan(4);
	busy = run_lfq(BUSY, BIG, "lfq busy-poll, batch 1");
	blocking = run_lfq(BLOCKING, SMALL, "lfq blocking waits, batch 1");
	batch = run_lfq(BATCH32, BIG, "lfq busy-poll, batch 32");
	mutex = run_mutex(SMALL);
	if (mutex > 0)
		tap_diag("ratios to mutex+condvar (same run): busy %.1fx, "
			 "blocking %.1fx, batch32 %.1fx",
			 busy / mutex, blocking / mutex, batch / mutex);
	return tap_done();
}
