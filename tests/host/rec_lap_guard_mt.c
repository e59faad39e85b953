// SPDX-License-Identifier: MIT
/*
 * rec_lap_guard_mt.c - the producer's half of the record lap guard
 * (kmod/proto/lfq_rec.h: the pending mark stored before the
 * compare-and-swap of head, lfq_rec_claim_promote() after it) with
 * threads on a bare record ring. A guard thread plays the kernel's
 * lfq_kclaims_lap_guard() at its most eager: every pending mark it sees
 * it drops by compare-and-swap (as the kernel does for a pending claim a
 * lap behind, which a forged tail can make of one whose compare-and-swap
 * won), then writes a kernel record's bytes over the range it took. A
 * producer with a claim fills ring after ring meanwhile. Checked:
 *
 *   - every reservation that returns a record had its mark promoted
 *     (LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_HELD);
 *   - every one whose mark the guard took returns NULL with head moved
 *     past its range, and writes nothing there: the guard's bytes stay;
 *   - every byte up to head is accounted for, in order: a record the
 *     producer committed, whole, or a range the guard took, untouched;
 *   - the guard did take some (the path ran).
 *
 * The SPIN model tests/model/rec_lap_guard.pml checks the protocol's
 * steps against a liar consumer and an honest one; this checks the code.
 * Built twice: normally, and with ThreadSanitizer (LFQ_TSAN, fewer
 * rounds).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lfq_rec.h"
#include "memfd_ring.h"
#include "tap.h"

#ifdef LFQ_TSAN
#define ROUNDS		1000u
#else
#define ROUNDS		20000u
#endif
#define RING_BYTES	65536u
#define MAX_LEN		200u
#define MAX_RECS	(RING_BYTES / 16u)	/* the smallest record: 16 B */
#define SENTINEL	0xa5

struct range {
	uint64_t start, end;
};

/* One ring's round: what the producer wrote, what the guard took. */
struct round {
	struct lfq_rec_ring ring;
	struct lfq_mpsc_claim claim __attribute__((aligned(64)));
	int stop;
	uint32_t ntaken;
	struct range taken[MAX_RECS];
	uint32_t nrecs;
	struct range recs[MAX_RECS];
	uint64_t seqs[MAX_RECS];
};

static inline uint64_t rnd_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static uint8_t pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + 1);
}

static void *guard(void *arg)
{
	struct round *g = arg;
	uint64_t e, s, pos;

	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		/* ORDERING claim: the end, then the start stored before it. */
		e = __atomic_load_n(&g->claim.end, __ATOMIC_ACQUIRE);
		s = __atomic_load_n(&g->claim.start, __ATOMIC_RELAXED);
		pos = s & ~LFQ_REC_CLAIM_FLAGS;
		if ((s & (LFQ_REC_CLAIM_HELD | LFQ_REC_CLAIM_WON)) !=
		    LFQ_REC_CLAIM_HELD || (int64_t)(e - pos) <= 0)
			continue;
		if (!__atomic_compare_exchange_n(&g->claim.start, &s, pos, 0,
						 __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
			continue;
		/* Ours now, as a kernel producer's: its bytes over it. */
		g->taken[g->ntaken++] = (struct range){ pos, e };
		memset(g->ring.data + (pos & (g->ring.size - 1)) +
		       LFQ_REC_HDR_SIZE, SENTINEL, e - pos - LFQ_REC_HDR_SIZE);
	}
	return NULL;
}

/* Every byte below head: a whole record, or a range the guard took. */
static int walk(struct round *g, uint32_t order, char *why, size_t n)
{
	uint64_t head = *g->ring.head, pos = 0, h;
	uint32_t ri = 0, ti = 0, i, len;
	const uint8_t *b;

	while (pos < head) {
		b = g->ring.data + (pos & (g->ring.size - 1));
		h = *(const uint64_t *)b;
		if (ri < g->nrecs && g->recs[ri].start == pos) {
			len = (uint32_t)(g->recs[ri].end - pos);
			if (h != ((uint64_t)len | lfq_rec_lap(pos, order))) {
				snprintf(why, n, "record at %llu: header %#llx",
					 (unsigned long long)pos,
					 (unsigned long long)h);
				return 0;
			}
			for (i = 0; i < len; i++)
				if (b[LFQ_REC_HDR_SIZE + i] !=
				    pattern(g->seqs[ri], i)) {
					snprintf(why, n, "record at %llu torn at byte %u",
						 (unsigned long long)pos, i);
					return 0;
				}
			pos += lfq_rec_size(len);
			ri++;
		} else if (ti < g->ntaken && g->taken[ti].start == pos) {
			for (i = LFQ_REC_HDR_SIZE; i < g->taken[ti].end - pos;
			     i++)
				if (b[i] != SENTINEL) {
					snprintf(why, n, "taken range at %llu written at byte %u",
						 (unsigned long long)pos, i);
					return 0;
				}
			if (h) {
				snprintf(why, n, "taken range at %llu has a header %#llx",
					 (unsigned long long)pos,
					 (unsigned long long)h);
				return 0;
			}
			pos = g->taken[ti++].end;
		} else {
			snprintf(why, n, "byte %llu is neither a record nor a taken range",
				 (unsigned long long)pos);
			return 0;
		}
	}
	if (pos != head || ri != g->nrecs || ti != g->ntaken) {
		snprintf(why, n, "walk ends at %llu of %llu, %u of %u records, %u of %u taken",
			 (unsigned long long)pos, (unsigned long long)head, ri,
			 g->nrecs, ti, g->ntaken);
		return 0;
	}
	return 1;
}

int main(void)
{
	static struct round g;
	uint64_t seed = 1, seq = 0, nulls = 0, recs = 0, taken = 0, head0;
	uint64_t unpromoted = 0, silent = 0;
	struct lfq_rec_prod p;
	struct lfq_rec_resv r;
	unsigned char *base;
	char why[160] = "";
	uint32_t round, len, i, order;
	size_t mlen;
	pthread_t t;
	uint8_t *b;
	int ok = 1;

	tap_plan(3);
	if (memfd_rec_init(&g.ring, RING_BYTES, &base, &mlen)) {
		tap_ok(0, "map a record ring");
		return tap_done();
	}
	order = lfq_rec_order(g.ring.size);
	for (round = 0; round < ROUNDS && ok; round++) {
		memset(g.ring.data, 0, g.ring.size);
		*g.ring.head = 0;
		*g.ring.tail = 0;
		memset(&g.claim, 0, sizeof(g.claim));
		g.stop = 0;
		g.ntaken = 0;
		g.nrecs = 0;
		lfq_rec_prod_init(&p, &g.ring, 1);
		p.claim = &g.claim;
		if (pthread_create(&t, NULL, guard, &g)) {
			tap_ok(0, "start the guard thread");
			return tap_done();
		}
		for (;;) {
			len = 1 + (uint32_t)(rnd_next(&seed) % MAX_LEN);
			head0 = __atomic_load_n(g.ring.head, __ATOMIC_RELAXED);
			b = lfq_rec_reserve(&p, len, &r);
			if (!b) {
				/* Full (the round ends), or taken. */
				if (__atomic_load_n(g.ring.head,
						    __ATOMIC_RELAXED) == head0)
					break;
				nulls++;
				continue;
			}
			if (__atomic_load_n(&g.claim.start, __ATOMIC_RELAXED) !=
			    (r.pos | LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_HELD))
				unpromoted++;
			for (i = 0; i < len; i++)
				b[i] = pattern(seq, i);
			g.recs[g.nrecs] = (struct range){ r.pos, r.pos + len };
			g.seqs[g.nrecs++] = seq++;
			lfq_rec_commit(&p, &r);
		}
		__atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
		recs += g.nrecs;
		taken += g.ntaken;
		ok = walk(&g, order, why, sizeof(why));
	}
	silent = taken > nulls ? taken - nulls : nulls - taken;
	tap_ok(ok && !unpromoted,
	       "%u rings filled by a producer with a claim beside a guard that drops every pending mark: %llu records whole, each promoted before it was written (%llu not), every byte up to head a record or an untouched range the guard took%s%s",
	       round, (unsigned long long)recs,
	       (unsigned long long)unpromoted, ok ? "" : ": ", why);
	tap_ok(taken == nulls,
	       "each range the guard took made its reservation return NULL with head moved past it: %llu taken, %llu such NULLs (%llu apart)",
	       (unsigned long long)taken, (unsigned long long)nulls,
	       (unsigned long long)silent);
	tap_ok(taken > 0,
	       "the guard took %llu ranges between a mark and its promotion (the path ran)",
	       (unsigned long long)taken);
	munmap(base, mlen);
	return tap_done();
}
