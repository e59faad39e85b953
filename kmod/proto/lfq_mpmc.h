/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_mpmc.h - the multi-producer multi-consumer ring protocol, written
 * once for the kernel and for liblfq (see lfq_atomic.h for the shim).
 * Modelled in tests/model/mpmc.pml.
 *
 * Producers are MPSC producers (lfq_mpsc.h), unchanged but for one more
 * check: an MPMC ring has a release word per slot beside its commit word,
 * and a producer reuses a slot only once its previous lap is committed
 * and released (lfq_mpsc_lap_free()).
 *
 * Consumers share the ring's tail as a claim index. A consumer reads the
 * commit words from tail on, and takes the committed run it found with a
 * compare-and-swap of tail: the slots are then its alone. It reads them
 * and releases each by storing its index + 1 into the slot's release
 * word, in any order relative to the other consumers. Like commit words,
 * release words are never reset: their value names a lap. A consumer
 * that finds discarded slots at tail claims and releases them at once,
 * and counts them.
 *
 * Nothing read from shared memory is trusted: counts are clamped to
 * [0, slot_count], offsets are "index & mask" and words are only
 * compared. A consumer that forges tail or release words disturbs the
 * consumers (records delivered twice, or skipped), but it can never put
 * two producers in one slot: their commit-word check holds on every lap.
 * Nor can it pass off a record overwritten under another consumer as
 * that consumer's: a forged release word lets a producer of the next lap
 * into a slot its holder still reads, but the producer marks the slot's
 * commit word before it writes (lfq_mpsc_mark()), and the holder, which
 * re-reads the word once it has read the record and before it releases
 * it (lfq_mpmc_torn()), finds the record torn: it is counted
 * (@torn), and the callers drop it (lfq_pop()) or say so (lfq_release()
 * returns -ESTALE, the kernel's consumers check each slot they copy with
 * lfq_consumer_intact()). Modelled in tests/model/mpmc_torn.pml. The
 * guarantee holds between producers and consumers of this protocol
 * (liblfq 0.6 and the module that ships with it): an older producer does
 * not mark, an older consumer does not re-check. A forger can still
 * stall the ring, as it always could (it may claim and never release):
 * a release that lands after a later lap's release of the same slot (a
 * consumer's check and its store are two steps) puts the word back, and
 * the slot's producers then wait; a slot found torn is released forward
 * only (lfq_mpmc_publish_torn()), which closes the common case.
 *
 * Crash safety: a consumer that has a claim record (struct
 * lfq_mpsc_claim, the producers' kind) writes the range it is about to
 * take into it before the compare-and-swap, as producers do, and empties
 * it when a claim comes back with nothing. It holds one claim at a time:
 * it releases a claim before it makes the next (the record names only
 * the last). When it dies, the slots of its range that it claimed but did
 * not release, and that no live consumer's claim covers, are released on
 * its behalf (lfq_mpmc_recover()): their records are lost, not
 * redelivered, and counted. A live claim that covers them is one written
 * before a compare-and-swap that failed, and its consumer rewrites or
 * empties it before its claim call returns: recovery that found slots
 * covered runs again later. Producers are therefore never wedged by a
 * dead consumer.
 *
 * Wakeups: a consumer sleeps on need_data as the MPSC consumer does
 * (lfq_mpsc_arm_data_wait() from the claim index), and producers sleeping
 * on need_space are woken by releases (lfq_mpmc_release()).
 * Every ordering used here is listed in lfq_rules.h (ORDERING mpsc-*,
 * mpmc-*, claim, wake-*); shared values follow HOSTILE MEMORY H1-H6.
 */
#ifndef _LFQ_PROTO_MPMC_H
#define _LFQ_PROTO_MPMC_H

#include "lfq_mpsc.h"

/**
 * struct lfq_mpmc_cons - one consumer's view of a ring (private memory),
 * one per consuming thread.
 * @tail_w:	the shared claim index.
 * @sleeps:	the producers' need_space flag (read only).
 * @empty_events: the shared count of empty rings.
 * @commit:	the shared commit words.
 * @release:	the shared release words.
 * @data:	first copy of the slot area.
 * @claim:	this consumer's claim record, or NULL if it has none.
 * @discarded:	discarded slots this consumer skipped.
 * @torn:	slots this consumer found overwritten when it released them
 *		(lfq_mpmc_torn()): another consumer forged their release.
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 * @max_tries:	compare-and-swap attempts before a claim gives up as if
 *		the ring were empty, which it also does once it has looked
 *		at a ring's worth of discarded slots; 0 for no limit
 *		(HOSTILE MEMORY H5, for a kernel consumer).
 * @light:	publish with the light half of the asymmetric handshake.
 */
struct lfq_mpmc_cons {
	__u64 *tail_w;
	const __u32 *sleeps;
	__u64 *empty_events;
	const __u64 *commit;
	__u64 *release;
	const unsigned char *data;
	struct lfq_mpsc_claim *claim;
	__u64 discarded;
	__u64 torn;
	__u32 slot_size;
	__u32 mask;
	__u32 max_tries;
	__u32 light;
};

/**
 * struct lfq_mpmc_take - the slots one claim took, held by its consumer
 * until lfq_mpmc_release().
 * @index:	index of the first slot.
 * @count:	slots taken; 0 when none was ready.
 */
struct lfq_mpmc_take {
	__u64 index;
	__u32 count;
};

/**
 * lfq_mpmc_cons_init() - bind a consumer view to a ring; the one way to
 * build one.
 * @c:		the view.
 * @r:		the ring's location; @r->release must be set.
 *
 * The view starts without a claim record and with no limit on its tries.
 */
static inline void lfq_mpmc_cons_init(struct lfq_mpmc_cons *c,
				      const struct lfq_ring_loc *r)
{
	c->tail_w = r->tail;
	c->sleeps = r->need_space;
	c->empty_events = &r->cons->empty_events;
	c->commit = r->commit;
	c->release = r->release;
	c->data = r->data;
	c->claim = (struct lfq_mpsc_claim *)0;
	c->discarded = 0;
	c->torn = 0;
	c->slot_size = r->slot_size;
	c->mask = r->slot_count - 1;
	c->max_tries = 0;
	c->light = r->light;
}

/**
 * lfq_mpmc_cons_set_claim() - give a consumer view its claim record.
 * @c:		the view.
 * @claim:	the claim, or NULL for none.
 */
static inline void lfq_mpmc_cons_set_claim(struct lfq_mpmc_cons *c,
					   struct lfq_mpsc_claim *claim)
{
	c->claim = claim;
}

/* Store the release word of each of @n slots from @index. */
static inline void lfq_mpmc_publish(__u64 *release, __u32 mask, __u64 index,
				    __u32 n)
{
	__u64 i;

	/* ORDERING mpmc-release, for each slot. */
	for (i = index; i != index + n; i++)
		lfq_store_release(&release[i & mask], i + 1);
}

/*
 * Take [@tail, @tail + @n) by compare-and-swap of the claim index; on
 * failure @tail is the index found. ORDERING mpmc-claim, and claim for a
 * consumer with a record: the range is visible before the CAS that takes
 * it.
 */
static inline int lfq_mpmc_take(struct lfq_mpmc_cons *c, __u64 *tail,
				__u32 n)
{
	if (c->claim) {
		lfq_claim_set(c->claim, *tail, *tail + n);
		return lfq_try_cmpxchg_full(c->tail_w, tail, *tail + n);
	}
	return lfq_try_cmpxchg_relaxed(c->tail_w, tail, *tail + n);
}

/* A claim that came back with nothing: the record covers nothing either. */
static inline void lfq_mpmc_none(struct lfq_mpmc_cons *c,
				 struct lfq_mpmc_take *t)
{
	/*
	 * ORDERING claim: pairs with lfq_mpmc_recover()'s acquire of the
	 * record; an empty record stops covering another's slots.
	 */
	if (c->claim)
		lfq_claim_empty(c->claim, 0);
	t->count = 0;
}

/**
 * lfq_mpmc_claim() - take up to @want consecutive committed slots.
 * @c:		consumer view.
 * @want:	slots wanted, at least 1.
 * @t:		the slots taken (count 0 when none is ready).
 *
 * Lock-free: a failed compare-and-swap means another consumer claimed,
 * and the loop retries from the index it saw. Discarded slots at the
 * claim index are taken and released at once (counted in @c->discarded);
 * a span ends before the first slot that is not committed. The caller
 * holds no other claim (see the crash safety above).
 *
 * Return: the first slot of a contiguous span of @t->count slots, or
 * NULL if none is ready.
 */
static inline const void *lfq_mpmc_claim(struct lfq_mpmc_cons *c, __u32 want,
					 struct lfq_mpmc_take *t)
{
	__u64 tail = lfq_load_relaxed(c->tail_w), now;
	__u32 size = c->mask + 1, budget = size, n, lim, tries = 0;
	int st;

	if (want > size)
		want = size;
	for (;; tries++) {
		/*
		 * HOSTILE MEMORY H5: with a limit, every way round counts,
		 * and so does every discarded slot looked at: a ring's worth
		 * in all, however the compare-and-swaps go.
		 */
		if (lfq_unlikely(c->max_tries &&
				 (tries == c->max_tries || !budget))) {
			lfq_mpmc_none(c, t);
			return (const void *)0;
		}
		n = 0;
		st = lfq_mpsc_slot_state(c->commit, c->mask, tail);
		if (lfq_unlikely(st < 0)) {
			/* HOSTILE MEMORY H5: at most a ring's worth. */
			lim = c->max_tries ? budget : size;
			while (n < lim &&
			       lfq_mpsc_slot_state(c->commit, c->mask,
						   tail + n) < 0)
				n++;
			budget -= c->max_tries ? n : 0;
			if (lfq_mpmc_take(c, &tail, n)) {
				lfq_mpmc_publish(c->release, c->mask, tail, n);
				c->discarded += n;
				tail += n;
			}
		} else {
			while (n < want &&
			       lfq_mpsc_slot_state(c->commit, c->mask,
						   tail + n) > 0)
				n++;
			if (!n) {
				/*
				 * Our index may be stale: the slot then holds
				 * a later lap, which reads as not committed.
				 * Empty only if the index has not moved.
				 */
				now = lfq_load_relaxed(c->tail_w);
				if (now == tail) {
					lfq_mpmc_none(c, t);
					return (const void *)0;
				}
				tail = now;
				continue;
			}
			if (lfq_mpmc_take(c, &tail, n))
				break;
		}
	}
	t->index = tail;
	t->count = n;
	return c->data + (__u64)(tail & c->mask) * c->slot_size;
}

/**
 * lfq_mpmc_torn() - how many of @n claimed slots from @index no longer
 * hold the record claimed.
 * @c:		consumer view.
 * @index:	the first slot, claimed by this consumer and not released.
 * @n:		slots.
 *
 * A slot is torn when its commit word has moved on from @index + 1: a
 * producer of a later lap marked it (lfq_mpsc_mark()) or wrote it, which
 * only a release word forged by another consumer lets it do (or a
 * hostile producer rewrote the word). Whatever
 * was read of a slot before this call and found intact by it is the
 * record committed for @index.
 *
 * Return: torn slots, 0..@n.
 */
static inline __u32 lfq_mpmc_torn(const struct lfq_mpmc_cons *c,
				  __u64 index, __u32 n)
{
	__u32 torn = 0;
	__u64 i;

	/*
	 * ORDERING mpmc-torn: the caller's reads of the records before the
	 * commit words; pairs with the smp_wmb() of lfq_mpsc_mark().
	 */
	lfq_smp_rmb();
	for (i = index; i != index + n; i++)
		if (lfq_load_relaxed(&c->commit[i & c->mask]) != i + 1)
			torn++;
	return torn;
}

/*
 * Release a claim some of whose slots were found torn. A torn slot's
 * release word was forged, and a later lap may be released in it by now:
 * store our index + 1 only while the word still says it is outstanding
 * (by compare-and-swap, as lfq_mpmc_recover() does), never back over a
 * later lap's, which would hold that lap's producers off for good.
 */
static inline void lfq_mpmc_publish_torn(struct lfq_mpmc_cons *c,
					 const struct lfq_mpmc_take *t)
{
	__u64 i, v, *w;

	for (i = t->index; i != t->index + t->count; i++) {
		w = &c->release[i & c->mask];
		if (lfq_load_relaxed(&c->commit[i & c->mask]) == i + 1) {
			/* ORDERING mpmc-release. */
			lfq_store_release(w, i + 1);
			continue;
		}
		v = lfq_load_relaxed(w);
		/* ORDERING mpmc-release: the CAS, for the producers' acquire. */
		if (lfq_mpsc_outstanding(v, i))
			lfq_try_cmpxchg_full(w, &v, i + 1);
	}
}

/**
 * lfq_mpmc_release() - give the slots of a claim back to the producers.
 * @c:		consumer view.
 * @t:		a claim from lfq_mpmc_claim(), done with.
 *
 * Slots found torn first (lfq_mpmc_torn()) are counted in @c->torn: the
 * caller compares it to tell its reader.
 *
 * Return: true if a producer announced it sleeps for space and must be
 * woken: on any flag (as MPSC commits: with releases out of order, no
 * consumer knows how many slots are free).
 */
static inline int lfq_mpmc_release(struct lfq_mpmc_cons *c,
				   const struct lfq_mpmc_take *t)
{
	__u32 torn = t->count ? lfq_mpmc_torn(c, t->index, t->count) : 0;

	if (lfq_likely(!torn)) {
		lfq_mpmc_publish(c->release, c->mask, t->index, t->count);
	} else {
		c->torn += torn;
		lfq_mpmc_publish_torn(c, t);
	}
	/* ORDERING wake-space. */
	return lfq_wake_flag(c->sleeps, c->light) != 0;
}

/**
 * struct lfq_mpmc_hold - a consumer's claim, held until all of it is
 * released, so that a consumer holds one claim at a time (see the crash
 * safety above): the shape liblfq and the in-kernel consumer give it.
 * @take:	the claim; @take.count is 0 when none is held.
 * @done:	slots of @take released so far, from its start (0 when none
 *		is held; always below @take.count otherwise).
 */
struct lfq_mpmc_hold {
	struct lfq_mpmc_take take;
	__u32 done;
};

/**
 * lfq_mpmc_hold_peek() - what is still held, or a new claim of up to
 * @want slots when nothing is.
 * @c:		consumer view.
 * @h:		its hold.
 * @want:	slots wanted, at least 1.
 * @got:	slots in the span returned (0 when none is ready).
 * @wake:	set when discarded slots this claim released freed space a
 *		producer sleeps for (wake the producers).
 *
 * Return: the first slot of a contiguous span of *@got slots, or NULL.
 */
static inline const void *lfq_mpmc_hold_peek(struct lfq_mpmc_cons *c,
					     struct lfq_mpmc_hold *h,
					     __u32 want, __u32 *got, int *wake)
{
	struct lfq_mpmc_take none = { 0, 0 };
	__u64 discarded = c->discarded;
	const void *span;
	__u32 left;

	*wake = 0;
	if (lfq_unlikely(h->take.count)) {
		left = h->take.count - h->done;
		*got = want < left ? want : left;
		return c->data + (__u64)((h->take.index + h->done) & c->mask) *
				 c->slot_size;
	}
	span = lfq_mpmc_claim(c, want, &h->take);
	h->done = 0;
	*got = h->take.count;
	/* Discarded slots it released: a producer may wait for them. */
	if (lfq_unlikely(c->discarded != discarded))
		*wake = lfq_mpmc_release(c, &none);
	return span;
}

/**
 * lfq_mpmc_hold_release() - release the next @n held slots.
 * @c:		consumer view.
 * @h:		its hold; empty once every slot of the claim is released.
 * @n:		slots (clamped to what is held).
 *
 * Return: true if a producer sleeping for space must be woken.
 */
static inline int lfq_mpmc_hold_release(struct lfq_mpmc_cons *c,
					struct lfq_mpmc_hold *h, __u32 n)
{
	__u32 left = h->take.count - h->done;
	struct lfq_mpmc_take t;

	if (n > left)
		n = left;
	if (!n)
		return 0;
	t.index = h->take.index + h->done;
	t.count = n;
	h->done += n;
	if (h->done == h->take.count) {
		h->take.count = 0;
		h->done = 0;
	}
	return lfq_mpmc_release(c, &t);
}

/**
 * lfq_mpmc_hold_intact() - whether slot @k of what a hold still holds
 * (the span its last peek returned) holds the record claimed.
 * @c:		consumer view.
 * @h:		its hold.
 * @k:		the slot, from the first one not released.
 *
 * For a consumer that copies a record before it releases it: a copy made
 * before this returns true is the record (lfq_mpmc_torn()).
 *
 * Return: true if intact; false if torn, or if @k is not held.
 */
static inline int lfq_mpmc_hold_intact(const struct lfq_mpmc_cons *c,
				       const struct lfq_mpmc_hold *h, __u32 k)
{
	if (k >= h->take.count - h->done)
		return 0;
	return !lfq_mpmc_torn(c, h->take.index + h->done + k, 1);
}

/**
 * lfq_mpmc_recover() - release, on behalf of a dead consumer, what its
 * claim still held.
 * @release:	the ring's release words.
 * @mask:	slot_count - 1.
 * @tail:	the claim index, read with acquire after the consumer died
 *		(ORDERING claim: every claim below it is visible).
 * @dead:	the dead consumer's claim.
 * @live:	the live consumers' claims, read after @tail: the records
 *		themselves, or a copy made after @tail was read and before
 *		this call (the module's, lfq_cclaims_recover(); the order
 *		tests/model/mpmc_recover.pml checks).
 * @nlive:	entries in @live.
 * @covered:	set to the slots left because a live claim covers them:
 *		if not 0, call again later (see the crash safety above).
 *
 * A slot of @dead's range is released if it was claimed (below @tail),
 * is not released yet and no live claim covers it; an unreleased slot a
 * live claim covers is counted in @covered (the live consumer holds it,
 * or its record is stale and will move). The live claims are read before
 * the release word is read again and set by compare-and-swap from that
 * value: a live consumer that held the slot and released it meanwhile,
 * and any lap after, are never undone. Modelled in
 * tests/model/mpmc_recover.pml. The range is clamped to a ring's worth,
 * and a reversed one is empty (HOSTILE MEMORY H5).
 *
 * Return: slots released.
 */
static inline __u32 lfq_mpmc_recover(__u64 *release, __u32 mask, __u64 tail,
				     const struct lfq_mpsc_claim *dead,
				     const struct lfq_mpsc_claim *live,
				     __u32 nlive, __u32 *covered)
{
	__u64 start = lfq_load_acquire(&dead->start);
	__u64 end = lfq_load_acquire(&dead->end), i, v;
	__u32 done = 0, k;

	*covered = 0;
	if ((__s64)(end - start) <= 0)
		return 0;
	if (end - start > (__u64)mask + 1)
		end = start + mask + 1;
	for (i = start; i != end; i++) {
		if ((__s64)(tail - i) <= 0)
			break;		/* not claimed */
		/* ORDERING mpmc-release: a consumer's release. */
		if (!lfq_mpsc_outstanding(lfq_load_acquire(&release[i & mask]),
					  i))
			continue;	/* released: whoever held it */
		for (k = 0; k < nlive; k++)
			if (lfq_mpsc_claimed(lfq_load_acquire(&live[k].start),
					     lfq_load_acquire(&live[k].end), i))
				break;
		if (k < nlive) {
			(*covered)++;
			continue;
		}
		v = lfq_load_acquire(&release[i & mask]);
		if (!lfq_mpsc_outstanding(v, i))
			continue;
		/* ORDERING mpmc-release, for the producers' acquire. */
		if (lfq_try_cmpxchg_full(&release[i & mask], &v, i + 1))
			done++;
	}
	return done;
}

#endif /* _LFQ_PROTO_MPMC_H */
