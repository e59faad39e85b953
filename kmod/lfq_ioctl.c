// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_ioctl.c - the /dev/lfq ioctl commands: argument copying with
 * copy_struct_from_user() semantics, validation, and dispatch.
 *
 * Errors: -ENOTTY unknown command; -EFAULT bad pointer; -EINVAL a size
 * below the first version, unknown flags, non-zero reserved fields or bad
 * values; -E2BIG a newer struct with non-zero bytes this kernel does not
 * know; -EBADFD the file has no queue yet (or, for CREATE and OPEN, -EBUSY
 * it has one already). Event sources and names add their own (see struct
 * lfq_source, lfq_open, lfq_unlink and lfq_list).
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lfq.h"
#include "lfq_claims.h"
#include "lfq_dev.h"
#include "lfq_names.h"
#include "lfq_source.h"
#include "lfq_spsc.h"

/* Read a size-tagged argument struct into @dst (@ksize bytes). */
int lfq_copy_arg(void *dst, size_t ksize, size_t min_size,
		 void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

/*
 * Write an output struct back: as many bytes as the caller can take, with
 * ->size (the first u32) telling how many the kernel knows.
 */
int lfq_copy_result(void __user *uarg, void *src, u32 ksize, size_t min_size)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	*(u32 *)src = ksize;
	if (copy_to_user(uarg, src, min_t(u32, usize, ksize)))
		return -EFAULT;
	return 0;
}

/* A new attachment of @q in @role (granted by lfq_queue_admit()). */
static struct lfq_attach *lfq_attach_new(struct lfq_queue *q, u32 role)
{
	struct lfq_attach *a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);

	if (a) {
		a->q = q;
		a->role = role;
	}
	return a;
}

/* Publish @a as @file's attachment; -EBUSY (and @a freed) if bound. */
static int lfq_attach_publish(struct file *file, struct lfq_attach *a)
{
	/* Counted first: the file's release may follow the bind at once. */
	atomic_inc(&a->q->files);
	/* Bind once; pairs with the acquire in lfq_file_attach(). */
	if (cmpxchg(&file->private_data, NULL, a)) {
		atomic_dec(&a->q->files);
		kfree(a);
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
	struct lfq_attach *a;
	int err;

	err = lfq_queue_admit(q, role);
	if (err)
		return err;
	a = lfq_attach_new(q, role);
	err = a ? lfq_attach_publish(file, a) : -ENOMEM;
	if (err)
		lfq_queue_leave(q, role);
	return err;
}

static long lfq_ioctl_create(struct file *file, void __user *uarg)
{
	struct lfq_queue_params params;
	struct lfq_create arg;
	struct lfq_attach *a;
	struct lfq_queue *q;
	bool named;
	u32 role;
	int err;

	BUILD_BUG_ON(sizeof(arg) != LFQ_CREATE_SIZE_VER1);
	if (lfq_file_queue(file))
		return -EBUSY;
	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_CREATE_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.__reserved || (arg.role & ~LFQ_ROLE_ALL))
		return -EINVAL;
	err = lfq_name_check_create(arg.name, arg.mode, &named);
	if (err)
		return err;
	params.type = arg.type;
	params.flags = arg.flags;
	params.slot_size = arg.slot_size;
	params.slot_count = arg.slot_count;
	q = lfq_queue_create(&params);
	if (IS_ERR(q))
		return PTR_ERR(q);
	role = arg.role ? arg.role : LFQ_ROLE_ALL;
	/*
	 * Everything that can fail before the name is linked: once it is,
	 * others may attach at once, and the creator's role must be taken.
	 */
	err = lfq_queue_admit(q, role);
	if (err)
		goto put;
	a = lfq_attach_new(q, role);
	if (!a) {
		err = -ENOMEM;
		goto leave;
	}
	if (named) {
		err = lfq_name_link(q, arg.name, arg.mode);
		if (err) {
			kfree(a);
			goto leave;
		}
	}
	/* Fails only if another thread bound this file meanwhile. */
	err = lfq_attach_publish(file, a);
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

static long lfq_ioctl_info(struct lfq_queue *q, u32 role, void __user *uarg)
{
	struct lfq_info info = {
		.role		= role,
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
	};

	return lfq_copy_result(uarg, &info, sizeof(info), LFQ_INFO_SIZE_VER0);
}

static long lfq_ioctl_wait(struct lfq_queue *q, void __user *uarg)
{
	struct lfq_wait arg;
	u32 available = 0;
	int err;

	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_WAIT_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.__reserved ||
	    (arg.flags != LFQ_WAIT_DATA && arg.flags != LFQ_WAIT_SPACE) ||
	    !arg.min_count || arg.min_count > q->hdr.slot_count)
		return -EINVAL;
	err = lfq_wait(q, arg.flags, arg.min_count, arg.timeout_ns,
		       &available);
	/* Report the count on success and on timeout alike. */
	if (put_user((u64)available, &((struct lfq_wait __user *)uarg)->available))
		return -EFAULT;
	return err;
}

/**
 * lfq_stats_read() - a queue's counters.
 * @q:		the queue (referenced, or under RCU).
 * @st:		filled in; ->size and ->__reserved are zeroed.
 */
void lfq_stats_read(struct lfq_queue *q, struct lfq_stats *st)
{
	/* The first four live in user-writable pages: reported as found. */
	*st = (struct lfq_stats) {
		.produced	= READ_ONCE(q->prod->head),
		.consumed	= READ_ONCE(q->cons->tail),
		.full_events	= READ_ONCE(q->prod->full_events),
		.empty_events	= READ_ONCE(q->cons->empty_events),
		.wakeups	= atomic64_read(&q->wakeups),
		.wake_calls	= atomic64_read(&q->wake_calls),
		.waits		= atomic64_read(&q->waits),
		.dropped	= atomic64_read(&q->dropped),
		.orphaned	= atomic64_read(&q->orphaned),
	};
}

static long lfq_ioctl_stats(struct lfq_queue *q, void __user *uarg)
{
	struct lfq_stats st;

	lfq_stats_read(q, &st);
	return lfq_copy_result(uarg, &st, sizeof(st), LFQ_STATS_SIZE_VER0);
}

long lfq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct lfq_queue *q;

	switch (cmd) {
	case LFQ_IOC_CREATE:
		return lfq_ioctl_create(file, uarg);
	case LFQ_IOC_OPEN:
		return lfq_ioctl_open(file, uarg);
	case LFQ_IOC_UNLINK:
		return lfq_ioctl_unlink(uarg);
	case LFQ_IOC_LIST:
		return lfq_ioctl_list(uarg);
	}

	switch (cmd) {
	case LFQ_IOC_INFO:
	case LFQ_IOC_WAIT:
	case LFQ_IOC_WAKE:
	case LFQ_IOC_STATS:
	case LFQ_IOC_SOURCE_ATTACH:
	case LFQ_IOC_SOURCE_DETACH:
	case LFQ_IOC_CLAIM:
		break;
	default:
		return -ENOTTY;
	}
	q = lfq_file_queue(file);
	if (!q)
		return -EBADFD;

	switch (cmd) {
	case LFQ_IOC_INFO:
		return lfq_ioctl_info(q, lfq_file_role(file), uarg);
	case LFQ_IOC_WAIT:
		return lfq_ioctl_wait(q, uarg);
	case LFQ_IOC_WAKE:
		if (arg > U32_MAX)
			return -EINVAL;
		return lfq_wake(q, arg);
	case LFQ_IOC_SOURCE_ATTACH:
		return lfq_source_attach(file, q, uarg);
	case LFQ_IOC_SOURCE_DETACH:
		return lfq_source_detach(file, q, arg);
	case LFQ_IOC_CLAIM:
		return lfq_claims_ioctl(lfq_file_attach(file), uarg);
	default:
		return lfq_ioctl_stats(q, uarg);
	}
}
