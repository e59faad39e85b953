// SPDX-License-Identifier: MIT
/*
 * wake_threshold_mt.c - wakeup thresholds (ORDERING wake-threshold in
 * kmod/proto/lfq_rules.h): a thread that waits for n slots while its
 * peer adds or frees one at a time sleeps once and is woken once, when
 * the n-th is ready, never before; SPSC waits for data and for space,
 * MPSC waits for space (MPSC commits wake on any flag). On a memfd queue
 * here; tests/vm/wake_threshold_kernel.c builds this file with
 * LFQ_KERNEL_QUEUE for a /dev/lfq queue, where the wait is the module's
 * LFQ_IOC_WAIT and its counters show the sleeps and LFQ_IOC_WAKE calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_KERNEL_QUEUE
#define QUEUE_BACKEND	LFQ_BACKEND_KERNEL
#else
#define QUEUE_BACKEND	LFQ_BACKEND_MEMFD
#endif

#define SLOTS		64u
#define THRESHOLD	32u
#define TIMEOUT_NS	5000000000ll
/* One sleep; a spurious wakeup or two is allowed, a wakeup per slot not. */
#define MAX_SLEEPS	4

struct waiter {
	struct lfq *q;
	int data;		/* wait for data, else for space */
	int err;
	long switches;		/* voluntary context switches in the wait */
	uint32_t ready;		/* slots ready when the wait returned */
	int done;
};

static long thread_switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw;
}

static void *threshold_wait(void *arg)
{
	struct waiter *w = arg;
	long before = thread_switches();

	w->err = w->data ? lfq_wait_data(w->q, THRESHOLD, TIMEOUT_NS) :
			   lfq_wait_space(w->q, THRESHOLD, TIMEOUT_NS);
	w->switches = thread_switches() - before;
	/* What is ready now, counted without sleeping. */
	for (w->ready = THRESHOLD; w->ready > 0; w->ready--)
		if (!(w->data ? lfq_wait_data(w->q, w->ready, 0) :
				lfq_wait_space(w->q, w->ready, 0)))
			break;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_threshold(uint32_t type, int data, const char *what)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = 64,
		 .slot_count = SLOTS, .backend = QUEUE_BACKEND);
	struct lfq_stats s0, s1;
	struct waiter w = { .data = data };
	struct timespec gap = { 0, 200000 };
	unsigned int i, at = 0, early = 0;
	uint64_t v = 0, sleeps, wakes;
	pthread_t t;

	w.q = queue_or_exit(&o);
	lfq_set_wait_spin(w.q, 0);
	if (!data)
		for (i = 0; i < SLOTS; i++)
			lfq_push(w.q, &v, sizeof(v));
	lfq_get_stats(w.q, &s0);
	pthread_create(&t, NULL, threshold_wait, &w);
	nanosleep(&gap, NULL);
	for (i = 1; i <= 2 * THRESHOLD && !at; i++) {
		nanosleep(&gap, NULL);
		if (data ? lfq_push(w.q, &v, sizeof(v)) :
			   lfq_pop(w.q, &v, sizeof(v)))
			early++;
		/* Returned before the THRESHOLD-th slot was there. */
		if (__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
			at = i;
			if (i < THRESHOLD)
				early++;
		}
	}
	pthread_join(t, NULL);
	lfq_get_stats(w.q, &s1);
	/* The module's counts; zero on a memfd queue. */
	sleeps = s1.waits - s0.waits;
	wakes = s1.wake_calls - s0.wake_calls;
	tap_ok(!w.err && !early && w.ready >= THRESHOLD &&
	       w.switches <= MAX_SLEEPS && sleeps <= MAX_SLEEPS &&
	       wakes <= MAX_SLEEPS,
	       "%s: a wait for %u slots, one slot every 200 us: returned "
	       "after slot %u with %u ready; %ld voluntary context switches, "
	       "%llu sleeps and %llu LFQ_IOC_WAKE calls in the module (one "
	       "sleep, not one per slot)", what, THRESHOLD, at, w.ready,
	       w.switches, (unsigned long long)sleeps,
	       (unsigned long long)wakes);
	lfq_close(w.q);
}

int main(void)
{
	tap_plan(3);
	test_threshold(LFQ_TYPE_SPSC, 1, "SPSC, waiting for data");
	test_threshold(LFQ_TYPE_SPSC, 0, "SPSC, waiting for space");
	test_threshold(LFQ_TYPE_MPSC, 0, "MPSC, waiting for space");
	return tap_done();
}
