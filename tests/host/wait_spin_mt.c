// SPDX-License-Identifier: MIT
/*
 * wait_spin_mt.c - the adaptive spin of lfq_wait_data()/_space()
 * (libuser/lfq_wait.c): it starts at the setting, a wait that slept takes
 * a quarter off it down to the floor (an idle peer costs a floor's worth
 * of checks per sleep, not the setting), a wait its spin satisfied doubles
 * it up to the setting (a busy peer on another CPU), a setting below the
 * floor, 0 included, is kept, and the two sides of a handle adapt apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ready.h"
#include "tap.h"
#include "test_util.h"

#define FLOOR		LFQ_WAIT_SPINS_FLOOR
#define BIG		65536u	/* a setting a round trip stays well under */
#define IDLE_NS		20000ll
#define ECHO_S		5.0
#define DATA		LFQ_WAIT_DATA
#define SPACE		LFQ_WAIT_SPACE

static struct lfq *spsc_memfd(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 8,
		 .slot_count = 512, .backend = LFQ_BACKEND_MEMFD);

	return queue_or_exit(&o);
}

/* Waits on an empty queue nobody fills: each spins, sleeps, times out. */
static int idle_waits(struct lfq *q, int data, unsigned int n)
{
	int bad = 0;

	while (n--) {
		int rc = data ? lfq_wait_data(q, 1, IDLE_NS) :
				lfq_wait_space(q, 1, IDLE_NS);

		bad |= rc != -ETIMEDOUT;
	}
	return bad;
}

static void test_idle_peer(void)
{
	struct lfq *q = spsc_memfd();
	unsigned int after1, after40;
	int bad;

	tap_ok(lfq_get_wait_spin(q, DATA) == LFQ_WAIT_SPINS_DEFAULT &&
	       lfq_get_wait_spin(q, SPACE) == LFQ_WAIT_SPINS_DEFAULT,
	       "a new handle's waits start with the default spin (%u, %u)",
	       lfq_get_wait_spin(q, DATA), lfq_get_wait_spin(q, SPACE));
	bad = idle_waits(q, 1, 1);
	after1 = lfq_get_wait_spin(q, DATA);
	bad |= idle_waits(q, 1, 39);
	after40 = lfq_get_wait_spin(q, DATA);
	tap_ok(!bad && after1 == LFQ_WAIT_SPINS_DEFAULT * 3 / 4 &&
	       after40 == FLOOR &&
	       lfq_get_wait_spin(q, SPACE) == LFQ_WAIT_SPINS_DEFAULT,
	       "an idle producer: a wait that slept takes a quarter off the spin (%u), 40 waits leave the floor (%u), all timed out; the producer side's is its own (%u)",
	       after1, after40, lfq_get_wait_spin(q, SPACE));
	lfq_set_wait_spin(q, 1000);
	tap_ok(lfq_get_wait_spin(q, DATA) == 1000 &&
	       lfq_get_wait_spin(q, SPACE) == 1000,
	       "lfq_set_wait_spin() restarts both sides from the setting (%u, %u)",
	       lfq_get_wait_spin(q, DATA), lfq_get_wait_spin(q, SPACE));
	/* The producer side adapts the same way, on a full ring. */
	while (!lfq_push(q, "12345678", 8))
		;
	bad = idle_waits(q, 0, 40);
	tap_ok(!bad && lfq_get_wait_spin(q, SPACE) == FLOOR &&
	       lfq_get_wait_spin(q, DATA) == 1000,
	       "a full ring nobody drains: lfq_wait_space() adapts to the floor too (%u; data side %u)",
	       lfq_get_wait_spin(q, SPACE), lfq_get_wait_spin(q, DATA));
	lfq_close(q);
}

static void test_low_settings(void)
{
	struct lfq *q = spsc_memfd();
	int bad;

	lfq_set_wait_spin(q, 8);
	bad = idle_waits(q, 1, 10);
	tap_ok(!bad && lfq_get_wait_spin(q, DATA) == 8,
	       "a setting below the floor is the floor: 8 stays 8 (%u)",
	       lfq_get_wait_spin(q, DATA));
	lfq_set_wait_spin(q, 0);
	bad = idle_waits(q, 1, 10);
	tap_ok(!bad && lfq_get_wait_spin(q, DATA) == 0,
	       "0 sleeps at once, and stays 0 (%u)",
	       lfq_get_wait_spin(q, DATA));
	lfq_close(q);
}

struct echo {
	struct lfq *there, *back;
	int cpu;
	int stop;
	unsigned long echoed;
};

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Busy-polls @there and sends each value back: a peer that is always on. */
static void *echo_thread(void *arg)
{
	struct echo *e = arg;
	uint64_t v;

	pin_to(e->cpu);
	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		if (lfq_pop(e->there, &v, sizeof(v)))
			continue;
		while (lfq_push(e->back, &v, sizeof(v)))
			;
		e->echoed++;
	}
	return NULL;
}

/*
 * A peer that answers within a round trip, on another CPU: the waits for
 * each answer find it in their spin, and the spin climbs back up. (With
 * one CPU to run on, the peer cannot answer during a spin: skipped.)
 */
static void test_busy_peer(void)
{
	struct echo e = { .there = spsc_memfd(), .back = spsc_memfd() };
	unsigned int low, start, rounds = 0, bad = 0;
	int cpus[2], n = 0, cpu;
	cpu_set_t mine;
	double deadline;
	uint64_t v;
	pthread_t th;

	CPU_ZERO(&mine);
	sched_getaffinity(0, sizeof(mine), &mine);
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &mine))
			cpus[n++] = cpu;
	if (n < 2) {
		tap_skip("one CPU to run on: a busy peer cannot answer during a spin");
		goto out;
	}
	lfq_set_wait_spin(e.back, BIG);
	/* Down from the setting first, with nobody answering. */
	while (lfq_get_wait_spin(e.back, DATA) > BIG / 32)
		bad |= idle_waits(e.back, 1, 1);
	low = lfq_get_wait_spin(e.back, DATA);
	start = low;
	e.cpu = cpus[1];
	if (pthread_create(&th, NULL, echo_thread, &e)) {
		tap_ok(0, "pthread_create");
		goto out;
	}
	pin_to(cpus[0]);
	deadline = now_s() + ECHO_S;
	while (lfq_get_wait_spin(e.back, DATA) < BIG && now_s() < deadline) {
		v = rounds;
		if (lfq_push(e.there, &v, sizeof(v)) ||
		    lfq_wait_data(e.back, 1, 1000000000ll) ||
		    lfq_pop(e.back, &v, sizeof(v)) || v != rounds) {
			bad++;
			break;
		}
		if (lfq_get_wait_spin(e.back, DATA) < low)
			low = lfq_get_wait_spin(e.back, DATA);
		rounds++;
	}
	__atomic_store_n(&e.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	tap_ok(!bad && lfq_get_wait_spin(e.back, DATA) == BIG,
	       "a peer answering each message from CPU %d: the spin climbs back from %u to the setting %u (%u) in %u round trips (lowest %u)",
	       cpus[1], start, BIG, lfq_get_wait_spin(e.back, DATA), rounds,
	       low);
out:
	lfq_close(e.there);
	lfq_close(e.back);
}

int main(void)
{
	tap_plan(7);
	test_idle_peer();
	test_low_settings();
	test_busy_peer();
	return tap_done();
}
