// SPDX-License-Identifier: MIT
/*
 * bench_util.c - clocks and CPU placement for lfq-bench's measurements,
 * and the cross-core cache-line round trip that is their floor (and,
 * probed, the machine's mode: bench_modes.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static cpu_set_t initial_cpus;

/* The (i mod count)-th CPU of those the program started with. */
int bench_cpu(int i)
{
	int n = bench_opts.cpus > 0 ? bench_opts.cpus : 1, k = i % n;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &initial_cpus) && k-- == 0)
			return cpu;
	return 0;
}

/* Called once at start: the CPUs the program may use, and how many. */
void bench_cpus_init(void)
{
	if (sched_getaffinity(0, sizeof(initial_cpus), &initial_cpus)) {
		CPU_ZERO(&initial_cpus);
		CPU_SET(0, &initial_cpus);
	}
	bench_opts.cpus = CPU_COUNT(&initial_cpus);
}

/*
 * Back to every CPU, after a suite pinned the calling thread: what it
 * starts next (the test VM's QEMU above all) must not inherit one CPU.
 */
void bench_unpin(void)
{
	sched_setaffinity(0, sizeof(initial_cpus), &initial_cpus);
}

int bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct line_pong {
	_Alignas(64) _Atomic uint64_t line;
	uint64_t n;
};

/* The far side: answers every odd value v with v + 1. */
static void *line_far(void *arg)
{
	struct line_pong *lp = arg;

	bench_pin(bench_cpu(1));
	for (uint64_t i = 0; i < lp->n; i++) {
		uint64_t want = 2 * i + 1;

		/* Acquire pairs with the near side's release store of @want. */
		while (atomic_load_explicit(&lp->line, memory_order_acquire) != want)
			__builtin_ia32_pause();
		/* Release pairs with the near side's acquire load. */
		atomic_store_explicit(&lp->line, want + 1, memory_order_release);
	}
	return NULL;
}

/*
 * A cache line bounced @n times between a thread on bench_cpu(0) (the
 * caller, pinned there) and one on bench_cpu(1): each round trip's ns in
 * @rtt (after a warm-up). The floor of any cross-core exchange. 0 or
 * -errno.
 */
int bench_line_pingpong(double *rtt, uint64_t n)
{
	struct line_pong *lp = aligned_alloc(64, sizeof(*lp));
	uint64_t warm = n / 10 + 100;
	pthread_t t;

	if (!lp)
		return -ENOMEM;
	atomic_init(&lp->line, 0);
	lp->n = n + warm;
	bench_pin(bench_cpu(0));
	pthread_create(&t, NULL, line_far, lp);
	for (uint64_t i = 0; i < lp->n; i++) {
		uint64_t t0 = bench_now_ns();

		atomic_store_explicit(&lp->line, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&lp->line, memory_order_acquire) !=
		       2 * i + 2)
			__builtin_ia32_pause();
		if (i >= warm)
			rtt[i - warm] = (double)(bench_now_ns() - t0);
	}
	pthread_join(t, NULL);
	free(lp);
	return 0;
}
