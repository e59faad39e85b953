// SPDX-License-Identifier: MIT
/*
 * mpmc_lib_mt.c - MPMC queues through liblfq's API: producer and consumer
 * handles, each attached on its own, in threads and in processes; every
 * message delivered exactly once, whole, in order per producer within
 * each consumer, with consumers that sleep in lfq_wait_data() (100 ms at
 * a time, so that they can see the others finish; 30 s without progress
 * fails the case) and release their claims in pieces; discards
 * skipped; a held claim keeps its slots from the producers until
 * released; and the geometry rules (no elastic MPMC queue).
 *
 * Runs on memfd queues here (handles attached by fd), and on a named
 * /dev/lfq queue in the test VM (tests/vm/mpmc_kernel.c builds this file
 * with LFQ_KERNEL_QUEUE: every producer and consumer opens its own file
 * by name, in its role), where it also kills a consumer that holds a
 * claim: the module releases its slots and counts them lost. -n sets the
 * messages per producer of the 4x4 processes case.
 *
 * Built with LFQ_RECORDS (tests/host/mpmc_rec_lib_mt.c, and
 * tests/vm/mpmc_rec_kernel.c with both), the same runs go through MPMC
 * record queues (kmod/proto/lfq_rec_mpmc.h) of the same bytes: a record
 * of 32 to 88 bytes per message, taken by lfq_record_peek() and
 * _release(), lfq_pop() and lfq_record_consume() in turn, every 64th
 * reservation discarded; the small cases have record versions, and the
 * killed consumers hold a record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define SLOT		32u
#define TIMEOUT_NS	10000000000ll
#define PMAX		4
#ifdef LFQ_TSAN
#define PER_PRODUCER	20000ull
#elif defined(LFQ_KERNEL_QUEUE)
#define PER_PRODUCER	100000ull	/* TCG is slow */
#else
#define PER_PRODUCER	1000000ull
#endif

#ifdef LFQ_RECORDS
#define UNITS	"records"
/* A record queue of the same bytes: 64 per slot of the slot queue. */
static void queue_opts(struct lfq_create_opts *o)
{
	o->flags |= LFQ_CREATE_RECORDS;
	o->slot_count *= 64;
	o->slot_size = 1;
}
#else
#define UNITS	"slots"
static void queue_opts(struct lfq_create_opts *o)
{
	(void)o;
}
#endif

#ifdef LFQ_KERNEL_QUEUE
#define QUEUE_NAME	"t-mpmc"
/* At most; the producers of the kill storm stop when it does. */
#define KILLS_PER_PRODUCER	50000000ull
#endif

/* Messages per producer of the 4x4 processes case (-n). */
static uint64_t big_per_producer = PER_PRODUCER;

/* A message: producer, sequence number, and a check of both. */
struct msg {
	uint64_t producer, seq, check, pad;
};

static uint64_t check_of(uint64_t p, uint64_t s)
{
	return (p << 40 ^ s) * 0x9e3779b97f4a7c15ull;
}

#ifdef LFQ_KERNEL_QUEUE
/* A named queue, so that each handle can open a file of its own. */
static int make_queue(uint32_t slots, struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = slots, .backend = LFQ_BACKEND_KERNEL,
		 .name = QUEUE_NAME, .mode = 0600);

	queue_opts(&o);
	lfq_unlink(QUEUE_NAME);	/* a previous case's, if it failed */
	return lfq_create(&o, q);
}

static void drop_queue(struct lfq *q)
{
	lfq_unlink(QUEUE_NAME);
	lfq_close(q);
}

/* A file of its own, in @role (0: both). */
static int attach_role(int fd, uint32_t role, struct lfq **q)
{
	LFQ_OPTS(lfq_open_opts, o, .name = QUEUE_NAME,
		 .role = role ? role : LFQ_ROLE_ALL);

	(void)fd;
	return lfq_open(&o, q);
}
#else
static int make_queue(uint32_t slots, struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = slots, .backend = LFQ_BACKEND_MEMFD);

	queue_opts(&o);
	return lfq_create(&o, q);
}

static void drop_queue(struct lfq *q)
{
	lfq_close(q);
}

/* Memfd queues have no roles: a handle of its own on the memfd. */
static int attach_role(int fd, uint32_t role, struct lfq **q)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = fd);

	(void)role;
	return lfq_open(&o, q);
}
#endif

static int attach(int fd, struct lfq **q)
{
	return attach_role(fd, 0, q);
}

/*
 * What the consumers saw, in shared memory (threads and processes alike):
 * a bit per message, set once (a second time counts in @twice), discards,
 * errors.
 */
struct seen {
	uint64_t total, discards_committed, bad, twice, per;
	uint64_t stop;		/* producers stop early when set */
	uint64_t made[PMAX];	/* messages each producer made */
	uint64_t bits[];	/* PMAX * per bits */
};

static size_t seen_size(uint64_t per)
{
	return sizeof(struct seen) + (PMAX * per + 63) / 64 * 8;
}

static struct seen *seen_map(uint64_t per)
{
	struct seen *s = mmap(NULL, seen_size(per), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED) {
		tap_diag("mmap: %s", strerror(errno));
		exit(1);
	}
	s->per = per;
	return s;
}

/* Mark message @seq of producer @p seen. */
static void seen_mark(struct seen *s, uint64_t p, uint64_t seq)
{
	uint64_t bit = p * s->per + seq;

	if (bit_seen_twice(s->bits, bit))
		__atomic_fetch_add(&s->twice, 1, __ATOMIC_RELAXED);
}

struct role {
	int fd;
	unsigned int id, producers;
	uint64_t count;		/* producer: messages; consumer: stop at */
	struct seen *seen;
	int rc;
};

/* Whether message @m is one a producer of @s made, after @last[its producer]. */
static int msg_ok(struct seen *s, unsigned int producers, uint64_t *last,
		  const struct msg *m)
{
	uint64_t p = m->producer, sq = m->seq;

	if (p >= producers || sq >= s->per || m->check != check_of(p, sq) ||
	    (last[p] != UINT64_MAX && sq <= last[p])) {
		__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
		return 0;
	}
	last[p] = sq;
	seen_mark(s, p, sq);
	return 1;
}

#ifdef LFQ_RECORDS
/*
 * A record per message, of 32 to 88 bytes (the message, then words that
 * repeat its check); every 64th reservation is discarded.
 */
static uint32_t rec_len(uint64_t seq)
{
	return (uint32_t)(sizeof(struct msg) + (seq % 8) * 8);
}

static int put_some(struct lfq *q, struct role *r, uint64_t *seq,
		    uint64_t round)
{
	uint32_t len = rec_len(*seq), i;
	uint64_t *w;
	void *p;
	int err = lfq_record_reserve(q, len, &p);

	if (err == -EAGAIN)
		return lfq_wait_space(q, len + 8, TIMEOUT_NS) ? 3 : 0;
	if (err)
		return 4;
	w = p;
	w[0] = r->id;
	w[1] = *seq;
	w[2] = check_of(r->id, *seq);
	for (i = 3; i < len / 8; i++)
		w[i] = w[2] ^ i;
	if (round % 64 == 0) {
		__atomic_fetch_add(&r->seen->discards_committed, 1,
				   __ATOMIC_RELAXED);
		return lfq_record_discard(q) ? 5 : 0;
	}
	(*seq)++;
	return lfq_record_commit(q) ? 5 : 0;
}

struct take_ctx {
	struct seen *s;
	unsigned int producers;
	uint64_t *last;
};

/* A record as put_some() made it: its length, its message, its words. */
static int rec_check(void *arg, const void *rec, uint32_t len)
{
	struct take_ctx *t = arg;
	const uint64_t *w = rec;
	struct msg m;
	uint32_t i;

	memcpy(&m, rec, sizeof(m));
	if (len < sizeof(m) || len != rec_len(m.seq))
		goto bad;
	for (i = 3; i < len / 8; i++)
		if (w[i] != (m.check ^ i))
			goto bad;
	msg_ok(t->s, t->producers, t->last, &m);
	return 0;
bad:
	__atomic_fetch_add(&t->s->bad, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Take records the three ways liblfq offers, in turn: peek and release,
 * pop into a buffer, consume a run of 1-8 through a callback. Returns
 * the records taken, -EAGAIN, or a test's error code (negated).
 */
static int take_some(struct lfq *q, uint64_t n, struct seen *s,
		     unsigned int producers, uint64_t *last)
{
	struct take_ctx t = { s, producers, last };
	uint64_t buf[16];
	const void *p;
	int got;

	switch (n % 3) {
	case 0:
		got = lfq_record_peek(q, &p);
		if (got < 0)
			return got == -EAGAIN ? got : -4;
		rec_check(&t, p, (uint32_t)got);
		return lfq_record_release(q) ? -5 : 1;
	case 1:
		got = lfq_pop(q, buf, sizeof(buf));
		if (got < 0)
			return got == -EAGAIN ? got : -4;
		rec_check(&t, buf, (uint32_t)got);
		return 1;
	default:
		got = lfq_record_consume(q, (uint32_t)(n % 8) + 1, rec_check,
					 &t);
		return got < 0 ? -4 : got ? got : -EAGAIN;
	}
}
#else
/*
 * Batches of 1-8 slots (round counts from 1); every 64th batch commits
 * one slot fewer than it reserved (the rest is discarded).
 */
static int put_some(struct lfq *q, struct role *r, uint64_t *seq,
		    uint64_t round)
{
	uint32_t want = (uint32_t)((round - 1) % 8) + 1, keep, i;
	struct msg *m;
	void *span;
	int got = lfq_reserve(q, want, &span);

	if (got == -EAGAIN)
		return lfq_wait_space(q, 1, TIMEOUT_NS) ? 3 : 0;
	if (got < 0)
		return 4;
	keep = (uint32_t)got;
	if (round % 64 == 0 && keep > 1) {
		keep--;
		__atomic_fetch_add(&r->seen->discards_committed,
				   (uint32_t)got - keep, __ATOMIC_RELAXED);
	}
	if (keep > r->count - *seq)
		keep = (uint32_t)(r->count - *seq);
	m = span;
	for (i = 0; i < keep; i++, (*seq)++) {
		m[i].producer = r->id;
		m[i].seq = *seq;
		m[i].check = check_of(r->id, *seq);
	}
	return lfq_commit(q, keep) ? 5 : 0;
}

/*
 * Peek up to 1-16 slots, check them, release them in pieces (the first
 * slot, then the rest). Returns the slots taken, -EAGAIN, or a test's
 * error code (negated).
 */
static int take_some(struct lfq *q, uint64_t n, struct seen *s,
		     unsigned int producers, uint64_t *last)
{
	const void *span;
	const struct msg *m;
	int got = lfq_peek(q, (uint32_t)(n % 16) + 1, &span), i, done;

	if (got < 0)
		return got == -EAGAIN ? got : -4;
	m = span;
	for (i = 0; i < got; i++)
		msg_ok(s, producers, last, &m[i]);
	for (done = 0; done < got;) {
		int piece = done || got == 1 ? got - done : 1;

		if (lfq_release(q, (uint32_t)piece))
			return -5;
		done += piece;
	}
	return got;
}
#endif

/* Producer: its own handle, put_some() until done or told to stop. */
static int produce(struct role *r)
{
	uint64_t seq = 0, round = 0;
	struct lfq *q;

	if (attach_role(r->fd, LFQ_ROLE_PRODUCER, &q))
		return 2;
	while (seq < r->count &&
	       !__atomic_load_n(&r->seen->stop, __ATOMIC_RELAXED)) {
		int rc = put_some(q, r, &seq, ++round);

		if (rc)
			return rc;
	}
	__atomic_store_n(&r->seen->made[r->id], seq, __ATOMIC_RELAXED);
	lfq_close(q);
	return 0;
}

/*
 * Consumer: its own handle; take_some() until the consumers together have
 * seen every message, sleeping when the ring is empty.
 */
static int consume(struct role *r)
{
	uint64_t last[PMAX], n = 0, seen_total = 0, total;
	int64_t since = now_ns();
	struct lfq *q;

	for (unsigned int p = 0; p < PMAX; p++)
		last[p] = UINT64_MAX;
	if (attach_role(r->fd, LFQ_ROLE_CONSUMER, &q))
		return 2;
	while ((total = __atomic_load_n(&r->seen->total, __ATOMIC_RELAXED)) <
	       r->count) {
		int got = take_some(q, n, r->seen, r->producers, last);

		if (got == -EAGAIN) {
			got = lfq_wait_data(q, 1, 100000000ll);
			if (got && got != -ETIMEDOUT)
				return 3;
			/* Nobody got anything for 30 s: lost or wedged. */
			if (total != seen_total) {
				seen_total = total;
				since = now_ns();
			} else if (now_ns() - since > 30000000000ll) {
				return 6;
			}
			continue;
		}
		if (got < 0)
			return -got;
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
static int tally_ok(const struct seen *s, unsigned int producers)
{
	uint64_t missing = 0, twice = s->twice, bit;

	for (bit = 0; bit < producers * s->per; bit++)
		missing += !(s->bits[bit / 64] & (1ull << (bit % 64)));
	if (missing || twice || s->bad)
		tap_diag("  missing %llu, delivered twice %llu, bad %llu",
			 (unsigned long long)missing,
			 (unsigned long long)twice,
			 (unsigned long long)s->bad);
	return !missing && !twice && !s->bad;
}

/* @np producer and @nc consumer threads (or processes) on one queue. */
static void run(unsigned int np, unsigned int nc, int processes,
		uint64_t per)
{
	struct role roles[2 * PMAX];
	pthread_t th[2 * PMAX];
	pid_t pid[2 * PMAX];
	struct seen *s = seen_map(per);
	struct lfq_stats st;
	struct lfq *q;
	int64_t t0 = now_ns();
	unsigned int i, n = np + nc;
	int rc = 0;

	if (make_queue(256, &q)) {
		tap_ok(0, "create an MPMC queue");
		return;
	}
	for (i = 0; i < n; i++) {
		roles[i] = (struct role){
			.fd = lfq_fd(q), .id = i < np ? i : i - np,
			.producers = i < np ? 0 : np,
			.count = i < np ? per : np * per,
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
	lfq_get_stats(q, &st);
	tap_ok(!rc && tally_ok(s, np) && !st.torn,
	       "%ux%u %s: %llu messages, each delivered exactly once, whole and in order per producer, none found torn (%llu) (%.2f s)",
	       np, nc, processes ? "processes" : "threads",
	       (unsigned long long)(np * per), (unsigned long long)st.torn,
	       (double)(now_ns() - t0) / 1e9);
	tap_diag("  %llu %s discarded by the producers",
		 (unsigned long long)s->discards_committed, UNITS);
	drop_queue(q);
	munmap(s, seen_size(per));
}

/*
 * Consumers that sleep with no timeout (lfq_wait_data(q, 1, -1)) while a
 * producer pushes in bursts with pauses: a wakeup lost between a
 * consumer's check and its sleep leaves it asleep with a message (or its
 * stop message) waiting, and the test times out. Each message arrives
 * once (count and sum).
 */
#define WF_MSGS		20000u
#define WF_CONSUMERS	3u

struct wf_consumer {
	struct lfq *q;
	uint64_t n, sum;
	int rc;
};

static void *wf_consume(void *arg)
{
	struct wf_consumer *c = arg;
	uint64_t v[4];
	int got;

	for (;;) {
		got = lfq_pop(c->q, v, sizeof(v));
		if (got == -EAGAIN) {
			if (lfq_wait_data(c->q, 1, -1)) {
				c->rc = 1;
				return NULL;
			}
			continue;
		}
		if (got < 0) {
			c->rc = 2;
			return NULL;
		}
		if (v[0] == UINT64_MAX)
			return NULL;
		c->n++;
		c->sum += v[0];
	}
}

static void test_wait_forever(void)
{
	struct wf_consumer c[WF_CONSUMERS] = { 0 };
	pthread_t th[WF_CONSUMERS];
	uint64_t n = 0, sum = 0, v, stop = UINT64_MAX, seed = 7;
	unsigned int i, joined = 0;
	struct timespec until;
	struct lfq *q;
	int ok = 1;

	if (make_queue(128, &q)) {
		tap_ok(0, "create an MPMC queue");
		return;
	}
	for (i = 0; i < WF_CONSUMERS; i++) {
		ok &= !attach(lfq_fd(q), &c[i].q);
		ok &= !pthread_create(&th[i], NULL, wf_consume, &c[i]);
	}
	for (v = 1; v <= WF_MSGS;) {
		unsigned int burst = 1 + (unsigned int)(rnd_next(&seed) % 8);

		while (burst-- && v <= WF_MSGS) {
			if (lfq_push(q, &v, sizeof(v)) == -EAGAIN) {
				lfq_wait_space(q, 16, TIMEOUT_NS);
				continue;
			}
			v++;
		}
		if (rnd_next(&seed) % 4 == 0)
			usleep((unsigned int)(rnd_next(&seed) % 200));
	}
	for (i = 0; i < WF_CONSUMERS; i++)
		while (lfq_push(q, &stop, sizeof(stop)) == -EAGAIN)
			lfq_wait_space(q, 16, TIMEOUT_NS);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	for (i = 0; i < WF_CONSUMERS; i++) {
		if (pthread_timedjoin_np(th[i], NULL, &until)) {
			/* Asleep with its stop message waiting: let it go. */
			lfq_push(q, &stop, sizeof(stop));
			pthread_join(th[i], NULL);
			continue;
		}
		joined++;
	}
	for (i = 0; i < WF_CONSUMERS; i++) {
		n += c[i].n;
		sum += c[i].sum;
		ok &= !c[i].rc;
		lfq_close(c[i].q);
	}
	tap_ok(ok && joined == WF_CONSUMERS && n == WF_MSGS &&
	       sum == (uint64_t)WF_MSGS * (WF_MSGS + 1) / 2,
	       "%u consumers sleeping with no timeout while a producer pushes %u messages in bursts: none left asleep (%u of %u stopped), each message once",
	       WF_CONSUMERS, WF_MSGS, joined, WF_CONSUMERS);
	drop_queue(q);
}

#ifdef LFQ_RECORDS
/* 8-byte records take 16 bytes: a queue of 8192 bytes holds 512. */
#define REC_RING	512

/* Push until full; returns how many fit. */
static int fill(struct lfq *q, uint64_t *v)
{
	int n = 0;

	while (!lfq_push(q, v, sizeof(*v))) {
		n++;
		(*v)++;
	}
	return n;
}

/* A held record keeps its bytes: peek again, no reuse until released. */
static void test_held_claim(void)
{
	struct lfq *q, *a, *b;
	const void *p, *again;
	uint64_t v = 7, w, first = 0;
	int n = 0, pushed;

	if (make_queue(128, &q) || attach(lfq_fd(q), &a) ||
	    attach(lfq_fd(q), &b)) {
		tap_ok(0, "create an MPMC record queue and two consumers");
		return;
	}
	pushed = fill(q, &v);
	tap_ok(lfq_type(q) == LFQ_TYPE_MPMC && pushed == REC_RING &&
	       lfq_record_peek(a, &p) == 8 && *(const uint64_t *)p == 7 &&
	       lfq_record_peek(a, &again) == 8 && again == p,
	       "an MPMC record queue holds %d 8-byte records; consumer A takes the first, and its next peek returns the same record",
	       pushed);
	while (lfq_pop(b, &w, sizeof(w)) == 8)
		if (!n++)
			first = w;
	tap_ok(n == REC_RING - 1 && first == 8,
	       "consumer B takes the other %d, from record 8", n);
	tap_ok(lfq_push(q, &v, sizeof(v)) == -EAGAIN &&
	       lfq_wait_space(q, 16, 0) == -EAGAIN,
	       "all released but A's, the first: no push, no space (producers never take a held record's bytes)");
	tap_ok(!lfq_record_release(a) && fill(q, &v) == REC_RING,
	       "A releases it: tail passes all of them, the whole ring is free again");
	tap_ok(lfq_pop(a, &w, sizeof(w)) == 8 && w == 7 + REC_RING &&
	       lfq_pop(b, &w, sizeof(w)) == 8 && w == 7 + REC_RING + 1,
	       "A and B take the next two, in order");
	lfq_close(a);
	lfq_close(b);
	drop_queue(q);
}

/* Discarded records are skipped and their bytes freed. */
static void test_discards(void)
{
	uint64_t v = 1, w[2] = { 0, 0 };
	struct lfq *q;
	void *p;
	int ok = 1, i;

	if (make_queue(128, &q)) {
		tap_ok(0, "create an MPMC record queue");
		return;
	}
	for (i = 0; i < 3; i++) {
		ok &= !lfq_record_reserve(q, 8, &p);
		memcpy(p, &v, sizeof(v));
		v++;
		ok &= !(i == 1 ? lfq_record_discard(q) : lfq_record_commit(q));
	}
	tap_ok(ok && lfq_pop(q, &w[0], 8) == 8 && lfq_pop(q, &w[1], 8) == 8 &&
	       w[0] == 1 && w[1] == 3 && lfq_pop(q, &v, 8) == -EAGAIN,
	       "the second of 3 records discarded: the consumer gets the first and the third");
	for (i = 0, ok = 1; i < REC_RING; i++) {
		ok &= !lfq_record_reserve(q, 8, &p);
		ok &= !lfq_record_discard(q);
	}
	tap_ok(ok && lfq_pop(q, &v, 8) == -EAGAIN && fill(q, &v) == REC_RING,
	       "a whole ring of discarded records is skipped and its bytes reused");
	drop_queue(q);
}

/*
 * A record held by A while a hostile consumer (here: a second mapping)
 * moves tail past it and producers reuse its bytes: A's release says
 * -ESTALE and counts it torn; the others' records are whole. And a pop
 * into a buffer too small keeps the record taken by that handle.
 */
static void test_torn_and_small(void)
{
	struct lfq_stats st = { .size = sizeof(st) };
	const struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	struct lfq *q, *a, *b;
	uint64_t v = 0, w[8];
	unsigned char *m, *pp;
	const void *p;
	int n = 0, ok = 1, got;
	long pg = sysconf(_SC_PAGESIZE);

	if (make_queue(128, &q) || attach(lfq_fd(q), &a) ||
	    attach(lfq_fd(q), &b)) {
		tap_ok(0, "create an MPMC record queue and two consumers");
		tap_ok(0, "a pop into too small a buffer");
		tap_ok(0, "a handle closed holding a record");
		return;
	}
	/* As a hostile consumer would: the producer page read-only. */
	pp = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, lfq_fd(q), pg);
	m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 lfq_fd(q), 2 * pg);
	if (m == MAP_FAILED || pp == MAP_FAILED) {
		tap_ok(0, "map the queue's pages: %s", strerror(errno));
		tap_ok(0, "a pop into too small a buffer");
		tap_ok(0, "a handle closed holding a record");
		return;
	}
	prod = (const struct lfq_prod_ctl *)pp;
	cons = (struct lfq_cons_ctl *)m;
	lfq_push(q, &v, sizeof(v));
	ok &= lfq_record_peek(a, &p) == 8;
	/* The forger: tail past A's record, to head. */
	__atomic_store_n(&cons->tail, __atomic_load_n(&prod->head,
						      __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	for (v = 1; !lfq_push(q, &v, sizeof(v)); v++)
		n++;
	got = lfq_record_release(a);
	lfq_get_stats(q, &st);
	for (v = 1; ok && v <= (uint64_t)n; v++)
		ok &= lfq_pop(b, w, sizeof(w)) == 8 && w[0] == v;
	tap_ok(ok && n == REC_RING && got == -ESTALE && st.torn == 1,
	       "a forged tail lets producers over the record A holds (%d pushed): A's release says ESTALE (%d), counted torn (%llu); B takes the others whole",
	       n, got, (unsigned long long)st.torn);
	w[0] = 41;
	lfq_push(q, w, 40);
	v = 42;
	lfq_push(q, &v, sizeof(v));
	got = lfq_pop(a, w, 8);
	ok = got == -EMSGSIZE && lfq_pop(b, w, sizeof(w)) == 8 && w[0] == 42 &&
	     lfq_pop(a, w, sizeof(w)) == 40 && w[0] == 41;
	tap_ok(ok, "a pop into 8 bytes of a 40-byte record: EMSGSIZE, the record stays taken by that handle (another gets the next), and its next pop with room gets it");
	munmap(m, (size_t)pg);
	munmap(pp, (size_t)pg);
	/* A handle closed holding a record gives it back. */
	lfq_push(q, &v, sizeof(v));
	ok = lfq_record_peek(a, &p) == 8;
	lfq_close(a);
	n = fill(q, &v);
	tap_ok(ok && n == REC_RING,
	       "a consumer handle closed holding a record releases it: the whole ring is free (%d records fit)",
	       n);
	lfq_close(b);
	drop_queue(q);
}

static void test_geometry(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = 1,
		 .slot_count = 8192, .backend = LFQ_BACKEND_MEMFD,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC,
		 .seg_min = 1, .seg_max = 4);
	struct lfq *q = NULL;

	tap_ok(lfq_create(&o, &q) == -EINVAL && !q,
	       "an elastic MPMC record queue is EINVAL");
	o.flags = LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE;
	o.seg_min = o.seg_max = 0;
	tap_ok(lfq_create(&o, &q) == -EINVAL && !q,
	       "an MPMC record queue in overwrite mode is EINVAL");
}
#else
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
	drop_queue(q);
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
	drop_queue(q);
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
#endif

#ifdef LFQ_KERNEL_QUEUE
#ifdef LFQ_RECORDS
/* The dead consumer holds one record; 8-byte messages take 16 bytes. */
#define HELD		1
#define TAKE_HELD(c, p)	(lfq_record_peek((c), (p)) != 8)
#define RING_MSGS	REC_RING
#else
#define HELD		5
#define TAKE_HELD(c, p)	(lfq_peek((c), HELD, (p)) != HELD)
#define RING_MSGS	128
#endif
/*
 * A consumer process claims 5 slots (or takes one record) and is killed
 * holding them: the module releases them on its behalf (lfq_stats.lost),
 * the producers get the whole ring back, and another consumer gets every
 * other record.
 */
static void test_dead_consumer(void)
{
	struct lfq_stats st = { .size = sizeof(st) };
	struct lfq *q, *c;
	uint64_t v, sum = 0, want = 0;
	int ready[2], i, n = 0, full = 0;
	pid_t pid;
	char x;

	if (make_queue(128, &q) || pipe(ready)) {
		tap_ok(0, "create an MPMC queue");
		return;
	}
	for (v = 0; v < 128; v++)
		lfq_push(q, &v, sizeof(v));
	fflush(stdout);
	pid = fork();
	if (!pid) {
		const void *span;

		if (attach_role(-1, LFQ_ROLE_CONSUMER, &c) ||
		    TAKE_HELD(c, &span))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(ready[1]);		/* a child that fails: EOF, not a hang */
	i = read(ready[0], &x, 1) == 1;
	kill(pid, SIGKILL);
	child_status(pid);
	for (int t = 0; t < 200; t++) {
		lfq_get_stats(q, &st);
		if (st.lost >= HELD)
			break;
		usleep(10000);
	}
	tap_ok(i && st.lost == HELD,
	       "a consumer killed holding %d claimed %s: %d counted lost (%llu)",
	       HELD, HELD > 1 ? "slots" : "record", HELD,
	       (unsigned long long)st.lost);
	if (attach_role(-1, LFQ_ROLE_CONSUMER, &c)) {
		tap_ok(0, "a second consumer");
		drop_queue(q);
		return;
	}
	/* A slot queue's pop returns 0, a record queue's the length. */
	while (lfq_pop(c, &v, sizeof(v)) >= 0) {
		n++;
		sum += v;
	}
	for (v = HELD; v < 128; v++)
		want += v;
	tap_ok(n == 128 - HELD && sum == want,
	       "another consumer gets the other %d records (%d)", 128 - HELD,
	       n);
	for (v = 0; v < 1024 && !lfq_push(q, &v, sizeof(v)); v++)
		full++;
	tap_ok(full == RING_MSGS,
	       "the producers get the whole ring back (%d)", full);
	lfq_close(c);
	close(ready[0]);
	drop_queue(q);
}
#endif

#ifdef LFQ_KERNEL_QUEUE
/*
 * A consumer in a child process that is killed at a random moment: it
 * consumes as consume() does, marking what it sees, until SIGKILL. It
 * writes a byte to @ready (if >= 0) once attached.
 */
static void doomed_consumer(struct seen *s, unsigned int producers,
			    int ready)
{
	uint64_t last[PMAX], n = 0;
	struct lfq *q;

	for (unsigned int p = 0; p < PMAX; p++)
		last[p] = UINT64_MAX;
	if (attach_role(-1, LFQ_ROLE_CONSUMER, &q))
		_exit(2);
	if (ready >= 0 && write(ready, "x", 1) != 1)
		_exit(5);
	for (;;) {
		/*
		 * Not through lfq_pop() (take_some()'s second way): it
		 * releases the record before the caller can mark it seen, and
		 * a kill in between would lose a record the module cannot
		 * count. The other ways mark, then release.
		 */
		int got = take_some(q, n++ % 2 ? 0 : 2, s, producers, last);

		if (got == -EAGAIN)
			lfq_wait_data(q, 1, 10000000ll);
		else if (got < 0)
			_exit(-got);
	}
}

/*
 * The kill storm of consumers: two producer processes stream while
 * consumer processes are killed, one after another, at random moments
 * (often holding a claim), and one steady consumer runs throughout. No
 * record may arrive twice, the producers are never wedged, and every
 * record that never arrived is one the module counted lost.
 */
static void test_consumer_kills(unsigned int kills)
{
	const unsigned int np = 2;
	struct lfq_stats st = { .size = sizeof(st) };
	struct seen *s = seen_map(KILLS_PER_PRODUCER);
	struct role roles[2];
	uint64_t missing = 0, made = 0, lost = 0;
	pid_t prod[2], cons, victim;
	unsigned int k, done = 0;
	int64_t t0 = now_ns();
	struct lfq *q;
	int rc = 0;

	if (make_queue(256, &q)) {
		tap_ok(0, "create an MPMC queue");
		return;
	}
	for (unsigned int i = 0; i < np; i++) {
		roles[i] = (struct role){ .id = i,
					  .count = KILLS_PER_PRODUCER,
					  .seen = s };
		fflush(stdout);
		prod[i] = fork();
		if (!prod[i])
			_exit(produce(&roles[i]));
	}
	/* The steady consumer, killed once all is settled. */
	fflush(stdout);
	cons = fork();
	if (!cons)
		doomed_consumer(s, np, -1);
	for (k = 0; k < kills; k++) {
		int ready[2];
		char x;

		if (pipe(ready)) {
			rc = -1;
			break;
		}
		fflush(stdout);
		victim = fork();
		if (!victim)
			doomed_consumer(s, np, ready[1]);
		close(ready[1]);
		/* Attached (or dead: EOF), then a random moment of its work. */
		if (read(ready[0], &x, 1) == 1)
			usleep((unsigned int)(rand() % 3000));
		close(ready[0]);
		kill(victim, SIGKILL);
		child_status(victim);
	}
	/* The storm is over: the producers stop (if not done yet). */
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < np; i++)
		if (child_ok(prod[i]))
			rc = -1;
	/* Let the steady consumer drain and the recoveries settle. */
	for (int t = 0; t < 500; t++) {
		uint64_t before = lost;

		usleep(20000);
		lfq_get_stats(q, &st);
		lost = st.lost;
		if (st.consumed == st.produced && lost == before && ++done > 5)
			break;
	}
	kill(cons, SIGKILL);
	child_status(cons);
	for (unsigned int p = 0; p < np; p++) {
		made += s->made[p];
		for (uint64_t i = 0; i < s->made[p]; i++) {
			uint64_t bit = p * s->per + i;

			missing += !(s->bits[bit / 64] & (1ull << (bit % 64)));
		}
	}
	if (!tap_ok(!rc && !s->twice && !s->bad && missing <= lost &&
		    lost <= (uint64_t)kills * 16 && st.consumed == st.produced,
		    "%u consumers killed at random while 2 producers stream %llu records: none twice, the %llu never seen are within the %llu counted lost, producers never wedged (%.1f s)",
		    kills, (unsigned long long)made,
		    (unsigned long long)missing, (unsigned long long)lost,
		    (double)(now_ns() - t0) / 1e9))
		tap_diag("  rc %d twice %llu bad %llu produced %llu consumed %llu",
			 rc, (unsigned long long)s->twice,
			 (unsigned long long)s->bad,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);
	drop_queue(q);
	munmap(s, seen_size(KILLS_PER_PRODUCER));
}
#endif

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n' || strtoull(optarg, NULL, 0) < 1) {
			fprintf(stderr, "usage: %s [-n PER_PRODUCER]\n",
				argv[0]);
			return 2;
		}
		big_per_producer = strtoull(optarg, NULL, 0);
	}
#ifdef LFQ_RECORDS
#define SMALL_TESTS	13
#else
#define SMALL_TESTS	13
#endif
#ifdef LFQ_KERNEL_QUEUE
	tap_plan(SMALL_TESTS + 9);
	test_dead_consumer();
	test_consumer_kills(200);
#else
	tap_plan(SMALL_TESTS + 5);
#endif
	test_geometry();
	test_held_claim();
	test_discards();
	test_wait_forever();
#ifdef LFQ_RECORDS
	test_torn_and_small();
#endif
	run(1, 2, 0, PER_PRODUCER);
	run(2, 2, 0, PER_PRODUCER);
	run(4, 4, 0, PER_PRODUCER);
	run(2, 2, 1, PER_PRODUCER);
	run(4, 4, 1, big_per_producer);
	return tap_done();
}
