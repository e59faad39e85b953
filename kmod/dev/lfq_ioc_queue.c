// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_ioc_queue.c - the ioctl commands on a queue itself: CREATE (a new
 * queue, anonymous or named, fixed or elastic, bound to the file), INFO,
 * STATS, WAIT, WAKE, CLAIM and GROW. The dispatcher (lfq_ioctl.c) has copied the argument in and
 * checked the file's binding and role; these check the values.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "core/lfq_cclaims.h"
#include "core/lfq_claims.h"
#include "core/lfq_queue.h"
#include "core/lfq_rec_ow.h"
#include "core/lfq_seg.h"
#include "core/lfq_wait.h"
#include "lfq_file.h"
#include "lfq_ioctl.h"
#include "lfq_names.h"

/**
 * lfq_ioc_create() - LFQ_IOC_CREATE: bind the file to a new queue.
 * @io:		the call; @io->karg is a struct lfq_create.
 *
 * Return: 0, or a negative errno (see struct lfq_create).
 */
long lfq_ioc_create(struct lfq_ioc *io)
{
	struct lfq_create *arg = io->karg;
	struct lfq_geometry g;
	struct lfq_queue *q;
	struct lfq_file *f;
	bool named;
	u32 role;
	int err;

	BUILD_BUG_ON(sizeof(*arg) != LFQ_CREATE_SIZE_VER2);
	if (arg->__reserved || (arg->role & ~LFQ_ROLE_ALL))
		return -EINVAL;
	err = lfq_name_check_create(arg->name, arg->mode, &named);
	if (err)
		return err;
	g = (struct lfq_geometry){
		.type		= arg->type,
		.flags		= arg->flags,
		.slot_size	= arg->slot_size,
		.slot_count	= arg->slot_count,
		.seg_min	= arg->seg_min,
		.seg_max	= arg->seg_max,
	};
	q = lfq_queue_create(&g);
	if (IS_ERR(q))
		return PTR_ERR(q);
	role = arg->role ? arg->role : LFQ_ROLE_ALL;
	/*
	 * Everything that can fail before the name is linked: once it is,
	 * others may attach at once, and the creator's role must be taken.
	 */
	err = lfq_queue_admit(q, role);
	if (err)
		goto put;
	f = lfq_file_new(q, role);
	if (!f) {
		err = -ENOMEM;
		goto leave;
	}
	if (named) {
		err = lfq_name_link(q, arg->name, arg->mode);
		if (err) {
			kfree(f);
			goto leave;
		}
	}
	/* Fails only if another thread bound this file meanwhile. */
	err = lfq_file_publish(io->file, f);
	if (!err)
		return 0;
	if (named)
		lfq_name_unlink_queue(q);
leave:
	lfq_queue_leave(q, role);
put:
	lfq_queue_put(q);
	return err;
}

/**
 * lfq_ioc_info() - LFQ_IOC_INFO: the queue's geometry and map layout.
 * @io:		the call; @io->karg is the struct lfq_info to fill.
 *
 * Return: 0.
 */
long lfq_ioc_info(struct lfq_ioc *io)
{
	struct lfq_queue *q = io->f->q;

	*(struct lfq_info *)io->karg = (struct lfq_info) {
		.role		= io->f->role,
		.wake_mode	= q->hdr.wake_mode,
		.flags		= q->hdr.flags,
		.type		= q->hdr.type,
		.slot_size	= q->hdr.slot_size,
		.slot_count	= q->hdr.slot_count,
		.id		= q->id,
		.map_size	= q->layout.map_size,
		.hdr_offset	= q->layout.hdr_offset,
		.prod_offset	= q->layout.prod_offset,
		.cons_offset	= q->layout.cons_offset,
		.data_offset	= q->layout.data_offset,
		.data_size	= q->layout.data_size,
		.commit_offset	= q->layout.commit_offset,
		.commit_size	= q->layout.commit_size,
		.seg_min	= q->hdr.seg_min,
		.seg_max	= q->hdr.seg_max,
		.segtab_offset	= q->layout.segtab_offset,
		.heads_offset	= q->layout.heads_offset,
		.tails_offset	= q->layout.tails_offset,
		.frames_offset	= q->layout.frames_offset,
		.frame_size	= q->layout.frame_size,
	};
	return 0;
}

/**
 * lfq_ioc_stats() - LFQ_IOC_STATS: the queue's counters.
 * @io:		the call; @io->karg is the struct lfq_stats to fill.
 *
 * Return: 0.
 */
long lfq_ioc_stats(struct lfq_ioc *io)
{
	lfq_queue_stats(io->f->q, io->karg);
	return 0;
}

/**
 * lfq_ioc_wait() - LFQ_IOC_WAIT: sleep until the ring is ready.
 * @io:		the call; @io->karg is a struct lfq_wait.
 *
 * Return: as lfq_queue_wait(), or -EINVAL for bad values, -EFAULT when
 * the count cannot be written back.
 */
long lfq_ioc_wait(struct lfq_ioc *io)
{
	struct lfq_wait *arg = io->karg;
	struct lfq_queue *q = io->f->q;
	u32 available = 0;
	int err;

	if (arg->__reserved ||
	    (arg->flags != LFQ_WAIT_DATA && arg->flags != LFQ_WAIT_SPACE) ||
	    !arg->min_count || arg->min_count > q->hdr.slot_count)
		return -EINVAL;
	err = lfq_queue_wait(q, arg->flags, arg->min_count, arg->timeout_ns,
			     &available);
	/* Report the count on success and on timeout alike. */
	if (put_user((u64)available,
		     &((struct lfq_wait __user *)io->uarg)->available))
		return -EFAULT;
	return err;
}

/**
 * lfq_ioc_wake() - LFQ_IOC_WAKE: wake sleepers after publishing.
 * @io:		the call; @io->arg is LFQ_WAKE_* bits.
 *
 * Return: as lfq_queue_wake(); -EINVAL above U32_MAX.
 */
long lfq_ioc_wake(struct lfq_ioc *io)
{
	if (io->arg > U32_MAX)
		return -EINVAL;
	return lfq_queue_wake(io->f->q, io->arg);
}

/**
 * lfq_ioc_claim() - LFQ_IOC_CLAIM: register or free a claim record.
 * @io:		the call; @io->karg is a struct lfq_claim. A producer claim
 *		needs the producer role, a consumer claim (MPMC) the
 *		consumer role.
 *
 * Return: 0, or the errors listed at struct lfq_claim.
 */
long lfq_ioc_claim(struct lfq_ioc *io)
{
	struct lfq_claim *arg = io->karg;
	struct lfq_file *f = io->f;
	bool cons = arg->flags & LFQ_CLAIM_CONSUMER;
	int i;

	/* The role first, as the dispatcher checks it for other calls. */
	if (!(f->role & (cons ? LFQ_ROLE_CONSUMER : LFQ_ROLE_PRODUCER)))
		return -EPERM;
	if (arg->__reserved || (arg->flags & ~LFQ_CLAIM_FLAGS_ALL))
		return -EINVAL;
	if (cons && f->q->hdr.type != LFQ_TYPE_MPMC)
		return -EINVAL;
	if (arg->flags & LFQ_CLAIM_FREE)
		return cons ? lfq_cclaim_unregister(f->q, f->cclaims,
						    arg->index) :
			      lfq_claim_unregister(f->q, f->claims,
						   arg->index);
	i = cons ? lfq_cclaim_register(f->q, f->cclaims) :
		   lfq_claim_register(f->q, f->claims);
	if (i < 0)
		return i;
	if (put_user(i, &((struct lfq_claim __user *)io->uarg)->index)) {
		if (cons)
			lfq_cclaim_unregister(f->q, f->cclaims, i);
		else
			lfq_claim_unregister(f->q, f->claims, i);
		return -EFAULT;
	}
	return 0;
}

/**
 * lfq_ioc_grow() - LFQ_IOC_GROW: an elastic queue's producer found its
 * segment full.
 * @io:		the call; @io->arg is the frame; the file is a producer.
 *
 * Return: as lfq_seg_grow_frame(); -EINVAL above U32_MAX.
 */
long lfq_ioc_grow(struct lfq_ioc *io)
{
	if (io->arg > U32_MAX)
		return -EINVAL;
	return lfq_seg_grow_frame(io->f->q, io->arg);
}

/**
 * lfq_ioc_snapshot() - LFQ_IOC_SNAPSHOT: copy a record queue's records
 * without consuming them.
 * @io:		the call; @io->karg is a struct lfq_snapshot.
 *
 * Return: bytes written, or the errors listed at struct lfq_snapshot.
 */
long lfq_ioc_snapshot(struct lfq_ioc *io)
{
	struct lfq_snapshot *arg = io->karg;

	BUILD_BUG_ON(sizeof(*arg) != LFQ_SNAPSHOT_SIZE_VER0);
	if (arg->flags)
		return -EINVAL;
	return lfq_rec_snapshot(io->f->q, u64_to_user_ptr(arg->buf),
				arg->buf_size);
}
