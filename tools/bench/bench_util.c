// SPDX-License-Identifier: MIT
/*
 * bench_util.c - clocks and CPU placement for lfq-bench's measurements.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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
