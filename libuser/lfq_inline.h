/* SPDX-License-Identifier: MIT */
/*
 * lfq_inline.h - liblfq's fast path compiled into the caller, for fixed
 * SPSC queues: reserve/commit on the producer side, peek/release on the
 * consumer side, over the shared protocol header (lfq_spsc.h) that the
 * library and lfq.ko use, as liburcu's _LGPL_SOURCE or ck_ring inline
 * theirs.
 *
 * A view is taken once from an open handle (lfq_inline_producer(),
 * lfq_inline_consumer()); that call checks the role and the queue type,
 * so the inline calls check nothing and call nothing, but when the flag
 * a publish reads is set (lfq_inline_wake_check()): a peer said it
 * sleeps, or, on a symmetric queue, at every publish. The view works on
 * the handle's own state: calls through it and through
 * lfq_reserve()/lfq_peek() and the waits may be mixed on one handle (each
 * side still used by one thread at a time). The view lives as long as
 * the handle (lfq_close() ends both).
 *
 * The price is ABI: a program built with this header depends on the
 * layout of struct lfq_spsc_prod and struct lfq_spsc_cons, which a later
 * liblfq may change only with its soname. The out-of-line API in
 * liblfq.h has no such tie.
 */
#ifndef LFQ_INLINE_H
#define LFQ_INLINE_H

#include <errno.h>

#include "liblfq.h"
#include "lfq_spsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The fast path is inlined whatever the compiler's size heuristics say:
 * a call would undo the point of this header.
 */
#define LFQ_INLINE static inline __attribute__((always_inline))

/**
 * struct lfq_inline_prod - an SPSC producer's inline view.
 * @p:		the handle's producer state (protocol view).
 * @wakeups:	the handle's lfq_set_wakeups() setting (read by programs
 *		built before 0.7; lfq_inline_wake_check() reads it now).
 * @q:		the handle, for the wakeup.
 * @flag:	what a commit reads after its release store: the consumer's
 *		sleep flag on an asymmetric queue (the light half of
 *		wake-asym); on a symmetric one a word that always reads
 *		set, so that every commit goes to lfq_inline_wake_check(),
 *		which fences before it reads the real flag (wake-data).
 *		Added in 0.7 (the view was 24 bytes).
 */
struct lfq_inline_prod {
	struct lfq_spsc_prod *p;
	const int *wakeups;
	struct lfq *q;
	const __u32 *flag;
};

/**
 * struct lfq_inline_cons - an SPSC consumer's inline view.
 * @c:		the handle's consumer state (protocol view).
 * @wakeups:	as in struct lfq_inline_prod.
 * @q:		the handle, for the wakeup.
 * @flag:	what a release reads after its release store: the
 *		producer's sleep flag, or the always-set word (as in struct
 *		lfq_inline_prod).
 */
struct lfq_inline_cons {
	struct lfq_spsc_cons *c;
	const int *wakeups;
	struct lfq *q;
	const __u32 *flag;
};

/**
 * lfq_inline_producer() - take the inline producer view of a handle.
 * @q:		an open handle.
 * @ip:		filled in.
 *
 * Return: 0; -EPERM if @q lacks the producer role; -EOPNOTSUPP if the
 * queue is not a fixed SPSC queue (MPSC and elastic queues go through
 * lfq_reserve()).
 */
LFQ_API int lfq_inline_producer(struct lfq *q, struct lfq_inline_prod *ip);

/**
 * lfq_inline_consumer() - take the inline consumer view of a handle.
 * @q:		an open handle.
 * @ic:		filled in.
 *
 * Return: 0; -EPERM if @q lacks the consumer role; -EOPNOTSUPP if the
 * queue is not a fixed SPSC queue.
 */
LFQ_API int lfq_inline_consumer(struct lfq *q, struct lfq_inline_cons *ic);

/**
 * lfq_inline_wake() - wake the peer that said it sleeps: the slow path of
 * lfq_inline_commit() and lfq_inline_release() in programs built before
 * 0.7. Not called directly.
 * @q:		the handle.
 * @which:	LFQ_WAKE_CONSUMER or LFQ_WAKE_PRODUCER.
 */
LFQ_API void lfq_inline_wake(struct lfq *q, uint32_t which);

/**
 * lfq_inline_wake_check() - the slow path of lfq_inline_commit() (@which
 * LFQ_WAKE_CONSUMER) and lfq_inline_release() (LFQ_WAKE_PRODUCER), after
 * the view's flag read set: the lfq_set_wakeups() setting (off: nothing
 * more, not even a barrier); on a symmetric queue the full barrier and
 * the real flag; then the peer's threshold, and the wakeup. Not called
 * directly.
 * @q:		the handle.
 * @which:	LFQ_WAKE_CONSUMER or LFQ_WAKE_PRODUCER.
 * @flag:	what the view's flag read.
 */
LFQ_API void lfq_inline_wake_check(struct lfq *q, uint32_t which,
				   uint32_t flag);

/*
 * Every inline commit and release publishes the same way: the index
 * store (ORDERING spsc-head / spsc-tail: release), a compiler barrier and
 * the view's flag (wake-asym's light half: lfq_publish_index() with
 * light); on a symmetric queue the flag reads set and
 * lfq_inline_wake_check() fences before the real one (wake-data /
 * wake-space). The lfq_set_wakeups() setting is read only there. (The
 * handle is loaded only when the flag is set: a load before the release
 * store could not sink below it.)
 */

/**
 * lfq_inline_reserve() - lfq_reserve() inline.
 * @ip:		the producer view.
 * @want:	slots wanted, at least 1.
 * @span:	the first reserved slot, or NULL.
 *
 * Return: slots reserved (1..@want, one contiguous span), -EAGAIN if the
 * ring is full, -EINVAL if @want is 0.
 */
LFQ_INLINE int lfq_inline_reserve(struct lfq_inline_prod *ip,
				     uint32_t want, void **span)
{
	__u32 got;

	if (lfq_unlikely(!want)) {
		*span = (void *)0;
		return -EINVAL;
	}
	*span = lfq_spsc_reserve(ip->p, want, &got);
	if (lfq_likely(got))
		return (int)got;
	/* Only this producer writes full_events: a plain increment. */
	lfq_store_relaxed(ip->p->full_events, *ip->p->full_events + 1);
	return -EAGAIN;
}

/**
 * lfq_inline_reserve_one() - reserve one slot: lfq_inline_reserve() of 1,
 * in fewer instructions (the batch-1 fast path).
 * @ip:		the producer view.
 *
 * Return: the slot, to be published with lfq_inline_commit_one(@ip) (or
 * lfq_inline_commit(@ip, 1)); NULL if the ring is full.
 */
LFQ_INLINE void *lfq_inline_reserve_one(struct lfq_inline_prod *ip)
{
	void *slot = lfq_spsc_reserve_one(ip->p);

	if (lfq_unlikely(!slot))
		/* Only this producer writes full_events: a plain increment. */
		lfq_store_relaxed(ip->p->full_events,
				  *ip->p->full_events + 1);
	return slot;
}

/**
 * lfq_inline_commit() - lfq_commit() inline: publish the first @n slots
 * of the last reservation (clamped to it); wake a sleeping consumer.
 * @ip:		the producer view.
 * @n:		slots to publish.
 */
LFQ_INLINE void lfq_inline_commit(struct lfq_inline_prod *ip, uint32_t n)
{
	/* ORDERING spsc-head; wake-asym or wake-data (above). */
	__u32 flag = lfq_publish_index(ip->p->head_w,
				       lfq_spsc_advance_head(ip->p, n),
				       ip->flag, 1);

	if (lfq_unlikely(flag))
		lfq_inline_wake_check(ip->q, LFQ_WAKE_CONSUMER, flag);
}

/**
 * lfq_inline_commit_one() - publish the slot lfq_inline_reserve_one()
 * returned: lfq_inline_commit(@ip, 1) without the clamp to the
 * reservation (the batch-1 fast path).
 * @ip:		the producer view.
 *
 * Only after a reserve_one that returned a slot: without one it
 * publishes a slot nobody wrote (the consumer reads what the ring held;
 * the ring stays bounded by its mask, as against a forged head).
 */
LFQ_INLINE void lfq_inline_commit_one(struct lfq_inline_prod *ip)
{
	/* ORDERING spsc-head; wake-asym or wake-data (above). */
	__u32 flag = lfq_publish_index(ip->p->head_w,
				       lfq_spsc_advance_head_one(ip->p),
				       ip->flag, 1);

	if (lfq_unlikely(flag))
		lfq_inline_wake_check(ip->q, LFQ_WAKE_CONSUMER, flag);
}

/**
 * lfq_inline_peek() - lfq_peek() inline.
 * @ic:		the consumer view.
 * @want:	slots wanted, at least 1.
 * @span:	the first readable slot, or NULL.
 *
 * Return: slots readable (1..@want, one contiguous span), -EAGAIN if the
 * ring is empty, -EINVAL if @want is 0.
 */
LFQ_INLINE int lfq_inline_peek(struct lfq_inline_cons *ic, uint32_t want,
				  const void **span)
{
	__u32 got;

	if (lfq_unlikely(!want)) {
		*span = (const void *)0;
		return -EINVAL;
	}
	*span = lfq_spsc_peek(ic->c, want, &got);
	if (lfq_likely(got))
		return (int)got;
	/* Only this consumer writes empty_events: a plain increment. */
	lfq_store_relaxed(ic->c->empty_events, *ic->c->empty_events + 1);
	return -EAGAIN;
}

/**
 * lfq_inline_peek_one() - look at one slot: lfq_inline_peek() of 1, in
 * fewer instructions (the batch-1 fast path).
 * @ic:		the consumer view.
 *
 * Return: the slot, to be given back with lfq_inline_release_one(@ic) (or
 * lfq_inline_release(@ic, 1)); NULL if the ring is empty.
 */
LFQ_INLINE const void *lfq_inline_peek_one(struct lfq_inline_cons *ic)
{
	const void *slot = lfq_spsc_peek_one(ic->c);

	if (lfq_unlikely(!slot))
		/* Only this consumer writes empty_events: a plain increment. */
		lfq_store_relaxed(ic->c->empty_events,
				  *ic->c->empty_events + 1);
	return slot;
}

/**
 * lfq_inline_release() - lfq_release() inline: give back the first @n
 * slots of the last peek (clamped to it); wake a sleeping producer.
 * @ic:		the consumer view.
 * @n:		slots to release.
 */
LFQ_INLINE void lfq_inline_release(struct lfq_inline_cons *ic, uint32_t n)
{
	/* ORDERING spsc-tail; wake-asym or wake-space (above). */
	__u32 flag = lfq_publish_index(ic->c->tail_w,
				       lfq_spsc_advance_tail(ic->c, n),
				       ic->flag, 1);

	if (lfq_unlikely(flag))
		lfq_inline_wake_check(ic->q, LFQ_WAKE_PRODUCER, flag);
}

/**
 * lfq_inline_release_one() - give back the slot lfq_inline_peek_one()
 * returned: lfq_inline_release(@ic, 1) without the clamp to the peek (the
 * batch-1 fast path).
 * @ic:		the consumer view.
 *
 * Only after a peek_one that returned a slot: without one it frees a
 * slot nobody read (its message is lost).
 */
LFQ_INLINE void lfq_inline_release_one(struct lfq_inline_cons *ic)
{
	/* ORDERING spsc-tail; wake-asym or wake-space (above). */
	__u32 flag = lfq_publish_index(ic->c->tail_w,
				       lfq_spsc_advance_tail_one(ic->c),
				       ic->flag, 1);

	if (lfq_unlikely(flag))
		lfq_inline_wake_check(ic->q, LFQ_WAKE_PRODUCER, flag);
}

#ifdef __cplusplus
}
#endif

#undef LFQ_INLINE

#endif /* LFQ_INLINE_H */
