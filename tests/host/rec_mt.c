// SPDX-License-Identifier: MIT
/*
 * rec_mt.c - the record ring protocol (kmod/proto/lfq_rec.h) with threads
 * on a bare double-mapped memfd ring: records of random sizes from 1
 * byte to the limit, wrapping the ring's end at every offset.
 *
 *   - SPSC: every record arrives once, in order, with the length and
 *     every byte its producer wrote (the consumer replays the producer's
 *     random sequence);
 *   - MPSC, 2 and 4 producers (the last oversubscribed on small
 *     machines), with and without random discards: every record arrives
 *     exactly once, whole, in order per producer; the consumer skips
 *     exactly the discarded ones;
 *   - the same consumed in runs of 1 to 16 records (the batch consume);
 *   - the consumer leaves the whole byte area zeroed behind it;
 *   - forged headers (a length beyond the limit, unknown flag bits) stop
 *     the consumer without a read outside the ring; a forged tail makes
 *     the ring read as full; a ring of discards is skipped in one bounded
 *     call.
 *
 * Built twice: normally, and with ThreadSanitizer (LFQ_TSAN, fewer
 * records). LFQ_REC_RECORDS=N runs N records per configuration instead
 * (`make stress`: 10^8 each). ThreadSanitizer tracks addresses: the bytes of a record that
 * wraps are reached through the second mapping, and in the next lap
 * through the first, so races between those two views of a byte go
 * unseen; the SPIN model (tests/model/records.pml) is the check of the
 * ordering itself.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lfq_rec.h"
#include "memfd_ring.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define PER_RUN		100000ull
#else
#define PER_RUN		1000000ull
#endif
#define RING_BYTES	16384u
/*
 * LFQ_REC_RECORDS in the environment sets the records of each run
 * instead (make stress: 10^8).
 */
static uint64_t per_run = PER_RUN;
#define MAX_PRODUCERS	4
#define ID_BYTES	12u	/* MPSC records: producer (4), seq (8) */

struct run {
	struct lfq_rec_ring ring;
	unsigned char *base;
	size_t len;
	unsigned int producers;
	uint64_t per_producer;
	uint32_t min_len, max_len;
	int discard_one_in;		/* 0: never */
	int batch;			/* consume runs of records */
	uint64_t discards;		/* by the producers */
	uint64_t full_spins;
	int stop;			/* the consumer gave up */
};

struct producer {
	struct run *run;
	uint32_t id;
};

/* @seed's next length, from @min to @max; half of them 64 bytes or less. */
static uint32_t next_len(uint64_t *seed, uint32_t min, uint32_t max)
{
	uint64_t r = rnd_next(seed);
	uint32_t span = r & 1 ? 64 : max - min + 1;

	return min + (uint32_t)((r >> 1) % span);
}

static void *produce(void *arg)
{
	struct producer *me = arg;
	struct run *run = me->run;
	uint64_t seed = me->id + 1, id, spins = 0;
	struct lfq_rec_prod p;
	struct lfq_rec_resv r;
	uint8_t *b;

	lfq_rec_prod_init(&p, &run->ring, run->producers > 1);
	for (uint64_t seq = 0; seq < run->per_producer; seq++) {
		uint32_t len = next_len(&seed, run->min_len, run->max_len);

		while (!(b = lfq_rec_reserve(&p, len, &r))) {
			if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))
				return NULL;
			spins++;
			sched_yield();
		}
		id = (uint64_t)me->id << 40 | seq;
		id_fill(b, id, 0, len);
		if (run->producers > 1) {
			memcpy(b, &me->id, 4);
			memcpy(b + 4, &seq, 8);
		}
		if (run->discard_one_in &&
		    !(rnd_next(&seed) % (uint64_t)run->discard_one_in)) {
			lfq_rec_discard(&p, &r);
			__atomic_fetch_add(&run->discards, 1, __ATOMIC_RELAXED);
		} else {
			lfq_rec_commit(&p, &r);
		}
	}
	__atomic_fetch_add(&run->full_spins, spins, __ATOMIC_RELAXED);
	return NULL;
}

/* What the consumer found. */
struct tally {
	uint64_t got, bad, order, skipped, corrupt, nonzero;
};

/*
 * Replay producer @p's random draws for its record @seq: the lengths and
 * discard decisions of the ones skipped since @next[p] (each must have been
 * discarded), then this one's length (it must have been committed).
 */
static uint32_t replay_len(struct run *run, uint64_t *seeds, uint64_t *next,
			   uint32_t p, uint64_t seq, int *ok)
{
	uint32_t len = 0;

	for (uint64_t s = next[p]; s <= seq; s++) {
		int discarded;

		len = next_len(&seeds[p], run->min_len, run->max_len);
		discarded = run->discard_one_in &&
			    !(rnd_next(&seeds[p]) %
			      (uint64_t)run->discard_one_in);
		if (discarded != (s < seq))
			*ok = 0;	/* a committed one missing */
	}
	next[p] = seq + 1;
	return len;
}

/*
 * Check one MPSC record: its id bytes, its length (replayed from its
 * producer's draws), then every other byte.
 */
static int mpsc_rec_ok(const uint8_t *b, uint32_t len, uint64_t *next,
		       uint64_t *seeds, struct run *run)
{
	uint64_t seq, id, w1;
	uint32_t p;
	int ok = 1;

	if (len < ID_BYTES)
		return 0;
	memcpy(&p, b, 4);
	memcpy(&seq, b + 4, 8);
	if (p >= run->producers || seq >= run->per_producer)
		return 0;
	if (seq < next[p])
		return -1;		/* out of order, or twice */
	if (replay_len(run, seeds, next, p, seq, &ok) != len)
		return 0;
	id = (uint64_t)p << 40 | seq;
	/* Bytes 12-15: the upper half of fill word 1 (the id has the rest). */
	w1 = mix64(id * 4096 + 1);
	if (memcmp(b + 12, (const uint8_t *)&w1 + 4, len < 16 ? len - 12 : 4))
		return 0;
	return ok && id_same(b, id, 16, len);
}

/* Check one record the consumer got; count it. */
/* What the consumer expects next of each producer, and their draws. */
struct checker {
	uint64_t next[MAX_PRODUCERS];
	uint64_t seeds[MAX_PRODUCERS];
};

static void checker_init(struct checker *ck)
{
	for (uint32_t p = 0; p < MAX_PRODUCERS; p++) {
		ck->next[p] = 0;
		ck->seeds[p] = p + 1;	/* as produce() seeds them */
	}
}

static void check_rec(struct run *run, struct tally *t, struct checker *ck,
		      const uint8_t *b, uint32_t len)
{
	int ok;

	if (run->producers == 1) {
		/* Replay the producer: the length and every byte. */
		uint32_t want = next_len(&ck->seeds[0], run->min_len,
					 run->max_len);

		ok = len == want && id_same(b, ck->next[0], 0, len);
		ck->next[0]++;
	} else {
		ok = mpsc_rec_ok(b, len, ck->next, ck->seeds, run);
		if (ok < 0)
			t->order++;
	}
	if (ok <= 0)
		t->bad++;
	t->got++;
}

/* The batch consumer: runs of 1 to 16 records, each released at once. */
static void consume_batches(struct run *run, struct tally *t)
{
	uint64_t total = run->producers * run->per_producer;
	uint64_t pick = 7;
	struct checker ck;
	int64_t last = now_ns();
	struct lfq_rec_batch b;
	struct lfq_rec_cons c;
	const uint8_t *p;
	__u64 off;
	uint32_t len, n;

	checker_init(&ck);
	lfq_rec_cons_init(&c, &run->ring);
	while (t->got + c.discarded < total && now_ns() - last < 20000000000ll) {
		lfq_rec_peek_batch(&c, 1 + (uint32_t)(rnd_next(&pick) % 16), &b);
		if (!b.bytes) {
			if (c.corrupt)
				break;
			sched_yield();
			continue;
		}
		last = now_ns();
		off = 0;
		n = 0;
		while ((p = lfq_rec_batch_next(&b, &off, &len))) {
			check_rec(run, t, &ck, p, len);
			n++;
		}
		if (n != b.count || off != b.bytes)
			t->bad++;
		lfq_rec_release_batch(&c, &b);
	}
	t->skipped = c.discarded;
	t->corrupt = c.corrupt;
}

static void consume(struct run *run, struct tally *t)
{
	uint64_t total = run->producers * run->per_producer;
	int64_t last = now_ns();
	struct checker ck;
	struct lfq_rec_cons c;
	const uint8_t *b;
	uint32_t len;

	checker_init(&ck);
	lfq_rec_cons_init(&c, &run->ring);
	/* Until all is there; 20 s without a record is a stall. */
	while (t->got + c.discarded < total && now_ns() - last < 20000000000ll) {
		b = lfq_rec_peek(&c, &len);
		if (!b) {
			if (c.corrupt)
				break;
			sched_yield();
			continue;
		}
		last = now_ns();
		check_rec(run, t, &ck, b, len);
		lfq_rec_release(&c);
	}
	t->skipped = c.discarded;
	t->corrupt = c.corrupt;
}

static void run_threads(unsigned int producers, uint32_t min_len,
			int discard_one_in, int batch)
{
	struct run run = { .producers = producers,
			   .per_producer = per_run / producers,
			   .min_len = min_len,
			   .discard_one_in = discard_one_in,
			   .batch = batch };
	struct producer who[MAX_PRODUCERS];
	pthread_t th[MAX_PRODUCERS];
	struct tally t = { 0 };
	int64_t t0 = now_ns();
	uint64_t total;

	if (memfd_rec_init(&run.ring, RING_BYTES, &run.base, &run.len)) {
		tap_ok(0, "map a record ring");
		return;
	}
	run.max_len = lfq_rec_max_len(run.ring.size);
	total = producers * run.per_producer;
	for (unsigned int i = 0; i < producers; i++) {
		who[i] = (struct producer){ .run = &run, .id = i };
		pthread_create(&th[i], NULL, produce, &who[i]);
	}
	if (batch)
		consume_batches(&run, &t);
	else
		consume(&run, &t);
	__atomic_store_n(&run.stop, 1, __ATOMIC_RELAXED);
	/*
	 * Behind the consumer: zeroed payload words, and the headers of the
	 * records of the last lap (their position from the lap bits).
	 */
	for (uint32_t i = 0; i < run.ring.size; i += 8) {
		uint64_t w = *(const uint64_t *)(run.ring.data + i);
		uint64_t lap = (w >> LFQ_REC_LAP_SHIFT) << lfq_rec_order(run.ring.size);
		uint64_t end = lap + i + lfq_rec_size((uint32_t)w);

		t.nonzero += w && ((uint32_t)w > run.max_len ||
				   lap + i >= *run.ring.head ||
				   end + run.ring.size <= *run.ring.head);
	}
	for (unsigned int i = 0; i < producers; i++)
		pthread_join(th[i], NULL);
	if (!tap_ok(t.got + t.skipped == total && !t.bad && !t.order &&
		    t.skipped == run.discards && !t.corrupt && !t.nonzero,
		    "%s, %u producer%s, records of %u to %u bytes in a %u-byte ring%s%s: %llu arrived once, whole, in order; %llu discarded and skipped; behind the consumer the payload is zero and only the last lap's headers remain (%.2f s)",
		    producers == 1 ? "SPSC" : "MPSC", producers,
		    producers == 1 ? "" : "s", min_len, run.max_len,
		    RING_BYTES, discard_one_in ? ", random discards" : "",
		    batch ? ", consumed in runs of 1 to 16" : "",
		    (unsigned long long)t.got, (unsigned long long)t.skipped,
		    (double)(now_ns() - t0) / 1e9))
		tap_diag("  got %llu bad %llu order %llu skipped %llu discards %llu corrupt %llu nonzero words %llu",
			 (unsigned long long)t.got, (unsigned long long)t.bad,
			 (unsigned long long)t.order,
			 (unsigned long long)t.skipped,
			 (unsigned long long)run.discards,
			 (unsigned long long)t.corrupt,
			 (unsigned long long)t.nonzero);
	munmap(run.base, run.len);
}

/* Forged headers and indices, one thread. */
static void forged(void)
{
	struct lfq_rec_ring ring = { 0 };
	struct lfq_rec_prod p;
	struct lfq_rec_cons c;
	struct lfq_rec_resv r;
	unsigned char *base;
	uint64_t *h, n = 0;
	uint32_t len = 0, max;
	size_t mlen;
	int ok = 1;

	if (memfd_rec_init(&ring, RING_BYTES, &base, &mlen)) {
		tap_ok(0, "map a record ring");
		return;
	}
	max = lfq_rec_max_len(ring.size);
	lfq_rec_prod_init(&p, &ring, 1);
	lfq_rec_cons_init(&c, &ring);
	ok &= !lfq_rec_reserve(&p, 0, &r) && !lfq_rec_reserve(&p, max + 1, &r);
	h = (uint64_t *)ring.data;
	*h = (uint64_t)max + 8;			/* beyond the limit */
	ok &= !lfq_rec_peek(&c, &len) && c.corrupt == 1 && c.tail == 0;
	*h = ((uint64_t)max + 8) | LFQ_REC_DISCARD;	/* discarded, too long */
	ok &= !lfq_rec_peek(&c, &len) && c.corrupt == 2 && c.tail == 0;
	*h = 16 | 1ull << 40;			/* another lap's header */
	ok &= !lfq_rec_peek(&c, &len) && c.corrupt == 2 && c.tail == 0;
	*h = 0;
	tap_ok(ok, "a length of 0 or beyond %u is not reserved; a forged length stops the consumer where it is (counted); a header of another lap reads as not committed",
	       max);

	/* A tail forged ahead of head (far, or by a word), a ring behind. */
	*ring.tail = 1ull << 40;
	ok = !lfq_rec_reserve(&p, 8, &r);
	*ring.tail = 8;
	ok &= !lfq_rec_reserve(&p, 8, &r);
	*ring.tail = 0;
	*ring.head = 2ull * RING_BYTES;
	ok &= !lfq_rec_reserve(&p, 8, &r);
	*ring.head = 4;				/* unaligned */
	ok &= !lfq_rec_reserve(&p, 8, &r);
	*ring.head = 0;
	tap_ok(ok, "a tail forged ahead of head (by 2^40 or by one word), head a ring ahead, or head unaligned: the ring reads as full");

	/* Geometry: no record fits a ring that is too small or not 2^n. */
	ok = !lfq_rec_max_len(32) && !lfq_rec_max_len(RING_BYTES + 64) &&
	     !lfq_rec_max_len(1ull << 35) && lfq_rec_max_len(64) == 8;
	tap_ok(ok, "rings under 64 bytes, over 2^34 or not a power of two take no record");

	/* A whole ring of discards (records of 8 bytes: 16 bytes each). */
	while (lfq_rec_reserve(&p, 8, &r)) {
		lfq_rec_discard(&p, &r);
		n++;
	}
	ok = !lfq_rec_peek(&c, &len) && c.discarded == n &&
	     c.tail == *ring.head && n == RING_BYTES / 16;
	ok &= lfq_rec_reserve(&p, max, &r) != NULL;
	tap_ok(ok, "a ring of %llu discarded records is skipped in one call, and the producer reserves again",
	       (unsigned long long)n);
	munmap(base, mlen);
}

/* A hostile producer discarding the largest records as fast as it can. */
struct discarder {
	struct lfq_rec_ring ring;
	int stop;
};

static void *discard_loop(void *arg)
{
	struct discarder *d = arg;
	struct lfq_rec_prod p;
	struct lfq_rec_resv r;

	lfq_rec_prod_init(&p, &d->ring, 1);
	while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED))
		if (lfq_rec_reserve(&p, p.max_len, &r))
			lfq_rec_discard(&p, &r);
	return NULL;
}

/*
 * One peek passes a ring's worth of discarded bytes at most, however
 * fast a producer discards; and a producer with a limit on its tries
 * gives up when head keeps moving.
 */
static void bounded(void)
{
	struct discarder d = { 0 };
	uint64_t before, most = 0;
	struct lfq_rec_prod p;
	struct lfq_rec_cons c;
	struct lfq_rec_resv r;
	unsigned char *base;
	pthread_t th;
	uint32_t len;
	size_t mlen;
	int ok;

	if (memfd_rec_init(&d.ring, RING_BYTES, &base, &mlen)) {
		tap_ok(0, "map a record ring");
		return;
	}
	lfq_rec_cons_init(&c, &d.ring);
	pthread_create(&th, NULL, discard_loop, &d);
	/* The discarder is at work, then 300 ms of peeks against it. */
	while (!__atomic_load_n(d.ring.head, __ATOMIC_RELAXED))
		sched_yield();
	for (int64_t t0 = now_ns(); now_ns() - t0 < 300000000ll;) {
		before = c.tail;
		lfq_rec_peek(&c, &len);
		most = c.tail - before > most ? c.tail - before : most;
	}
	__atomic_store_n(&d.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	tap_ok(most <= RING_BYTES && c.discarded > 0,
	       "against a producer discarding %u-byte records: at most %llu of %u bytes passed in one peek (%llu skipped)",
	       lfq_rec_max_len(RING_BYTES), (unsigned long long)most,
	       RING_BYTES, (unsigned long long)c.discarded);

	/* A head that is never where the producer read it: give up. */
	lfq_rec_prod_init(&p, &d.ring, 1);
	p.max_tries = 3;
	*d.ring.head = *d.ring.tail = 1ull << 20;
	ok = lfq_rec_reserve(&p, 8, &r) != NULL;	/* a quiet ring: yes */
	lfq_rec_discard(&p, &r);
	munmap(base, mlen);
	tap_ok(ok, "a producer with a limit on its compare-and-swap tries still reserves on a quiet ring");
}

int main(void)
{
	const char *env = getenv("LFQ_REC_RECORDS");

	if (env && strtoull(env, NULL, 0))
		per_run = strtoull(env, NULL, 0);
	tap_plan(13);
	run_threads(1, 1, 0, 0);
	run_threads(2, ID_BYTES, 0, 0);
	run_threads(4, ID_BYTES, 0, 0);
	run_threads(2, ID_BYTES, 7, 0);
	run_threads(4, ID_BYTES, 3, 0);
	run_threads(1, 1, 0, 1);
	run_threads(4, ID_BYTES, 3, 1);
	forged();
	bounded();
	return tap_done();
}
