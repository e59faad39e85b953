/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_claims.h - MPSC crash safety (lfq_claims.c): producers' claim
 * records (registered by processes, and the kernel producers' own), and
 * the scan that discards the slots a dead producer left reserved.
 */
#ifndef _LFQ_CORE_CLAIMS_H
#define _LFQ_CORE_CLAIMS_H

#include <linux/types.h>

struct lfq_mpsc_prod;
struct lfq_mpsc_resv;
struct lfq_queue;

int lfq_claims_init(struct lfq_queue *q);
void lfq_claims_destroy(struct lfq_queue *q);

int lfq_claim_register(struct lfq_queue *q, unsigned long *held);
int lfq_claim_unregister(struct lfq_queue *q, unsigned long *held,
			 u32 index);
void lfq_claims_drop(struct lfq_queue *q, unsigned long *held);
void lfq_claims_flush(struct lfq_queue *q);

bool lfq_kclaim_get(struct lfq_queue *q, struct lfq_mpsc_prod *p,
		    struct lfq_mpsc_resv *r);
void lfq_kclaim_put(struct lfq_queue *q, const struct lfq_mpsc_resv *r);
struct lfq_mpsc_claim *lfq_kclaim_take(struct lfq_queue *q, u32 *index);
void lfq_kclaim_give(struct lfq_queue *q, u32 index);

/**
 * struct lfq_kguard - what lfq_kclaims_lap_guard() is asked with.
 * @q:		the record queue.
 * @self:	the asking producer's kernel claim (its own range is skipped).
 * @base:	where the ring asked about begins its life: 0, or an elastic
 *		segment's base (records held in older segments are in other
 *		memory, and skipped).
 */
struct lfq_kguard {
	struct lfq_queue *q;
	u32 self;
	u64 base;
};

void lfq_kclaim_unmark(struct lfq_queue *q, u32 index);
int lfq_kclaims_lap_guard(void *ctx, u64 start, u64 end);

#endif /* _LFQ_CORE_CLAIMS_H */
