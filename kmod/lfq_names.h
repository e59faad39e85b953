/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_names.h - named queues: the name registry, the permission check on
 * open, unlink, listing, and the debugfs view (lfq_names.c).
 */
#ifndef _LFQ_NAMES_H
#define _LFQ_NAMES_H

#include <linux/fs.h>
#include <linux/types.h>

#include "lfq_queue.h"

int lfq_name_check_create(const char *name, u32 mode, bool *named);
int lfq_name_link(struct lfq_queue *q, const char *name, u32 mode);
void lfq_name_unlink_queue(struct lfq_queue *q);

long lfq_ioctl_open(struct file *file, void __user *uarg);
long lfq_ioctl_unlink(void __user *uarg);
long lfq_ioctl_list(void __user *uarg);

void lfq_names_debugfs_init(void);
void lfq_names_debugfs_exit(void);

#endif /* _LFQ_NAMES_H */
