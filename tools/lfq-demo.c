// SPDX-License-Identifier: MIT
/*
 * lfq-demo.c - processes streaming through one /dev/lfq queue: forked
 * producers write sequenced messages zero-copy, the consumer verifies
 * every one (per producer), sleeping in epoll when the ring runs dry, and
 * prints a live line per second (rate, totals, the queue's own counters).
 * One producer uses an SPSC queue, more an MPSC queue.
 *
 * Usage: lfq-demo [-t SECONDS] [-s SLOT_SIZE] [-n SLOTS] [-b BATCH]
 *                 [-p PRODUCERS] [-m]
 *   -m  use a memfd queue instead of /dev/lfq (no module needed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define MAX_PRODUCERS 16

static void produce(struct lfq *shared, uint32_t batch, unsigned int id)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = lfq_fd(shared));
	uint32_t words = lfq_slot_size(shared) / 8;
	uint64_t seq = (uint64_t)id << 48;
	struct lfq *q = shared;

	/* MPSC: each producer works through a handle of its own. */
	if (id && lfq_open(&o, &q))
		_exit(1);

	for (;;) {
		uint64_t *m;
		void *span;
		int got = lfq_reserve(q, batch, &span), i;

		if (got == -EAGAIN) {
			lfq_wait_space(q, 1, -1);
			continue;
		}
		if (got < 0)
			_exit(1);
		m = span;
		for (i = 0; i < got; i++, seq++) {
			m[i * words] = seq;
			m[i * words + words - 1] = ~seq;
		}
		lfq_commit(q, got);
	}
}

static int consume(struct lfq *q, uint32_t batch, double seconds,
		   const pid_t *child, unsigned int producers)
{
	uint32_t words = lfq_slot_size(q) / 8;
	uint64_t next[MAX_PRODUCERS] = { 0 };
	uint64_t seq = 0, last = 0, bad = 0, sleeps = 0;
	unsigned int i;
	double t0 = now_s(), tick = t0 + 1, t;
	struct epoll_event ev = { .events = EPOLLIN };
	struct lfq_stats st;
	int ep = -1;

	if (lfq_is_kernel(q)) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		epoll_ctl(ep, EPOLL_CTL_ADD, lfq_fd(q), &ev);
	}
	printf("%6s %14s %14s %10s %12s %12s %10s\n", "time", "msgs/s",
	       "total", "bad", "full-evts", "empty-evts", "wakeups");
	for (;;) {
		const void *span;
		int got = lfq_peek(q, batch, &span), k;
		const uint64_t *m = span;

		if (got > 0) {
			for (k = 0; k < got; k++, seq++) {
				uint64_t w = m[k * words], id = w >> 48;

				if (id >= producers ||
				    (w & 0xffffffffffffull) != next[id]++ ||
				    m[k * words + words - 1] != ~w)
					bad++;
			}
			lfq_release(q, (uint32_t)got);
		} else if (got != -EAGAIN) {
			fprintf(stderr, "lfq-demo: peek: %s\n", strerror(-got));
			bad++;
			break;
		} else if (ep >= 0) {
			/* The fd in the caller's own event loop. */
			if (lfq_wait_data(q, 1, 0) == -EAGAIN) {
				epoll_wait(ep, &ev, 1, 100);
				sleeps++;
			}
		} else {
			lfq_wait_data(q, 1, 100000000);
		}
		t = now_s();
		if (t < tick)
			continue;
		lfq_get_stats(q, &st);
		printf("%5.0fs %14.0f %14llu %10llu %12llu %12llu %10llu\n",
		       t - t0, (seq - last) / (t - tick + 1),
		       (unsigned long long)seq, (unsigned long long)bad,
		       (unsigned long long)st.full_events,
		       (unsigned long long)st.empty_events,
		       (unsigned long long)st.wakeups);
		fflush(stdout);
		last = seq;
		tick = t + 1;
		if (t - t0 >= seconds)
			break;
	}
	for (i = 0; i < producers; i++) {
		kill(child[i], SIGKILL);
		waitpid(child[i], NULL, 0);
	}
	printf("lfq-demo: %llu messages in %.1f s (%.0f msgs/s), %llu bad, "
	       "%llu epoll sleeps\n", (unsigned long long)seq, now_s() - t0,
	       seq / (now_s() - t0), (unsigned long long)bad,
	       (unsigned long long)sleeps);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 1024);
	uint32_t batch = 1;
	double seconds = 10;
	int opt, err;
	unsigned int producers = 1, i;
	pid_t pid[MAX_PRODUCERS];
	struct lfq *q;

	while ((opt = getopt(argc, argv, "t:s:n:b:p:m")) != -1) {
		switch (opt) {
		case 't': seconds = atof(optarg); break;
		case 's': p.slot_size = (uint32_t)atoi(optarg); break;
		case 'n': p.slot_count = (uint32_t)atoi(optarg); break;
		case 'b': batch = (uint32_t)atoi(optarg); break;
		case 'p': producers = (unsigned int)atoi(optarg); break;
		case 'm': p.backend = LFQ_BACKEND_MEMFD; break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-s SLOT_SIZE] "
				"[-n SLOTS] [-b BATCH] [-p PRODUCERS] [-m]\n",
				argv[0]);
			return 2;
		}
	}
	if (p.slot_size < 16 || !batch || !producers ||
	    producers > MAX_PRODUCERS) {
		fprintf(stderr, "lfq-demo: slot size >= 16, batch >= 1, "
			"1..%d producers\n", MAX_PRODUCERS);
		return 2;
	}
	if (producers > 1)
		p.type = LFQ_TYPE_MPSC;
	err = lfq_create(&p, &q);
	if (err) {
		fprintf(stderr, "lfq-demo: create: %s\n", strerror(-err));
		return 1;
	}
	printf("lfq-demo: %s %s queue, %u producer process%s, %u slots of "
	       "%u bytes, batch %u, %.0f s\n",
	       lfq_is_kernel(q) ? "/dev/lfq" : "memfd",
	       producers > 1 ? "MPSC" : "SPSC", producers,
	       producers > 1 ? "es" : "", p.slot_count, p.slot_size, batch,
	       seconds);
	fflush(stdout);
	for (i = 0; i < producers; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			produce(q, batch, i);
			_exit(0);
		}
	}
	return consume(q, batch, seconds, pid, producers);
}
