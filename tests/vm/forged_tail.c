// SPDX-License-Identifier: GPL-2.0
/*
 * forged_tail.c - the CVE-2024-41009 class against the real module: a
 * consumer-role file forges its tail (tail = head: "all consumed", over
 * and over) while a producer process holds a reservation it has written
 * but not published, and kernel producers (LFQ_SOURCE_SYNTH: two threads,
 * a hardirq and a softirq hrtimer) lap the ring. No kernel producer may
 * write the held slot (lfq_mpsc_lap_free()): they stop exactly one lap
 * past it, counting drops, and the record stays intact; once it is
 * published they go on. The VM runner fails the run on any splat.
 *
 * The same on an elastic queue (LFQ_CREATE_ELASTIC), where the consumer
 * forges every segment's tail word:
 *   E1	the held index is the first of segment 0: the kernel producers stop
 *	one lap past it in that segment, the record stays intact, and the
 *	segment is not retired although its tail says it is drained (the
 *	kernel checks the commit words: lfq_seg_committed());
 *   E2	published, the lapping goes on;
 *   E3	the consumer file's owner, a producer too, also marks the slots of
 *	sealed segments that kernel producers still hold as published (their
 *	commit words), their tails as drained and its own segment
 *	(cons_ctl->seg) as the producers' one, so that the kernel retires
 *	segments kernel producers are writing into. They hold their segment
 *	in an RCU read-side section (preemption disabled) from reservation to
 *	commit: the segment is reused only after they are done. We
 *	count the reservations caught in flight, the segments retired, and
 *	the commits seen landing in a segment already retired;
 *   E4	forging stops: a fresh consumer reads whole SYNTH records, each
 *	producer's in increasing order (the forged tails only lost records).
 * A frame keeps its segment's pages until the segment is freed (zeros
 * after): a SIGBUS on reading one is caught and counted, and must not
 * happen.
 *
 *   forged_tail [-s SECS]     (how long each phase forges; default 2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define NAME	"t-forged"
#define NAME_EL	"t-forged-el"
#define SLOT	64u
#define SLOTS	64u		/* the fixed ring; each elastic segment too */
#define SEGS	8u		/* elastic: seg_max */
#define TRACK	256		/* elastic: forged commit words followed */
#define DISCARDED 0x8000000000000000ull

struct view {			/* the consumer file's own mapping */
	unsigned char *base;
	size_t len;
	const struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
};

/* Map @fd (a consumer-role file) read-only, its consumer page writable. */
static int map_view(int fd, struct view *v)
{
	struct lfq_info info = { .size = sizeof(info) };
	void *cons;

	if (ioctl(fd, LFQ_IOC_INFO, &info))
		return -errno;
	v->len = info.map_size;
	v->base = mmap(NULL, v->len, PROT_READ, MAP_SHARED, fd, 0);
	if (v->base == MAP_FAILED)
		return -errno;
	cons = mmap(v->base + info.cons_offset, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, fd, (off_t)info.cons_offset);
	if (cons == MAP_FAILED)
		return -errno;
	v->prod = (const void *)(v->base + info.prod_offset);
	v->cons = cons;
	return 0;
}

static uint64_t head_of(const struct view *v)
{
	return __atomic_load_n(&v->prod->head, __ATOMIC_ACQUIRE);
}

/* Forge tail = head for @secs; returns the last head seen. */
static uint64_t forge(struct view *v, double secs)
{
	double end = now_s() + secs;
	uint64_t h = 0;

	while (now_s() < end) {
		h = head_of(v);
		__atomic_store_n(&v->cons->tail, h, __ATOMIC_RELEASE);
		sched_yield();
	}
	return h;
}

static uint64_t dropped(struct lfq *q)
{
	struct lfq_stats st = { 0 };

	lfq_get_stats(q, &st);
	return st.dropped;
}

/* The fixed ring: 8 results. */
static void test_fixed(double secs)
{
	LFQ_OPTS(lfq_create_opts, co, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SLOTS, .name = NAME, .mode = 0600,
		 .role = LFQ_ROLE_PRODUCER);
	LFQ_OPTS(lfq_open_opts, oo, .name = NAME, .role = LFQ_ROLE_CONSUMER);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 2, .hardirq_timers = 1,
				.softirq_timers = 1, .thread_period_ns = 20000,
				.timer_period_ns = 50000 };
	unsigned char pattern[SLOT], *held = NULL;
	struct lfq *prod = NULL, *cons = NULL;
	uint64_t h1, h2, h3, d1, d2;
	struct view v;
	void *span;
	int err, id, n;

	lfq_unlink(NAME);
	err = lfq_create(&co, &prod);
	if (!err)
		err = lfq_open(&oo, &cons);
	if (!err)
		err = map_view(lfq_fd(cons), &v);
	if (!tap_ok(!err, "MPSC queue of %u slots: a producer file, a consumer "
		    "file mapping its consumer page writable", SLOTS)) {
		tap_diag("setup: %s", strerror(-err));
		return;
	}

	/* A record written but not published, in slot 0 (index 0). */
	n = lfq_reserve(prod, 1, &span);
	if (n == 1)
		held = span;
	memset(pattern, 0xa5, sizeof(pattern));
	if (held)
		memcpy(held, pattern, sizeof(pattern));
	if (!tap_ok(n == 1 && head_of(&v) == 1,
		    "a producer holds index 0, written and not published"))
		tap_diag("  lfq_reserve: %d (%s), head %llu", n,
			 n < 0 ? ename(-n) : "ok",
			 (unsigned long long)head_of(&v));

	id = lfq_source_attach(prod, &s);
	if (!tap_ok(id >= 0, "SYNTH attached: 2 threads, a hardirq and a "
		    "softirq timer, no end")) {
		tap_diag("attach: %s", strerror(-id));
		return;
	}

	/* Phase 1: the kernel producers lap up to the held slot, no further. */
	h1 = forge(&v, secs);
	d1 = dropped(prod);
	h2 = forge(&v, secs / 4);
	tap_ok(h1 == SLOTS && h2 == SLOTS,
	       "forging tail = head for %.1f s: head stops at %llu then %llu "
	       "(one lap past the held index: %u)", secs,
	       (unsigned long long)h1, (unsigned long long)h2, SLOTS);
	tap_ok(held && !memcmp(held, pattern, sizeof(pattern)),
	       "the held record is intact");
	tap_ok(d1 > 0, "the kernel producers' refusals are counted: %llu "
	       "dropped", (unsigned long long)d1);

	/* Phase 2: published, the slot is free and the lapping goes on. */
	lfq_commit(prod, 1);
	h3 = forge(&v, secs);
	d2 = dropped(prod);
	tap_ok(h3 > 4ull * SLOTS,
	       "published: the kernel producers go on lapping (head %llu)",
	       (unsigned long long)h3);

	err = lfq_source_detach(prod, id);
	tap_ok(!err && d2 >= d1, "SYNTH detached (%s); dropped %llu, then %llu",
	       strerror(-err), (unsigned long long)d1,
	       (unsigned long long)d2);
	munmap(v.base, v.len);
	lfq_close(cons);
	lfq_close(prod);
	lfq_unlink(NAME);
}

/* ------------------------------------------------------------- elastic */

/* An elastic queue's mapping: read-only, but the consumer file's tail
 * words and the producer file's frames, both writable.
 */
struct eview {
	unsigned char *base;
	size_t len;
	struct lfq_info info;
	const struct lfq_segtab *segtab;
	const struct lfq_seg_meta *meta;
	const struct lfq_seg_word *heads;
	struct lfq_seg_word *tails;
	struct lfq_cons_ctl *cons;	/* writable: cons->seg forged (E3) */
};

static int map_eview(int cfd, int pfd, struct eview *e)
{
	struct lfq_info *in = &e->info;
	size_t frames;

	in->size = sizeof(*in);
	if (ioctl(cfd, LFQ_IOC_INFO, in))
		return -errno;
	if (in->size < LFQ_INFO_SIZE_VER3 || in->seg_max != SEGS)
		return -EPROTO;
	frames = (size_t)in->seg_max * in->frame_size;
	e->len = in->map_size;
	e->base = mmap(NULL, e->len, PROT_READ, MAP_SHARED, cfd, 0);
	if (e->base == MAP_FAILED)
		return -errno;
	if (mmap(e->base + in->cons_offset, 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, cfd, (off_t)in->cons_offset) ==
	    MAP_FAILED ||
	    mmap(e->base + in->tails_offset, in->frames_offset - in->tails_offset,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, cfd,
		 (off_t)in->tails_offset) == MAP_FAILED ||
	    mmap(e->base + in->frames_offset, frames, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, pfd, (off_t)in->frames_offset) ==
	    MAP_FAILED)
		return -errno;
	e->segtab = (const void *)(e->base + in->segtab_offset);
	e->meta = (const void *)(e->segtab + 1);
	e->heads = (const void *)(e->base + in->heads_offset);
	e->tails = (void *)(e->base + in->tails_offset);
	e->cons = (void *)(e->base + in->cons_offset);
	return 0;
}

static uint64_t ld(const volatile void *p)
{
	return __atomic_load_n((const volatile uint64_t *)p, __ATOMIC_ACQUIRE);
}

static uint32_t state_of(const struct eview *e, uint32_t f)
{
	return __atomic_load_n(&e->meta[f].state, __ATOMIC_ACQUIRE);
}

/* Frame @f's commit words. */
static uint64_t *commit_of(const struct eview *e, uint32_t f)
{
	return (uint64_t *)(e->base + e->info.frames_offset +
			    (uint64_t)f * e->info.frame_size);
}

static sigjmp_buf bus_jb;
static volatile sig_atomic_t in_frames;

static void on_bus(int sig)
{
	if (in_frames) {
		in_frames = 0;
		siglongjmp(bus_jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* What forge_el() saw. */
struct forged {
	uint64_t seg0_end;	/* frame 0's head, last seen (E1) */
	int seg0_left;		/* frame 0 seen not live, or not the oldest */
	uint64_t inflight;	/* outstanding slots marked published (E3) */
	uint64_t late_retired;	/* their commits, seen in a retired segment */
	uint64_t late_live;	/* ... in a live one */
	uint64_t sigbus;	/* our reads of frames retired meanwhile */
	uint64_t rounds;
};

/* A commit word forged as published while a producer held its slot. */
struct track {
	uint32_t f;
	int retired;		/* seen still forged in a retired segment */
	uint64_t i, base;
};

/*
 * Forge for @secs: every live segment's tail = its head (all consumed);
 * with @commits (E3) only sealed segments' but the producers', whose
 * outstanding slots are first marked published (discarded), and follow
 * those: a commit landing there afterwards is a producer that was still
 * writing when we made the kernel see the segment done.
 */
static void forge_el(struct eview *e, double secs, int commits,
		     struct forged *r)
{
	static struct track tr[TRACK];
	volatile uint32_t ntr = 0;
	double end = now_s() + secs;
	uint64_t v, i, b, x;
	uint32_t f, k, p;

	memset(r, 0, sizeof(*r));
	while (now_s() < end) {
		if (sigsetjmp(bus_jb, 1)) {
			r->sigbus++;
			ntr = 0;	/* a frame went: start over */
			continue;
		}
		in_frames = 1;
		r->rounds++;
		p = __atomic_load_n(&e->segtab->pseg, __ATOMIC_ACQUIRE);
		for (f = 0; f < SEGS; f++) {
			if (state_of(e, f) != LFQ_SEG_LIVE)
				continue;
			v = ld(&e->heads[f].v);
			if (!commits) {
				__atomic_store_n(&e->tails[f].v,
						 v & ~LFQ_SEG_SEALED,
						 __ATOMIC_RELEASE);
				continue;
			}
			if (!(v & LFQ_SEG_SEALED) || f == p)
				continue;
			v &= ~LFQ_SEG_SEALED;
			b = e->meta[f].base;
			for (i = v - b > SLOTS ? v - SLOTS : b; i < v; i++) {
				uint64_t *w = &commit_of(e, f)[i % SLOTS];

				x = ld(w);
				if ((int64_t)(i - ((x & ~DISCARDED) - 1)) <= 0)
					continue;	/* published */
				if (!__atomic_compare_exchange_n(w, &x,
						(i + 1) | DISCARDED, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
					continue;	/* it just was */
				r->inflight++;
				if (ntr < TRACK)
					tr[ntr++] = (struct track){ f, 0, i, b };
			}
			__atomic_store_n(&e->tails[f].v, v, __ATOMIC_RELEASE);
		}
		/* The consumer "moved on" to the producers' segment too. */
		if (commits)
			__atomic_store_n(&e->cons->seg, p, __ATOMIC_RELEASE);
		/*
		 * The slots we marked: a producer's commit lands later. It
		 * landed after the retirement if the word was still ours
		 * when the segment read retired (state first, then word).
		 */
		for (k = 0; k < ntr;) {
			struct track *t = &tr[k];
			uint32_t st = state_of(e, t->f);

			x = st == LFQ_SEG_FREE || e->meta[t->f].base != t->base ?
			    0 : ld(&commit_of(e, t->f)[t->i % SLOTS]);
			if (x == t->i + 1) {
				if (t->retired)
					r->late_retired++;
				else
					r->late_live++;
			} else if (x == ((t->i + 1) | DISCARDED)) {
				t->retired |= st == LFQ_SEG_RETIRED;
				k++;
				continue;
			}
			tr[k] = tr[--ntr];	/* reused, freed: done */
		}
		r->seg0_end = ld(&e->heads[0].v) & ~LFQ_SEG_SEALED;
		if (state_of(e, 0) != LFQ_SEG_LIVE ||
		    __atomic_load_n(&e->segtab->cseg, __ATOMIC_ACQUIRE))
			r->seg0_left = 1;
		in_frames = 0;
		sched_yield();
	}
}

static struct lfq_stats el_stats(struct lfq *q)
{
	struct lfq_stats st = { .size = sizeof(st) };

	lfq_get_stats(q, &st);
	return st;
}

/* What a stalled E4 needs to be understood: the queue as @q sees it. */
static void el_diag(const char *when, struct lfq_stats st)
{
	tap_diag("E4 %s: produced %llu consumed %llu dropped %llu segments "
		 "%llu (peak %llu) grows %llu shrinks %llu pool %llu "
		 "empty_events %llu waits %llu", when,
		 (unsigned long long)st.produced,
		 (unsigned long long)st.consumed,
		 (unsigned long long)st.dropped,
		 (unsigned long long)st.segments,
		 (unsigned long long)st.segments_peak,
		 (unsigned long long)st.grows, (unsigned long long)st.shrinks,
		 (unsigned long long)st.pool,
		 (unsigned long long)st.empty_events,
		 (unsigned long long)st.waits);
}

/*
 * E4: read for @secs with a fresh consumer (and up to 4 x @secs more
 * while nothing came: retirements the forgery left run from a periodic
 * work, slow on an emulated KCSAN kernel); every record a whole SYNTH
 * one, each producer's seq increasing. Returns the records read, or -1
 * after a bad one (and a diagnostic). A read of nothing prints the
 * queue's counters at the start and the end.
 */
static int64_t read_honest(double secs, struct lfq *prod, uint64_t *gaps)
{
	LFQ_OPTS(lfq_open_opts, oo, .name = NAME_EL, .role = LFQ_ROLE_CONSUMER);
	static const uint32_t ctx[4] = { LFQ_CONTEXT_THREAD, LFQ_CONTEXT_THREAD,
					 LFQ_CONTEXT_HARDIRQ,
					 LFQ_CONTEXT_SOFTIRQ };
	int64_t last[4] = { -1, -1, -1, -1 }, n = 0;
	double end = now_s() + secs;
	const struct lfq_event_synth *ev;
	struct lfq_stats st0;
	struct lfq *c;
	const void *span;
	int got, i, bad = 0;

	if (lfq_open(&oo, &c))
		return -1;
	st0 = el_stats(prod);
	while (!bad && (now_s() < end ||
			(!n && now_s() < end + 4 * secs))) {
		got = lfq_peek(c, 16, &span);
		if (got == -EAGAIN) {
			lfq_wait_data(c, 1, 10000000);
			continue;
		}
		if (got < 0) {
			tap_diag("E4: lfq_peek: %s", ename(-got));
			bad = 1;
			break;
		}
		for (i = 0; i < got && !bad; i++, n++) {
			ev = (const void *)((const char *)span + i * SLOT);
			bad = ev->hdr.type != LFQ_EVENT_SYNTH ||
			      ev->hdr.size != sizeof(*ev) || ev->producer >= 4 ||
			      ev->context != ctx[ev->producer] ||
			      (int64_t)ev->seq <= last[ev->producer];
			if (bad) {
				tap_diag("E4: record %lld: type %u size %u "
					 "producer %u context %u seq %llu",
					 (long long)n, ev->hdr.type,
					 ev->hdr.size, ev->producer,
					 ev->context,
					 (unsigned long long)ev->seq);
				break;
			}
			*gaps += ev->seq - (uint64_t)(last[ev->producer] + 1);
			last[ev->producer] = (int64_t)ev->seq;
		}
		lfq_release(c, (uint32_t)got);
	}
	if (!n) {
		el_diag("start", st0);
		el_diag("end", el_stats(prod));
	}
	lfq_close(c);
	return bad ? -1 : n;
}

/* The elastic queue: 9 results. */
static void test_elastic(double secs)
{
	LFQ_OPTS(lfq_create_opts, co, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SLOTS, .flags = LFQ_CREATE_ELASTIC,
		 .seg_min = 2, .seg_max = SEGS, .name = NAME_EL,
		 .mode = 0600, .role = LFQ_ROLE_PRODUCER);
	LFQ_OPTS(lfq_open_opts, oo, .name = NAME_EL, .role = LFQ_ROLE_CONSUMER);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 2, .hardirq_timers = 1,
				.softirq_timers = 1, .thread_period_ns = 20000,
				.timer_period_ns = 50000 };
	struct lfq_stats s1, s2, s3, s4;
	unsigned char pattern[SLOT], *held = NULL;
	struct lfq *prod = NULL, *cons = NULL;
	struct eview e = { .base = MAP_FAILED };
	struct forged r1, r2, r3;
	uint64_t gaps = 0;
	int64_t n4;
	void *span;
	int err, id, n;

	signal(SIGBUS, on_bus);
	lfq_unlink(NAME_EL);
	err = lfq_create(&co, &prod);
	if (!err)
		err = lfq_open(&oo, &cons);
	if (!err)
		err = map_eview(lfq_fd(cons), lfq_fd(prod), &e);
	if (!tap_ok(!err, "elastic MPSC queue of %u-slot segments, seg_max %u: "
		    "a producer file and a consumer file, the tail words "
		    "mapped writable by one, the frames by the other", SLOTS,
		    SEGS)) {
		tap_diag("setup: %s", strerror(-err));
		return;
	}

	/* Index 0, the first of segment 0 (frame 0), written, not published. */
	n = lfq_reserve(prod, 1, &span);
	if (n == 1)
		held = span;
	memset(pattern, 0x5a, sizeof(pattern));
	if (held)
		memcpy(held, pattern, sizeof(pattern));
	if (!tap_ok(n == 1 && ld(&e.heads[0].v) == 1 && !e.segtab->pseg,
		    "a producer holds index 0 in segment 0, written and not "
		    "published"))
		tap_diag("  lfq_reserve: %d (%s), head %llu", n,
			 n < 0 ? ename(-n) : "ok",
			 (unsigned long long)ld(&e.heads[0].v));

	/* Forged from the start: segment 0 never reads as full, so the
	 * kernel producers stay in it (no seal, no growth).
	 */
	__atomic_store_n(&e.tails[0].v, ld(&e.heads[0].v), __ATOMIC_RELEASE);
	id = lfq_source_attach(prod, &s);
	if (!tap_ok(id >= 0, "SYNTH attached to the elastic queue: 2 threads, "
		    "a hardirq and a softirq timer, no end")) {
		tap_diag("attach: %s", strerror(-id));
		return;
	}

	/* E1: every tail forged to its head; segment 0 holds index 0. */
	forge_el(&e, secs, 0, &r1);
	s1 = el_stats(prod);
	tap_ok(r1.seg0_end == SLOTS && !r1.seg0_left && s1.segments_peak == 1,
	       "E1: forging every segment's tail = head for %.1f s: segment 0 "
	       "stops at %llu (one lap past the held index: %u) and stays "
	       "live and oldest though its tail says drained (%llu segments, "
	       "peak %llu)", secs, (unsigned long long)r1.seg0_end, SLOTS,
	       (unsigned long long)s1.segments,
	       (unsigned long long)s1.segments_peak);
	tap_ok(held && !memcmp(held, pattern, sizeof(pattern)) && s1.dropped,
	       "E1: the held record is intact; the kernel producers' refusals "
	       "are counted (%llu dropped)", (unsigned long long)s1.dropped);

	/* E2: published, the lapping goes on. */
	lfq_commit(prod, 1);
	forge_el(&e, secs, 0, &r2);
	s2 = el_stats(prod);
	tap_ok(s2.produced > s1.produced + 4ull * SLOTS,
	       "E2: published: the kernel producers go on (head %llu, then "
	       "%llu)", (unsigned long long)s1.produced,
	       (unsigned long long)s2.produced);

	/* E3: retire the segments kernel producers still write into. */
	forge_el(&e, secs, 1, &r3);
	s3 = el_stats(prod);
	tap_diag("E3: %llu rounds, %llu slots caught in flight and marked "
		 "published, %llu of their commits seen after the kernel "
		 "retired the segment, %llu while it was live, %llu SIGBUS "
		 "on our reads of retired frames",
		 (unsigned long long)r3.rounds,
		 (unsigned long long)r3.inflight,
		 (unsigned long long)r3.late_retired,
		 (unsigned long long)r3.late_live,
		 (unsigned long long)r3.sigbus);
	tap_ok(s3.shrinks > s2.shrinks && s3.grows > s2.grows &&
	       s3.segments <= SEGS && s3.segments_peak <= SEGS && !r3.sigbus,
	       "E3: forging sealed segments' tails and held slots as done: "
	       "%llu segments retired, %llu linked while kernel producers "
	       "wrote (%llu caught in flight), %llu SIGBUS reading frames",
	       (unsigned long long)(s3.shrinks - s2.shrinks),
	       (unsigned long long)(s3.grows - s2.grows),
	       (unsigned long long)r3.inflight,
	       (unsigned long long)r3.sigbus);

	/* E4: no more forging; a fresh consumer reads what comes. */
	munmap(e.base, e.len);
	lfq_close(cons);
	n4 = read_honest(secs / 2, prod, &gaps);
	tap_ok(n4 > 0,
	       "E4: a fresh consumer reads %lld whole SYNTH records, each "
	       "producer's in increasing order (%llu gaps: records the forged "
	       "tails lost)", (long long)n4, (unsigned long long)gaps);

	err = lfq_source_detach(prod, id);
	s4 = el_stats(prod);
	tap_ok(!err && s4.dropped >= s3.dropped && s3.dropped >= s1.dropped &&
	       s4.grows >= s3.grows && s4.shrinks >= s3.shrinks,
	       "SYNTH detached (%s); dropped %llu, %llu, %llu; %llu grows, "
	       "%llu shrinks", strerror(-err),
	       (unsigned long long)s1.dropped, (unsigned long long)s3.dropped,
	       (unsigned long long)s4.dropped, (unsigned long long)s4.grows,
	       (unsigned long long)s4.shrinks);
	lfq_close(prod);
	lfq_unlink(NAME_EL);
}

int main(int argc, char **argv)
{
	double secs = 2;
	int opt;

	while ((opt = getopt(argc, argv, "s:")) != -1)
		secs = atof(optarg);
	tap_plan(8 + 9);
	test_fixed(secs);
	test_elastic(secs);
	return tap_done();
}
