// SPDX-License-Identifier: MIT
/*
 * peer_lfq_rec.c - lfq's record queue (LFQ_CREATE_RECORDS) as a bench
 * peer: each message is a record of @slot_size bytes, written in place
 * (lfq_record_reserve()/_commit(), one record at a time: the record API
 * has no multi-record reservation) and read by lfq_record_consume() in
 * runs of up to @n. The ring holds at least @slots messages: @slots times
 * the record's ring bytes (the size and its 8-byte header), rounded up to
 * a power of two. Beside "lfq" it shows what variable-size records cost
 * over fixed slots.
 */
#include <errno.h>
#include <stdlib.h>

#include "liblfq.h"
#include "peers.h"

#define REC_PEER_PRODUCERS_MAX 16

struct peer_queue {
	struct lfq *q;
	struct lfq *prod[REC_PEER_PRODUCERS_MAX];
	uint32_t size;
	unsigned int producers;
};

struct rec_peer_handle {
	struct lfq *q;
	uint32_t size;
};

static int rec_peer_create(struct peer_queue **out, uint32_t slot_size,
			   uint32_t slots, unsigned int producers, int mpsc)
{
	uint64_t bytes = 4096, want = (uint64_t)slots * (slot_size + 8);
	LFQ_OPTS(lfq_create_opts, p, .slot_size = 1,
		 .backend = LFQ_BACKEND_MEMFD, .flags = LFQ_CREATE_RECORDS,
		 .type = mpsc ? LFQ_TYPE_MPSC : LFQ_TYPE_SPSC);
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = -1);
	struct peer_queue *pq;
	int rc;

	if (producers > REC_PEER_PRODUCERS_MAX)
		return -EINVAL;
	while (bytes < want)
		bytes *= 2;
	p.slot_count = (uint32_t)bytes;
	pq = calloc(1, sizeof(*pq));
	if (!pq)
		return -ENOMEM;
	pq->size = slot_size;
	pq->producers = producers;
	rc = lfq_create(&p, &pq->q);
	if (!rc)
		by_fd.fd = lfq_fd(pq->q);
	for (unsigned int i = 0; !rc && mpsc && i < producers; i++)
		rc = lfq_open(&by_fd, &pq->prod[i]);
	if (rc) {
		for (unsigned int i = 0; i < producers; i++)
			if (pq->prod[i])
				lfq_close(pq->prod[i]);
		if (pq->q)
			lfq_close(pq->q);
		free(pq);
		return rc;
	}
	*out = pq;
	return 0;
}

static void rec_peer_destroy(struct peer_queue *pq)
{
	for (unsigned int i = 0; i < pq->producers; i++)
		if (pq->prod[i])
			lfq_close(pq->prod[i]);
	lfq_close(pq->q);
	free(pq);
}

static void *rec_peer_handle(struct peer_queue *pq, struct lfq *q)
{
	struct rec_peer_handle *h = malloc(sizeof(*h));

	if (h) {
		h->q = q;
		h->size = pq->size;
	}
	return h;
}

static void *rec_peer_producer(struct peer_queue *pq, unsigned int i)
{
	return rec_peer_handle(pq, pq->prod[i] ? pq->prod[i] : pq->q);
}

static void *rec_peer_consumer(struct peer_queue *pq)
{
	return rec_peer_handle(pq, pq->q);
}

static unsigned int rec_peer_push(void *hp, uint64_t tag, unsigned int n)
{
	struct rec_peer_handle *h = hp;
	unsigned int i;
	void *p;

	for (i = 0; i < n; i++) {
		if (lfq_record_reserve(h->q, h->size, &p))
			break;
		msg_fill(p, h->size, tag + i);
		lfq_record_commit(h->q);
	}
	return i;
}

/* lfq_record_consume()'s callback: each record's tag, in order. */
struct rec_peer_pop {
	uint64_t *tags;
	uint32_t size;
	unsigned int n;
};

static int rec_peer_take(void *ctx, const void *rec, uint32_t len)
{
	struct rec_peer_pop *pp = ctx;

	pp->tags[pp->n++] = len == pp->size ? msg_tag(rec, len) : ~0ull;
	return 0;
}

static unsigned int rec_peer_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct rec_peer_handle *h = hp;
	struct rec_peer_pop pp = { tags, h->size, 0 };

	return lfq_record_consume(h->q, n, rec_peer_take, &pp) > 0 ? pp.n : 0;
}

const struct peer peer_lfq_rec = {
	.name = "lfq records",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = rec_peer_create,
	.destroy = rec_peer_destroy,
	.producer = rec_peer_producer,
	.consumer = rec_peer_consumer,
	.push = rec_peer_push,
	.pop = rec_peer_pop,
};
