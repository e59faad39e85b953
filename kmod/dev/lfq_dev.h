/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_dev.h - the /dev/lfq misc device (lfq_dev.c) and the file
 * operations it is made of, each in the file of its concept: ioctl
 * (lfq_ioctl.c), mmap (lfq_mmap.c), poll (lfq_poll.c).
 */
#ifndef _LFQ_DEV_DEV_H
#define _LFQ_DEV_DEV_H

#include <linux/fs.h>
#include <linux/poll.h>

bool lfq_file_is_lfq(const struct file *file);

long lfq_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int lfq_mmap(struct file *file, struct vm_area_struct *vma);
__poll_t lfq_poll(struct file *file, poll_table *pt);

#endif /* _LFQ_DEV_DEV_H */
