// SPDX-License-Identifier: MIT
/*
 * wakeup_mt.c - the sleep/wake handshake on process memory (futex on the
 * need_data/need_space words): a ping-pong where every message wakes a
 * sleeping thread, 10^5 round trips with no lost wakeup (a lost one shows
 * up as a 5 s timeout), on an asymmetric queue (membarrier(2) where the
 * host has it) and on a symmetric one, fixed and elastic (in bursts that
 * fill segment after segment, so that the publishers' light half meets
 * sleepers across segment moves), min_count waits, and wait timeouts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define ROUNDS 10000u
#else
#define ROUNDS 100000u
#endif
#define TIMEOUT_NS 5000000000ll

static long membarrier_query(void)
{
	return syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);
}

struct pingpong {
	struct lfq *there, *back;
	unsigned int rounds;
	unsigned int errors;
};

/*
 * Push @v, sleeping for space while the queue is full (an elastic one at
 * seg_max, its drained segments waiting out their grace periods); a
 * wait that times out is a lost wakeup: -ETIMEDOUT.
 */
static int push_wait(struct lfq *q, uint64_t v)
{
	int err;

	while ((err = lfq_push(q, &v, sizeof(v))) == -EAGAIN) {
		err = lfq_wait_space(q, 1, TIMEOUT_NS);
		if (err)
			return err;
	}
	return err;
}

/* Echo side: sleep until a message arrives, send it back. */
static void *echo(void *arg)
{
	struct pingpong *pp = arg;
	uint64_t v;
	unsigned int i;

	for (i = 0; i < pp->rounds; i++) {
		if (lfq_wait_data(pp->there, 1, TIMEOUT_NS) ||
		    lfq_pop(pp->there, &v, sizeof(v)) ||
		    push_wait(pp->back, v)) {
			pp->errors++;
			break;
		}
	}
	return NULL;
}

/* A memfd queue's header, as any opener reads it (zeros if it cannot). */
static struct lfq_ring_hdr memfd_hdr(struct lfq *q)
{
	struct lfq_ring_hdr h = { 0 };

	if (pread(lfq_fd(q), &h, sizeof(h), 0) != sizeof(h))
		memset(&h, 0, sizeof(h));
	return h;
}

/* The wake_mode a memfd queue's header says. */
static uint32_t memfd_wake_mode(struct lfq *q)
{
	return memfd_hdr(q).wake_mode;
}

/*
 * The creator chooses asymmetric fencing when membarrier(2) offers the
 * registered global expedited command, and symmetric when asked.
 */
static void test_wake_mode(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD);
	long cmds = membarrier_query();
	int global = cmds > 0 && (cmds & 6) == 6;
	struct lfq *a, *s;

	struct lfq *e, *es;

	a = queue_or_exit(&o);
	o.flags = LFQ_CREATE_WAKE_SYMMETRIC;
	s = queue_or_exit(&o);
	o.flags = LFQ_CREATE_ELASTIC;
	o.seg_min = 1;
	o.seg_max = 4;
	e = queue_or_exit(&o);
	o.flags |= LFQ_CREATE_WAKE_SYMMETRIC;
	es = queue_or_exit(&o);
	tap_ok(memfd_wake_mode(a) == (global ? LFQ_WAKE_ASYMMETRIC :
					       LFQ_WAKE_SYMMETRIC) &&
	       memfd_wake_mode(s) == LFQ_WAKE_SYMMETRIC &&
	       memfd_wake_mode(e) == memfd_wake_mode(a) &&
	       memfd_wake_mode(es) == LFQ_WAKE_SYMMETRIC &&
	       memfd_hdr(e).layout_version ==
	       (global ? LFQ_RING_LAYOUT_ELASTIC_ASYM :
			 LFQ_RING_LAYOUT_ELASTIC) &&
	       memfd_hdr(es).layout_version == LFQ_RING_LAYOUT_ELASTIC,
	       "memfd queues: wake_mode %u by default (membarrier commands "
	       "0x%lx), %u with LFQ_CREATE_WAKE_SYMMETRIC; elastic ones the "
	       "same (%u, %u; layout versions %u and %u)",
	       memfd_wake_mode(a), cmds, memfd_wake_mode(s),
	       memfd_wake_mode(e), memfd_wake_mode(es),
	       memfd_hdr(e).layout_version, memfd_hdr(es).layout_version);
	lfq_close(a);
	lfq_close(s);
	lfq_close(e);
	lfq_close(es);
}

/*
 * @burst messages sent before their echoes are awaited; on an elastic
 * queue (@flags) of 8-slot segments, at most 4, a burst of 20 fills two
 * segments and goes on in a third, on both queues, and pushes sleep for
 * space while drained segments wait out their grace periods (checked:
 * the queues grew, and found themselves full).
 */
static void test_pingpong(uint32_t flags, unsigned int burst,
			  unsigned int rounds, const char *mode)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD,
		 .flags = flags);
	struct pingpong pp = { 0 };
	unsigned int i, j, lost = 0, wrong = 0;
	struct lfq_stats st = { .size = sizeof(st) }, sb = st;
	int crossed;
	pthread_t t;
	double t0;
	uint64_t v;

	if (flags & LFQ_CREATE_ELASTIC) {
		o.slot_size = 512;
		o.slot_count = 8;
		o.seg_min = 1;
		o.seg_max = 4;
	}
	pp.there = queue_or_exit(&o);
	pp.back = queue_or_exit(&o);
	pp.rounds = rounds;
	/* No spinning: every wait takes the sleep path. */
	lfq_set_wait_spin(pp.there, 0);
	lfq_set_wait_spin(pp.back, 0);
	t0 = now_s();
	pthread_create(&t, NULL, echo, &pp);
	for (i = 0; i < rounds && !lost; i += burst) {
		for (j = i; j < i + burst && !lost; j++) {
			int err = push_wait(pp.there, j);

			if (err == -ETIMEDOUT)
				lost++;
			else if (err)
				wrong++;
		}
		for (j = i; j < i + burst; j++) {
			if (lfq_wait_data(pp.back, 1, TIMEOUT_NS)) {
				lost++;
				break;
			}
			if (lfq_pop(pp.back, &v, sizeof(v)) || v != j)
				wrong++;
		}
	}
	pthread_join(t, NULL);
	lfq_get_stats(pp.there, &st);
	lfq_get_stats(pp.back, &sb);
	crossed = !(flags & LFQ_CREATE_ELASTIC) || burst == 1 ||
		  (st.grows && sb.grows);
	if (!tap_ok(!lost && !wrong && !pp.errors && crossed,
		    "%s: %u sleep/wake round trips, no lost wakeup (%.1f us each; %llu and %llu grows, %llu and %llu full events)",
		    mode, rounds, (now_s() - t0) / rounds * 1e6,
		    (unsigned long long)st.grows,
		    (unsigned long long)sb.grows,
		    (unsigned long long)st.full_events,
		    (unsigned long long)sb.full_events))
		tap_diag("lost %u at %u, wrong %u, echo errors %u", lost, i,
			 wrong, pp.errors);
	lfq_close(pp.there);
	lfq_close(pp.back);
}

struct trickle {
	struct lfq *q;
	unsigned int n;
};

/* Producer that blocks on space: the consumer is slower than it. */
static void *trickle(void *arg)
{
	struct trickle *t = arg;
	uint64_t v;

	for (v = 0; v < t->n; v++) {
		while (lfq_push(t->q, &v, sizeof(v)) == -EAGAIN)
			if (lfq_wait_space(t->q, 1, TIMEOUT_NS))
				return (void *)1;
	}
	return NULL;
}

static void test_min_count_and_space(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 4096,
		 .slot_count = 8, .backend = LFQ_BACKEND_MEMFD);
	struct trickle t = { .n = ROUNDS / 10 };
	unsigned int short_wakes = 0, bad = 0;
	uint64_t v, want = 0;
	const void *span;
	void *ret;
	pthread_t th;
	int got;

	t.q = queue_or_exit(&o);
	lfq_set_wait_spin(t.q, 0);
	pthread_create(&th, NULL, trickle, &t);
	while (want < t.n) {
		uint32_t need = t.n - want < 4 ? (uint32_t)(t.n - want) : 4;

		if (lfq_wait_data(t.q, need, TIMEOUT_NS)) {
			bad++;
			break;
		}
		/* Readable after the wait: never -EAGAIN, never fewer. */
		got = lfq_peek(t.q, 8, &span);
		if (got < (int)need)
			short_wakes++;
		lfq_release(t.q, 0);
		for (; got > 0; got--) {
			if (lfq_pop(t.q, &v, sizeof(v)) || v != want)
				bad++;
			want++;
		}
	}
	pthread_join(th, &ret);
	tap_ok(!bad && !ret && !short_wakes,
	       "min_count=4 waits never return early; producer blocked on a "
	       "full ring always woken (%u messages)", t.n);
	lfq_close(t.q);
}

static void test_timeouts(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q = queue_or_exit(&o);
	uint64_t v = 1;
	double t0, dt;
	int err, i;

	lfq_set_wait_spin(q, 0);
	t0 = now_s();
	err = lfq_wait_data(q, 1, 50000000);
	dt = now_s() - t0;
	tap_ok(err == -ETIMEDOUT && dt >= 0.05 && dt < 1.0,
	       "wait for data times out after 50 ms (%d, %.3f s)", err, dt);
	tap_ok(lfq_wait_data(q, 1, 0) == -EAGAIN,
	       "zero timeout on an empty ring is EAGAIN");
	for (i = 0; i < 64; i++)
		lfq_push(q, &v, sizeof(v));
	t0 = now_s();
	err = lfq_wait_space(q, 1, 50000000);
	dt = now_s() - t0;
	tap_ok(err == -ETIMEDOUT && dt >= 0.05 && dt < 1.0,
	       "wait for space times out after 50 ms (%d, %.3f s)", err, dt);
	lfq_close(q);
}

int main(void)
{
	tap_plan(10);
	test_wake_mode();
	test_pingpong(0, 1, ROUNDS,
		      "default (asymmetric where membarrier allows)");
	test_pingpong(LFQ_CREATE_WAKE_SYMMETRIC, 1, ROUNDS, "symmetric");
	test_pingpong(LFQ_CREATE_ELASTIC, 1, ROUNDS, "elastic, default");
	/* Grace periods pace these: a fifth as many messages. */
	test_pingpong(LFQ_CREATE_ELASTIC, 20, ROUNDS / 5,
		      "elastic, default, bursts of 20 across segments");
	test_pingpong(LFQ_CREATE_ELASTIC | LFQ_CREATE_WAKE_SYMMETRIC, 20,
		      ROUNDS / 5,
		      "elastic, symmetric, bursts of 20 across segments");
	test_min_count_and_space();
	test_timeouts();
	return tap_done();
}
