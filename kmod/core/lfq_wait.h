/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_wait.h - the kernel half of the wakeup handshake (lfq_wait.c):
 * readiness of a queue for a waiter, sleeping until ready, and waking
 * sleepers for producers and consumers in any context.
 */
#ifndef _LFQ_CORE_WAIT_H
#define _LFQ_CORE_WAIT_H

#include <linux/irq_work.h>
#include <linux/types.h>

struct lfq_geometry;
struct lfq_queue;

u32 lfq_wake_mode_new(const struct lfq_geometry *g);

bool lfq_queue_ready(struct lfq_queue *q, u32 flags, u32 min_count,
		     bool arm, u32 *available);
int lfq_queue_wait(struct lfq_queue *q, u32 flags, u32 min_count,
		   s64 timeout_ns, u32 *available);
int lfq_queue_wake(struct lfq_queue *q, u32 flags);
void lfq_queue_wake_producers(struct lfq_queue *q);
void lfq_queue_wake_work(struct irq_work *work);
void lfq_queue_space_work(struct irq_work *work);

#endif /* _LFQ_CORE_WAIT_H */
