// SPDX-License-Identifier: MIT
/*
 * lfq_ring_ops.c - liblfq's fast path: thin wrappers over the shared
 * protocols (kmod/proto/lfq_spsc.h, lfq_mpsc.h), chosen by queue type. No
 * system call, lock or allocation here, except the wakeup a sleeping peer
 * has asked for.
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
 * Return: a contiguous span of *@got slots, or NULL when the ring is full
 * (or the handle is not a producer: *@got is 0).
 */
void *lfq_reserve(struct lfq *q, uint32_t want, uint32_t *got)
{
	void *span;

	if (lfq_unlikely(!lfq_can_produce(q))) {
		*got = 0;
		return NULL;
	}
	if (lfq_is_mpsc(q)) {
		/* An unfinished reservation would wedge the consumer. */
		if (lfq_unlikely(q->resv.count))
			lfq_discard(q);
		span = lfq_mpsc_reserve(&q->mprod, want, &q->resv);
		*got = q->resv.count;
		if (lfq_unlikely(!span))
			__atomic_fetch_add(&q->mprod.ctl->full_events, 1,
					   __ATOMIC_RELAXED);
		return span;
	}
	span = lfq_spsc_reserve(&q->prod, want, got);
	/* Only this producer writes full_events: a plain increment. */
	if (lfq_unlikely(!span))
		lfq_store_relaxed(&q->prod.ctl->full_events,
				  q->prod.ctl->full_events + 1);
	return span;
}

/* MPSC: commit the first @n slots of the reservation, discard the rest. */
static int lfq_mpsc_commit_n(struct lfq *q, uint32_t n)
{
	struct lfq_mpsc_resv done = q->resv, rest;
	int wake = 0;

	if (n < done.count) {
		rest = (struct lfq_mpsc_resv){ done.index + n, done.count - n,
					       done.claim };
		done.count = n;
		wake = lfq_mpsc_discard(&q->mprod, &rest);
	}
	if (done.count)
		wake |= lfq_mpsc_commit(&q->mprod, &done);
	q->resv.count = 0;
	return wake;
}

/**
 * lfq_commit() - publish the first @n slots of the last reservation, and
 * wake the consumer if it sleeps (the only system call it may make).
 * On an MPSC queue, reserved slots past @n are given up (discarded).
 * @q:		the handle.
 * @n:		slots to publish.
 *
 * Return: 0, or -EPERM when the handle's role does not allow it.
 */
int lfq_commit(struct lfq *q, uint32_t n)
{
	if (lfq_unlikely(!lfq_can_produce(q)))
		return -EPERM;
	if (lfq_is_mpsc(q)) {
		/* The MPSC commit always reports a sleeper: nothing to save. */
		if (lfq_unlikely(lfq_mpsc_commit_n(q, n)) && q->wakeups)
			lfq_wake_consumer(q);
		return 0;
	}
	if (!q->wakeups) {
		lfq_spsc_commit(&q->prod, n);
		return 0;
	}
	if (lfq_unlikely(lfq_spsc_commit_check(&q->prod, n)))
		lfq_wake_consumer(q);
	return 0;
}

/**
 * lfq_discard() - give the last reservation up without publishing it. On
 * an MPSC queue the slots are marked discarded; the consumer skips them
 * and counts them.
 * @q:		the handle.
 *
 * Return: 0, or -EPERM when the handle's role does not allow it.
 */
int lfq_discard(struct lfq *q)
{
	if (lfq_unlikely(!lfq_can_produce(q)))
		return -EPERM;
	if (!lfq_is_mpsc(q)) {
		q->prod.reserved = 0;
		return 0;
	}
	if (q->resv.count && lfq_mpsc_commit_n(q, 0) && q->wakeups)
		lfq_wake_consumer(q);
	return 0;
}

/**
 * lfq_peek() - look at up to @want consecutive readable slots.
 * @q:		the handle.
 * @want:	slots wanted (>= 1).
 * @got:	slots in the span.
 *
 * Return: a contiguous span of *@got slots, or NULL when the ring is empty
 * (or the handle is not a consumer: *@got is 0).
 */
const void *lfq_peek(struct lfq *q, uint32_t want, uint32_t *got)
{
	const void *span;
	int wake;

	if (lfq_unlikely(!lfq_can_consume(q))) {
		*got = 0;
		return NULL;
	}
	if (lfq_is_mpsc(q)) {
		span = lfq_mpsc_peek_check(&q->mcons, want, got, &wake);
		/* Skipped discarded slots freed space a producer waits for. */
		if (lfq_unlikely(wake) && q->wakeups)
			lfq_wake_producer(q);
	} else
		span = lfq_spsc_peek(&q->cons, want, got);
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
 * Return: 0, or -EPERM when the handle's role does not allow it.
 */
int lfq_release(struct lfq *q, uint32_t n)
{
	if (lfq_unlikely(!lfq_can_consume(q)))
		return -EPERM;
	if (lfq_is_mpsc(q)) {
		if (lfq_unlikely(lfq_mpsc_release(&q->mcons, n)) && q->wakeups)
			lfq_wake_producer(q);
		return 0;
	}
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
 * A full ring fails the push, or, on a queue created with
 * LFQ_CREATE_BLOCK, makes it wait for space.
 *
 * Return: 0, -EPERM (not a producer), -EAGAIN when full, -EMSGSIZE when
 * @len exceeds the slot, or
 * an error of lfq_wait_space() (-EINTR on a signal) while blocking.
 */
int lfq_push(struct lfq *q, const void *msg, size_t len)
{
	uint32_t got;
	unsigned char *slot;

	if (lfq_unlikely(!lfq_can_produce(q)))
		return -EPERM;
	if (lfq_unlikely(len > q->hdr.slot_size))
		return -EMSGSIZE;
	while (!(slot = lfq_reserve(q, 1, &got))) {
		int err;

		if (!(q->hdr.flags & LFQ_CREATE_BLOCK))
			return -EAGAIN;
		err = lfq_wait_space(q, 1, -1);
		if (err)
			return err;
	}
	memcpy(slot, msg, len);
	if (len < q->hdr.slot_size)
		memset(slot + len, 0, q->hdr.slot_size - len);
	return lfq_commit(q, 1);
}

/**
 * lfq_pop() - copy the next message out and free its slot.
 * @q:		the handle.
 * @buf:	destination.
 * @len:	bytes to copy, at most slot_size.
 *
 * Return: 0, -EPERM (not a consumer), -EAGAIN when empty, -EMSGSIZE when
 * @len exceeds the slot.
 */
int lfq_pop(struct lfq *q, void *buf, size_t len)
{
	uint32_t got;
	const void *slot;

	if (lfq_unlikely(!lfq_can_consume(q)))
		return -EPERM;
	if (lfq_unlikely(len > q->hdr.slot_size))
		return -EMSGSIZE;
	slot = lfq_peek(q, 1, &got);
	if (!slot)
		return -EAGAIN;
	memcpy(buf, slot, len);
	return lfq_release(q, 1);
}
