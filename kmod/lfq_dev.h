/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_dev.h - what the /dev/lfq file operations share: how a file is bound
 * to its queue, and the handlers each file implements.
 */
#ifndef _LFQ_DEV_H
#define _LFQ_DEV_H

#include <linux/fs.h>
#include <linux/poll.h>

#include "lfq_queue.h"

/**
 * struct lfq_attach - what binds a /dev/lfq file to its queue, set once.
 * @q:		the queue; the file holds a reference on it.
 * @role:	LFQ_ROLE_* the file was admitted with (lfq_queue_admit()).
 * @claims:	MPSC claims the file registered (lfq_claims.c; under the
 *		queue's claims lock).
 *
 * file->private_data is NULL while the file is unbound, then points to
 * its attachment until the file is released.
 */
struct lfq_attach {
	struct lfq_queue *q;
	u32 role;
	DECLARE_BITMAP(claims, LFQ_MPSC_CLAIMS);
};

/* A file's attachment, or NULL while the file is unbound. */
static inline struct lfq_attach *lfq_file_attach(struct file *file)
{
	/* Pairs with the cmpxchg() publishing it in lfq_attach_publish(). */
	return smp_load_acquire(&file->private_data);
}

/* A file's queue, or NULL while the file is unbound. */
static inline struct lfq_queue *lfq_file_queue(struct file *file)
{
	struct lfq_attach *a = lfq_file_attach(file);

	return a ? a->q : NULL;
}

/* A bound file's role. */
static inline u32 lfq_file_role(struct file *file)
{
	return lfq_file_attach(file)->role;
}

bool lfq_file_is_lfq(const struct file *file);
int lfq_copy_arg(void *dst, size_t ksize, size_t min_size, void __user *uarg);
int lfq_copy_result(void __user *uarg, void *src, u32 ksize, size_t min_size);
int lfq_file_bind(struct file *file, struct lfq_queue *q, u32 role);
void lfq_stats_read(struct lfq_queue *q, struct lfq_stats *st);
long lfq_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int lfq_mmap(struct file *file, struct vm_area_struct *vma);
__poll_t lfq_poll(struct file *file, poll_table *pt);

int lfq_wait(struct lfq_queue *q, u32 flags, u32 min_count, s64 timeout_ns,
	     u32 *available);
int lfq_wake(struct lfq_queue *q, u32 flags);

#endif /* _LFQ_DEV_H */
