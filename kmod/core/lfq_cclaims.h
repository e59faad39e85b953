/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_cclaims.h - MPMC consumer crash safety (lfq_cclaims.c): consumers'
 * claim records (processes' in the consumer page, kernel consumers' in
 * kernel memory), and the recovery that releases what a dead consumer's
 * last claim still held.
 */
#ifndef _LFQ_CORE_CCLAIMS_H
#define _LFQ_CORE_CCLAIMS_H

#include <linux/types.h>

struct lfq_mpsc_claim;
struct lfq_queue;

/* In-kernel consumers one MPMC queue admits (a claim record each). */
#define LFQ_MPMC_KCLAIMS	32

int lfq_cclaims_init(struct lfq_queue *q);
void lfq_cclaims_destroy(struct lfq_queue *q);

int lfq_cclaim_register(struct lfq_queue *q, unsigned long *held);
int lfq_cclaim_unregister(struct lfq_queue *q, unsigned long *held,
			  u32 index);
void lfq_cclaims_drop(struct lfq_queue *q, unsigned long *held);
void lfq_cclaims_flush(struct lfq_queue *q);

struct lfq_mpsc_claim *lfq_cclaim_kernel_get(struct lfq_queue *q);
void lfq_cclaim_kernel_put(struct lfq_queue *q, struct lfq_mpsc_claim *rec);

#endif /* _LFQ_CORE_CCLAIMS_H */
