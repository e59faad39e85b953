// SPDX-License-Identifier: MIT
/*
 * peer_lfq.c - lfq itself as a bench peer: an SPSC or MPSC liblfq queue on
 * a memfd, zero-copy (messages are written and read in the ring's slots).
 * An MPSC producer thread gets a handle of its own, as liblfq requires.
 * "lfq inline" is the same SPSC queue through lfq_inline.h; "lfq
 * symmetric" the same queue made with LFQ_CREATE_WAKE_SYMMETRIC (a full
 * barrier per commit and release, as before asymmetric fencing).
 */
#include <errno.h>
#include <stdlib.h>

#include "liblfq.h"
#include "lfq_inline.h"
#include "peers.h"

#define LFQ_PEER_PRODUCERS_MAX 16

struct peer_queue {
	struct lfq *q;
	struct lfq *prod[LFQ_PEER_PRODUCERS_MAX];
	uint32_t slot_size;
	unsigned int producers;
};

struct lfq_peer_handle {
	struct lfq *q;
	uint32_t slot_size;
};

static int lfq_peer_make(struct peer_queue **out, uint32_t slot_size,
			 uint32_t slots, unsigned int producers, int mpsc,
			 uint32_t flags)
{
	LFQ_OPTS(lfq_create_opts, p, .slot_size = slot_size,
		 .slot_count = slots, .backend = LFQ_BACKEND_MEMFD,
		 .type = mpsc ? LFQ_TYPE_MPSC : LFQ_TYPE_SPSC, .flags = flags);
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = -1);
	struct peer_queue *pq;
	int rc;

	if (producers > LFQ_PEER_PRODUCERS_MAX)
		return -EINVAL;
	pq = calloc(1, sizeof(*pq));
	if (!pq)
		return -ENOMEM;
	pq->slot_size = slot_size;
	pq->producers = producers;
	rc = lfq_create(&p, &pq->q);
	if (!rc)
		by_fd.fd = lfq_fd(pq->q);
	for (unsigned int i = 0; !rc && i < producers; i++)
		rc = p.type == LFQ_TYPE_MPSC ?
			lfq_open(&by_fd, &pq->prod[i]) : 0;
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

static int lfq_peer_create(struct peer_queue **out, uint32_t slot_size,
			   uint32_t slots, unsigned int producers, int mpsc)
{
	return lfq_peer_make(out, slot_size, slots, producers, mpsc, 0);
}

static int lfq_peer_create_sym(struct peer_queue **out, uint32_t slot_size,
			       uint32_t slots, unsigned int producers, int mpsc)
{
	return lfq_peer_make(out, slot_size, slots, producers, mpsc,
			     LFQ_CREATE_WAKE_SYMMETRIC);
}

static void lfq_peer_destroy(struct peer_queue *pq)
{
	for (unsigned int i = 0; i < pq->producers; i++)
		if (pq->prod[i])
			lfq_close(pq->prod[i]);
	lfq_close(pq->q);
	free(pq);
}

static void *lfq_peer_handle(struct peer_queue *pq, struct lfq *q)
{
	struct lfq_peer_handle *h = malloc(sizeof(*h));

	if (h) {
		h->q = q;
		h->slot_size = pq->slot_size;
	}
	return h;
}

static void *lfq_peer_producer(struct peer_queue *pq, unsigned int i)
{
	return lfq_peer_handle(pq, pq->prod[i] ? pq->prod[i] : pq->q);
}

static void *lfq_peer_consumer(struct peer_queue *pq)
{
	return lfq_peer_handle(pq, pq->q);
}

static unsigned int lfq_peer_push(void *hp, uint64_t tag, unsigned int n)
{
	struct lfq_peer_handle *h = hp;
	void *span;
	int got = lfq_reserve(h->q, n, &span);
	unsigned char *p = span;

	if (got <= 0)
		return 0;
	for (int i = 0; i < got; i++)
		msg_fill(p + (size_t)i * h->slot_size, h->slot_size, tag + i);
	lfq_commit(h->q, (uint32_t)got);
	return (unsigned int)got;
}

static unsigned int lfq_peer_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct lfq_peer_handle *h = hp;
	const void *span;
	int got = lfq_peek(h->q, n, &span);
	const unsigned char *p = span;

	if (got <= 0)
		return 0;
	for (int i = 0; i < got; i++)
		tags[i] = msg_tag(p + (size_t)i * h->slot_size, h->slot_size);
	lfq_release(h->q, (uint32_t)got);
	return (unsigned int)got;
}

/*
 * The same queue with wakeups off (lfq_set_wakeups(q, 0)): what a user
 * who only ever polls gets. On a symmetric queue commit and release then
 * publish with a plain release store instead of store, full barrier,
 * load of the peer's sleep flag. On an asymmetric one (the default) the
 * fixed SPSC queue's check is one load either way, read before the
 * setting: there this row is "lfq" with the setting's test added.
 */
static int lfq_peer_create_nowake(struct peer_queue **out, uint32_t slot_size,
				  uint32_t slots, unsigned int producers,
				  int mpsc)
{
	int rc = lfq_peer_create(out, slot_size, slots, producers, mpsc);

	if (rc)
		return rc;
	lfq_set_wakeups((*out)->q, 0);
	for (unsigned int i = 0; i < producers; i++)
		if ((*out)->prod[i])
			lfq_set_wakeups((*out)->prod[i], 0);
	return 0;
}

const struct peer peer_lfq_nowake = {
	.name = "lfq no-wakeup",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = lfq_peer_create_nowake,
	.destroy = lfq_peer_destroy,
	.producer = lfq_peer_producer,
	.consumer = lfq_peer_consumer,
	.push = lfq_peer_push,
	.pop = lfq_peer_pop,
};

const struct peer peer_lfq_sym = {
	.name = "lfq symmetric",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = lfq_peer_create_sym,
	.destroy = lfq_peer_destroy,
	.producer = lfq_peer_producer,
	.consumer = lfq_peer_consumer,
	.push = lfq_peer_push,
	.pop = lfq_peer_pop,
};

const struct peer peer_lfq = {
	.name = "lfq",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = lfq_peer_create,
	.destroy = lfq_peer_destroy,
	.producer = lfq_peer_producer,
	.consumer = lfq_peer_consumer,
	.push = lfq_peer_push,
	.pop = lfq_peer_pop,
};

/*
 * The SPSC queue again, through lfq_inline.h: the views are taken when a
 * thread's handle is made, so each push and pop is the protocol header's
 * code inlined here, with wakeups on (the default).
 */
struct lfq_inline_handle {
	struct lfq_inline_prod ip;
	struct lfq_inline_cons ic;
	uint32_t slot_size;
};

static void *lfq_inline_peer_producer(struct peer_queue *pq, unsigned int i)
{
	struct lfq_inline_handle *h = malloc(sizeof(*h));

	(void)i;
	if (h && lfq_inline_producer(pq->q, &h->ip)) {
		free(h);
		return NULL;
	}
	if (h)
		h->slot_size = pq->slot_size;
	return h;
}

static void *lfq_inline_peer_consumer(struct peer_queue *pq)
{
	struct lfq_inline_handle *h = malloc(sizeof(*h));

	if (h && lfq_inline_consumer(pq->q, &h->ic)) {
		free(h);
		return NULL;
	}
	if (h)
		h->slot_size = pq->slot_size;
	return h;
}

static unsigned int lfq_inline_peer_push(void *hp, uint64_t tag,
					 unsigned int n)
{
	struct lfq_inline_handle *h = hp;
	void *span;
	int got = lfq_inline_reserve(&h->ip, n, &span);
	unsigned char *p = span;

	if (got <= 0)
		return 0;
	for (int i = 0; i < got; i++)
		msg_fill(p + (size_t)i * h->slot_size, h->slot_size, tag + i);
	lfq_inline_commit(&h->ip, (uint32_t)got);
	return (unsigned int)got;
}

static unsigned int lfq_inline_peer_pop(void *hp, uint64_t *tags,
					unsigned int n)
{
	struct lfq_inline_handle *h = hp;
	const void *span;
	int got = lfq_inline_peek(&h->ic, n, &span);
	const unsigned char *p = span;

	if (got <= 0)
		return 0;
	for (int i = 0; i < got; i++)
		tags[i] = msg_tag(p + (size_t)i * h->slot_size, h->slot_size);
	lfq_inline_release(&h->ic, (uint32_t)got);
	return (unsigned int)got;
}

/* One message: the batch-1 fast path of lfq_inline.h. */
static unsigned int lfq_inline_peer_push1(void *hp, uint64_t tag,
					  unsigned int n)
{
	struct lfq_inline_handle *h = hp;
	void *slot = lfq_inline_reserve_one(&h->ip);

	(void)n;
	if (!slot)
		return 0;
	msg_fill(slot, h->slot_size, tag);
	lfq_inline_commit_one(&h->ip);
	return 1;
}

static unsigned int lfq_inline_peer_pop1(void *hp, uint64_t *tags,
					 unsigned int n)
{
	struct lfq_inline_handle *h = hp;
	const void *slot = lfq_inline_peek_one(&h->ic);

	(void)n;
	if (!slot)
		return 0;
	tags[0] = msg_tag(slot, h->slot_size);
	lfq_inline_release_one(&h->ic);
	return 1;
}

const struct peer peer_lfq_inline = {
	.name = "lfq inline",
	.flags = PEER_SPSC,
	.create = lfq_peer_create,
	.destroy = lfq_peer_destroy,
	.producer = lfq_inline_peer_producer,
	.consumer = lfq_inline_peer_consumer,
	.push = lfq_inline_peer_push,
	.pop = lfq_inline_peer_pop,
	.push1 = lfq_inline_peer_push1,
	.pop1 = lfq_inline_peer_pop1,
};
