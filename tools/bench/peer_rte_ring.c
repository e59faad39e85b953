// SPDX-License-Identifier: MIT
/*
 * peer_rte_ring.c - DPDK's rte_ring as a bench peer, two ways: the element
 * API (messages copied in and out by burst) and the zero-copy API
 * (rte_ring_*_zc_*: written and read in the ring). SP/SC for one producer,
 * MP/SC for several. The ring lives in ordinary memory (rte_ring_init), so
 * no EAL or hugepages are needed. Like ck_ring, it holds @slots - 1.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include "peers.h"

struct peer_queue {
	struct rte_ring *r;
	uint32_t slot_size;
};

struct rte_handle {
	struct rte_ring *r;
	uint32_t slot_size;
	unsigned char buf[PEER_BATCH_MAX * PEER_SLOT_MAX];
};

static int rte_create(struct peer_queue **out, uint32_t slot_size,
		      uint32_t slots, unsigned int producers, int mpsc)
{
	unsigned int flags = RING_F_SC_DEQ | (mpsc ? 0 : RING_F_SP_ENQ);
	ssize_t sz = rte_ring_get_memsize_elem(slot_size, slots);
	struct peer_queue *pq;
	int rc;

	(void)producers;
	if (sz < 0)
		return (int)sz;
	pq = malloc(sizeof(*pq));
	if (!pq)
		return -ENOMEM;
	if (posix_memalign((void **)&pq->r, 128, (size_t)sz)) {
		free(pq);
		return -ENOMEM;
	}
	rc = rte_ring_init(pq->r, "bench", slots, flags);
	if (rc) {
		free(pq->r);
		free(pq);
		return rc;
	}
	pq->slot_size = slot_size;
	*out = pq;
	return 0;
}

static void rte_destroy(struct peer_queue *pq)
{
	free(pq->r);
	free(pq);
}

static void *rte_handle(struct peer_queue *pq)
{
	struct rte_handle *h = aligned_alloc(64, sizeof(*h));

	if (h) {
		h->r = pq->r;
		h->slot_size = pq->slot_size;
	}
	return h;
}

static void *rte_producer(struct peer_queue *pq, unsigned int i)
{
	(void)i;
	return rte_handle(pq);
}

static void *rte_consumer(struct peer_queue *pq)
{
	return rte_handle(pq);
}

static unsigned int rte_push(void *hp, uint64_t tag, unsigned int n)
{
	struct rte_handle *h = hp;

	for (unsigned int i = 0; i < n; i++)
		msg_fill(h->buf + (size_t)i * h->slot_size, h->slot_size, tag + i);
	return rte_ring_enqueue_burst_elem(h->r, h->buf, h->slot_size, n, NULL);
}

static unsigned int rte_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct rte_handle *h = hp;
	unsigned int got;

	got = rte_ring_dequeue_burst_elem(h->r, h->buf, h->slot_size, n, NULL);
	for (unsigned int i = 0; i < got; i++)
		tags[i] = msg_tag(h->buf + (size_t)i * h->slot_size, h->slot_size);
	return got;
}

/* One message, as rte_ring's users enqueue and dequeue one. */
static unsigned int rte_push1(void *hp, uint64_t tag, unsigned int n)
{
	struct rte_handle *h = hp;

	(void)n;
	msg_fill(h->buf, h->slot_size, tag);
	return rte_ring_enqueue_elem(h->r, h->buf, h->slot_size) == 0;
}

static unsigned int rte_pop1(void *hp, uint64_t *tags, unsigned int n)
{
	struct rte_handle *h = hp;

	(void)n;
	if (rte_ring_dequeue_elem(h->r, h->buf, h->slot_size))
		return 0;
	tags[0] = msg_tag(h->buf, h->slot_size);
	return 1;
}

/* Zero-copy: the reserved span may wrap into a second piece. */
static unsigned int rte_zc_push(void *hp, uint64_t tag, unsigned int n)
{
	struct rte_handle *h = hp;
	struct rte_ring_zc_data zcd;
	unsigned int got, i;

	got = rte_ring_enqueue_zc_burst_elem_start(h->r, h->slot_size, n, &zcd,
						   NULL);
	for (i = 0; i < got; i++) {
		unsigned char *p = i < zcd.n1 ?
			(unsigned char *)zcd.ptr1 + (size_t)i * h->slot_size :
			(unsigned char *)zcd.ptr2 + (size_t)(i - zcd.n1) * h->slot_size;

		msg_fill(p, h->slot_size, tag + i);
	}
	if (got)
		rte_ring_enqueue_zc_elem_finish(h->r, got);
	return got;
}

static unsigned int rte_zc_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct rte_handle *h = hp;
	struct rte_ring_zc_data zcd;
	unsigned int got, i;

	got = rte_ring_dequeue_zc_burst_elem_start(h->r, h->slot_size, n, &zcd,
						   NULL);
	for (i = 0; i < got; i++) {
		const unsigned char *p = i < zcd.n1 ?
			(unsigned char *)zcd.ptr1 + (size_t)i * h->slot_size :
			(unsigned char *)zcd.ptr2 + (size_t)(i - zcd.n1) * h->slot_size;

		tags[i] = msg_tag(p, h->slot_size);
	}
	if (got)
		rte_ring_dequeue_zc_elem_finish(h->r, got);
	return got;
}

const struct peer peer_rte_ring = {
	.name = "rte_ring",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = rte_create,
	.destroy = rte_destroy,
	.producer = rte_producer,
	.consumer = rte_consumer,
	.push = rte_push,
	.pop = rte_pop,
	.push1 = rte_push1,
	.pop1 = rte_pop1,
};

/* The zero-copy API needs a single producer (or HTS/RTS sync modes). */
const struct peer peer_rte_ring_zc = {
	.name = "rte_ring zc",
	.flags = PEER_SPSC,
	.create = rte_create,
	.destroy = rte_destroy,
	.producer = rte_producer,
	.consumer = rte_consumer,
	.push = rte_zc_push,
	.pop = rte_zc_pop,
};
