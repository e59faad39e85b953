/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_common.h - what both ring protocols (lfq_spsc.h, lfq_mpsc.h) build
 * on: where a ring's shared words are (struct lfq_ring_loc), the count of
 * slots between two indices, and the two halves of the wakeup handshake.
 * Neither protocol header includes the other; both include this one.
 */
#ifndef _LFQ_PROTO_COMMON_H
#define _LFQ_PROTO_COMMON_H

#include "lfq.h"
#include "lfq_atomic.h"
#include "lfq_ring.h"

/**
 * struct lfq_ring_loc - where one ring's shared words live, in the address
 * space of whoever uses it (the kernel's vmap, or a process's mapping).
 * Every protocol view (lfq_spsc_*_init(), lfq_mpsc_*_init()) and every
 * waiter (lfq_ready.h) is built from one. A fixed queue is one ring
 * (lfq_ring_loc_init()); an elastic queue is a ring per segment
 * (lfq_seg_loc_init() in lfq_segment.h), all sharing the queue's pages.
 * @prod:	the queue's producer page (need_space, counters, claims).
 * @cons:	the queue's consumer page (need_data, counters).
 * @head:	this ring's producer index (fixed: in @prod).
 * @tail:	this ring's consumer index (fixed: in @cons).
 * @commit:	MPSC commit words, one per slot; unused for SPSC.
 * @release:	MPMC release words, one per slot (lfq_mpmc.h); NULL for
 *		the other types and for record queues.
 * @claim:	an MPMC record queue's shared claim index (in @cons,
 *		lfq_rec_mpmc.h); NULL for the others.
 * @data:	first copy of the slot area (the second follows it).
 * @need_data:	the consumer's sleep flag (in @cons).
 * @need_space:	the producers' sleep flag (in @prod).
 * @base:	an elastic segment's first index in its current life.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring, a power of two.
 * @type:	LFQ_TYPE_*.
 * @segment:	an elastic segment: @head may carry LFQ_SEG_SEALED, and
 *		indices below @base have no previous lap in the ring.
 * @records:	a record queue (LFQ_CREATE_RECORDS): @slot_size is 1,
 *		@slot_count the ring's bytes, @head and @tail byte indices,
 *		and the protocol lfq_rec.h's (no commit words).
 * @overwrite:	a record queue in overwrite mode (LFQ_CREATE_OVERWRITE):
 *		producers take the oldest records when the ring is full.
 * @light:	publishers through this location may use the light half of
 *		the asymmetric handshake (the queue is LFQ_WAKE_ASYMMETRIC
 *		and its sleepers' heavy fence reaches this publisher:
 *		lfq_ring_loc_light()); 0, the default: the full barrier.
 *		Copied into every view built from it.
 */
struct lfq_ring_loc {
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	__u64 *head;
	__u64 *tail;
	__u64 *commit;
	__u64 *release;
	__u64 *claim;
	unsigned char *data;
	__u32 *need_data;
	__u32 *need_space;
	__u64 base;
	__u32 slot_size;
	__u32 slot_count;
	__u32 type;
	__u32 segment;
	__u32 records;
	__u32 overwrite;
	__u32 light;
};

/*
 * Name [@start, @end) in a claim record, before the fully ordered
 * compare-and-swap that takes the range (ORDERING claim: the range is
 * visible to whoever sees the index move past it). Producers' and MPMC
 * consumers' claims alike.
 */
static inline void lfq_claim_set(struct lfq_mpsc_claim *claim, __u64 start,
				 __u64 end)
{
	lfq_store_release(&claim->start, start);
	lfq_store_release(&claim->end, end);
}

/*
 * Empty a claim record: its end back to its start (less @flags, bits a
 * record queue's producer keeps there), so it covers nothing (ORDERING
 * claim: a release, as the claim's other stores).
 */
static inline void lfq_claim_empty(struct lfq_mpsc_claim *claim,
				   __u64 flags)
{
	lfq_store_release(&claim->end, lfq_load_relaxed(&claim->start) & ~flags);
}

/**
 * lfq_type_committed() - whether producers of a queue type commit slot by
 * slot (commit words): MPSC and MPMC.
 * @type:	LFQ_TYPE_*.
 *
 * Return: true for a type with commit words.
 */
static inline int lfq_type_committed(__u32 type)
{
	return type == LFQ_TYPE_MPSC || type == LFQ_TYPE_MPMC;
}

/**
 * lfq_ring_loc_init() - locate a ring's shared words in a mapping.
 * @r:		filled in.
 * @base:	start of the mapping (struct lfq_ring_hdr).
 * @h:		a validated private copy of the header (HOSTILE MEMORY H7).
 */
static inline void lfq_ring_loc_init(struct lfq_ring_loc *r, void *base,
				     const struct lfq_ring_hdr *h)
{
	unsigned char *b = (unsigned char *)base;

	r->prod = (struct lfq_prod_ctl *)(b + h->prod_offset);
	r->cons = (struct lfq_cons_ctl *)(b + h->cons_offset);
	r->head = &r->prod->head;
	r->tail = &r->cons->tail;
	r->commit = (__u64 *)(b + h->commit_offset);
	r->records = !!(h->flags & LFQ_CREATE_RECORDS);
	/*
	 * MPMC: the release words follow the commit words; a record queue
	 * has neither, but a shared claim index in the consumer page.
	 */
	r->release = h->type == LFQ_TYPE_MPMC && !r->records ?
		     (__u64 *)(b + h->commit_offset + h->commit_size) :
		     (__u64 *)0;
	r->claim = h->type == LFQ_TYPE_MPMC && r->records ?
		   &r->cons->rec_claim : (__u64 *)0;
	r->data = b + h->data_offset;
	r->need_data = &r->cons->need_data;
	r->need_space = &r->prod->need_space;
	r->base = 0;
	r->slot_size = h->slot_size;
	r->slot_count = h->slot_count;
	r->type = h->type;
	r->segment = 0;
	r->overwrite = !!(h->flags & LFQ_CREATE_OVERWRITE);
	r->light = 0;	/* lfq_ring_loc_light() where the fence reaches */
}

/**
 * lfq_ring_loc_light() - let publishers through @r use the light half of
 * the asymmetric handshake, if the queue is asymmetric.
 * @r:		the location (before any view is built from it).
 * @h:		the queue's validated header.
 *
 * Only a caller whose publishers the sleepers' heavy fence reaches may
 * call it: the module (its IPIs reach every CPU), a process on a /dev/lfq
 * queue (the same IPIs), a process registered for membarrier(2)
 * GLOBAL_EXPEDITED on a memfd queue. Anyone else keeps the full barrier.
 */
static inline void lfq_ring_loc_light(struct lfq_ring_loc *r,
				      const struct lfq_ring_hdr *h)
{
	r->light = h->wake_mode == LFQ_WAKE_ASYMMETRIC;
}

/**
 * lfq_loc_index() - a ring's producer index as published, without the
 * SEALED bit of an elastic segment.
 * @r:		the ring.
 * @v:		its head word, as read.
 *
 * Return: the index.
 */
static inline __u64 lfq_loc_index(const struct lfq_ring_loc *r, __u64 v)
{
	return r->segment ? v & ~LFQ_SEG_SEALED : v;
}

/**
 * lfq_ring_count() - slots in use between two indices.
 * @head:	producer index as read.
 * @tail:	consumer index as read.
 * @slot_count:	slots in the ring.
 *
 * A pair that cannot occur in a healthy ring (tail ahead of head, or more
 * than slot_count apart) reads as a full ring (HOSTILE MEMORY H2):
 * producers stop, consumers see at most slot_count slots.
 *
 * Return: the count, in [0, slot_count].
 */
static inline __u32 lfq_ring_count(__u64 head, __u64 tail, __u32 slot_count)
{
	__u64 used = head - tail;

	return used > slot_count ? slot_count : (__u32)used;
}

/**
 * lfq_wake_flag() - the publishing half of the wakeup handshake, after
 * the stores that publish (an index, or commit words): read the peer's
 * need-wakeup flag.
 * @sleeps:	the peer's need-wakeup flag.
 * @light:	the view's light flag (struct lfq_ring_loc.light).
 *
 * ORDERING wake-data / wake-space: the full barrier pairs with the one
 * the sleeper executes between arming its flag and re-checking.
 * ORDERING wake-asym (@light): the compiler barrier keeps the load after
 * the publishing stores in program order; the sleeper's heavy fence,
 * which runs a full barrier on this CPU before, between or after them,
 * pairs with it.
 *
 * Return: the flag: 0 if no peer announced a sleep, else the fewest slots
 * a sleeping peer waits for (lfq_wake_due()).
 */
static inline __u32 lfq_wake_flag(const __u32 *sleeps, __u32 light)
{
	if (light) {
		lfq_compiler_barrier();
		return lfq_load_relaxed(sleeps);
	}
	lfq_smp_mb();
	return lfq_load_after_mb(sleeps);
}

/**
 * lfq_wake_due() - whether a publish must wake the peer, from its flag
 * (ORDERING wake-threshold in lfq_rules.h).
 * @want:	the flag as lfq_wake_flag() read it.
 * @ready:	slots ready for the peer after the publish, or more: the
 *		publisher's own new index against its cached copy of the
 *		other index, which only ever lags, so the count can only be
 *		too high (a spurious wakeup), never too low (a lost one).
 * @slot_count:	slots in the ring.
 *
 * A flag of 1 (the least any waiter asks for) wakes on every publish, as
 * before thresholds existed. A flag larger than the ring was not written
 * by an honest waiter (they ask for at most slot_count): it wakes too, so
 * a forged value only adds wakeups (HOSTILE MEMORY H8).
 *
 * Return: true if the peer must be woken.
 */
static inline int lfq_wake_due(__u32 want, __u32 ready, __u32 slot_count)
{
	return want && (want <= ready || want == 1 || want > slot_count);
}

/**
 * lfq_publish_index() - store a producer or consumer index and read the
 * peer's need-wakeup flag: the whole publishing half of the handshake for
 * a ring side that publishes with one index store.
 * @index:	the shared index (head or tail).
 * @v:		its new value.
 * @sleeps:	the peer's need-wakeup flag.
 * @light:	the view's light flag.
 *
 * ORDERING spsc-head / spsc-tail / mpsc-tail (the release) and
 * wake-data / wake-space (the barrier), or wake-asym (@light).
 *
 * Return: the flag, for lfq_wake_due().
 */
static inline __u32 lfq_publish_index(__u64 *index, __u64 v,
				      const __u32 *sleeps, __u32 light)
{
	if (light) {
		lfq_store_release(index, v);
		return lfq_wake_flag(sleeps, 1);
	}
	lfq_store_release_mb(index, v);
	return lfq_load_after_mb(sleeps);
}

/**
 * lfq_arm_flag() - announce a sleep: lower a need-wakeup flag to @want,
 * the slots the caller waits for (other sleepers on the same flag may
 * wait for fewer: the flag holds the least, so publishers wake them all
 * as soon as the neediest-first can go on; 0 means nobody sleeps).
 * @flag:	need_data or need_space.
 * @want:	1..slot_count.
 *
 * The store is a compare-and-exchange even when the flag already holds
 * @want or less, so the sleeper always has a store of its own in the
 * Dekker pair. The flag is writable by peers: after a few lost races the
 * sleeper stores 1, the least any sleeper wants (more wakeups, never a
 * lost one; HOSTILE MEMORY H5: no unbounded loop on a shared word).
 * ORDERING wake-data / wake-space: the full barrier after it pairs with
 * the publisher's one (or with the heavy fence, wake-asym).
 */
static inline void lfq_arm_flag(__u32 *flag, __u32 want)
{
	__u32 v = lfq_load_relaxed(flag);
	int tries;

	if (lfq_unlikely(!want))
		want = 1;	/* 0 would disarm */
	for (tries = 0; tries < 4; tries++)
		if (lfq_try_cmpxchg_full(flag, &v, v && v < want ? v : want))
			break;
	if (lfq_unlikely(tries == 4))
		(void)lfq_xchg(flag, 1);
	lfq_smp_mb();
}

/**
 * lfq_arm_space_wait() - announce a producer is about to sleep for space,
 * and count the free slots after that (both protocols: SPSC and MPSC
 * producers wait on the same words).
 * @r:		the ring.
 * @want:	the free slots the caller waits for (lfq_arm_flag()).
 *
 * ORDERING wake-space: pairs with the consumer's publish of tail. Any
 * release after this point that leaves @want slots free sees need_space
 * and wakes the caller, who sleeps only if the count returned is still
 * too small. Reserved but uncommitted MPSC slots count as used.
 *
 * Return: free slots, in [0, slot_count].
 */
static inline __u32 lfq_arm_space_wait(const struct lfq_ring_loc *r,
				       __u32 want)
{
	lfq_arm_flag(r->need_space, want);
	return r->slot_count -
	       lfq_ring_count(lfq_loc_index(r, lfq_load_relaxed(r->head)),
			      lfq_load_after_mb(r->tail), r->slot_count);
}

/**
 * lfq_free_slots() - free slots as a snapshot, for readiness answers and
 * statistics only: nothing is written on its strength (a producer orders
 * its writes with its own acquire of tail), so relaxed loads suffice.
 * @r:		the ring.
 *
 * Return: free slots, in [0, slot_count].
 */
static inline __u32 lfq_free_slots(const struct lfq_ring_loc *r)
{
	return r->slot_count -
	       lfq_ring_count(lfq_loc_index(r, lfq_load_relaxed(r->head)),
			      lfq_load_relaxed(r->tail), r->slot_count);
}

#endif /* _LFQ_PROTO_COMMON_H */
