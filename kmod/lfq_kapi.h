/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_kapi.h - the in-kernel producer API: what other kernel code calls to
 * put records into an MPSC queue that a process (or kernel code) consumes.
 */
#ifndef _LFQ_KAPI_H
#define _LFQ_KAPI_H

#include <linux/types.h>

#include "lfq_mpsc.h"

struct lfq_queue;

void *lfq_queue_reserve(struct lfq_queue *q, u32 want,
			struct lfq_mpsc_resv *r);
void lfq_queue_commit(struct lfq_queue *q, const struct lfq_mpsc_resv *r);
void lfq_queue_discard(struct lfq_queue *q, const struct lfq_mpsc_resv *r);

#endif /* _LFQ_KAPI_H */
