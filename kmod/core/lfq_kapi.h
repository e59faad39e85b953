/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_kapi.h - the in-kernel API: what other kernel code calls to put
 * records into an MPSC or MPMC queue that a process (or kernel code)
 * consumes (lfq_kapi.c), and to consume a queue that processes produce
 * into (lfq_kconsumer.c).
 */
#ifndef _LFQ_CORE_KAPI_H
#define _LFQ_CORE_KAPI_H

#include <linux/types.h>

#include "proto/lfq_mpmc.h"
#include "proto/lfq_mpsc.h"
#include "proto/lfq_ready.h"
#include "proto/lfq_rec.h"
#include "proto/lfq_rec_mpmc.h"
#include "proto/lfq_spsc.h"

struct lfq_queue;
struct lfq_seg;

/**
 * struct lfq_consumer - an in-kernel consumer of one queue.
 * @q:		the queue; the caller holds a reference.
 * @seg:	an elastic queue: the segment being read (struct lfq_seg).
 * @spsc:	the protocol handle, for an SPSC queue.
 * @mpsc:	the protocol handle, for an MPSC queue.
 * @mpmc:	for an MPMC queue: the protocol handle (its claim record in
 *		kernel memory) and the claim it holds.
 * @rec:	the protocol handle, for an SPSC or MPSC record queue.
 * @rmpmc:	the protocol handle, for an MPMC record queue (its claim
 *		record in kernel memory; the record it holds).
 * @spin_max:	readiness checks lfq_consumer_wait() may spin before it
 *		sleeps (lfq_consumer_set_spin()).
 * @spin_now:	the next wait's, adapted below @spin_max (lfq_spin_next()).
 *
 * An SPSC or MPSC queue has one consumer: while kernel code consumes it,
 * the process that created it must not. If it does anyway, records are
 * lost or seen twice, but the kernel never reads outside the queue. An
 * MPMC queue shares its records between any number of consumers, kernel
 * and processes, each record going to one of them.
 */
struct lfq_consumer {
	struct lfq_queue *q;
	struct lfq_seg *seg;
	union {
		struct lfq_spsc_cons spsc;
		struct lfq_mpsc_cons mpsc;
		struct {
			struct lfq_mpmc_cons view;
			struct lfq_mpmc_hold hold;
		} mpmc;
		struct lfq_rec_cons rec;
		struct lfq_rec_mcons rmpmc;
	};
	u32 spin_max;
	u32 spin_now;
};

void lfq_consumer_set_spin(struct lfq_consumer *c, u32 spins);
const void *lfq_consumer_rec_peek(struct lfq_consumer *c, u32 *len);
void lfq_consumer_rec_release(struct lfq_consumer *c);
int lfq_consumer_rec_consume(struct lfq_consumer *c, u32 max,
			     int (*fn)(void *ctx, const void *rec, u32 len),
			     void *ctx);

void *lfq_queue_reserve(struct lfq_queue *q, u32 want,
			struct lfq_mpsc_resv *r);
void lfq_queue_commit(struct lfq_queue *q, const struct lfq_mpsc_resv *r);
void lfq_queue_discard(struct lfq_queue *q, const struct lfq_mpsc_resv *r);

/**
 * struct lfq_rec_kresv - a kernel producer's record, reserved in a record
 * queue (LFQ_CREATE_RECORDS) until its commit or discard.
 * @resv:	where it is and its length (0: nothing reserved).
 * @claim:	the kernel claim it holds (crash safety of the others).
 * @seg:	an elastic queue: the segment it is in (struct lfq_seg);
 *		else NULL.
 */
struct lfq_rec_kresv {
	struct lfq_rec_resv resv;
	u32 claim;
	void *seg;
};

void *lfq_queue_rec_reserve(struct lfq_queue *q, u32 len,
			    struct lfq_rec_kresv *r);
void lfq_queue_rec_commit(struct lfq_queue *q, struct lfq_rec_kresv *r);
void lfq_queue_rec_discard(struct lfq_queue *q, struct lfq_rec_kresv *r);

int lfq_consumer_init(struct lfq_consumer *c, struct lfq_queue *q);
void lfq_consumer_fini(struct lfq_consumer *c);
const void *lfq_consumer_peek(struct lfq_consumer *c, u32 want, u32 *got);
bool lfq_consumer_intact(struct lfq_consumer *c, u32 k);
void lfq_consumer_release(struct lfq_consumer *c, u32 n);
int lfq_consumer_wait(struct lfq_consumer *c, u32 min_count, s64 timeout_ns);

#endif /* _LFQ_CORE_KAPI_H */
