// SPDX-License-Identifier: MIT
/*
 * peer_wfcqueue.c - liburcu's wait-free concurrent queue (wfcqueue) as a
 * bench peer. It is an unbounded intrusive list: each message is a heap
 * node the producer allocates and the consumer frees, as wfcqueue users
 * do. So that every peer holds the same number of messages, an in-flight
 * counter stops producers at @slots (one atomic add per batch on each
 * side). The consumer is the only dequeuer, so the "__" (externally
 * synchronised) dequeue is the right one.
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <urcu/wfcqueue.h>

#include "peers.h"

struct wfcq_msg {
	struct cds_wfcq_node node;
	uint64_t w[];
};

struct peer_queue {
	struct __cds_wfcq_head head __attribute__((aligned(128)));
	struct cds_wfcq_tail tail __attribute__((aligned(128)));
	_Atomic int64_t inflight __attribute__((aligned(128)));
	int64_t limit;
	uint32_t slot_size;
};

struct wfcq_handle {
	struct peer_queue *pq;
};

static int wfcq_create(struct peer_queue **out, uint32_t slot_size,
		       uint32_t slots, unsigned int producers, int mpsc)
{
	struct peer_queue *pq = aligned_alloc(128, sizeof(*pq));

	(void)producers;
	(void)mpsc;
	if (!pq)
		return -ENOMEM;
	__cds_wfcq_init(&pq->head, &pq->tail);
	atomic_init(&pq->inflight, 0);
	pq->limit = slots;
	pq->slot_size = slot_size;
	*out = pq;
	return 0;
}

static void wfcq_destroy(struct peer_queue *pq)
{
	struct cds_wfcq_node *n;

	while ((n = __cds_wfcq_dequeue_blocking(&pq->head, &pq->tail)))
		free(caa_container_of(n, struct wfcq_msg, node));
	free(pq);
}

static void *wfcq_handle(struct peer_queue *pq, unsigned int i)
{
	struct wfcq_handle *h = malloc(sizeof(*h));

	(void)i;
	if (h)
		h->pq = pq;
	return h;
}

static void *wfcq_consumer(struct peer_queue *pq)
{
	return wfcq_handle(pq, 0);
}

static unsigned int wfcq_push(void *hp, uint64_t tag, unsigned int n)
{
	struct peer_queue *pq = ((struct wfcq_handle *)hp)->pq;
	int64_t before = atomic_fetch_add_explicit(&pq->inflight, n,
						   memory_order_relaxed);
	int64_t room = pq->limit - before;
	unsigned int i, want = room <= 0 ? 0 :
			       room < (int64_t)n ? (unsigned int)room : n;

	for (i = 0; i < want; i++) {
		struct wfcq_msg *m = malloc(sizeof(*m) + pq->slot_size);

		if (!m)
			break;
		cds_wfcq_node_init(&m->node);
		msg_fill(m->w, pq->slot_size, tag + i);
		cds_wfcq_enqueue((cds_wfcq_head_ptr_t)&pq->head, &pq->tail,
				 &m->node);
	}
	if (i < n)	/* give back what was counted but not enqueued */
		atomic_fetch_sub_explicit(&pq->inflight, n - i,
					  memory_order_relaxed);
	return i;
}

static unsigned int wfcq_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct peer_queue *pq = ((struct wfcq_handle *)hp)->pq;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct cds_wfcq_node *node;
		struct wfcq_msg *m;

		node = __cds_wfcq_dequeue_nonblocking(&pq->head, &pq->tail);
		if (!node || node == CDS_WFCQ_WOULDBLOCK)
			break;
		m = caa_container_of(node, struct wfcq_msg, node);
		tags[i] = msg_tag(m->w, pq->slot_size);
		free(m);
	}
	if (i)
		atomic_fetch_sub_explicit(&pq->inflight, i, memory_order_relaxed);
	return i;
}

const struct peer peer_wfcqueue = {
	.name = "wfcqueue",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = wfcq_create,
	.destroy = wfcq_destroy,
	.producer = wfcq_handle,
	.consumer = wfcq_consumer,
	.push = wfcq_push,
	.pop = wfcq_pop,
};
