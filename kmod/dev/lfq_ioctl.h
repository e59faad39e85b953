/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_ioctl.h - one /dev/lfq ioctl call as its handler sees it, and the
 * handlers the dispatch table (lfq_ioctl.c) names: queue commands in
 * lfq_ioc_queue.c, names in lfq_names.c, event sources in
 * lfq_ioc_source.c.
 */
#ifndef _LFQ_DEV_IOCTL_H
#define _LFQ_DEV_IOCTL_H

#include <linux/fs.h>
#include <linux/types.h>

struct lfq_file;

/**
 * struct lfq_ioc - one ioctl call.
 * @file:	the /dev/lfq file.
 * @f:		its binding; NULL for commands that take an unbound file.
 * @uarg:	the argument as a user pointer.
 * @arg:	the argument as a value.
 * @karg:	the argument struct, copied in (with copy_struct_from_user()
 *		semantics) for commands that take one, or the zeroed result
 *		struct the dispatcher copies out for commands that return
 *		one.
 */
struct lfq_ioc {
	struct file *file;
	struct lfq_file *f;
	void __user *uarg;
	unsigned long arg;
	void *karg;
};

/* lfq_ioc_queue.c */
long lfq_ioc_create(struct lfq_ioc *io);
long lfq_ioc_info(struct lfq_ioc *io);
long lfq_ioc_stats(struct lfq_ioc *io);
long lfq_ioc_wait(struct lfq_ioc *io);
long lfq_ioc_wake(struct lfq_ioc *io);
long lfq_ioc_claim(struct lfq_ioc *io);
long lfq_ioc_grow(struct lfq_ioc *io);
long lfq_ioc_snapshot(struct lfq_ioc *io);

/* lfq_names.c */
long lfq_ioc_open(struct lfq_ioc *io);
long lfq_ioc_unlink(struct lfq_ioc *io);
long lfq_ioc_list(struct lfq_ioc *io);

/* lfq_ioc_source.c */
long lfq_ioc_source_attach(struct lfq_ioc *io);
long lfq_ioc_source_detach(struct lfq_ioc *io);

#endif /* _LFQ_DEV_IOCTL_H */
