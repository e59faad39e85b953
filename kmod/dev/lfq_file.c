// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_file.c - binding an open /dev/lfq file to a queue, once, in a role
 * (LFQ_IOC_CREATE binds it to a new queue, LFQ_IOC_OPEN to a named one),
 * and undoing everything the file held when it is released: its event
 * sources, its claims (the orphan scan discards what it left reserved),
 * its role and its reference on the queue.
 */
#include <linux/slab.h>

#include "core/lfq_cclaims.h"
#include "core/lfq_claims.h"
#include "core/lfq_queue.h"
#include "core/lfq_rec_ow.h"
#include "core/lfq_seg.h"
#include "lfq_file.h"
#include "sources/lfq_source.h"

/**
 * lfq_file_new() - a binding of @q in @role, not yet published.
 * @q:		the queue; the caller's reference passes to the binding when
 *		it is published.
 * @role:	roles granted by lfq_queue_admit().
 *
 * Return: the binding, or NULL when out of memory.
 */
struct lfq_file *lfq_file_new(struct lfq_queue *q, u32 role)
{
	struct lfq_file *f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);

	if (f) {
		f->q = q;
		f->role = role;
	}
	return f;
}

/**
 * lfq_file_publish() - make @f @file's binding.
 * @file:	an open /dev/lfq file.
 * @f:		from lfq_file_new(); freed on failure.
 *
 * Return: 0, or -EBUSY if @file was bound meanwhile.
 */
int lfq_file_publish(struct file *file, struct lfq_file *f)
{
	bool bound;

	/* Counted first: the file's release may follow the bind at once. */
	atomic_inc(&f->q->files);
	/* Two binds of one file serialise here: the first one wins. */
	spin_lock(&file->f_lock);
	bound = file->private_data;
	if (!bound) {
		/*
		 * An elastic queue's mappings live in the queue's own
		 * address_space, so a segment's frame can be zapped from all
		 * of them: set before the binding is seen, hence before any
		 * mmap() of the file can link a mapping.
		 */
		if (f->q->el)
			file->f_mapping = lfq_seg_mapping(f->q->el);
		/* ORDERING file-bind. */
		smp_store_release(&file->private_data, f);
	}
	spin_unlock(&file->f_lock);
	if (bound) {
		atomic_dec(&f->q->files);
		kfree(f);
		return -EBUSY;
	}
	return 0;
}

/**
 * lfq_file_bind() - bind an unbound /dev/lfq file to a queue in a role.
 * @file:	the file.
 * @q:		the queue; the caller's reference passes to the file.
 * @role:	LFQ_ROLE_* bits, at least one.
 *
 * Return: 0, or -EBUSY when the file is bound already or the queue has
 * no room for the role (the reference then stays the caller's), -ENOMEM.
 */
int lfq_file_bind(struct file *file, struct lfq_queue *q, u32 role)
{
	struct lfq_file *f;
	int err;

	err = lfq_queue_admit(q, role);
	if (err)
		return err;
	f = lfq_file_new(q, role);
	err = f ? lfq_file_publish(file, f) : -ENOMEM;
	if (err)
		lfq_queue_leave(q, role);
	return err;
}

/**
 * lfq_file_release() - the file is gone (last close and last munmap).
 * @file:	the file, bound or not.
 */
void lfq_file_release(struct file *file)
{
	struct lfq_file *f = lfq_file_get(file);

	if (!f)
		return;
	lfq_src_release(f->q, file);
	/* Its reservations, if it died holding any, are discarded. */
	lfq_claims_drop(f->q, f->claims);
	/* What its MPMC claim held and it did not release is released. */
	lfq_cclaims_drop(f->q, f->cclaims);
	/* Overwrite mode: what it held or was taking goes back. */
	lfq_rec_ow_released(f->q, f->role);
	/* The role is free again: a new consumer may attach. */
	lfq_queue_leave(f->q, f->role);
	atomic_dec(&f->q->files);
	lfq_queue_put(f->q);
	kfree(f);
}
