// SPDX-License-Identifier: MIT
/*
 * inline_mt.c - lfq_inline.h, the SPSC fast path inlined into the caller:
 * which queues give a view and which errno the others get; a stream
 * between two threads in batches of every size from 1 to 37, checked
 * message by message; the inline and out-of-line calls mixed on the same
 * handles; sleep/wake round trips where the only publishing is the inline
 * commit and release (a lost wakeup is a timeout); a producer sleeping
 * for space woken by one-slot releases; the view following
 * lfq_set_wakeups() after it was taken; each of those on default and
 * symmetric queues; the flag a view's publish reads; the views programs
 * built before 0.7 get; and the one-slot calls (lfq_inline_reserve_one(),
 * lfq_inline_peek_one(), their _commit_one() and _release_one()): full
 * and empty rings, their counters, a commit with nothing reserved, forged
 * indices, and a stream between two threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "liblfq.h"
#include "lfq_inline.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define STREAM	200000ull
#define ROUNDS	10000u
#else
#define STREAM	20000000ull
#define ROUNDS	100000u
#endif
#define SLOTS		512u	/* 8-byte slots: a page at least */
#define MAX_BATCH	37u
#define TIMEOUT_NS	5000000000ll

static struct lfq *spsc_flags(uint32_t slot_size, uint32_t slots,
			      uint32_t flags)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC,
		 .slot_size = slot_size, .slot_count = slots,
		 .backend = LFQ_BACKEND_MEMFD, .flags = flags);

	return queue_or_exit(&o);
}

static struct lfq *spsc(uint32_t slot_size, uint32_t slots)
{
	return spsc_flags(slot_size, slots, 0);
}

/* Views of fixed SPSC queues only; a zero count is -EINVAL, as out of line. */
static void test_views(void)
{
	LFQ_OPTS(lfq_create_opts, mo, .type = LFQ_TYPE_MPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD);
	LFQ_OPTS(lfq_create_opts, eo, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD,
		 .flags = LFQ_CREATE_ELASTIC, .seg_min = 2, .seg_max = 4);
	struct lfq *m = queue_or_exit(&mo), *e = queue_or_exit(&eo);
	struct lfq *q = spsc(8, SLOTS);
	struct lfq_inline_prod ip;
	struct lfq_inline_cons ic;
	const void *r = &r;
	void *w = &w;
	int a, b, c, d;

	a = lfq_inline_producer(m, &ip);
	b = lfq_inline_consumer(m, &ic);
	c = lfq_inline_producer(e, &ip);
	d = lfq_inline_consumer(e, &ic);
	tap_ok(a == -EOPNOTSUPP && b == -EOPNOTSUPP && c == -EOPNOTSUPP &&
	       d == -EOPNOTSUPP,
	       "MPSC and elastic SPSC queues give no inline view: -EOPNOTSUPP (MPSC %s/%s, elastic %s/%s)",
	       ename(-a), ename(-b), ename(-c), ename(-d));
	a = lfq_inline_producer(q, &ip);
	b = lfq_inline_consumer(q, &ic);
	c = a || b ? -1 : lfq_inline_reserve(&ip, 0, &w);
	d = a || b ? -1 : lfq_inline_peek(&ic, 0, &r);
	tap_ok(!a && !b && c == -EINVAL && !w && d == -EINVAL && !r,
	       "a fixed SPSC queue gives both views (%s, %s); reserve and peek of 0 slots: -EINVAL and a NULL span (%s, %s)",
	       ename(-a), ename(-b), ename(-c), ename(-d));
	c = a || b ? -1 : lfq_inline_peek(&ic, 1, &r);
	tap_ok(c == -EAGAIN && !r, "inline peek of an empty queue: -EAGAIN (%s)",
	       ename(-c));
	lfq_close(m);
	lfq_close(e);
	lfq_close(q);
}

struct stream {
	struct lfq *q;
	uint64_t n;
};

/* Producer: batches of 1, 2, ... MAX_BATCH, again; each slot its index. */
static void *stream_produce(void *arg)
{
	struct stream *st = arg;
	struct lfq_inline_prod ip;
	uint32_t want = 1;
	uint64_t seq = 0;

	if (lfq_inline_producer(st->q, &ip))
		return NULL;
	while (seq < st->n) {
		uint64_t *m;
		void *span;
		int got = lfq_inline_reserve(&ip, want, &span);

		if (got == -EAGAIN)
			continue;
		m = span;
		if (got > (int)(st->n - seq))
			got = (int)(st->n - seq);
		for (int i = 0; i < got; i++)
			m[i] = seq++;
		lfq_inline_commit(&ip, (uint32_t)got);
		want = want % MAX_BATCH + 1;
	}
	return NULL;
}

static void test_stream(void)
{
	struct stream st = { .q = spsc(8, SLOTS), .n = STREAM };
	struct lfq_stats s = { .size = sizeof(s) };
	struct lfq_inline_cons ic;
	uint64_t seq = 0, bad = 0;
	uint32_t want = MAX_BATCH;
	pthread_t t;
	double t0 = now_s();

	if (lfq_inline_consumer(st.q, &ic))
		bad++;
	pthread_create(&t, NULL, stream_produce, &st);
	while (!bad && seq < st.n) {
		const uint64_t *m;
		const void *span;
		int got = lfq_inline_peek(&ic, want, &span);

		if (got == -EAGAIN)
			continue;
		m = span;
		for (int i = 0; i < got; i++)
			if (m[i] != seq++)
				bad++;
		lfq_inline_release(&ic, (uint32_t)got);
		want = want == 1 ? MAX_BATCH : want - 1;
	}
	pthread_join(t, NULL);
	lfq_get_stats(st.q, &s);
	tap_ok(seq == st.n && !bad && s.produced == st.n &&
	       s.consumed == st.n,
	       "%llu 8-byte messages between two threads, inline on both sides, batches 1..%u: in order, none lost (%llu bad; stats produced %llu consumed %llu; %.1f M msg/s)",
	       (unsigned long long)st.n, MAX_BATCH, (unsigned long long)bad,
	       (unsigned long long)s.produced, (unsigned long long)s.consumed,
	       (double)seq / (now_s() - t0) / 1e6);
	lfq_close(st.q);
}

/* The same handle through both APIs, turn about, on each side. */
static void test_mixed(void)
{
	struct lfq *q = spsc(8, SLOTS);
	struct lfq_inline_prod ip;
	struct lfq_inline_cons ic;
	uint64_t in = 0, out = 0, v, bad = 0;

	if (lfq_inline_producer(q, &ip) || lfq_inline_consumer(q, &ic))
		bad++;
	for (int round = 0; !bad && round < 1000; round++) {
		/* Fill: lfq_push, then an inline batch of 3, until full. */
		for (;;) {
			void *w;
			int got;

			if (lfq_push(q, &in, sizeof(in)))
				break;
			in++;
			got = lfq_inline_reserve(&ip, 3, &w);
			if (got < 0)
				break;
			for (int i = 0; i < got; i++)
				((uint64_t *)w)[i] = in++;
			lfq_inline_commit(&ip, (uint32_t)got);
		}
		/* Drain: an inline peek of 2, then lfq_pop, until empty. */
		for (;;) {
			const void *r;
			int got = lfq_inline_peek(&ic, 2, &r);

			if (got < 0)
				break;
			for (int i = 0; i < got; i++)
				bad += ((const uint64_t *)r)[i] != out++;
			lfq_inline_release(&ic, (uint32_t)got);
			if (lfq_pop(q, &v, sizeof(v)))
				break;
			bad += v != out++;
		}
		bad += in != out;
	}
	tap_ok(!bad && in == out && in >= 1000ull * SLOTS,
	       "inline and out-of-line calls mixed on one handle: %llu messages through 1000 fill/drain rounds, in order (%llu bad)",
	       (unsigned long long)out, (unsigned long long)bad);
	lfq_close(q);
}

struct pingpong {
	struct lfq *there, *back;
	unsigned int errors;
};

/* Echo: sleep for a message, send it back; inline peek/release/commit. */
static void *echo(void *arg)
{
	struct pingpong *pp = arg;
	struct lfq_inline_cons ic;
	struct lfq_inline_prod ip;

	if (lfq_inline_consumer(pp->there, &ic) ||
	    lfq_inline_producer(pp->back, &ip)) {
		pp->errors++;
		return NULL;
	}
	for (unsigned int i = 0; i < ROUNDS; i++) {
		const void *r;
		void *w;

		/* The one-slot calls here, the counted ones on the other side. */
		if (lfq_wait_data(pp->there, 1, TIMEOUT_NS) ||
		    !(r = lfq_inline_peek_one(&ic)) ||
		    !(w = lfq_inline_reserve_one(&ip))) {
			pp->errors++;
			break;
		}
		memcpy(w, r, 8);
		lfq_inline_release_one(&ic);
		lfq_inline_commit_one(&ip);
	}
	return NULL;
}

/*
 * @flags 0: asymmetric queues (the commit's flag is the sleep flag);
 * LFQ_CREATE_WAKE_SYMMETRIC: every commit and release takes the slow
 * path, which fences before it reads the sleep flag.
 */
static void test_pingpong(uint32_t flags)
{
	struct pingpong pp = { .there = spsc_flags(8, SLOTS, flags),
			       .back = spsc_flags(8, SLOTS, flags) };
	struct lfq_inline_prod ip;
	struct lfq_inline_cons ic;
	unsigned int i, lost = 0, wrong = 0;
	double t0 = now_s();
	pthread_t t;

	/* No spinning: every wait takes the sleep path. */
	lfq_set_wait_spin(pp.there, 0);
	lfq_set_wait_spin(pp.back, 0);
	if (lfq_inline_producer(pp.there, &ip) ||
	    lfq_inline_consumer(pp.back, &ic))
		wrong++;
	pthread_create(&t, NULL, echo, &pp);
	for (i = 0; !wrong && i < ROUNDS; i++) {
		const void *r;
		uint64_t v = i;
		void *w;

		if (lfq_inline_reserve(&ip, 1, &w) != 1) {
			wrong++;
			break;
		}
		memcpy(w, &v, 8);
		lfq_inline_commit(&ip, 1);
		if (lfq_wait_data(pp.back, 1, TIMEOUT_NS)) {
			lost++;
			break;
		}
		if (lfq_inline_peek(&ic, 1, &r) != 1 ||
		    *(const uint64_t *)r != i)
			wrong++;
		lfq_inline_release(&ic, 1);
	}
	pthread_join(t, NULL);
	tap_ok(!lost && !wrong && !pp.errors,
	       "%s queues (light %u): %u sleep/wake round trips published only by inline commit and release (one side the one-slot calls): no lost wakeup (%u lost, %u wrong, %u echo errors; %.1f us each)",
	       flags ? "symmetric" : "default", ip.p->light, ROUNDS, lost,
	       wrong, pp.errors, (now_s() - t0) / ROUNDS * 1e6);
	lfq_close(pp.there);
	lfq_close(pp.back);
}

struct space_wait {
	struct lfq *q;
	int rc;
};

static void *wait_space(void *arg)
{
	struct space_wait *sw = arg;

	sw->rc = lfq_wait_space(sw->q, 4, TIMEOUT_NS);
	return NULL;
}

/*
 * A producer sleeping for 4 free slots, woken by one-slot inline releases
 * (lfq_inline_release_one(); @flags as in test_pingpong()).
 */
static void test_space_wake(uint32_t flags)
{
	struct space_wait sw = { .q = spsc_flags(8, SLOTS, flags), .rc = 1 };
	struct lfq_inline_cons ic;
	uint64_t v = 0;
	double t0;
	pthread_t t;
	int full = 0;

	lfq_set_wait_spin(sw.q, 0);
	while (!lfq_push(sw.q, &v, sizeof(v)))
		full++;
	lfq_inline_consumer(sw.q, &ic);
	t0 = now_s();
	pthread_create(&t, NULL, wait_space, &sw);
	msleep(50);	/* let it sleep */
	for (int i = 0; i < 4; i++)
		if (lfq_inline_peek_one(&ic))
			lfq_inline_release_one(&ic);
	pthread_join(t, NULL);
	tap_ok(full == SLOTS && sw.rc == 0 && now_s() - t0 < 4,
	       "%s queue (light %u): a producer asleep for 4 free slots (%d of %u full) is woken by lfq_inline_release_one(): lfq_wait_space() %s after %.0f ms",
	       flags ? "symmetric" : "default", ic.c->light, full, SLOTS,
	       ename(-sw.rc), (now_s() - t0) * 1e3);
	lfq_close(sw.q);
}

struct data_wait {
	struct lfq *q;
	int64_t waited_ns;
	int rc;
	int started;
};

static void *wait_data(void *arg)
{
	struct data_wait *dw = arg;
	int64_t t0 = now_ns();

	__atomic_store_n(&dw->started, 1, __ATOMIC_RELEASE);
	dw->rc = lfq_wait_data(dw->q, 1, 400000000ll);
	dw->waited_ns = now_ns() - t0;
	return NULL;
}

/*
 * A consumer asleep with a 400 ms timeout; 50 ms in, one inline commit
 * through a view taken before lfq_set_wakeups(q, @wakeups): how long the
 * consumer slept.
 */
static int64_t slept_ms(uint32_t flags, int wakeups, int *rc)
{
	struct data_wait dw = { .q = spsc_flags(8, SLOTS, flags) };
	struct lfq_inline_prod ip;
	uint64_t v = 7;
	pthread_t t;
	void *w;

	lfq_set_wait_spin(dw.q, 0);
	lfq_inline_producer(dw.q, &ip);
	lfq_set_wakeups(dw.q, wakeups);
	pthread_create(&t, NULL, wait_data, &dw);
	/* 50 ms after the waiter began: it is asleep (no spinning). */
	while (!__atomic_load_n(&dw.started, __ATOMIC_ACQUIRE))
		msleep(1);
	msleep(50);
	if (lfq_inline_reserve(&ip, 1, &w) == 1) {
		memcpy(w, &v, 8);
		lfq_inline_commit(&ip, 1);
	}
	pthread_join(t, NULL);
	*rc = dw.rc;
	lfq_close(dw.q);
	return dw.waited_ns / 1000000;
}

struct space_sleep {
	struct lfq *q;
	int64_t waited_ns;
	int rc;
	int started;
};

static void *sleep_space(void *arg)
{
	struct space_sleep *ss = arg;
	int64_t t0 = now_ns();

	__atomic_store_n(&ss->started, 1, __ATOMIC_RELEASE);
	ss->rc = lfq_wait_space(ss->q, 1, 400000000ll);
	ss->waited_ns = now_ns() - t0;
	return NULL;
}

/*
 * The release side of slept_ms(): a producer asleep on a full ring with
 * a 400 ms timeout; 50 ms in, one inline release through a view taken
 * before lfq_set_wakeups(q, @wakeups). @light gets the view's light flag
 * (whether its flag is the sleep flag or the word that reads set).
 */
static int64_t space_slept_ms(uint32_t flags, int wakeups, int *rc,
			      unsigned int *light)
{
	struct space_sleep ss = { .q = spsc_flags(8, SLOTS, flags) };
	struct lfq_inline_cons ic;
	uint64_t v = 0;
	const void *r;
	pthread_t t;

	lfq_set_wait_spin(ss.q, 0);
	while (!lfq_push(ss.q, &v, sizeof(v)))
		;
	lfq_inline_consumer(ss.q, &ic);
	*light = ic.c->light;
	lfq_set_wakeups(ss.q, wakeups);
	pthread_create(&t, NULL, sleep_space, &ss);
	while (!__atomic_load_n(&ss.started, __ATOMIC_ACQUIRE))
		msleep(1);
	msleep(50);
	r = lfq_inline_peek_one(&ic);
	if (r)
		lfq_inline_release(&ic, 1);
	pthread_join(t, NULL);
	*rc = ss.rc;
	lfq_close(ss.q);
	return ss.waited_ns / 1000000;
}

/*
 * lfq_set_wakeups() after the view was taken: the view follows it, on
 * the commit side and on the release side (lfq_inline_wake_check() reads
 * the setting once the flag reads set: on a symmetric queue (@flags
 * LFQ_CREATE_WAKE_SYMMETRIC) at every publish).
 */
static void test_wakeups_setting(uint32_t flags)
{
	int on_rc, off_rc, son_rc, soff_rc;
	unsigned int light, light2;
	int64_t on = slept_ms(flags, 1, &on_rc);
	int64_t off = slept_ms(flags, 0, &off_rc);
	int64_t son = space_slept_ms(flags, 1, &son_rc, &light);
	int64_t soff = space_slept_ms(flags, 0, &soff_rc, &light2);

	tap_ok(on_rc == 0 && on < 300 && off >= 390,
	       "%s queue: the view follows lfq_set_wakeups() set after it was taken: a sleeping consumer is woken by the inline commit 50 ms in with wakeups on (%lld ms, %s), sleeps out its 400 ms with them off (%lld ms, %s)",
	       flags ? "symmetric" : "default", (long long)on,
	       ename(-on_rc), (long long)off, ename(-off_rc));
	tap_ok(son_rc == 0 && son < 300 && soff >= 390,
	       "%s queue, the release side: a producer asleep on a full ring is woken by the inline release 50 ms in with wakeups on (%lld ms, %s), sleeps out its 400 ms with them off (%lld ms, %s); views light %u/%u",
	       flags ? "symmetric" : "default", (long long)son, ename(-son_rc), (long long)soff, ename(-soff_rc),
	       light, light2);
}

/*
 * The flag a view's commit and release read: the peer's sleep flag on an
 * asymmetric queue, on a symmetric one a word that reads set, so that
 * every publish takes lfq_inline_wake_check() (which fences first).
 */
static void test_view_flag(void)
{
	struct lfq *a = spsc(8, SLOTS);
	struct lfq *y = spsc_flags(8, SLOTS, LFQ_CREATE_WAKE_SYMMETRIC);
	struct lfq_inline_prod ap, yp;
	struct lfq_inline_cons ac, yc;
	int ok = !lfq_inline_producer(a, &ap) && !lfq_inline_consumer(a, &ac) &&
		 !lfq_inline_producer(y, &yp) && !lfq_inline_consumer(y, &yc);
	/* The default queue is light where membarrier(2) registers. */
	int dp = ok && (ap.p->light ? ap.flag == ap.p->sleeps && !*ap.flag :
				      ap.flag != ap.p->sleeps && *ap.flag);
	int dc = ok && (ac.c->light ? ac.flag == ac.c->sleeps && !*ac.flag :
				      ac.flag != ac.c->sleeps && *ac.flag);

	tap_ok(dp && dc && !yp.p->light && !yc.c->light &&
	       yp.flag != yp.p->sleeps && yc.flag != yc.c->sleeps &&
	       *yp.flag && *yc.flag,
	       "a view's flag: the peer's sleep flag where the queue is light (default queue: light %u/%u, flag is the sleep flag %d/%d), else a word reading set (symmetric queue: light %u/%u, reads %u/%u)",
	       ok ? ap.p->light : 9, ok ? ac.c->light : 9,
	       ok && ap.flag == ap.p->sleeps, ok && ac.flag == ac.c->sleeps,
	       ok ? yp.p->light : 9, ok ? yc.c->light : 9,
	       ok ? *yp.flag : 9, ok ? *yc.flag : 9);
	lfq_close(a);
	lfq_close(y);
}

/*
 * Programs built before 0.7 pass 24-byte views to
 * lfq_inline_producer/consumer@LIBLFQ_0.3: those fill 24 bytes and no
 * more, the same ones the 0.7 symbols fill.
 */
int old_producer(struct lfq *q, struct lfq_inline_prod *ip);
int old_consumer(struct lfq *q, struct lfq_inline_cons *ic);
__asm__(".symver old_producer, lfq_inline_producer@LIBLFQ_0.3");
__asm__(".symver old_consumer, lfq_inline_consumer@LIBLFQ_0.3");

static void test_old_views(void)
{
	struct lfq *q = spsc(8, SLOTS);
	struct lfq_inline_prod np, op;
	struct lfq_inline_cons nc, oc;
	int a, b, c, d, same;

	memset(&op, 0xa5, sizeof(op));
	memset(&oc, 0xa5, sizeof(oc));
	a = lfq_inline_producer(q, &np);
	b = lfq_inline_consumer(q, &nc);
	c = old_producer(q, &op);
	d = old_consumer(q, &oc);
	same = !memcmp(&np, &op, 24) && !memcmp(&nc, &oc, 24);
	tap_ok(!a && !b && !c && !d && same &&
	       op.flag == (const __u32 *)(uintptr_t)0xa5a5a5a5a5a5a5a5ull &&
	       oc.flag == (const __u32 *)(uintptr_t)0xa5a5a5a5a5a5a5a5ull,
	       "lfq_inline_producer/consumer@LIBLFQ_0.3 (programs built before 0.7) fill the 24 bytes their views have, as the 0.7 ones do, and not the flag after them (%s %s %s %s, same %d)",
	       ename(-a), ename(-b), ename(-c), ename(-d), same);
	lfq_close(q);
}

/* The one-slot calls at the ring's edges, and against forged indices. */
static void test_one_edges(void)
{
	struct lfq *q = spsc(8, SLOTS);
	struct lfq_inline_prod ip;
	struct lfq_inline_cons ic;
	__u64 *tail_w, saved;
	unsigned int filled = 0, bad = 0, taken = 0;
	const void *r;
	void *w;

	if (lfq_inline_producer(q, &ip) || lfq_inline_consumer(q, &ic))
		bad++;
	r = bad ? &r : lfq_inline_peek_one(&ic);
	tap_ok(!bad && !r && *ic.c->empty_events == 1,
	       "lfq_inline_peek_one() of an empty ring: NULL, one empty event (%llu)",
	       bad ? 0ull : (unsigned long long)*ic.c->empty_events);
	/* A commit with nothing reserved publishes nothing. */
	lfq_inline_commit(&ip, 1);
	while (!bad && (w = lfq_inline_reserve_one(&ip))) {
		*(uint64_t *)w = filled++;
		lfq_inline_commit(&ip, 1);
		if (filled > SLOTS)
			break;
	}
	/* The NULL answer leaves nothing reserved: this commit is a no-op. */
	lfq_inline_commit(&ip, 1);
	tap_ok(!bad && filled == SLOTS && *ip.p->full_events == 1 &&
	       *ip.p->head_w - *ic.c->tail_w == SLOTS,
	       "lfq_inline_reserve_one() fills a %u-slot ring one slot at a time, then answers NULL with one full event (%u filled, %llu full events); a commit with nothing reserved, before the first and after the NULL, published nothing (head - tail %llu)",
	       SLOTS, filled, bad ? 0ull : (unsigned long long)*ip.p->full_events,
	       bad ? 0ull : (unsigned long long)(*ip.p->head_w - *ic.c->tail_w));
	/* Forged: a tail ahead of head reads as a full ring. */
	tail_w = ic.c->tail_w;
	saved = *tail_w;
	while (!bad && (r = lfq_inline_peek_one(&ic)) && taken < SLOTS) {
		bad += *(const uint64_t *)r != taken++;
		lfq_inline_release(&ic, 1);
	}
	__atomic_store_n(tail_w, *ip.p->head_w + 5, __ATOMIC_RELEASE);
	w = lfq_inline_reserve_one(&ip);
	__atomic_store_n(tail_w, *ip.p->head_w - SLOTS - 5, __ATOMIC_RELEASE);
	tap_ok(!bad && taken == SLOTS && !w && !lfq_inline_reserve_one(&ip),
	       "drained in order (%u of %u); a forged tail 5 past head, and one a ring and 5 behind it, read as a full ring to lfq_inline_reserve_one() (NULL)",
	       taken, SLOTS);
	__atomic_store_n(tail_w, saved + SLOTS, __ATOMIC_RELEASE);
	ip.p->cached_tail = saved + SLOTS;
	/* Forged: a head more than the ring ahead hands over a slot, in the ring. */
	__atomic_store_n((__u64 *)ic.c->head_w, ic.c->tail + 1000,
			 __ATOMIC_RELEASE);
	r = lfq_inline_peek_one(&ic);
	tap_ok(r && (const char *)r >= (const char *)ic.c->data &&
	       (const char *)r < (const char *)ic.c->data + SLOTS * 8,
	       "a forged head 1000 past tail: lfq_inline_peek_one() hands over the slot at tail, inside the ring");
	lfq_close(q);
}

/* Two threads, one slot at a time on both sides. */
static void *one_produce(void *arg)
{
	struct stream *st = arg;
	struct lfq_inline_prod ip;
	uint64_t seq = 0;

	if (lfq_inline_producer(st->q, &ip))
		return NULL;
	while (seq < st->n) {
		uint64_t *m = lfq_inline_reserve_one(&ip);

		if (!m)
			continue;
		*m = seq++;
		lfq_inline_commit_one(&ip);
	}
	return NULL;
}

static void test_one_stream(void)
{
	struct stream st = { .q = spsc(8, SLOTS), .n = STREAM };
	struct lfq_stats s = { .size = sizeof(s) };
	struct lfq_inline_cons ic;
	uint64_t seq = 0, bad = 0;
	double t0 = now_s();
	pthread_t t;

	if (lfq_inline_consumer(st.q, &ic)) {
		tap_ok(0, "one-slot stream: no consumer view");
		lfq_close(st.q);
		return;
	}
	pthread_create(&t, NULL, one_produce, &st);
	/* A bad message is counted, not a reason to stop: no hang. */
	while (seq < st.n) {
		const uint64_t *m = lfq_inline_peek_one(&ic);

		if (!m)
			continue;
		bad += *m != seq++;
		lfq_inline_release_one(&ic);
	}
	pthread_join(t, NULL);
	lfq_get_stats(st.q, &s);
	tap_ok(seq == st.n && !bad && s.produced == st.n &&
	       s.consumed == st.n,
	       "%llu 8-byte messages between two threads, one slot at a time (lfq_inline_reserve_one() and _commit_one(), lfq_inline_peek_one() and _release_one()): in order, none lost (%llu bad; stats produced %llu consumed %llu; %.1f M msg/s)",
	       (unsigned long long)st.n, (unsigned long long)bad,
	       (unsigned long long)s.produced, (unsigned long long)s.consumed,
	       (double)seq / (now_s() - t0) / 1e6);
	lfq_close(st.q);
}

int main(void)
{
	tap_plan(20);
	test_views();
	test_stream();
	test_mixed();
	test_pingpong(0);
	test_pingpong(LFQ_CREATE_WAKE_SYMMETRIC);
	test_view_flag();
	test_old_views();
	test_space_wake(0);
	test_space_wake(LFQ_CREATE_WAKE_SYMMETRIC);
	test_wakeups_setting(0);
	test_wakeups_setting(LFQ_CREATE_WAKE_SYMMETRIC);
	test_one_edges();
	test_one_stream();
	return tap_done();
}
