// SPDX-License-Identifier: MIT
/*
 * mpmc_lib_mt.c - MPMC queues through liblfq's API on memfd queues: producer
 * and consumer handles, each attached by fd, in threads and in processes;
 * every message delivered exactly once, whole, in order per producer
 * within each consumer, with consumers that sleep in lfq_wait_data() (a
 * lost wakeup is a 10 s timeout) and release their claims in pieces;
 * discards skipped; a held claim keeps its slots from the producers until
 * released; and the geometry rules (no elastic MPMC queue).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define SLOT		32u
#define TIMEOUT_NS	10000000000ll
#define PMAX		4
#ifdef LFQ_TSAN
#define PER_PRODUCER	20000ull
#else
#define PER_PRODUCER	1000000ull
#endif

/* A message: producer, sequence number, and a check of both. */
struct msg {
	uint64_t producer, seq, check, pad;
};

static uint64_t check_of(uint64_t p, uint64_t s)
{
	return (p << 40 ^ s) * 0x9e3779b97f4a7c15ull;
}

static int make_queue(uint32_t slots, struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = slots, .backend = LFQ_BACKEND_MEMFD);

	return lfq_create(&o, q);
}

static int attach(int fd, struct lfq **q)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = fd);

	return lfq_open(&o, q);
}

/*
 * What the consumers saw, in shared memory (threads and processes alike):
 * a count per message (exactly once: each ends at 1), discards, errors.
 */
struct seen {
	uint8_t count[PMAX][PER_PRODUCER];
	uint64_t total, discards_committed, bad;
};

static struct seen *seen_map(void)
{
	struct seen *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED) {
		tap_diag("mmap: %s", strerror(errno));
		exit(1);
	}
	return s;
}

struct role {
	int fd;
	unsigned int id, producers;
	uint64_t count;		/* producer: messages; consumer: stop at */
	struct seen *seen;
	int rc;
};

/*
 * Producer: its own handle; batches of 1-8, every 64th batch commits one
 * slot fewer than it reserved (the rest is discarded).
 */
static int produce(struct role *r)
{
	uint64_t seq = 0, round = 0;
	struct lfq *q;

	if (attach(r->fd, &q))
		return 2;
	while (seq < r->count) {
		uint32_t want = (uint32_t)(round % 8) + 1, keep, i;
		struct msg *m;
		void *span;
		int got = lfq_reserve(q, want, &span);

		if (got == -EAGAIN) {
			if (lfq_wait_space(q, 1, TIMEOUT_NS))
				return 3;
			continue;
		}
		if (got < 0)
			return 4;
		keep = (uint32_t)got;
		if (++round % 64 == 0 && keep > 1) {
			keep--;
			__atomic_fetch_add(&r->seen->discards_committed,
					   (uint32_t)got - keep,
					   __ATOMIC_RELAXED);
		}
		if (keep > r->count - seq)
			keep = (uint32_t)(r->count - seq);
		m = span;
		for (i = 0; i < keep; i++, seq++) {
			m[i].producer = r->id;
			m[i].seq = seq;
			m[i].check = check_of(r->id, seq);
		}
		if (lfq_commit(q, keep))
			return 5;
	}
	lfq_close(q);
	return 0;
}

/*
 * Consumer: its own handle; peeks up to 1-16 slots, checks them and
 * releases them in one to three pieces, sleeping when the ring is empty
 * until the consumers together have seen every message.
 */
static int consume(struct role *r)
{
	uint64_t last[PMAX], n = 0;
	struct lfq *q;

	for (unsigned int p = 0; p < PMAX; p++)
		last[p] = UINT64_MAX;
	if (attach(r->fd, &q))
		return 2;
	while (__atomic_load_n(&r->seen->total, __ATOMIC_RELAXED) < r->count) {
		const void *span;
		const struct msg *m;
		int got = lfq_peek(q, (uint32_t)(n % 16) + 1, &span), i, done;

		if (got == -EAGAIN) {
			got = lfq_wait_data(q, 1, 100000000ll);
			if (got && got != -ETIMEDOUT)
				return 3;
			continue;
		}
		if (got < 0)
			return 4;
		m = span;
		for (i = 0; i < got; i++) {
			uint64_t p = m[i].producer, s = m[i].seq;

			if (p >= r->producers || s >= PER_PRODUCER ||
			    m[i].check != check_of(p, s) ||
			    (last[p] != UINT64_MAX && s <= last[p])) {
				__atomic_fetch_add(&r->seen->bad, 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			last[p] = s;
			__atomic_fetch_add(&r->seen->count[p][s], 1,
					   __ATOMIC_RELAXED);
		}
		/* Release in pieces: the first slot, then the rest. */
		for (done = 0; done < got;) {
			int piece = done || got == 1 ? got - done : 1;

			if (lfq_release(q, (uint32_t)piece))
				return 5;
			done += piece;
		}
		__atomic_fetch_add(&r->seen->total, (uint64_t)got,
				   __ATOMIC_RELAXED);
		n++;
	}
	lfq_close(q);
	return 0;
}

static void *thread_main(void *arg)
{
	struct role *r = arg;

	r->rc = r->producers ? consume(r) : produce(r);
	return NULL;
}

/* Check the consumers' tally: every message exactly once, nothing bad. */
static int tally_ok(const struct seen *s, unsigned int producers,
		    uint64_t per)
{
	uint64_t missing = 0, twice = 0;

	for (unsigned int p = 0; p < producers; p++)
		for (uint64_t i = 0; i < per; i++) {
			missing += !s->count[p][i];
			twice += s->count[p][i] > 1;
		}
	if (missing || twice || s->bad)
		tap_diag("  missing %llu, delivered twice %llu, bad %llu",
			 (unsigned long long)missing,
			 (unsigned long long)twice,
			 (unsigned long long)s->bad);
	return !missing && !twice && !s->bad;
}

/* @np producer and @nc consumer threads (or processes) on one queue. */
static void run(unsigned int np, unsigned int nc, int processes)
{
	struct role roles[2 * PMAX];
	pthread_t th[2 * PMAX];
	pid_t pid[2 * PMAX];
	struct seen *s = seen_map();
	struct lfq *q;
	int64_t t0 = now_ns();
	unsigned int i, n = np + nc;
	int rc = 0;

	if (make_queue(256, &q)) {
		tap_ok(0, "create an MPMC memfd queue");
		return;
	}
	for (i = 0; i < n; i++) {
		roles[i] = (struct role){
			.fd = lfq_fd(q), .id = i < np ? i : i - np,
			.producers = i < np ? 0 : np,
			.count = i < np ? PER_PRODUCER : np * PER_PRODUCER,
			.seen = s,
		};
		if (processes) {
			fflush(stdout);
			pid[i] = fork();
			if (!pid[i])
				_exit(i < np ? produce(&roles[i]) :
					       consume(&roles[i]));
		} else if (pthread_create(&th[i], NULL, thread_main,
					  &roles[i])) {
			tap_diag("pthread_create failed");
			exit(1);
		}
	}
	for (i = 0; i < n; i++) {
		if (processes) {
			if (child_ok(pid[i]))
				rc = -1;
		} else {
			pthread_join(th[i], NULL);
			if (roles[i].rc) {
				tap_diag("  %s %u: rc %d",
					 i < np ? "producer" : "consumer",
					 roles[i].id, roles[i].rc);
				rc = -1;
			}
		}
	}
	tap_ok(!rc && tally_ok(s, np, PER_PRODUCER),
	       "%ux%u %s: %llu messages, each delivered exactly once, whole and in order per producer (%.2f s)",
	       np, nc, processes ? "processes" : "threads",
	       (unsigned long long)(np * PER_PRODUCER),
	       (double)(now_ns() - t0) / 1e9);
	tap_diag("  %llu slots discarded by the producers",
		 (unsigned long long)s->discards_committed);
	lfq_close(q);
	munmap(s, sizeof(*s));
}

/* A held claim keeps its slots: peek again, partial release, no reuse. */
static void test_held_claim(void)
{
	struct lfq *q, *a, *b;
	const void *span, *again;
	uint64_t v = 7, w;
	int got, i, pushed = 0;

	if (make_queue(128, &q) || attach(lfq_fd(q), &a) ||
	    attach(lfq_fd(q), &b)) {
		tap_ok(0, "create an MPMC queue and two consumers");
		return;
	}
	tap_ok(lfq_type(q) == LFQ_TYPE_MPMC, "lfq_type() says MPMC");
	for (i = 0; i < 128; i++)
		pushed += !lfq_push(q, &v, sizeof(v)) && ++v;
	got = lfq_peek(a, 4, &span);
	tap_ok(pushed == 128 && got == 4 && lfq_peek(a, 16, &again) == 4 &&
	       again == span,
	       "consumer A claims 4; its next peek returns the same 4 slots");
	got = lfq_peek(b, 128, &span);
	tap_ok(got == 124 && ((const uint64_t *)span)[0] == 11,
	       "consumer B claims the other 124, from message 11");
	lfq_release(b, (uint32_t)got);
	tap_ok(lfq_push(q, &v, sizeof(v)) == -EAGAIN &&
	       lfq_wait_space(q, 1, 0) == -EAGAIN,
	       "124 slots released, but the next slot is A's: no push, no space");
	tap_ok(!lfq_release(a, 1) && lfq_peek(a, 16, &span) == 3 &&
	       ((const uint64_t *)span)[0] == 8,
	       "A releases one slot; its peek returns the 3 it still holds");
	tap_ok(!lfq_push(q, &v, sizeof(v)) && ++v &&
	       lfq_push(q, &v, sizeof(v)) == -EAGAIN,
	       "one push fits in the released slot, the next does not");
	lfq_release(a, 16);
	tap_ok(lfq_push(q, &v, sizeof(v)) == 0 &&
	       lfq_peek(b, 1, &span) == 1 && !lfq_pop(a, &w, sizeof(w)) &&
	       ((const uint64_t *)span)[0] == 135 && w == 136,
	       "A releases the rest (asking for more releases what it holds); B and A take the next two");
	lfq_release(b, 1);
	tap_ok(lfq_pop(a, &w, sizeof(w)) == -EAGAIN &&
	       lfq_pop(b, &w, sizeof(w)) == -EAGAIN,
	       "then the queue is empty for both");
	lfq_close(a);
	lfq_close(b);
	lfq_close(q);
}

/* Discarded slots are skipped and freed; a waiting producer is woken. */
static void test_discards(void)
{
	struct lfq *q;
	const void *span;
	void *w;
	uint64_t v = 1;
	int got;

	if (make_queue(128, &q)) {
		tap_ok(0, "create an MPMC queue");
		return;
	}
	got = lfq_reserve(q, 3, &w);
	if (got == 3)
		memcpy(w, &v, sizeof(v));
	tap_ok(got == 3 && !lfq_commit(q, 1) && lfq_peek(q, 8, &span) == 1 &&
	       !lfq_release(q, 1) && lfq_peek(q, 8, &span) == -EAGAIN,
	       "commit 1 of 3 reserved: one message, the 2 discarded are skipped");
	tap_ok(lfq_reserve(q, 128, &w) == 128 && !lfq_discard(q) &&
	       lfq_peek(q, 8, &span) == -EAGAIN &&
	       lfq_reserve(q, 128, &w) == 128 && !lfq_commit(q, 128),
	       "a whole ring discarded is skipped and its slots reused");
	lfq_close(q);
}

static void test_geometry(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = 256, .backend = LFQ_BACKEND_MEMFD,
		 .flags = LFQ_CREATE_ELASTIC, .seg_min = 1, .seg_max = 4);
	struct lfq *q = NULL;

	tap_ok(lfq_create(&o, &q) == -EINVAL && !q,
	       "an elastic MPMC queue is EINVAL");
	o.flags = 0;
	o.seg_min = o.seg_max = 0;
	o.type = LFQ_TYPE_MPMC + 1;
	tap_ok(lfq_create(&o, &q) == -EINVAL, "type MPMC + 1 is EINVAL");
}

int main(void)
{
	tap_plan(17);
	test_geometry();
	test_held_claim();
	test_discards();
	run(1, 2, 0);
	run(2, 2, 0);
	run(4, 4, 0);
	run(2, 2, 1);
	run(4, 4, 1);
	return tap_done();
}
