/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_debugfs.h - /sys/kernel/debug/lfq (lfq_debugfs.c).
 */
#ifndef _LFQ_DEV_DEBUGFS_H
#define _LFQ_DEV_DEBUGFS_H

void lfq_debugfs_init(void);
void lfq_debugfs_exit(void);

#endif /* _LFQ_DEV_DEBUGFS_H */
