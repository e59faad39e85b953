// SPDX-License-Identifier: MIT
/*
 * lfq_ring_ops.c - liblfq's fast path: thin wrappers over the shared SPSC
 * protocol (kmod/proto/lfq_spsc.h). No system call, lock or allocation
 * here, except the wakeup a sleeping peer has asked for.
 */
#include <errno.h>
#include <string.h>

#include "lfq_handle.h"

/**
 * lfq_reserve() - reserve up to @want consecutive slots to write.
 * @q:		the handle.
 * @want:	slots wanted (>= 1).
 * @got:	slots granted.
 *
 * Return: a contiguous span of *@got slots, or NULL when the ring is full.
 */
void *lfq_reserve(struct lfq *q, uint32_t want, uint32_t *got)
{
	void *span = lfq_spsc_reserve(&q->prod, want, got);

	/* Only this producer writes full_events: a plain increment. */
	if (lfq_unlikely(!span))
		lfq_store_relaxed(&q->prod.ctl->full_events,
				  q->prod.ctl->full_events + 1);
	return span;
}

/**
 * lfq_commit() - publish the first @n slots of the last reservation, and
 * wake the consumer if it sleeps (the only system call it may make).
 * @q:		the handle.
 * @n:		slots to publish.
 *
 * Return: 0.
 */
int lfq_commit(struct lfq *q, uint32_t n)
{
	if (!q->wakeups) {
		lfq_spsc_commit(&q->prod, n);
		return 0;
	}
	if (lfq_unlikely(lfq_spsc_commit_check(&q->prod, n)))
		lfq_wake_consumer(q);
	return 0;
}

/**
 * lfq_peek() - look at up to @want consecutive readable slots.
 * @q:		the handle.
 * @want:	slots wanted (>= 1).
 * @got:	slots in the span.
 *
 * Return: a contiguous span of *@got slots, or NULL when the ring is empty.
 */
const void *lfq_peek(struct lfq *q, uint32_t want, uint32_t *got)
{
	const void *span = lfq_spsc_peek(&q->cons, want, got);

	/* Only this consumer writes empty_events: a plain increment. */
	if (lfq_unlikely(!span))
		lfq_store_relaxed(&q->cons.ctl->empty_events,
				  q->cons.ctl->empty_events + 1);
	return span;
}

/**
 * lfq_release() - free the first @n slots of the last peek, and wake the
 * producer if it sleeps for space.
 * @q:		the handle.
 * @n:		slots to release.
 *
 * Return: 0.
 */
int lfq_release(struct lfq *q, uint32_t n)
{
	if (!q->wakeups) {
		lfq_spsc_release(&q->cons, n);
		return 0;
	}
	if (lfq_unlikely(lfq_spsc_release_check(&q->cons, n)))
		lfq_wake_producer(q);
	return 0;
}

/**
 * lfq_push() - copy one message into the next slot.
 * @q:		the handle.
 * @msg:	the message.
 * @len:	its length, at most slot_size; the rest of the slot is zeroed.
 *
 * Return: 0, -EAGAIN when full, -EMSGSIZE when @len exceeds the slot.
 */
int lfq_push(struct lfq *q, const void *msg, size_t len)
{
	uint32_t got;
	unsigned char *slot;

	if (lfq_unlikely(len > q->prod.slot_size))
		return -EMSGSIZE;
	slot = lfq_reserve(q, 1, &got);
	if (!slot)
		return -EAGAIN;
	memcpy(slot, msg, len);
	if (len < q->prod.slot_size)
		memset(slot + len, 0, q->prod.slot_size - len);
	return lfq_commit(q, 1);
}

/**
 * lfq_pop() - copy the next message out and free its slot.
 * @q:		the handle.
 * @buf:	destination.
 * @len:	bytes to copy, at most slot_size.
 *
 * Return: 0, -EAGAIN when empty, -EMSGSIZE when @len exceeds the slot.
 */
int lfq_pop(struct lfq *q, void *buf, size_t len)
{
	uint32_t got;
	const void *slot;

	if (lfq_unlikely(len > q->cons.slot_size))
		return -EMSGSIZE;
	slot = lfq_peek(q, 1, &got);
	if (!slot)
		return -EAGAIN;
	memcpy(buf, slot, len);
	return lfq_release(q, 1);
}
