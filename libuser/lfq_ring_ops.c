// SPDX-License-Identifier: MIT
/*
 * lfq_ring_ops.c - liblfq's public fast-path entry points: each calls the
 * operation its handle chose when it was opened (lfq_spsc_ops.c,
 * lfq_mpsc_ops.c, or the denied ones below for a side the handle's role
 * lacks), and the copying conveniences lfq_push() and lfq_pop() built on
 * them. No system call, lock or allocation, but a peer's wakeup.
 */
#include <errno.h>
#include <string.h>

#include "lfq_handle.h"

/* The side a handle's role lacks. */
LFQ_REFUSING_OPS(lfq_denied, -EPERM);

int lfq_reserve(struct lfq *q, uint32_t want, void **span)
{
	if (lfq_unlikely(!want)) {
		*span = NULL;
		return -EINVAL;
	}
	return q->pops->reserve(q, want, span);
}

int lfq_commit(struct lfq *q, uint32_t n)
{
	return q->pops->commit(q, n);
}

int lfq_discard(struct lfq *q)
{
	return q->pops->discard(q);
}

int lfq_peek(struct lfq *q, uint32_t want, const void **span)
{
	if (lfq_unlikely(!want)) {
		*span = NULL;
		return -EINVAL;
	}
	return q->cops->peek(q, want, span);
}

int lfq_release(struct lfq *q, uint32_t n)
{
	return q->cops->release(q, n);
}

int lfq_push(struct lfq *q, const void *msg, size_t len)
{
	unsigned char *slot;
	void *span;
	int got;

	if (q->ring.records)
		return lfq_rec_push(q, msg, len);
	if (lfq_unlikely(len > q->hdr.slot_size))
		return -EMSGSIZE;
	while ((got = q->pops->reserve(q, 1, &span)) == -EAGAIN) {
		int err;

		if (!(q->hdr.flags & LFQ_CREATE_BLOCK))
			return -EAGAIN;
		err = lfq_wait_space(q, 1, -1);
		if (err)
			return err;
	}
	if (lfq_unlikely(got < 0))
		return got;
	slot = span;
	memcpy(slot, msg, len);
	if (len < q->hdr.slot_size)
		memset(slot + len, 0, q->hdr.slot_size - len);
	return q->pops->commit(q, 1);
}

int lfq_pop(struct lfq *q, void *buf, size_t len)
{
	const void *slot;
	uint32_t tries;
	int got;

	if (q->ring.records)
		return lfq_rec_pop(q, buf, len);
	if (lfq_unlikely(len > q->hdr.slot_size))
		return -EMSGSIZE;
	/*
	 * An MPMC record overwritten while it was copied (-ESTALE: another
	 * consumer forged its release) is dropped, counted, and the next one
	 * taken; a ring's worth at most, then the caller hears -ESTALE.
	 */
	for (tries = 0; tries < q->hdr.slot_count; tries++) {
		got = q->cops->peek(q, 1, &slot);
		if (got < 0)
			return got;
		memcpy(buf, slot, len);
		got = q->cops->release(q, 1);
		if (lfq_likely(got != -ESTALE))
			return got;
	}
	return -ESTALE;
}
