// SPDX-License-Identifier: MIT
/*
 * peer_mutex.c - the queue people write first: a bounded ring under a
 * pthread mutex, with condition variables so a side that finds the ring
 * full (or empty) sleeps until the other side signals. A batch is copied
 * under one lock hold.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "peers.h"

struct peer_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	unsigned char *ring;
	uint32_t slot_size, slots;
	uint64_t head, tail;	/* under @lock */
};

struct mutex_handle {
	struct peer_queue *pq;
	unsigned char buf[PEER_BATCH_MAX * PEER_SLOT_MAX];
};

static int mutex_create(struct peer_queue **out, uint32_t slot_size,
			uint32_t slots, unsigned int producers, int mpsc)
{
	struct peer_queue *pq = calloc(1, sizeof(*pq));

	(void)producers;
	(void)mpsc;
	if (!pq)
		return -ENOMEM;
	pq->ring = malloc((size_t)slot_size * slots);
	if (!pq->ring) {
		free(pq);
		return -ENOMEM;
	}
	pthread_mutex_init(&pq->lock, NULL);
	pthread_cond_init(&pq->not_empty, NULL);
	pthread_cond_init(&pq->not_full, NULL);
	pq->slot_size = slot_size;
	pq->slots = slots;
	*out = pq;
	return 0;
}

static void mutex_destroy(struct peer_queue *pq)
{
	pthread_cond_destroy(&pq->not_full);
	pthread_cond_destroy(&pq->not_empty);
	pthread_mutex_destroy(&pq->lock);
	free(pq->ring);
	free(pq);
}

static void *mutex_handle(struct peer_queue *pq, unsigned int i)
{
	struct mutex_handle *h = malloc(sizeof(*h));

	(void)i;
	if (h)
		h->pq = pq;
	return h;
}

static void *mutex_consumer(struct peer_queue *pq)
{
	return mutex_handle(pq, 0);
}

static unsigned int mutex_push(void *hp, uint64_t tag, unsigned int n)
{
	struct mutex_handle *h = hp;
	struct peer_queue *pq = h->pq;
	uint32_t sz = pq->slot_size;
	unsigned int i, room;

	for (i = 0; i < n; i++)
		msg_fill(h->buf + (size_t)i * sz, sz, tag + i);
	pthread_mutex_lock(&pq->lock);
	while (pq->head - pq->tail == pq->slots)
		pthread_cond_wait(&pq->not_full, &pq->lock);
	room = pq->slots - (unsigned int)(pq->head - pq->tail);
	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		memcpy(pq->ring + (size_t)((pq->head + i) & (pq->slots - 1)) * sz,
		       h->buf + (size_t)i * sz, sz);
	if (pq->head == pq->tail)
		pthread_cond_signal(&pq->not_empty);
	pq->head += n;
	pthread_mutex_unlock(&pq->lock);
	return n;
}

static unsigned int mutex_pop(void *hp, uint64_t *tags, unsigned int n)
{
	struct mutex_handle *h = hp;
	struct peer_queue *pq = h->pq;
	uint32_t sz = pq->slot_size;
	unsigned int i, avail;

	pthread_mutex_lock(&pq->lock);
	while (pq->head == pq->tail)
		pthread_cond_wait(&pq->not_empty, &pq->lock);
	avail = (unsigned int)(pq->head - pq->tail);
	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++)
		memcpy(h->buf + (size_t)i * sz,
		       pq->ring + (size_t)((pq->tail + i) & (pq->slots - 1)) * sz, sz);
	if (pq->head - pq->tail == pq->slots)
		pthread_cond_broadcast(&pq->not_full);
	pq->tail += n;
	pthread_mutex_unlock(&pq->lock);
	for (i = 0; i < n; i++)
		tags[i] = msg_tag(h->buf + (size_t)i * sz, sz);
	return n;
}

const struct peer peer_mutex = {
	.name = "mutex+condvar",
	.flags = PEER_SPSC | PEER_MPSC,
	.create = mutex_create,
	.destroy = mutex_destroy,
	.producer = mutex_handle,
	.consumer = mutex_consumer,
	.push = mutex_push,
	.pop = mutex_pop,
};
