// SPDX-License-Identifier: MIT
/*
 * peer_ck_ring.c - Concurrency Kit's ck_ring as a bench peer: the typed
 * ring (CK_RING_PROTOTYPE) holding the messages themselves, SPSC for one
 * producer and MPMC used as MPSC for several. ck_ring has no burst API:
 * a batch is a loop of single enqueues or dequeues. It holds @slots - 1.
 */
#include <errno.h>
#include <stdlib.h>

#include <ck_ring.h>

#include "peers.h"

struct msg8 {
	uint64_t w[1];
};

struct msg64 {
	uint64_t w[8];
};

CK_RING_PROTOTYPE(m8, msg8)
CK_RING_PROTOTYPE(m64, msg64)

struct peer_queue {
	struct ck_ring ring __attribute__((aligned(128)));
	void *buf;
	uint32_t slot_size;
	int mp;
};

struct ck_handle {
	struct peer_queue *pq;
};

static int ck_create(struct peer_queue **out, uint32_t slot_size,
		     uint32_t slots, unsigned int producers, int mpsc)
{
	struct peer_queue *pq;

	(void)producers;
	if (slot_size != 8 && slot_size != 64)
		return -EINVAL;
	pq = aligned_alloc(128, sizeof(*pq));
	if (!pq)
		return -ENOMEM;
	if (posix_memalign(&pq->buf, 128, (size_t)slot_size * slots)) {
		free(pq);
		return -ENOMEM;
	}
	ck_ring_init(&pq->ring, slots);
	pq->slot_size = slot_size;
	pq->mp = mpsc;
	*out = pq;
	return 0;
}

static void ck_destroy(struct peer_queue *pq)
{
	free(pq->buf);
	free(pq);
}

static void *ck_handle(struct peer_queue *pq, unsigned int i)
{
	struct ck_handle *h = malloc(sizeof(*h));

	(void)i;
	if (h)
		h->pq = pq;
	return h;
}

static void *ck_consumer(struct peer_queue *pq)
{
	return ck_handle(pq, 0);
}

static unsigned int ck_push(void *hp, uint64_t tag, unsigned int n)
{
	struct peer_queue *pq = ((struct ck_handle *)hp)->pq;
	unsigned int i;

	for (i = 0; i < n; i++) {
		bool ok;

		if (pq->slot_size == 8) {
			struct msg8 m;

			msg_fill(&m, sizeof(m), tag + i);
			ok = pq->mp ? ck_ring_enqueue_mpmc_m8(&pq->ring, pq->buf, &m) :
				      ck_ring_enqueue_spsc_m8(&pq->ring, pq->buf, &m);
		} else {
			struct msg64 m;

			msg_fill(&m, sizeof(m), tag + i);
			ok = pq->mp ? ck_ring_enqueue_mpmc_m64(&pq->ring, pq->buf, &m) :
				      ck_ring_enqueue_spsc_m64(&pq->ring, pq->buf, &m);
		}
		if (!ok)
			break;
	}
	return i;
}

static unsigned int ck_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct peer_queue *pq = ((struct ck_handle *)hp)->pq;
	unsigned int i;

	for (i = 0; i < n; i++) {
		bool ok;

		if (pq->slot_size == 8) {
			struct msg8 m;

			ok = pq->mp ? ck_ring_dequeue_mpmc_m8(&pq->ring, pq->buf, &m) :
				      ck_ring_dequeue_spsc_m8(&pq->ring, pq->buf, &m);
			if (ok)
				tags[i] = msg_tag(&m, sizeof(m));
		} else {
			struct msg64 m;

			ok = pq->mp ? ck_ring_dequeue_mpmc_m64(&pq->ring, pq->buf, &m) :
				      ck_ring_dequeue_spsc_m64(&pq->ring, pq->buf, &m);
			if (ok)
				tags[i] = msg_tag(&m, sizeof(m));
		}
		if (!ok)
			break;
	}
	return i;
}

/* One message: ck_ring's enqueue and dequeue, without the batch loop. */
static unsigned int ck_push1(void *hp, uint64_t tag, unsigned int n)
{
	struct peer_queue *pq = ((struct ck_handle *)hp)->pq;

	(void)n;
	if (pq->slot_size == 8) {
		struct msg8 m;

		msg_fill(&m, sizeof(m), tag);
		return pq->mp ? ck_ring_enqueue_mpmc_m8(&pq->ring, pq->buf, &m) :
				ck_ring_enqueue_spsc_m8(&pq->ring, pq->buf, &m);
	} else {
		struct msg64 m;

		msg_fill(&m, sizeof(m), tag);
		return pq->mp ? ck_ring_enqueue_mpmc_m64(&pq->ring, pq->buf, &m) :
				ck_ring_enqueue_spsc_m64(&pq->ring, pq->buf, &m);
	}
}

static unsigned int ck_pop1(void *hp, uint64_t *tags, unsigned int n)
{
	struct peer_queue *pq = ((struct ck_handle *)hp)->pq;

	(void)n;
	if (pq->slot_size == 8) {
		struct msg8 m;

		if (!(pq->mp ? ck_ring_dequeue_mpmc_m8(&pq->ring, pq->buf, &m) :
			       ck_ring_dequeue_spsc_m8(&pq->ring, pq->buf, &m)))
			return 0;
		tags[0] = msg_tag(&m, sizeof(m));
	} else {
		struct msg64 m;

		if (!(pq->mp ? ck_ring_dequeue_mpmc_m64(&pq->ring, pq->buf, &m) :
			       ck_ring_dequeue_spsc_m64(&pq->ring, pq->buf, &m)))
			return 0;
		tags[0] = msg_tag(&m, sizeof(m));
	}
	return 1;
}

const struct peer peer_ck_ring = {
	.name = "ck_ring",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = ck_create,
	.destroy = ck_destroy,
	.producer = ck_handle,
	.consumer = ck_consumer,
	.push = ck_push,
	.pop = ck_pop,
	.push1 = ck_push1,
	.pop1 = ck_pop1,
};
