/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_rec_ow.h - the kernel's part in record queues' overwrite mode
 * (LFQ_CREATE_OVERWRITE) and in their snapshots: lfq_rec_ow.c.
 */
#ifndef _LFQ_CORE_REC_OW_H
#define _LFQ_CORE_REC_OW_H

#include <linux/types.h>

struct lfq_queue;
struct lfq_ring_loc;

void lfq_rec_ow_released(struct lfq_queue *q, u32 role);
bool lfq_rec_ow_finish(const struct lfq_ring_loc *r, u64 raw,
		       u64 *overwritten);
long lfq_rec_snapshot(struct lfq_queue *q, void __user *buf, u64 size);

#endif /* _LFQ_CORE_REC_OW_H */
