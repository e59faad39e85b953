/* SPDX-License-Identifier: MIT */
/*
 * blocked_push.h - a producer thread blocked in lfq_push(), for the tests
 * that check it sleeps rather than spins (space_liar, elastic_space_liar):
 * start it, measure the CPU it uses over a while, wait for its push.
 */
#ifndef LFQ_TESTS_BLOCKED_PUSH_H
#define LFQ_TESTS_BLOCKED_PUSH_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "liblfq.h"
#include "test_util.h"

/* The pushing thread's handle, message size and outcome. */
struct blocked {
	struct lfq *q;
	size_t len;
	int rc;
	int done;
	pthread_t t;
};

static void *blocked_push_thread(void *arg)
{
	struct blocked *b = arg;
	char msg[4096] = "late";

	b->rc = lfq_push(b->q, msg, b->len < sizeof(msg) ? b->len : sizeof(msg));
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline int64_t blocked_cpu_ms(pthread_t t)
{
	struct timespec ts;
	clockid_t id;

	if (pthread_getcpuclockid(t, &id) || clock_gettime(id, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int blocked_done(struct blocked *b)
{
	return __atomic_load_n(&b->done, __ATOMIC_ACQUIRE);
}

/*
 * Start a push of @len bytes on @q, let it block, and return the CPU time
 * in ms it used over the next @hold_ms (-1 if unknown).
 */
static inline int64_t blocked_start(struct blocked *b, struct lfq *q,
				    size_t len, int hold_ms)
{
	int64_t cpu0, cpu1;

	b->q = q;
	b->len = len;
	b->rc = 1;
	b->done = 0;
	pthread_create(&b->t, NULL, blocked_push_thread, b);
	msleep(20);
	cpu0 = blocked_cpu_ms(b->t);
	msleep(hold_ms);
	cpu1 = blocked_cpu_ms(b->t);
	return cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0;
}

/* Wait up to 5 s for the push to end; its time in ms. */
static inline int64_t blocked_wait(struct blocked *b)
{
	int64_t t0 = now_ns();

	while (!blocked_done(b) && now_ns() - t0 < 5000000000ll)
		msleep(1);
	if (blocked_done(b))
		pthread_join(b->t, NULL);
	return (now_ns() - t0) / 1000000;
}

#endif /* LFQ_TESTS_BLOCKED_PUSH_H */
