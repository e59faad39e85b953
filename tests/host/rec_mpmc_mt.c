// SPDX-License-Identifier: MIT
/*
 * rec_mpmc_mt.c - records shared by many consumers
 * (kmod/proto/lfq_rec_mpmc.h) on a bare double-mapped memfd record ring,
 * with lfq_rec.h's producers:
 *
 *   - steps, deterministic: a release out of order leaves tail at the
 *     record still held, and the release of that one carries tail over
 *     both; a discarded record is skipped, released by the consumer that
 *     took it; a forged header at claim stops a take (counted corrupt)
 *     without a read outside the ring; a forged released header at tail
 *     does not carry tail past claim; released payload reads zero;
 *   - threads: 1 and 2 producers with 2 and 4 consumers (4 and 6
 *     threads on 2 CPUs: preemption, not scaling), with and without
 *     random discards, records of 16 bytes to the limit: every committed
 *     record arrives exactly once and whole, every discarded one is
 *     skipped, and when all is done tail = claim = head: no release was
 *     left behind;
 *   - recovery, deterministic: claim records written before each take
 *     and emptied by one that finds nothing; a dead consumer's record
 *     released for it (zeroed, marked, tail carried on) unless a live
 *     claim covers it, it was not taken, or it was taken after the live
 *     claims were copied; forged dead ranges release nothing;
 *   - torn: a record held while the ring fills behind it is intact; one
 *     whose bytes a producer reused after a forged tail reads torn
 *     (lfq_rec_mpmc_intact()), and its release writes nothing.
 *
 * Built twice: normally, and with ThreadSanitizer (LFQ_TSAN, fewer
 * records; it does not see races between the ring's two mappings of a
 * byte, which the SPIN model tests/model/rec_mpmc.pml covers).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lfq_rec_mpmc.h"
#include "memfd_ring.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define PER_RUN		20000ull
#else
#define PER_RUN		400000ull
#endif
#define RING_BYTES	16384u
#define MAX_PRODUCERS	2
#define MAX_CONSUMERS	4
#define HDR_BYTES	16u	/* producer (4), seq (8), len (4) */

struct run {
	struct lfq_rec_ring ring;
	__u64 *claim;
	unsigned int producers, consumers;
	uint64_t per_producer;
	uint32_t max_len;
	int discard_one_in;		/* 0: never */
	uint64_t *seen;			/* bit per (producer, seq) delivered */
	uint64_t *dropped;		/* bit per (producer, seq) discarded */
	uint64_t accounted;		/* delivered + discarded, by consumers */
	uint64_t produced_discards, twice, bad, consumer_discards, corrupt;
	int stop;
};

struct worker {
	struct run *run;
	uint32_t id;
};

static uint64_t bit_index(struct run *run, uint32_t p, uint64_t seq)
{
	return p * run->per_producer + seq;
}

static void *produce(void *arg)
{
	struct worker *me = arg;
	struct run *run = me->run;
	uint64_t seed = me->id + 1;
	struct lfq_rec_prod p;
	struct lfq_rec_resv r;
	uint8_t *b;

	lfq_rec_prod_init(&p, &run->ring, run->producers > 1);
	for (uint64_t seq = 0; seq < run->per_producer; seq++) {
		uint64_t x = rnd_next(&seed);
		uint32_t len = HDR_BYTES + (uint32_t)((x >> 1) %
			(x & 1 ? 64 : run->max_len - HDR_BYTES + 1));
		uint64_t id = (uint64_t)me->id << 40 | seq;

		while (!(b = lfq_rec_reserve(&p, len, &r))) {
			if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))
				return NULL;
			sched_yield();
		}
		memcpy(b, &me->id, 4);
		memcpy(b + 4, &seq, 8);
		memcpy(b + 12, &len, 4);
		id_fill(b, id, HDR_BYTES, len);
		if (run->discard_one_in &&
		    !(rnd_next(&seed) % (uint64_t)run->discard_one_in)) {
			bit_seen_twice(run->dropped, bit_index(run, me->id, seq));
			lfq_rec_discard(&p, &r);
			__atomic_fetch_add(&run->produced_discards, 1,
					   __ATOMIC_RELAXED);
		} else {
			lfq_rec_commit(&p, &r);
		}
	}
	return NULL;
}

static void *consume(void *arg)
{
	struct worker *me = arg;
	struct run *run = me->run;
	uint64_t total = run->producers * run->per_producer, seed = me->id + 99;
	uint64_t last_disc = 0;
	int64_t last = now_ns();
	struct lfq_rec_mcons c;

	lfq_rec_mcons_init(&c, &run->ring, run->claim);
	while (__atomic_load_n(&run->accounted, __ATOMIC_RELAXED) < total) {
		uint32_t len, p, rlen;
		const uint8_t *b = lfq_rec_mpmc_take(&c, &len);
		uint64_t seq;
		int ok;

		if (c.discarded != last_disc) {
			__atomic_fetch_add(&run->accounted, c.discarded - last_disc,
					   __ATOMIC_RELAXED);
			last_disc = c.discarded;
		}
		if (!b) {
			if (c.corrupt || now_ns() - last > 20000000000ll) {
				__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
				break;
			}
			sched_yield();
			continue;
		}
		last = now_ns();
		memcpy(&p, b, 4);
		memcpy(&seq, b + 4, 8);
		memcpy(&rlen, b + 12, 4);
		ok = len >= HDR_BYTES && p < run->producers &&
		     seq < run->per_producer && rlen == len &&
		     id_same(b, (uint64_t)p << 40 | seq, HDR_BYTES, len);
		if (!ok)
			__atomic_fetch_add(&run->bad, 1, __ATOMIC_RELAXED);
		else if (bit_seen_twice(run->seen, bit_index(run, p, seq)))
			__atomic_fetch_add(&run->twice, 1, __ATOMIC_RELAXED);
		/* Now and then hold it a while: others release past it. */
		if (!(rnd_next(&seed) % 16))
			sched_yield();
		lfq_rec_mpmc_release(&c);
		__atomic_fetch_add(&run->accounted, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&run->consumer_discards, c.discarded,
			   __ATOMIC_RELAXED);
	__atomic_fetch_add(&run->corrupt, c.corrupt, __ATOMIC_RELAXED);
	return NULL;
}

static void threads(unsigned int producers, unsigned int consumers,
		    int discard_one_in)
{
	struct worker pw[MAX_PRODUCERS], cw[MAX_CONSUMERS];
	pthread_t pt[MAX_PRODUCERS], ct[MAX_CONSUMERS];
	struct run run = {
		.producers = producers, .consumers = consumers,
		.per_producer = PER_RUN / producers,
		.discard_one_in = discard_one_in,
	};
	uint64_t total = PER_RUN, missing = 0, both = 0, head, tail, claim;
	size_t words = (total + 63) / 64 + 1;
	unsigned char *base;
	double t0 = now_s();
	size_t len;

	if (memfd_rec_init(&run.ring, RING_BYTES, &base, &len)) {
		tap_ok(0, "memfd record ring");
		return;
	}
	run.claim = (__u64 *)(base + 256);
	run.max_len = lfq_rec_max_len(RING_BYTES);
	run.seen = calloc(words, 8);
	run.dropped = calloc(words, 8);
	for (unsigned int i = 0; i < consumers; i++) {
		cw[i] = (struct worker){ .run = &run, .id = i };
		pthread_create(&ct[i], NULL, consume, &cw[i]);
	}
	for (unsigned int i = 0; i < producers; i++) {
		pw[i] = (struct worker){ .run = &run, .id = i };
		pthread_create(&pt[i], NULL, produce, &pw[i]);
	}
	for (unsigned int i = 0; i < producers; i++)
		pthread_join(pt[i], NULL);
	for (unsigned int i = 0; i < consumers; i++)
		pthread_join(ct[i], NULL);
	for (uint64_t i = 0; i < total; i++) {
		int s = !!(run.seen[i / 64] & 1ull << (i % 64));
		int d = !!(run.dropped[i / 64] & 1ull << (i % 64));

		missing += !s && !d;
		both += s && d;
	}
	head = *run.ring.head;
	tail = *run.ring.tail;
	claim = *run.claim;
	tap_ok(!run.stop && !run.bad && !run.twice && !missing && !both &&
	       !run.corrupt &&
	       run.consumer_discards == run.produced_discards &&
	       head == tail && claim == head,
	       "%u producer(s), %u consumers%s: %llu records of %u to %u bytes, each delivered once and whole (%llu bad, %llu twice, %llu missing, %llu discarded and delivered); %llu discarded by producers, %llu skipped by consumers; tail = claim = head (%llu, %llu, %llu)%s; %.2f s",
	       producers, consumers,
	       discard_one_in ? ", random discards" : "",
	       (unsigned long long)total, HDR_BYTES, run.max_len,
	       (unsigned long long)run.bad, (unsigned long long)run.twice,
	       (unsigned long long)missing, (unsigned long long)both,
	       (unsigned long long)run.produced_discards,
	       (unsigned long long)run.consumer_discards,
	       (unsigned long long)tail, (unsigned long long)claim,
	       (unsigned long long)head, run.stop ? " (a consumer gave up)" : "",
	       now_s() - t0);
	free(run.seen);
	free(run.dropped);
	munmap(base, len);
}

/* A ring of 4096 bytes, its claim index on the first page: 0 or -1. */
static int ring_up(struct lfq_rec_ring *ring, unsigned char **base,
		   size_t *len, __u64 **claim)
{
	if (memfd_rec_init(ring, 4096, base, len))
		return -1;
	*claim = (__u64 *)(*base + 256);
	return 0;
}

/* A producer and two consumer views of it. */
static void views(struct lfq_rec_ring *ring, __u64 *claim,
		  struct lfq_rec_prod *p, struct lfq_rec_mcons *a,
		  struct lfq_rec_mcons *b)
{
	lfq_rec_prod_init(p, ring, 1);
	lfq_rec_mcons_init(a, ring, claim);
	lfq_rec_mcons_init(b, ring, claim);
}

/* A record of @len bytes, committed (or discarded), at the producer's head. */
static __u64 put(struct lfq_rec_prod *p, uint32_t len, int discard)
{
	struct lfq_rec_resv r;
	uint8_t *b = lfq_rec_reserve(p, len, &r);

	if (!b)
		return ~0ull;
	memset(b, 0xa5, len);
	if (discard)
		lfq_rec_discard(p, &r);
	else
		lfq_rec_commit(p, &r);
	return r.pos;
}

static int payload_zero(const struct lfq_rec_ring *r, __u64 pos, __u32 len)
{
	const __u64 *w = (const __u64 *)(r->data + (pos & (r->size - 1)));

	for (__u32 i = 1; i < lfq_rec_size(len) / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

static void steps(void)
{
	struct lfq_rec_ring ring;
	struct lfq_rec_mcons a, b;
	struct lfq_rec_prod p;
	unsigned char *base;
	const void *ra, *rb;
	__u64 *claim, p0, p1, p2, p3, t1, t2, *w, t;
	uint32_t la, lb, max;
	size_t len;

	if (ring_up(&ring, &base, &len, &claim)) {
		tap_ok(0, "memfd record ring");
		return;
	}
	max = lfq_rec_max_len(4096);
	views(&ring, claim, &p, &a, &b);

	p0 = put(&p, 16, 0);
	p1 = put(&p, 24, 0);
	ra = lfq_rec_mpmc_take(&a, &la);
	rb = lfq_rec_mpmc_take(&b, &lb);
	lfq_rec_mpmc_release(&b);
	t1 = *ring.tail;
	lfq_rec_mpmc_release(&a);
	t2 = *ring.tail;
	tap_ok(p0 == 0 && p1 == 24 && ra && la == 16 && rb && lb == 24 &&
	       (const unsigned char *)rb - (const unsigned char *)ra == 24 &&
	       t1 == 0 && t2 == 56 && *claim == 56 &&
	       payload_zero(&ring, p0, 16) && payload_zero(&ring, p1, 24),
	       "out of order: B releases the second record first and tail stays at the first, still held (%llu); A's release carries tail over both (%llu, claim %llu); their payload reads zero",
	       (unsigned long long)t1, (unsigned long long)t2,
	       (unsigned long long)*claim);

	p2 = put(&p, 40, 1);
	p3 = put(&p, 8, 0);
	ra = lfq_rec_mpmc_take(&a, &la);
	t1 = *ring.tail;
	lfq_rec_mpmc_release(&a);
	tap_ok(p2 == 56 && ra && la == 8 && a.discarded == 1 && t1 == p3 &&
	       payload_zero(&ring, p2, 40) &&
	       *ring.tail == *ring.head && *claim == *ring.head,
	       "a discarded record is skipped: the take returns the one after it (%u bytes), having released the discarded one (tail %llu = its end %llu, its payload zeroed); then tail = claim = head",
	       la, (unsigned long long)t1, (unsigned long long)p3);

	/*
	 * A releaser that died after its mark, before its advance: its
	 * record stays behind tail until a take that finds nothing carries
	 * tail on. Taken and held twice: the second take is the same.
	 */
	p0 = put(&p, 32, 0);
	ra = lfq_rec_mpmc_take(&a, &la);
	rb = lfq_rec_mpmc_take(&a, &lb);
	if (ra) {
		unsigned char *hb = ring.data + (p0 & 4095);
		__u64 h = *(__u64 *)hb;

		memset(hb + 8, 0, 32);	/* its zeroing, then its mark */
		__atomic_store_n((__u64 *)hb, h | LFQ_REC_RELEASED,
				 __ATOMIC_RELEASE);
		a.held = 0;		/* and no advance: it died */
	}
	t1 = *ring.tail;
	rb = rb == ra ? lfq_rec_mpmc_take(&b, &lb) : rb;
	tap_ok(ra && t1 == p0 && !rb && *ring.tail == *ring.head,
	       "a take while holding returns the held record again; a releaser that died between its mark and its advance leaves tail behind (%llu), and the next take that finds nothing carries it on (%llu = head)",
	       (unsigned long long)t1, (unsigned long long)*ring.tail);

	/* Forged: a header of claim's lap with a length beyond the limit. */
	t = *claim;
	w = (__u64 *)(ring.data + (t & 4095));
	*w = (t >> 12) << LFQ_REC_LAP_SHIFT | (max + 8);
	ra = lfq_rec_mpmc_take(&b, &lb);
	tap_ok(!ra && b.corrupt == 1 && *claim == t,
	       "a forged header at claim (length %u, the limit %u): no record, counted corrupt (%llu), claim unmoved",
	       max + 8, max, (unsigned long long)b.corrupt);

	/* Forged: a released header at tail, nothing taken past it. */
	*w = (t >> 12) << LFQ_REC_LAP_SHIFT | LFQ_REC_RELEASED | 64;
	lfq_rec_mpmc_advance(&a);
	tap_ok(*ring.tail == t,
	       "a forged released header at tail, with claim at tail: the advance does not carry tail past claim (%llu)",
	       (unsigned long long)*ring.tail);
	*w = 0;
	munmap(base, len);
}

/* What the kernel does for a dead claim: the live claims copied after claim. */
static int recover(struct lfq_rec_mcons *k, const struct lfq_mpsc_claim *dead,
		   const struct lfq_mpsc_claim *live, __u32 nlive,
		   __u32 *covered)
{
	__u64 claim = __atomic_load_n(k->claim_w, __ATOMIC_ACQUIRE);
	struct lfq_mpsc_claim snap[4];

	for (__u32 i = 0; i < nlive; i++)
		snap[i] = live[i];
	return lfq_rec_mpmc_recover(k, claim, dead, snap, nlive, covered);
}

static __u64 hdr_at(const struct lfq_rec_ring *r, __u64 pos)
{
	return *(const __u64 *)(r->data + (pos & (r->size - 1)));
}

/*
 * Crash safety, step by step: claim records written before the take,
 * emptied by a take that finds nothing; the recovery of a dead claim
 * releases only a taken, unreleased record of its lap that no live claim
 * covers, and never one taken after the live claims were read.
 */
static void recovery(void)
{
	struct lfq_mpsc_claim ca = { 0 }, cb = { 0 }, dead, forged;
	struct lfq_rec_mcons a, b, k;
	struct lfq_rec_ring ring;
	struct lfq_rec_prod p;
	unsigned char *base;
	const void *ra, *rb;
	__u64 *claim, p0, p1, p2, h, old, claim0;
	uint32_t la, lb;
	__u32 covered, cov2, cov3;
	int r, r2, r3;
	size_t len;

	if (ring_up(&ring, &base, &len, &claim)) {
		tap_ok(0, "memfd record ring");
		return;
	}
	views(&ring, claim, &p, &a, &b);
	lfq_rec_mcons_init(&k, &ring, claim);
	lfq_rec_mcons_set_claim(&a, &ca);
	lfq_rec_mcons_set_claim(&b, &cb);

	p0 = put(&p, 16, 0);
	p1 = put(&p, 24, 0);
	ra = lfq_rec_mpmc_take(&a, &la);
	rb = lfq_rec_mpmc_take(&b, &lb);
	tap_ok(ra && rb && ca.start == p0 && ca.end == p1 &&
	       cb.start == p1 && cb.end == p1 + 32,
	       "each take names its record in the consumer's claim before taking it: A [%llu, %llu), B [%llu, %llu)",
	       (unsigned long long)ca.start, (unsigned long long)ca.end,
	       (unsigned long long)cb.start, (unsigned long long)cb.end);

	/* A dies holding its record; B lives, holding the next. */
	dead = ca;
	a.held = 0;			/* its view dies with it */
	h = hdr_at(&ring, p0);
	r = recover(&k, &dead, &cb, 1, &covered);
	tap_ok(r == 1 && !covered && hdr_at(&ring, p0) == (h | LFQ_REC_RELEASED) &&
	       payload_zero(&ring, p0, 16) && *ring.tail == p1 &&
	       hdr_at(&ring, p1) && !(hdr_at(&ring, p1) & LFQ_REC_RELEASED),
	       "a dead consumer's record is released for it (counted 1, zeroed, marked) and tail carried to the record B still holds (%llu); B's is untouched",
	       (unsigned long long)*ring.tail);

	/* A dead claim that names what a live consumer holds. */
	dead = cb;
	r = recover(&k, &dead, &cb, 1, &covered);
	h = hdr_at(&ring, p1);
	lfq_rec_mpmc_release(&b);
	r2 = recover(&k, &dead, &cb, 1, &cov2);
	tap_ok(!r && covered == 1 && !(h & LFQ_REC_RELEASED) && !r2 && !cov2 &&
	       *ring.tail == *claim,
	       "a dead claim naming a record a live claim covers (it lost that compare-and-swap): left, reported covered; once its holder released it, nothing to do (tail %llu = claim)",
	       (unsigned long long)*ring.tail);

	/* Died after writing its claim, before its compare-and-swap. */
	p2 = put(&p, 40, 0);
	dead.start = p2;
	dead.end = p2 + lfq_rec_size(40);
	h = hdr_at(&ring, p2);
	r = recover(&k, &dead, &cb, 1, &covered);
	rb = lfq_rec_mpmc_take(&b, &lb);
	tap_ok(!r && !covered && rb && lb == 40 && b.pos == p2,
	       "a dead claim on a record nobody took (claim %llu not past it) releases nothing; a live consumer takes it next",
	       (unsigned long long)*claim);

	/*
	 * Taken after the live claims were read: recovery given the claim
	 * read before, as its caller reads it, must not release it.
	 */
	lfq_rec_mpmc_release(&b);
	p2 = put(&p, 40, 0);
	claim0 = *claim;
	rb = lfq_rec_mpmc_take(&b, &lb);	/* after the "copy" */
	dead.start = p2;
	dead.end = p2 + lfq_rec_size(40);
	r = lfq_rec_mpmc_recover(&k, claim0, &dead, &ca, 0, &covered);
	tap_ok(rb && !r && !(hdr_at(&ring, p2) & LFQ_REC_RELEASED),
	       "a record taken after the live claims were copied: the claim read before them does not pass it, so it is not released under its taker");
	lfq_rec_mpmc_release(&b);

	/* A take that finds nothing empties the claim. */
	rb = lfq_rec_mpmc_take(&b, &lb);
	tap_ok(!rb && cb.start == cb.end,
	       "a take that finds nothing empties the consumer's claim ([%llu, %llu)): a stale one would cover a dead consumer's record for good",
	       (unsigned long long)cb.start, (unsigned long long)cb.end);

	/* Forged or stale ranges: unaligned, reversed, huge, a lap ago. */
	old = p0;			/* released, and now a ring ago */
	while (*ring.head - old < 4096 + 64) {
		put(&p, 64, 0);
		ra = lfq_rec_mpmc_take(&a, &la);
		lfq_rec_mpmc_release(&a);
	}
	forged = (struct lfq_mpsc_claim){ .start = p1 + 4, .end = p1 + 36 };
	r = recover(&k, &forged, &cb, 0, &covered);
	forged = (struct lfq_mpsc_claim){ .start = p1 + 32, .end = p1 };
	r2 = recover(&k, &forged, &cb, 0, &cov2);
	forged = (struct lfq_mpsc_claim){ .start = old, .end = old + 4096 };
	r3 = recover(&k, &forged, &cb, 0, &cov3);
	forged = (struct lfq_mpsc_claim){ .start = old, .end = old + 24 };
	r3 |= recover(&k, &forged, &cb, 0, &cov3);
	tap_ok(!r && !r2 && !r3 && *ring.tail == *claim && *claim == *ring.head,
	       "forged dead ranges (unaligned, reversed, beyond a record, a ring ago over another lap's record) release nothing; tail = claim = head");
	munmap(base, len);
}

/*
 * Torn records: a consumer holding a record while the ring fills behind
 * it finds it intact (head exactly a ring past it); one whose bytes a
 * producer reused (a hostile consumer moved tail past it) finds it torn,
 * and its release writes nothing there.
 */
static void torn(void)
{
	struct lfq_rec_mcons a, b;
	struct lfq_rec_ring ring;
	struct lfq_rec_prod p;
	unsigned char *base;
	__u64 *claim, p0, h0, t;
	uint32_t la, lb;
	int full_ok, torn_rel;
	size_t len;
	uint8_t *w;

	if (ring_up(&ring, &base, &len, &claim)) {
		tap_ok(0, "memfd record ring");
		return;
	}
	views(&ring, claim, &p, &a, &b);
	p0 = put(&p, 56, 0);
	lfq_rec_mpmc_take(&a, &la);
	/* Fill the ring behind A's record: B takes and releases the rest. */
	while (put(&p, 56, 0) != ~0ull) {
		lfq_rec_mpmc_take(&b, &lb);
		lfq_rec_mpmc_release(&b);
	}
	full_ok = *ring.head - p0 <= 4096 && *ring.head - p0 > 4096 - 64 &&
		  lfq_rec_mpmc_intact(&a);
	/* A hostile consumer moves tail past A's record; a producer laps. */
	t = *ring.tail;
	h0 = *(__u64 *)(ring.data + (p0 & 4095));
	*ring.tail = *ring.head;
	w = (uint8_t *)lfq_rec_reserve(&p, 56, &(struct lfq_rec_resv){ 0 });
	torn_rel = w && !lfq_rec_mpmc_intact(&a) &&
		   lfq_rec_mpmc_release(&a) == 1 && !a.held;
	tap_ok(full_ok && torn_rel && t == p0 &&
	       *(__u64 *)(ring.data + (p0 & 4095)) == h0,
	       "a held record stays intact while the ring fills behind it (head %llu bytes past it); once a forged tail lets a producer reserve over it (head a ring past), it reads torn and its release writes nothing (header as taken)",
	       (unsigned long long)(*ring.head - p0));
	munmap(base, len);
}

int main(void)
{
	tap_plan(19);
	steps();
	recovery();
	torn();
	threads(1, 2, 0);
	threads(1, 4, 0);
	threads(2, 2, 0);
	threads(2, 4, 0);
	threads(1, 2, 8);
	threads(2, 4, 8);
	return tap_done();
}
