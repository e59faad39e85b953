// SPDX-License-Identifier: GPL-2.0
/*
 * kill_storm.c - MPSC crash safety against the real module: producers that
 * die holding reservations (SIGKILL at random points) must not stall the
 * consumer, live producers' reservations must never be taken for a dead
 * one's, and every reserved slot must end up consumed or counted in
 * lfq_stats.orphaned. Also LFQ_IOC_CLAIM's errors, and that nothing is
 * left once the queues are gone.
 *
 *   kill_storm [-k KILLS] [-p PRODUCERS]     (defaults: 1000 kills, 4)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define NAME		"t-storm"
#define SLOT		64
#define SLOTS		16384		/* 1 MiB of slots: a leak would show */
#define GENS_MAX	8192
#define STALL_MAX_NS	1000000000ll

/* One record: which producer generation, its sequence, a check word. */
struct rec {
	uint32_t gen;
	uint32_t pad;
	uint64_t seq;
	uint64_t check;
};

static uint64_t check_of(uint32_t gen, uint64_t seq)
{
	return (seq * 0x9e3779b97f4a7c15ull) ^ gen ^ 0x5bd1e995;
}

static int claim_ioc(int fd, uint32_t flags, uint32_t *index, uint32_t size)
{
	struct lfq_claim c = { .size = size, .flags = flags,
			       .index = index ? *index : 0 };

	if (ioctl(fd, LFQ_IOC_CLAIM, &c))
		return errno;
	if (index)
		*index = c.index;
	return 0;
}

/* Create @name: an MPSC queue of @slots whose creator only consumes. */
static int create_consumer_queue(const char *name, uint32_t slots, struct lfq **out)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = slots, .name = name, .mode = 0600,
		 .role = LFQ_ROLE_CONSUMER);

	return lfq_create(&o, out);
}

/* A producer handle on the queue named @name. */
static int open_producer(const char *name, struct lfq **out)
{
	LFQ_OPTS(lfq_open_opts, o, .name = name, .role = LFQ_ROLE_PRODUCER);

	return lfq_open(&o, out);
}

/* LFQ_IOC_CLAIM's errors, each with its exact errno. */
static void test_claim_errnos(void)
{
	struct lfq *s = spsc_queue_or_exit(SLOT, 64);
	struct lfq *m = mpsc_queue_or_exit(SLOT, 64);
	struct lfq *cons = NULL, *prod = NULL;
	uint32_t idx[LFQ_MPSC_CLAIMS], i, x;
	int fd = lfq_fd(m), err, n;

	expect(claim_ioc(lfq_fd(s), 0, &x, sizeof(struct lfq_claim)), EINVAL,
	       "CLAIM on an SPSC queue");
	expect(claim_ioc(fd, 1u << 5, &x, sizeof(struct lfq_claim)), EINVAL,
	       "CLAIM with an unknown flag");
	expect(claim_ioc(fd, 0, &x, 8), EINVAL, "CLAIM with size 8");
	{
		struct lfq_claim c = { .size = sizeof(c), .__reserved = 1 };

		expect(ioctl(fd, LFQ_IOC_CLAIM, &c) ? errno : 0, EINVAL,
		       "CLAIM with __reserved set");
	}
	expect(ioctl(fd, LFQ_IOC_CLAIM, (void *)16) ? errno : 0, EFAULT,
	       "CLAIM with a bad pointer");
	x = 3;
	expect(claim_ioc(fd, LFQ_CLAIM_FREE, &x, sizeof(struct lfq_claim)),
	       EINVAL, "CLAIM_FREE of a claim this file does not hold");
	x = LFQ_MPSC_CLAIMS + 7;
	expect(claim_ioc(fd, LFQ_CLAIM_FREE, &x, sizeof(struct lfq_claim)),
	       EINVAL, "CLAIM_FREE of index %u (out of range)", x);

	/* The handle holds one claim already (liblfq registers it). */
	for (n = 0; n < LFQ_MPSC_CLAIMS; n++)
		if (claim_ioc(fd, 0, &idx[n], sizeof(struct lfq_claim)))
			break;
	tap_ok(n == LFQ_MPSC_CLAIMS - 1,
	       "%d more claims register next to the handle's (want %d)", n,
	       LFQ_MPSC_CLAIMS - 1);
	expect(claim_ioc(fd, 0, &x, sizeof(struct lfq_claim)), ENOSPC,
	       "CLAIM with all %d claims registered", LFQ_MPSC_CLAIMS);
	x = idx[0];
	expect(claim_ioc(fd, LFQ_CLAIM_FREE, &x, sizeof(struct lfq_claim)), 0,
	       "CLAIM_FREE of a held claim");
	expect(claim_ioc(fd, LFQ_CLAIM_FREE, &x, sizeof(struct lfq_claim)),
	       EINVAL, "CLAIM_FREE of the same claim twice");
	err = claim_ioc(fd, 0, &x, sizeof(struct lfq_claim));
	tap_ok(!err && x == idx[0], "the freed claim is registered again (%u)",
	       x);
	for (i = 1; i < (uint32_t)n; i++)
		claim_ioc(fd, LFQ_CLAIM_FREE, &idx[i], sizeof(struct lfq_claim));

	/* Roles: a consumer-only file holds no claims. */
	lfq_unlink("t-claim");
	err = create_consumer_queue("t-claim", 64, &cons);
	if (!err)
		err = open_producer("t-claim", &prod);
	if (!tap_ok(!err && lfq_role(cons) == LFQ_ROLE_CONSUMER &&
		    lfq_role(prod) == LFQ_ROLE_PRODUCER,
		    "named MPSC queue with a consumer and a producer"))
		tap_diag("err %d, roles %u %u", err, cons ? lfq_role(cons) : 0,
			 prod ? lfq_role(prod) : 0);
	if (cons)
		expect(claim_ioc(lfq_fd(cons), 0, &x, sizeof(struct lfq_claim)),
		       EPERM, "CLAIM by a consumer-only file");
	if (prod)
		expect(claim_ioc(lfq_fd(prod), 0, &x, sizeof(struct lfq_claim)),
		       0, "CLAIM by a producer file");
	lfq_close(prod);
	lfq_close(cons);
	lfq_unlink("t-claim");
	lfq_close(s);
	lfq_close(m);
}

/* A child producer: reserve @n, report over @w, then commit on a byte. */
static void holder(const char *name, uint32_t n, int w, int r, uint32_t gen)
{
	struct lfq *p;
	void *slot;
	uint32_t i;
	char c = 0;

	if (open_producer(name, &p))
		_exit(2);
	if (lfq_reserve(p, n, &slot) != (int)n)
		_exit(3);
	for (i = 0; i < n; i++) {
		struct rec *x = (void *)((char *)slot + i * SLOT);

		x->gen = gen;
		x->seq = i;
		x->check = check_of(gen, i);
	}
	if (write(w, &c, 1) != 1)
		_exit(4);
	/* Wait for the go (or die here, reservation held). */
	if (read(r, &c, 1) != 1)
		_exit(5);
	lfq_commit(p, n);
	lfq_close(p);
	_exit(0);
}

static pid_t spawn_holder(const char *name, uint32_t n, uint32_t gen,
			  int *go_fd)
{
	int up[2], down[2];
	pid_t pid;
	char c;

	if (pipe(up) || pipe(down))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		holder(name, n, up[1], down[0], gen);
	}
	close(up[1]);
	close(down[0]);
	if (pid < 0 || read(up[0], &c, 1) != 1) {
		close(up[0]);
		close(down[1]);
		return -1;
	}
	close(up[0]);
	*go_fd = down[1];
	return pid;
}

/* Let a holder commit and exit; true if it exited cleanly. */
static int finish_holder(pid_t pid, int go)
{
	int st = -1;

	if (write(go, "g", 1) != 1)
		tap_diag("write: %s", strerror(errno));
	close(go);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && !WEXITSTATUS(st);
}

/* Consume what is ready (discarded slots are skipped); count records. */
static uint64_t drain(struct lfq *c, uint32_t want_gen, uint64_t *bad)
{
	const void *r;
	uint64_t n = 0;
	int got, i;

	while ((got = lfq_peek(c, 64, &r)) > 0) {
		for (i = 0; i < got; i++) {
			const struct rec *x = (const void *)((const char *)r +
							     i * SLOT);
			if (x->check != check_of(x->gen, x->seq) ||
			    (want_gen && x->gen != want_gen))
				(*bad)++;
		}
		lfq_release(c, (uint32_t)got);
		n += (uint64_t)got;
	}
	if (got != -EAGAIN) {
		tap_diag("drain: lfq_peek: %d (%s)", got, ename(-got));
		(*bad)++;
	}
	return n;
}

static int stats(struct lfq *q, struct lfq_stats *st)
{
	memset(st, 0, sizeof(*st));
	return lfq_get_stats(q, st);
}

/* Poll until the consumer index reaches head, or @ns pass. */
static int64_t settle(struct lfq *c, int64_t ns, uint64_t *consumed,
		      uint64_t *bad)
{
	int64_t t0 = now_ns();
	struct lfq_stats st;

	do {
		*consumed += drain(c, 0, bad);
		stats(c, &st);
		if (st.consumed == st.produced)
			return now_ns() - t0;
		usleep(200);
	} while (now_ns() - t0 < ns);
	return -1;
}

/* Deterministic: a dead holder's slots go, a live holder's stay. */
static void test_orphans(void)
{
	uint64_t consumed = 0, bad = 0;
	struct lfq_stats st;
	struct lfq *c = NULL;
	int go_a, go_b, ok_a;
	pid_t a, b;
	int64_t t;

	lfq_unlink("t-orph");
	if (!tap_ok(!create_consumer_queue("t-orph", 256, &c), "named MPSC queue t-orph"))
		return;

	/* 1: a producer killed holding 3 slots. */
	b = spawn_holder("t-orph", 3, 1, &go_b);
	tap_ok(b > 0, "a producer reserved 3 slots");
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	close(go_b);
	t = settle(c, 2000000000ll, &consumed, &bad);
	stats(c, &st);
	tap_ok(t >= 0 && t < STALL_MAX_NS && st.orphaned == 3 &&
	       consumed == 0 && st.consumed == 3,
	       "killed holding 3: consumer past them in %.1f ms, orphaned %llu",
	       t / 1e6, (unsigned long long)st.orphaned);

	/* 2: A holds 1 (alive), then B reserves 2 and is killed. */
	a = spawn_holder("t-orph", 1, 2, &go_a);
	b = spawn_holder("t-orph", 2, 3, &go_b);
	tap_ok(a > 0 && b > 0, "A holds 1 slot, B holds the next 2");
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	close(go_b);
	msleep(300);
	consumed += drain(c, 0, &bad);
	stats(c, &st);
	tap_ok(st.orphaned == 5 && st.consumed == 3 && st.produced == 6,
	       "B's 2 slots are orphaned, A's live one is kept (orphaned %llu, "
	       "consumer at %llu of %llu)", (unsigned long long)st.orphaned,
	       (unsigned long long)st.consumed,
	       (unsigned long long)st.produced);
	ok_a = finish_holder(a, go_a);
	t = settle(c, 2000000000ll, &consumed, &bad);
	stats(c, &st);
	tap_ok(ok_a && t >= 0 && consumed == 1 && !bad && st.orphaned == 5 && st.consumed == 6,
	       "A commits late: its record arrives intact, then B's are skipped "
	       "(consumed %llu, bad %llu)", (unsigned long long)consumed,
	       (unsigned long long)bad);

	/* 3: a producer that commits and exits leaves nothing orphaned. */
	a = spawn_holder("t-orph", 4, 4, &go_a);
	ok_a = finish_holder(a, go_a);
	t = settle(c, 2000000000ll, &consumed, &bad);
	stats(c, &st);
	tap_ok(ok_a && t >= 0 && consumed == 5 && st.orphaned == 5 && !bad,
	       "a clean exit orphans nothing (orphaned %llu, consumed %llu, "
	       "bad %llu)", (unsigned long long)st.orphaned,
	       (unsigned long long)consumed, (unsigned long long)bad);
	lfq_close(c);
	lfq_unlink("t-orph");
}

/* The storm. */
static volatile int stop_consumer;
static uint64_t s_consumed, s_bad, s_order;
static int64_t s_stall_max;
static int64_t last_seq[GENS_MAX];

static void *consume(void *arg)
{
	struct lfq *c = arg;
	int64_t last = now_ns(), idle_since = 0;
	struct lfq_stats st;
	const void *span;
	int got, i;

	for (;;) {
		got = lfq_peek(c, 64, &span);
		if (got < 0 && got != -EAGAIN && s_bad++ < 1)
			tap_diag("consumer: lfq_peek: %d (%s)", got,
				 ename(-got));
		if (got > 0) {
			for (i = 0; i < got; i++) {
				const struct rec *x = (const void *)
					((const char *)span + i * SLOT);

				if (x->gen >= GENS_MAX ||
				    x->check != check_of(x->gen, x->seq)) {
					s_bad++;
					continue;
				}
				/* Per producer: each sequence once, in order. */
				if ((int64_t)x->seq != last_seq[x->gen] + 1)
					s_order++;
				last_seq[x->gen] = (int64_t)x->seq;
			}
			lfq_release(c, (uint32_t)got);
			s_consumed += (uint64_t)got;
			last = now_ns();
			idle_since = 0;
			continue;
		}
		if (stop_consumer)
			break;
		/* Nothing ready: a stall only if slots are reserved. */
		stats(c, &st);
		if (st.produced != st.consumed) {
			if (!idle_since)
				idle_since = last;
			if (now_ns() - idle_since > s_stall_max)
				s_stall_max = now_ns() - idle_since;
		} else {
			idle_since = 0;
			last = now_ns();
		}
		sched_yield();
	}
	return NULL;
}

static void producer(uint32_t gen)
{
	uint64_t seq = 0, rnd = gen * 2654435761u + 1;
	struct lfq *p;
	uint32_t want;
	void *span;
	int got, i;

	if (open_producer(NAME, &p))
		_exit(2);
	for (;;) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		want = 1 + (uint32_t)(rnd >> 60) % 4;
		got = lfq_reserve(p, want, &span);
		if (got == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (got < 0)
			_exit(3);
		for (i = 0; i < got; i++) {
			struct rec *x = (void *)((char *)span + i * SLOT);

			x->gen = gen;
			x->seq = seq + i;
			x->check = check_of(gen, seq + i);
		}
		lfq_commit(p, (uint32_t)got);
		seq += (uint64_t)got;
	}
}

static uint64_t vmalloc_used_kb(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmallocUsed: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void test_storm(unsigned int kills, unsigned int nprod)
{
	uint64_t rnd = (uint64_t)now_ns() | 1, vm0, vm1 = 0;
	unsigned int k, gen, i;
	pid_t pids[64];
	struct lfq_stats st;
	struct lfq *c = NULL;
	pthread_t th;
	int64_t t0, t;
	int err;

	for (i = 0; i < GENS_MAX; i++)
		last_seq[i] = -1;
	lfq_unlink(NAME);
	vm0 = vmalloc_used_kb();
	err = create_consumer_queue(NAME, SLOTS, &c);
	if (!tap_ok(!err, "named MPSC queue %s, %u slots", NAME, SLOTS))
		return;
	if (pthread_create(&th, NULL, consume, c)) {
		tap_ok(0, "consumer thread");
		return;
	}
	for (i = 0; i < nprod; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			producer(i + 1);
	}
	gen = nprod;
	t0 = now_ns();
	for (k = 0; k < kills; k++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		usleep((rnd >> 40) % 2000);
		i = (uint32_t)(rnd >> 20) % nprod;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
		if (gen + 1 >= GENS_MAX)
			break;
		pids[i] = fork();
		if (pids[i] == 0)
			producer(gen + 1);
		gen++;
	}
	for (i = 0; i < nprod; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	t = now_ns() - t0;
	/* Every producer is gone: the consumer must reach head. */
	{
		int64_t d0 = now_ns();

		do {
			stats(c, &st);
			if (st.consumed == st.produced)
				break;
			usleep(1000);
		} while (now_ns() - d0 < 5000000000ll);
	}
	stop_consumer = 1;
	pthread_join(th, NULL);
	stats(c, &st);
	tap_ok(k == kills, "%u producers killed with SIGKILL in %.1f s, %u "
	       "producer generations", k, t / 1e9, gen);
	tap_ok(st.consumed == st.produced,
	       "the consumer reached head after the storm (%llu of %llu)",
	       (unsigned long long)st.consumed,
	       (unsigned long long)st.produced);
	tap_ok(s_consumed + st.orphaned == st.produced,
	       "consumed %llu + orphaned %llu = reserved %llu",
	       (unsigned long long)s_consumed,
	       (unsigned long long)st.orphaned,
	       (unsigned long long)st.produced);
	tap_ok(!s_bad && !s_order,
	       "every record intact (bad %llu), each producer's in order with "
	       "no gap or repeat (%llu out of order)",
	       (unsigned long long)s_bad, (unsigned long long)s_order);
	tap_ok(s_stall_max < STALL_MAX_NS,
	       "longest consumer stall with slots reserved: %.1f ms (< 1 s)",
	       s_stall_max / 1e6);
	tap_ok(st.orphaned > 0, "kills did land inside reservations "
	       "(%llu slots orphaned)", (unsigned long long)st.orphaned);

	/* Nothing left once the queue is gone (freed after RCU). */
	lfq_close(c);
	tap_ok(!lfq_unlink(NAME), "unlink %s", NAME);
	for (i = 0; i < 40; i++) {
		vm1 = vmalloc_used_kb();
		if (vm1 <= vm0 + 512)
			break;
		msleep(50);
	}
	tap_ok(vm1 <= vm0 + 512, "VmallocUsed back to %llu kB (was %llu kB "
	       "before the 2 MiB queue)", (unsigned long long)vm1,
	       (unsigned long long)vm0);
}

int main(int argc, char **argv)
{
	unsigned int kills = 1000, nprod = 4;
	int opt;

	while ((opt = getopt(argc, argv, "k:p:")) != -1) {
		if (opt == 'k')
			kills = (unsigned int)strtoul(optarg, NULL, 0);
		else if (opt == 'p')
			nprod = (unsigned int)strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (nprod < 1 || nprod > 64)
		return 2;
	tap_plan(31);
	test_claim_errnos();
	test_orphans();
	test_storm(kills, nprod);
	return tap_done();
}
