/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_claims.h - MPSC crash safety: producers' claim records (registered
 * per file with LFQ_IOC_CLAIM, and the kernel producers' own), and the
 * scan that discards the slots a released producer left reserved.
 */
#ifndef _LFQ_CLAIMS_H
#define _LFQ_CLAIMS_H

#include <linux/types.h>

struct file;
struct lfq_attach;
struct lfq_mpsc_prod;
struct lfq_mpsc_resv;
struct lfq_queue;

int lfq_claims_init(struct lfq_queue *q);
void lfq_claims_destroy(struct lfq_queue *q);
long lfq_claims_ioctl(struct lfq_attach *a, void __user *uarg);
void lfq_claims_release(struct lfq_attach *a);

bool lfq_kclaim_get(struct lfq_queue *q, struct lfq_mpsc_prod *p,
		    struct lfq_mpsc_resv *r);
void lfq_kclaim_put(struct lfq_queue *q, const struct lfq_mpsc_resv *r);

#endif /* _LFQ_CLAIMS_H */
