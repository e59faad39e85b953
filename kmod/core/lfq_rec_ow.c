// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_rec_ow.c - what the kernel does for record queues in overwrite mode
 * (LFQ_CREATE_OVERWRITE, proto/lfq_rec.h), beyond its producers' part:
 * it gives up the tail a released consumer owned (its records go back),
 * finishes the overwrite of a producer that died owning tail
 * (lfq_claims.c calls it when no live claim names that tail), and copies
 * a queue's records out for LFQ_IOC_SNAPSHOT without consuming them.
 *
 * HOSTILE MEMORY: every header and the tail are read once, validated
 * (lap, length, alignment); the repairs change tail only by
 * compare-and-exchange from the value read (an owner, kernel producers
 * included, ends its ownership with a release store); lengths never move
 * an access outside the double mapping, and each walk covers one ring at
 * most.
 */
#include <kunit/visibility.h>
#include <linux/compiler.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "lfq_queue.h"
#include "lfq_rec_ow.h"
#include "proto/lfq_rec.h"

/**
 * lfq_rec_ow_finish() - give up the ownership of tail a taker that is gone
 * left (a released consumer, a dead producer), finishing what it did.
 * @r:		an overwrite-mode record queue.
 * @raw:	the shared tail as read: 8-aligned but for LFQ_REC_TAIL_BITS.
 * @overwritten: incremented for a committed record overwritten.
 *
 * The caller knows the owner is gone (no live claim names tail; the
 * consumer's file is released), so nobody else zeroes here or moves
 * tail. The records from tail marked LFQ_REC_RELEASED (a consumer that
 * died in its release) are zeroed and passed. A producer's overwrite is
 * finished: the record at tail, if committed, is zeroed and passed
 * (counted in *@overwritten). Otherwise tail is given back as it was.
 *
 * Return: true if tail changed (compare-and-exchange from @raw).
 */
bool lfq_rec_ow_finish(const struct lfq_ring_loc *r, u64 raw,
		       u64 *overwritten)
{
	u64 size = r->slot_count, t = raw & ~LFQ_REC_TAIL_BITS, pos = t, h;
	u32 order = lfq_rec_order(size), max = lfq_rec_max_len(size);
	u64 need;

	if (!(raw & LFQ_REC_TAIL_BITS) || READ_ONCE(*r->tail) != raw)
		return false;
	/* HOSTILE MEMORY: headers checked, one ring at most. */
	while (pos - t < size) {
		h = READ_ONCE(*lfq_rec_hdr_at(r, pos));
		if (lfq_rec_hdr_state(h, pos, order, max) <= 0)
			break;
		need = lfq_rec_size((u32)(h & LFQ_REC_LEN_MASK));
		if (need > size - (pos - t))
			break;
		if (!(h & LFQ_REC_RELEASED)) {
			/* The record a producer died overwriting. */
			if (pos != t || !(raw & LFQ_REC_TAIL_RECLAIM))
				break;
			*overwritten += !(h & LFQ_REC_DISCARD);
		}
		lfq_rec_zero(r->data + (pos & (size - 1)), need);
		pos += need;
		if (raw & LFQ_REC_TAIL_RECLAIM)
			break;
	}
	/* ORDERING rec-release: the zeroing before the tail (full barrier). */
	return try_cmpxchg(r->tail, &raw, pos);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_rec_ow_finish);

/**
 * lfq_rec_ow_released() - a file of an overwrite-mode record queue was
 * released: give up the tail it owned.
 * @q:		the queue.
 * @role:	the file's role.
 *
 * A consumer that held records gives tail back (the next consumer gets
 * them: at-least-once delivery across a consumer's death), and a release
 * it died in is finished. An SPSC producer, the only one, may have died
 * owning tail in an overwrite: it is finished. (MPSC producers' are
 * finished by the orphan scan, which knows from the claims whether the
 * owner is alive.)
 *
 * Context: process context, before the role is given back.
 */
void lfq_rec_ow_released(struct lfq_queue *q, u32 role)
{
	const struct lfq_ring_loc *r = &q->ring;
	u64 raw, n = 0;

	if (!r->records || !r->overwrite)
		return;
	/* ORDERING rec-reclaim: pairs with the owner's tail. */
	raw = smp_load_acquire(r->tail);
	if (((role & LFQ_ROLE_CONSUMER) && (raw & LFQ_REC_TAIL_HELD)) ||
	    ((role & LFQ_ROLE_PRODUCER) && q->hdr.type == LFQ_TYPE_SPSC &&
	     (raw & LFQ_REC_TAIL_RECLAIM)))
		lfq_rec_ow_finish(r, raw, &n);
	if (n)
		atomic64_add(n, &q->overwritten);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_rec_ow_released);

/**
 * lfq_rec_snapshot() - LFQ_IOC_SNAPSHOT: copy a record queue's committed
 * records to @buf without consuming them (struct lfq_snapshot).
 * @q:		the queue.
 * @buf:	the caller's buffer, 8-aligned.
 * @size:	its bytes.
 *
 * Each record's payload is copied, then its header read again: a record
 * taken meanwhile (overwritten, or consumed) is left out, so no copy in
 * @buf is torn (proto/lfq_rec.h, ORDERING rec-snapshot).
 *
 * Only in overwrite mode, where every taker owns tail or marks a record
 * before it zeroes the payload (the consumer of a plain record queue
 * does neither).
 *
 * Context: process context; may sleep (faults on @buf).
 * Return: bytes written, or -EOPNOTSUPP (not in overwrite mode), -EINVAL
 * (a misaligned @buf), -EFAULT, -EINTR (a fatal signal).
 */
long lfq_rec_snapshot(struct lfq_queue *q, void __user *buf, u64 size)
{
	u8 __user *out = buf;
	struct lfq_rec_ring ring;
	struct lfq_rec_snap s;
	u64 h, off = 0, need;
	const void *src;
	u32 len;

	if (!q->ring.overwrite)
		return -EOPNOTSUPP;
	if ((unsigned long)buf & 7)
		return -EINVAL;
	lfq_rec_ring_init(&ring, &q->ring);
	lfq_rec_snap_init(&s, &ring);
	for (;;) {
		src = lfq_rec_snap_next(&s, &h);
		if (!src && !s.paused)
			break;
		/* A ring's worth of headers at most; faults on @buf. */
		if (!src) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
			continue;
		}
		len = (u32)(h & LFQ_REC_LEN_MASK);
		need = lfq_rec_size(len);
		if (need > size - off)
			break;
		/*
		 * Producers may be writing there: the copy is checked below
		 * and dropped if the record changed under it.
		 */
		if (data_race(copy_to_user(out + off + LFQ_REC_HDR_SIZE, src,
					   len)))
			return -EFAULT;
		if (!lfq_rec_snap_check(&s, h))
			continue;
		if (put_user((u64)len, (u64 __user *)(out + off)))
			return -EFAULT;
		off += need;
	}
	return off;
}
