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

/* A file's queue, or NULL while the file is unbound. */
static inline struct lfq_queue *lfq_file_queue(struct file *file)
{
	/* Pairs with the cmpxchg() binding the file in LFQ_IOC_CREATE. */
	return smp_load_acquire(&file->private_data);
}

bool lfq_file_is_lfq(const struct file *file);
int lfq_copy_arg(void *dst, size_t ksize, size_t min_size, void __user *uarg);
int lfq_copy_result(void __user *uarg, void *src, u32 ksize, size_t min_size);
int lfq_file_bind(struct file *file, struct lfq_queue *q);
void lfq_stats_read(struct lfq_queue *q, struct lfq_stats *st);
long lfq_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int lfq_mmap(struct file *file, struct vm_area_struct *vma);
__poll_t lfq_poll(struct file *file, poll_table *pt);

int lfq_wait(struct lfq_queue *q, u32 flags, u32 min_count, s64 timeout_ns,
	     u32 *available);
int lfq_wake(struct lfq_queue *q, u32 flags);

#endif /* _LFQ_DEV_H */
