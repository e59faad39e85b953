// SPDX-License-Identifier: MIT
/*
 * rec_elastic_mt.c - elastic record queues (LFQ_CREATE_RECORDS |
 * LFQ_CREATE_ELASTIC: records of 1 byte to LFQ_REC_MAX_LEN(segment bytes)
 * in a list of segments that grows and shrinks) through liblfq's API,
 * with threads in one process. Owns the behaviour of such queues as a
 * process sees it; the /dev/lfq specifics (kernel producers, killed
 * producers, hostile memory, processes) are tests/vm/elastic_records.c.
 *
 *   a. streams, SPSC and MPSC (4 producer threads, a handle each): every
 *      record's length (1 to the limit) and bytes follow from its producer
 *      and sequence number, so a record torn, lost, duplicated or out of
 *      order is caught; producers mix lfq_record_reserve()/_commit() and
 *      lfq_push(), and give records up now and then (reserved, filled
 *      with the very bytes of their next record, discarded: one seen
 *      would make that record arrive twice); the consumer mixes
 *      lfq_record_peek()/_release(), lfq_pop() and lfq_record_consume()
 *      and pauses now and then, so the queue grows to many segments (up
 *      to seg_max: producers wait) and drains again. Checked: every
 *      record arrived once, whole, in per-producer order; grows, shrinks
 *      and the peak; after an idle period the queue is back to its
 *      memory at creation, one live segment;
 *   b. segment ends, with a stalled consumer, after records that went
 *      round segment 0's end once: lengths crafted to leave 0, 8, 16 and
 *      24 bytes of a 4096-byte segment, then a record that fits the rest
 *      exactly or does not (it goes on in the next segment): after every
 *      record, stats.grows is what a byte-exact model of the segments
 *      says; the consumer then gets every record whole and in order, and
 *      lfq_pop() with too small a buffer at a segment's first record is
 *      -EMSGSIZE and leaves it there;
 *   c. seg_max with a stalled consumer: a reservation is -EAGAIN after
 *      exactly the records the model fits in seg_max segments (each
 *      record 8 + its length rounded up to 8 bytes, a segment sealed when
 *      the next record does not fit), again when retried; after a drain a
 *      reservation fits again within a second (a grace period);
 *   d. refusals: OVERWRITE | ELASTIC, MPMC, bad geometry -> -EINVAL; the
 *      slot calls on a record handle -> -EOPNOTSUPP; lengths 0 and
 *      limit + 1 -> -EMSGSIZE; (memfd) another process cannot open it;
 *   e. LFQ_CREATE_BLOCK at seg_max: lfq_push() sleeps (little CPU) and
 *      returns once the consumer has drained, its record whole;
 *   f. the consumer zeroes what it consumed: records whose payload words
 *      each read as a committed header for their place one lap on go
 *      round a segment; a record then reserved where one lay is not seen
 *      before its commit.
 *
 * Discarded records are checked by the consumer never seeing one (each
 * holds its producer's next record's bytes: seen, that record would come
 * twice); lfq_stats has no count of them.
 *
 * Built plain and with ThreadSanitizer (LFQ_TSAN: fewer records) on
 * in-process queues (LFQ_BACKEND_MEMFD, liburcu), and for the test VM on
 * /dev/lfq (tests/vm/rec_elastic_kernel.c defines LFQ_KERNEL_QUEUE: named
 * queues, every producer handle a file of its own opened by name, growth
 * through LFQ_IOC_GROW, fewer records).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "blocked_push.h"
#include "rec_pattern.h"
#include "tap.h"
#include "test_util.h"

#define SEG_BYTES	4096u		/* bytes per segment */
#define PRODUCERS	4
#ifdef LFQ_KERNEL_QUEUE
#define BACKEND		LFQ_BACKEND_KERNEL
#define STREAM_RECS	300000ull	/* per stream: TCG is slow */
#define PAUSE_EVERY	3000ull
#define PAUSE_MS	4
#define TIMEOUT_NS	30000000000ll
#elif defined(LFQ_TSAN)
#define BACKEND		LFQ_BACKEND_MEMFD
#define STREAM_RECS	500000ull
#define PAUSE_EVERY	5000ull
#define PAUSE_MS	2
#define TIMEOUT_NS	20000000000ll
#else
#define BACKEND		LFQ_BACKEND_MEMFD
#define STREAM_RECS	1000000ull
#define PAUSE_EVERY	20000ull
#define PAUSE_MS	2
#define TIMEOUT_NS	10000000000ll
#endif
#define STREAM_SEG_MIN	2u
#define STREAM_SEG_MAX	64u

static uint32_t max_len;	/* LFQ_REC_MAX_LEN(SEG_BYTES) */

/* ---------------------------------------------------------------------- */
/* Queues: in-process memfd ones here, named /dev/lfq ones in the VM. */

struct eq {
	struct lfq *c;			/* the consumer's handle */
	struct lfq *p[PRODUCERS];	/* each producer's own handle */
	unsigned int np;
	char name[LFQ_NAME_MAX];
};

/* Close every handle of @e; on /dev/lfq unlink its name. */
static void eq_close(struct eq *e)
{
	unsigned int i;

	for (i = 0; i < e->np; i++)
		if (e->p[i] && e->p[i] != e->c)
			lfq_close(e->p[i]);
#ifdef LFQ_KERNEL_QUEUE
	if (e->c)
		lfq_unlink(e->name);
#endif
	lfq_close(e->c);
	memset(e, 0, sizeof(*e));
}

/*
 * An elastic record queue of SEG_BYTES-byte segments with @flags besides
 * RECORDS | ELASTIC, and @np producer handles: SPSC's one is the
 * consumer's handle itself (its producer side), MPSC's are their own
 * (by fd; on /dev/lfq a file of its own each, opened by name, so that
 * each registers its own claim).
 */
static int eq_make(struct eq *e, uint32_t type, uint32_t flags,
		   uint32_t seg_min, uint32_t seg_max, unsigned int np)
{
	static unsigned int made;
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = 1,
		 .slot_count = SEG_BYTES,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC | flags,
		 .backend = BACKEND, .seg_min = seg_min, .seg_max = seg_max);
	unsigned int i;
	int err;

	memset(e, 0, sizeof(*e));
	e->np = np;
#ifdef LFQ_KERNEL_QUEUE
	snprintf(e->name, sizeof(e->name), "t-recel-%d-%u", (int)getpid(),
		 made++);
	o.name = e->name;
	o.mode = 0600;
	o.role = type == LFQ_TYPE_SPSC ? 0 : LFQ_ROLE_CONSUMER;
#else
	(void)made;
#endif
	err = lfq_create(&o, &e->c);
	if (err) {
		tap_diag("create an elastic %s record queue (seg_min %u, seg_max %u, flags %#x): %s",
			 type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC", seg_min,
			 seg_max, flags, ename(-err));
		return err;
	}
	if (type == LFQ_TYPE_SPSC) {
		e->p[0] = e->c;
		return 0;
	}
	for (i = 0; i < np; i++) {
#ifdef LFQ_KERNEL_QUEUE
		err = open_named(e->name, LFQ_ROLE_PRODUCER, &e->p[i]);
#else
		e->p[i] = open_fd(lfq_fd(e->c));
		err = e->p[i] ? 0 : -ENOENT;
#endif
		if (err) {
			tap_diag("open producer %u: %s", i, ename(-err));
			eq_close(e);
			return err;
		}
	}
	return 0;
}

static struct lfq_stats stats_of(struct lfq *q)
{
	struct lfq_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (lfq_get_stats(q, &st))
		tap_diag("lfq_get_stats failed");
	return st;
}

/*
 * The queue at rest: the consumer looks (passing any discarded record
 * left) and would sleep, which lets an in-process queue give back what it
 * does not need; the kernel's reclaim runs every seg_idle_ms / 2. Wait up
 * to 5 s for @bytes held and one live segment: the ms waited, or -1.
 */
static int wait_rest(struct lfq *c, uint64_t bytes, struct lfq_stats *st)
{
	const void *p;
	int ms;

	for (ms = 0;; ms += 20) {
		lfq_record_peek(c, &p);
		lfq_wait_data(c, 1, 1000000);
		*st = stats_of(c);
		if (st->bytes == bytes && st->segments == 1)
			return ms;
		if (ms >= 5000)
			return -1;
		msleep(20);
	}
}

/* Record (@who, @seq)'s length, 1 to the limit (rec_pattern.h). */
static uint32_t rec_len(uint32_t who, uint64_t seq)
{
	return rp_len(who, seq, max_len);
}

/* ---------------------------------------------------------------------- */
/* a. Streams. */

/* What the consumer knows: each producer's next sequence number. */
struct tally {
	uint64_t next[PRODUCERS];
	uint64_t got, bad;
	unsigned int np;
};

/* Check one record; 0 if it is the next of its producer, whole. */
static int tally_rec(struct tally *t, const unsigned char *b, uint32_t len)
{
	uint32_t who = rp_who(b, len);
	uint64_t seq = who < t->np ? t->next[who] : 0;

	if (who >= t->np || len != rec_len(who, seq) ||
	    !rp_same(b, len, who, seq)) {
		if (t->bad++ < 5)
			tap_diag("  record %llu: %u bytes, first byte %#x: not producer %u's seq %llu (%u bytes)",
				 (unsigned long long)t->got, len,
				 len ? b[0] : 0, who, (unsigned long long)seq,
				 who < t->np ? rec_len(who, seq) : 0);
		return -1;
	}
	t->next[who]++;
	t->got++;
	return 0;
}

static int tally_cb(void *ctx, const void *payload, uint32_t len)
{
	return tally_rec(ctx, payload, len) ? 1 : 0;
}

struct stream {
	struct eq e;
	uint64_t per_producer;
	int stop;			/* the consumer gave up */
};

struct producer {
	struct stream *s;
	struct lfq *q;
	uint32_t who;
	uint64_t discards;		/* records given up */
	uint64_t full;			/* -EAGAIN answers (at seg_max) */
	int err;
};

/* Reserve @len bytes on @p's handle, waiting while the queue is at seg_max. */
static int reserve_wait(struct producer *p, uint32_t len, void **payload)
{
	int err;

	while ((err = lfq_record_reserve(p->q, len, payload)) == -EAGAIN) {
		if (__atomic_load_n(&p->s->stop, __ATOMIC_RELAXED))
			return -ECANCELED;
		p->full++;
		lfq_wait_space(p->q, rp_size(len), 1000000);
	}
	if (!err && ((uintptr_t)*payload & 7))
		err = -EFAULT;		/* the payload must be 8-aligned */
	return err;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	static __thread unsigned char buf[SEG_BYTES];
	uint64_t seq;
	void *pl;
	int err = 0;

	for (seq = 0; seq < p->s->per_producer && !err; seq++) {
		uint32_t len = rec_len(p->who, seq);
		uint64_t how = mix64(seq * 31 + p->who) % 16;

		if (how == 0) {
			/* Given up: the bytes of the record that follows. */
			err = reserve_wait(p, len, &pl);
			if (err)
				break;
			rp_fill(pl, len, p->who, seq);
			err = lfq_record_discard(p->q);
			p->discards++;
			if (err)
				break;
		}
		if (how < 6) {
			rp_fill(buf, len, p->who, seq);
			while ((err = lfq_push(p->q, buf, len)) == -EAGAIN) {
				if (__atomic_load_n(&p->s->stop,
						    __ATOMIC_RELAXED)) {
					err = -ECANCELED;
					break;
				}
				p->full++;
				lfq_wait_space(p->q, rp_size(len), 1000000);
			}
		} else {
			err = reserve_wait(p, len, &pl);
			if (!err) {
				rp_fill(pl, len, p->who, seq);
				err = lfq_record_commit(p->q);
			}
		}
	}
	p->err = err;
	return NULL;
}

/*
 * Consume @total records: peek/release, pop and runs of 1 to 16 in turn,
 * pausing PAUSE_MS every PAUSE_EVERY records (the queue grows meanwhile),
 * sleeping in lfq_wait_data() when empty. Gives up after TIMEOUT_NS
 * without a record.
 */
static void consume(struct stream *s, struct tally *t, uint64_t total,
		    uint64_t *peak_seen)
{
	static unsigned char buf[SEG_BYTES];
	struct lfq *c = s->e.c;
	int64_t idle = now_ns();
	uint64_t round = 0, paused = 0;

	while (t->got < total && !t->bad) {
		const void *pl;
		int got;

		switch (round++ % 3) {
		case 0:
			got = lfq_record_peek(c, &pl);
			if (got > 0) {
				tally_rec(t, pl, (uint32_t)got);
				if (lfq_record_release(c))
					t->bad++;
			}
			break;
		case 1:
			got = lfq_pop(c, buf, sizeof(buf));
			if (got > 0)
				tally_rec(t, buf, (uint32_t)got);
			break;
		default:
			got = lfq_record_consume(c, 1 + (uint32_t)(round % 16),
						 tally_cb, t);
			if (!got)
				got = -EAGAIN;
		}
		if (got > 0) {
			idle = now_ns();
			if (t->got / PAUSE_EVERY != paused) {
				struct lfq_stats st;

				paused = t->got / PAUSE_EVERY;
				msleep(PAUSE_MS);
				st = stats_of(c);
				if (st.segments > *peak_seen)
					*peak_seen = st.segments;
			}
			continue;
		}
		if (got != -EAGAIN) {
			tap_diag("  consume: %s", ename(-got));
			t->bad++;
			break;
		}
		if (now_ns() - idle > TIMEOUT_NS) {
			tap_diag("  stalled at %llu records of %llu",
				 (unsigned long long)t->got,
				 (unsigned long long)total);
			break;
		}
		lfq_wait_data(c, 1, 10000000);
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
}

static void test_stream(uint32_t type, unsigned int np)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	struct stream *s = calloc(1, sizeof(*s));
	struct producer p[PRODUCERS];
	pthread_t th[PRODUCERS];
	struct tally t = { .np = np };
	struct lfq_stats first, end, rest;
	uint64_t discards = 0, full = 0, total, peak_seen = 0;
	int64_t t0 = now_ns();
	unsigned int i;
	int err = 0, ms;

	if (!s || eq_make(&s->e, type, 0, STREAM_SEG_MIN, STREAM_SEG_MAX,
			  np)) {
		tap_ok(0, "%s: create the queue", name);
		tap_ok(0, "%s: growth", name);
		tap_ok(0, "%s: at rest", name);
		free(s);
		return;
	}
	s->per_producer = STREAM_RECS / np;
	total = s->per_producer * np;
	first = stats_of(s->e.c);
	for (i = 0; i < np; i++) {
		p[i] = (struct producer){ .s = s, .q = s->e.p[i], .who = i };
		pthread_create(&th[i], NULL, produce, &p[i]);
	}
	consume(s, &t, total, &peak_seen);
	for (i = 0; i < np; i++) {
		pthread_join(th[i], NULL);
		if (p[i].err && !err)
			err = p[i].err;
		discards += p[i].discards;
		full += p[i].full;
	}
	end = stats_of(s->e.c);
	if (!tap_ok(t.got == total && !t.bad && !err,
		    "%s, %u producer thread%s: %llu records of 1 to %u bytes in %u-byte segments, each arrived once, whole, in order; %llu discarded ones never seen (%.2f s)",
		    name, np, np > 1 ? "s" : "", (unsigned long long)t.got,
		    max_len, SEG_BYTES, (unsigned long long)discards,
		    (now_ns() - t0) / 1e9))
		tap_diag("  got %llu of %llu, bad %llu, producer error %s",
			 (unsigned long long)t.got, (unsigned long long)total,
			 (unsigned long long)t.bad, ename(-err));
	tap_ok(end.grows > 0 && end.shrinks > 0 && end.segments_peak >= 4 &&
	       end.segments_peak <= STREAM_SEG_MAX,
	       "%s: the queue grew and shrank: %llu grows, %llu shrinks, peak %llu segments (of %u; %llu seen at pauses), %llu reservations found it at seg_max",
	       name, (unsigned long long)end.grows,
	       (unsigned long long)end.shrinks,
	       (unsigned long long)end.segments_peak, STREAM_SEG_MAX,
	       (unsigned long long)peak_seen, (unsigned long long)full);
	ms = wait_rest(s->e.c, first.bytes, &rest);
	if (!tap_ok(ms >= 0 && rest.shrinks > 0 &&
		    rest.grows - rest.shrinks == rest.segments - 1,
		    "%s at rest: back to %llu bytes (as created) and 1 live segment in %d ms; grows - shrinks = segments - 1",
		    name, (unsigned long long)rest.bytes, ms))
		tap_diag("  bytes %llu (created %llu), segments %llu, grows %llu, shrinks %llu, pool %llu",
			 (unsigned long long)rest.bytes,
			 (unsigned long long)first.bytes,
			 (unsigned long long)rest.segments,
			 (unsigned long long)rest.grows,
			 (unsigned long long)rest.shrinks,
			 (unsigned long long)rest.pool);
	eq_close(&s->e);
	free(s);
}

/* ---------------------------------------------------------------------- */
/* b. and c. Segment ends: a byte-exact model of a stalled consumer's queue. */

/* The producers' side as the consumer never moves: bytes used, grows. */
struct model {
	uint32_t used;		/* in the producers' segment */
	uint32_t segs;		/* segments live */
	uint64_t grows;
};

/* A record of @len: 1 if it opens a new segment. */
static int model_add(struct model *m, uint32_t len)
{
	if (m->used + rp_size(len) > SEG_BYTES) {
		m->grows++;
		m->segs++;
		m->used = rp_size(len);
		return 1;
	}
	m->used += rp_size(len);
	return 0;
}

#define BOUNDARY_RECS	256

struct boundary {
	struct eq e;
	struct model m;
	uint32_t lens[BOUNDARY_RECS];
	int opens[BOUNDARY_RECS];	/* the record opens a segment */
	uint64_t n;			/* records pushed (seq of the next) */
	uint64_t mismatches;
	int err;
};

/* Push the next record, of @len (lfq_push() or reserve/commit in turn). */
static void b_push(struct boundary *b, uint32_t len)
{
	struct lfq *q = b->e.p[0];
	unsigned char buf[SEG_BYTES];
	struct lfq_stats st;
	void *pl;
	int err;

	if (b->err || b->n >= BOUNDARY_RECS) {
		b->err = b->err ?: -ENOSPC;
		return;
	}
	b->lens[b->n] = len;
	b->opens[b->n] = model_add(&b->m, len);
	if (b->n % 2) {
		rp_fill(buf, len, 0, b->n);
		err = lfq_push(q, buf, len);
	} else {
		err = lfq_record_reserve(q, len, &pl);
		if (!err) {
			rp_fill(pl, len, 0, b->n);
			err = lfq_record_commit(q);
		}
	}
	if (err) {
		tap_diag("  record %llu (%u bytes, %u used in segment %u): %s",
			 (unsigned long long)b->n, len, b->m.used, b->m.segs,
			 ename(-err));
		b->err = err;
		return;
	}
	st = stats_of(b->e.c);
	if (st.grows != b->m.grows && b->mismatches++ < 5)
		tap_diag("  after record %llu (%u bytes): grows %llu, the model says %llu (%u bytes used in its segment)",
			 (unsigned long long)b->n, len,
			 (unsigned long long)st.grows,
			 (unsigned long long)b->m.grows, b->m.used);
	b->n++;
}

/* Fill the producers' segment with records until @leave bytes are left. */
static void b_fill_to(struct boundary *b, uint32_t leave)
{
	uint32_t rem = SEG_BYTES - b->m.used - leave, sz;

	while (rem && !b->err) {
		sz = rem <= 1024 ? rem : rem - 1024 >= 16 ? 1024 : rem - 16;
		b_push(b, sz - 8);
		rem -= sz;
	}
}


/* lfq_record_consume()'s callback in b_drain(): record @i of the table. */
struct b_ctx {
	const struct boundary *b;
	uint64_t i;
	int ok;
};

static int b_one(void *ctx, const void *payload, uint32_t len)
{
	struct b_ctx *x = ctx;

	x->ok = len == x->b->lens[x->i] && rp_same(payload, len, 0, x->i);
	return 0;
}

/*
 * Take every record pushed, peek/release, pop and a run of one in turn;
 * at a segment's first record, first a pop into one byte too few. 0 if
 * all came whole, in order, and nothing after them.
 */
static int b_drain(struct boundary *b, int *kept)
{
	static unsigned char buf[SEG_BYTES];
	struct lfq *c = b->e.c;
	const void *pl;
	uint64_t i;
	int got;

	for (i = 0; i < b->n; i++) {
		uint32_t len = b->lens[i];
		struct b_ctx x = { b, i, 0 };

		if (b->opens[i] && len > 1) {
			got = lfq_pop(c, buf, len - 1);
			if (got != -EMSGSIZE) {
				tap_diag("  record %llu: pop into %u bytes: %d",
					 (unsigned long long)i, len - 1, got);
				return -1;
			}
			(*kept)++;
		}
		switch (i % 3) {
		case 0:
			got = lfq_record_peek(c, &pl);
			if (got > 0 && (got != (int)len ||
					!rp_same(pl, len, 0, i)))
				got = -EBADMSG;
			if (got > 0 && lfq_record_release(c))
				got = -EIO;
			break;
		case 1:
			got = lfq_pop(c, buf, sizeof(buf));
			if (got > 0 && (got != (int)len ||
					!rp_same(buf, len, 0, i)))
				got = -EBADMSG;
			break;
		default:
			got = lfq_record_consume(c, 1, b_one, &x);
			if (got == 1 && !x.ok)
				got = -EBADMSG;
			if (!got)
				got = -EAGAIN;
		}
		if (got <= 0) {
			tap_diag("  record %llu of %llu (%u bytes): %s",
				 (unsigned long long)i,
				 (unsigned long long)b->n, len, ename(-got));
			return -1;
		}
	}
	got = lfq_record_peek(c, &pl);
	if (got != -EAGAIN) {
		tap_diag("  after the last record: peek %d", got);
		return -1;
	}
	return 0;
}

/*
 * Records pushed and taken one by one until SEG_BYTES + 777 bytes went
 * through segment 0: the consumer keeps up, so the producer goes round
 * its end (records across it, through the double mapping) and never
 * grows. 0 if all came whole.
 */
static int b_round(struct boundary *b, uint64_t *grows)
{
	static unsigned char buf[SEG_BYTES];
	uint64_t bytes = 0, k;
	int got;

	for (k = 0; bytes < SEG_BYTES + 777; k++) {
		uint32_t len = rec_len(1, k);

		rp_fill(buf, len, 1, k);
		if (lfq_push(b->e.p[0], buf, len))
			return -1;
		got = lfq_pop(b->e.c, buf, sizeof(buf));
		if (got != (int)len || !rp_same(buf, len, 1, k))
			return -1;
		bytes += rp_size(len);
	}
	*grows = stats_of(b->e.c).grows;
	return 0;
}

static void test_boundary(uint32_t type)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	struct boundary *b = calloc(1, sizeof(*b));
	uint64_t round_grows = ~0ull;
	struct lfq_stats st;
	int kept = 0, want_kept = 0, round_err, drain_err;
	uint64_t i;

	if (!b || eq_make(&b->e, type, 0, 1, 16, 1)) {
		tap_ok(0, "%s: create the queue", name);
		tap_ok(0, "%s: drain", name);
		free(b);
		return;
	}
	b->m.segs = 1;
	round_err = b_round(b, &round_grows);
	/* From here the consumer stands still. */
	b_fill_to(b, 8);
	b_push(b, 1);		/* 16 bytes, 8 left: the next segment */
	b_fill_to(b, 16);
	b_push(b, 9);		/* 24 bytes, 16 left: the next */
	b_fill_to(b, 24);
	b_push(b, 17);		/* 32 bytes, 24 left: the next */
	b_fill_to(b, 16);
	b_push(b, 8);		/* 16 bytes, 16 left: to the segment's end */
	b_push(b, 1);		/* nothing left: the next */
	b_fill_to(b, 24);
	b_push(b, 16);		/* 24 bytes, 24 left: fits exactly */
	b_push(b, max_len);	/* the largest opens the next */
	b_fill_to(b, 8);
	b_push(b, max_len);	/* 8 left: the largest opens the next */
	b_fill_to(b, rp_size(max_len));
	b_push(b, max_len);	/* fits exactly */
	b_push(b, 1);		/* the next */
	st = stats_of(b->e.c);
	if (!tap_ok(!round_err && round_grows == 0 && !b->err &&
		    !b->mismatches && b->m.grows == 7 && st.grows == 7 &&
		    st.segments == 8 && st.segments_peak == 8,
		    "%s: %llu records crafted to leave 0, 8, 16 and 24 bytes of %u-byte segments, then one that fits the rest exactly or goes on in the next: after each, grows as a byte-exact model says (7, %llu segments; %llu mismatches), none while going round segment 0's end",
		    name, (unsigned long long)b->n, SEG_BYTES,
		    (unsigned long long)st.segments,
		    (unsigned long long)b->mismatches))
		tap_diag("  round %d (grows %llu), push error %s, grows %llu (model %llu), segments %llu, peak %llu",
			 round_err, (unsigned long long)round_grows,
			 ename(-b->err), (unsigned long long)st.grows,
			 (unsigned long long)b->m.grows,
			 (unsigned long long)st.segments,
			 (unsigned long long)st.segments_peak);
	for (i = 0; i < b->n; i++)
		want_kept += b->opens[i] && b->lens[i] > 1;
	drain_err = b->err ? -1 : b_drain(b, &kept);
	tap_ok(!drain_err && kept == want_kept && want_kept == 4,
	       "%s: the consumer gets the %llu records whole and in order through the 8 segments; lfq_pop() into one byte too few at a segment's first record (of more than 1 byte) is EMSGSIZE and leaves it there (%d times)",
	       name, (unsigned long long)b->n, kept);
	eq_close(&b->e);
	free(b);
}

/* c. seg_max: -EAGAIN after exactly what fits; room again after a drain. */
#define MAX_SEGS	4u

static int push_one(struct lfq *q, uint32_t len, uint32_t who, uint64_t seq)
{
	unsigned char buf[SEG_BYTES];
	void *pl;
	int err;

	if (seq % 2) {
		rp_fill(buf, len, who, seq);
		return lfq_push(q, buf, len);
	}
	err = lfq_record_reserve(q, len, &pl);
	if (err)
		return err;
	rp_fill(pl, len, who, seq);
	return lfq_record_commit(q);
}

/* Pop @n records of @who from @first: 0 if all whole, in order. */
static int pop_check(struct lfq *c, uint32_t who, uint64_t first, uint64_t n)
{
	static unsigned char buf[SEG_BYTES];
	uint64_t seq;
	int got;

	for (seq = first; seq < first + n; seq++) {
		got = lfq_pop(c, buf, sizeof(buf));
		if (got != (int)rec_len(who, seq) ||
		    !rp_same(buf, (uint32_t)got, who, seq)) {
			tap_diag("  record %llu: pop %d (want %u bytes)",
				 (unsigned long long)seq, got,
				 rec_len(who, seq));
			return -1;
		}
	}
	return 0;
}

static void test_max(uint32_t type)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	struct model m = { .segs = 1 }, t;
	uint64_t want = 0, bytes = 0, n;
	struct lfq_stats st;
	struct eq e;
	const void *cp;
	void *pl;
	int err, again, ms, ok;

	if (eq_make(&e, type, 0, 1, MAX_SEGS, 1)) {
		tap_ok(0, "%s: create the queue", name);
		tap_ok(0, "%s: drain", name);
		return;
	}
	/* What fits in MAX_SEGS segments, by the model. */
	for (;; want++) {
		t = m;
		model_add(&t, rec_len(2, want));
		if (t.segs > MAX_SEGS)
			break;
		m = t;
		bytes += rp_size(rec_len(2, want));
	}
	for (n = 0; !(err = push_one(e.p[0], rec_len(2, n), 2, n)); n++)
		if (n > want + 100)
			break;
	again = lfq_record_reserve(e.p[0], rec_len(2, n), &pl);
	st = stats_of(e.c);
	if (!tap_ok(n == want && err == -EAGAIN && again == -EAGAIN &&
		    st.segments == MAX_SEGS && st.grows == MAX_SEGS - 1,
		    "%s at seg_max (%u segments of %u bytes), the consumer stalled: %llu records (%llu bytes with headers and padding) fit, as the model says (%llu); the next (%u bytes) is -EAGAIN, and again (%s)",
		    name, MAX_SEGS, SEG_BYTES, (unsigned long long)n,
		    (unsigned long long)bytes, (unsigned long long)want,
		    rec_len(2, n), ename(-again)))
		tap_diag("  err %s, segments %llu, grows %llu",
			 ename(-err), (unsigned long long)st.segments,
			 (unsigned long long)st.grows);
	ok = !pop_check(e.c, 2, 0, n) && lfq_record_peek(e.c, &cp) == -EAGAIN;
	/* Retired segments are reusable a grace period later. */
	for (ms = 0; ms < 1000; ms++) {
		err = push_one(e.p[0], rec_len(2, n), 2, n);
		if (err != -EAGAIN)
			break;
		msleep(1);
	}
	ok &= !err && !pop_check(e.c, 2, n, 1);
	tap_ok(ok, "%s drained: all %llu whole and in order; the refused record fits %d ms later (< 1000: a grace period) and arrives whole (%s)",
	       name, (unsigned long long)n, ms, ename(-err));
	eq_close(&e);
}

/* d. What an elastic record queue refuses. */
static int try_create(uint32_t type, uint32_t slot_size, uint32_t slot_count,
		      uint32_t flags, uint32_t seg_min, uint32_t seg_max)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = slot_size,
		 .slot_count = slot_count,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC | flags,
		 .backend = BACKEND, .seg_min = seg_min, .seg_max = seg_max);
	struct lfq *q = NULL;
	int err = lfq_create(&o, &q);

	if (!err)
		lfq_close(q);
	return -err;
}

static void test_refusals(void)
{
	unsigned char big[SEG_BYTES] = { 0 };
	const void *cp;
	struct eq e;
	void *pl;
	int err;

	expect(try_create(LFQ_TYPE_MPSC, 1, SEG_BYTES, LFQ_CREATE_OVERWRITE,
			  1, 4), EINVAL,
	       "RECORDS | ELASTIC | OVERWRITE");
	expect(try_create(LFQ_TYPE_MPMC, 1, SEG_BYTES, 0, 1, 4), EINVAL,
	       "an elastic MPMC record queue");
	expect(try_create(LFQ_TYPE_MPSC, 1, SEG_BYTES, 0, 1, 1), EINVAL,
	       "an elastic record queue of seg_max 1");
	expect(try_create(LFQ_TYPE_MPSC, 1, SEG_BYTES, 0, 0, 4), EINVAL,
	       "an elastic record queue of seg_min 0");
	expect(try_create(LFQ_TYPE_SPSC, 1, 3 * SEG_BYTES, 0, 1, 4), EINVAL,
	       "an elastic record queue of 3 * 4096-byte segments");
	expect(try_create(LFQ_TYPE_SPSC, 1, SEG_BYTES / 2, 0, 1, 4), EINVAL,
	       "an elastic record queue of 2048-byte segments");
	expect(try_create(LFQ_TYPE_MPSC, 8, SEG_BYTES, 0, 1, 4), EINVAL,
	       "an elastic record queue of slot_size 8");
	if (eq_make(&e, LFQ_TYPE_MPSC, 0, 1, 4, 1)) {
		tap_ok(0, "create an elastic MPSC record queue");
		return;
	}
	expect(-lfq_reserve(e.p[0], 1, &pl), EOPNOTSUPP,
	       "lfq_reserve() on an elastic record queue");
	expect(-lfq_commit(e.p[0], 1), EOPNOTSUPP, "lfq_commit() on it");
	expect(-lfq_discard(e.p[0]), EOPNOTSUPP, "lfq_discard() on it");
	expect(-lfq_peek(e.c, 1, &cp), EOPNOTSUPP, "lfq_peek() on it");
	expect(-lfq_release(e.c, 1), EOPNOTSUPP, "lfq_release() on it");
	expect(-lfq_record_reserve(e.p[0], 0, &pl), EMSGSIZE,
	       "a record of 0 bytes");
	expect(-lfq_record_reserve(e.p[0], max_len + 1, &pl), EMSGSIZE,
	       "a record of LFQ_REC_MAX_LEN(4096) + 1 = %u bytes", max_len + 1);
	expect(-lfq_push(e.p[0], big, max_len + 1), EMSGSIZE,
	       "lfq_push() of %u bytes", max_len + 1);
	expect(-lfq_record_commit(e.p[0]), ENOENT, "a commit of nothing");
	expect(-lfq_record_peek(e.c, &cp), EAGAIN, "a peek of an empty queue");
	memset(big, 0x5a, max_len);
	err = lfq_push(e.p[0], big, max_len);
	memset(big, 0, max_len);
	tap_ok(!err && lfq_pop(e.c, big, sizeof(big)) == (int)max_len &&
	       big[0] == 0x5a && big[max_len - 1] == 0x5a &&
	       max_len == LFQ_REC_MAX_LEN(SEG_BYTES),
	       "a record of the limit, LFQ_REC_MAX_LEN(4096) = %u bytes, goes through (%s)",
	       max_len, ename(-err));
#ifndef LFQ_KERNEL_QUEUE
	{
		LFQ_OPTS(lfq_open_opts, by_fd, .fd = lfq_fd(e.c));
		struct lfq *x = NULL;
		pid_t pid;
		int status = -1;

		fflush(stdout);
		pid = fork();
		if (!pid)
			_exit(lfq_open(&by_fd, &x) == -EOPNOTSUPP ? 0 : 1);
		waitpid(pid, &status, 0);
		tap_ok(WIFEXITED(status) && !WEXITSTATUS(status),
		       "lfq_open() of the in-process queue's fd in another process is EOPNOTSUPP");
	}
#endif
	eq_close(&e);
}

/*
 * e. LFQ_CREATE_BLOCK at seg_max: the push sleeps (at most MAX_CPU_MS of
 * its thread's CPU over HOLD_MS), then returns once the consumer drained.
 */
#define HOLD_MS		500
#define MAX_CPU_MS	50
#define LATE_LEN	500u

static void test_block(uint32_t type)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	unsigned char buf[SEG_BYTES];
	struct blocked b;
	uint64_t n = 0;
	int64_t cpu, waited;
	struct eq e;
	void *pl;
	int err, got, late_ok;
	uint32_t i;

	if (eq_make(&e, type, LFQ_CREATE_BLOCK, 1, 2, 1)) {
		tap_ok(0, "%s: create a blocking queue", name);
		tap_ok(0, "%s: the push returns", name);
		return;
	}
	/* Two segments of the largest records: 4 each. */
	while (!(err = lfq_record_reserve(e.p[0], max_len, &pl))) {
		rp_fill(pl, max_len, 3, n++);
		lfq_record_commit(e.p[0]);
		if (n > 100)
			break;
	}
	cpu = blocked_start(&b, e.p[0], LATE_LEN, HOLD_MS);
	if (!tap_ok(err == -EAGAIN && n == 2 * SEG_BYTES / rp_size(max_len) &&
		    cpu >= 0 && cpu <= MAX_CPU_MS && !blocked_done(&b),
		    "%s, LFQ_CREATE_BLOCK, at seg_max 2 after %llu records of the limit: lfq_push() sleeps (%lld ms of CPU in %d ms, at most %d)",
		    name, (unsigned long long)n, (long long)cpu, HOLD_MS,
		    MAX_CPU_MS))
		tap_diag("  reserve %s, done %d", ename(-err),
			 blocked_done(&b));
	got = 0;
	for (i = 0; i < n; i++) {
		int len = lfq_pop(e.c, buf, sizeof(buf));

		got += len == (int)max_len && rp_same(buf, max_len, 3, i);
	}
	waited = blocked_wait(&b);
	late_ok = 0;
	if (blocked_done(&b) && b.rc == 0 &&
	    lfq_pop(e.c, buf, sizeof(buf)) == (int)LATE_LEN) {
		late_ok = !memcmp(buf, "late", 5);
		for (i = 5; i < LATE_LEN; i++)
			late_ok &= !buf[i];
	}
	tap_ok(got == (int)n && late_ok,
	       "%s: the consumer drains %d of %llu whole; the push returns (%s, %lld ms later) and its %u-byte record arrives whole",
	       name, got, (unsigned long long)n, ename(-b.rc),
	       (long long)waited, LATE_LEN);
	if (!blocked_done(&b))
		return;		/* the pusher still stuck: leave it */
	eq_close(&e);
}

/*
 * f. The consumer zeroes what it consumed: records whose payload words
 * each look like a committed 8-byte record's header for that word's place
 * one lap on (what user data may hold) go once round a segment, taken as
 * they come; then a record is reserved, not committed, where such a word
 * was: the consumer must see nothing there (the stale word would read as
 * committed), and the record once committed.
 */
static uint64_t lap_header(uint64_t pos, uint32_t len)
{
	return (uint64_t)len | (pos / SEG_BYTES) << 33;
}

static void test_zeroing(uint32_t type)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	static unsigned char buf[SEG_BYTES];
	static uint8_t payload_at[SEG_BYTES / 8];	/* by word, last lap */
	uint64_t head = 0, w;
	const void *cp;
	struct eq e;
	uint32_t len, i;
	void *pl;
	int err = 0, peeked, got;

	if (eq_make(&e, type, 0, 1, 4, 1)) {
		tap_ok(0, "%s: create the queue", name);
		return;
	}
	/* Once round segment 0 and a little more; nothing grows. */
	for (i = 0; !err && head < SEG_BYTES + 200; i++) {
		len = i % 5 ? 64 : 40;
		for (w = 0; w < len / 8; w++) {
			uint64_t h = lap_header(head + 8 + 8 * w + SEG_BYTES,
						8);

			memcpy(buf + 8 * w, &h, 8);
		}
		err = lfq_push(e.p[0], buf, len);
		memset(buf, 0, len);
		got = err ? err : lfq_pop(e.c, buf, sizeof(buf));
		if (!err && got != (int)len)
			err = got < 0 ? got : -EBADMSG;
		for (w = 0; w < rp_size(len) / 8; w++)
			payload_at[(head / 8 + w) % (SEG_BYTES / 8)] = w > 0;
		head += rp_size(len);
	}
	/* Move on, 16 bytes at a time, to where a stale payload word lies. */
	while (!err && !payload_at[(head / 8) % (SEG_BYTES / 8)]) {
		err = lfq_push(e.p[0], "x", 1);
		if (!err && lfq_pop(e.c, buf, sizeof(buf)) != 1)
			err = -EBADMSG;
		payload_at[(head / 8) % (SEG_BYTES / 8)] = 0;
		payload_at[(head / 8 + 1) % (SEG_BYTES / 8)] = 1;
		head += 16;
	}
	if (!err)
		err = lfq_record_reserve(e.p[0], 8, &pl);
	peeked = err ? err : lfq_record_peek(e.c, &cp);
	if (!err) {
		memcpy(pl, "12345678", 8);
		err = lfq_record_commit(e.p[0]);
	}
	got = err ? err : lfq_pop(e.c, buf, sizeof(buf));
	if (!tap_ok(!err && peeked == -EAGAIN && got == 8 &&
		    !memcmp(buf, "12345678", 8) && stats_of(e.c).grows == 0,
		    "%s: payload words that read as committed headers one lap on went round a segment; a record reserved where one lay is not seen until committed (peek %s), then it is (%d bytes)",
		    name, peeked < 0 ? ename(-peeked) : "a record", got))
		tap_diag("  error %s, head %llu", ename(-err),
			 (unsigned long long)head);
	eq_close(&e);
}

int main(void)
{
#ifdef LFQ_KERNEL_QUEUE
	tap_plan(6 + 4 + 4 + 18 + 4 + 2);
#else
	tap_plan(6 + 4 + 4 + 19 + 4 + 2);
#endif
	max_len = LFQ_REC_MAX_LEN(SEG_BYTES);
	test_refusals();
	test_boundary(LFQ_TYPE_SPSC);
	test_boundary(LFQ_TYPE_MPSC);
	test_max(LFQ_TYPE_SPSC);
	test_max(LFQ_TYPE_MPSC);
	test_block(LFQ_TYPE_SPSC);
	test_block(LFQ_TYPE_MPSC);
	test_zeroing(LFQ_TYPE_SPSC);
	test_zeroing(LFQ_TYPE_MPSC);
	test_stream(LFQ_TYPE_SPSC, 1);
	test_stream(LFQ_TYPE_MPSC, PRODUCERS);
	return tap_done();
}
