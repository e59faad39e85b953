// SPDX-License-Identifier: MIT
/*
 * peer_boost.cpp - boost::lockfree::spsc_queue as a bench peer (the only
 * C++ in lfq: boost is a header-only C++ library). The queue holds the
 * messages by value; batches use its bulk push/pop.
 */
#include <boost/lockfree/spsc_queue.hpp>
#include <cerrno>
#include <cstdlib>
#include <new>

extern "C" {
#include "peers.h"
}

namespace {

template <unsigned Words> struct msg {
	uint64_t w[Words];
};

struct queue_base {
	uint32_t slot_size;
	virtual ~queue_base() = default;
	virtual unsigned int push(uint64_t tag, unsigned int n) = 0;
	virtual unsigned int pop(uint64_t *tags, unsigned int n) = 0;
	virtual unsigned int push1(uint64_t tag) = 0;
	virtual unsigned int pop1(uint64_t *tag) = 0;
};

template <unsigned Words> struct queue : queue_base {
	boost::lockfree::spsc_queue<msg<Words>> q;
	msg<Words> prod_buf[PEER_BATCH_MAX];
	msg<Words> cons_buf[PEER_BATCH_MAX];

	explicit queue(uint32_t slots) : q(slots - 1)
	{
		slot_size = Words * 8;
	}

	unsigned int push(uint64_t tag, unsigned int n) override
	{
		for (unsigned int i = 0; i < n; i++)
			msg_fill(&prod_buf[i], slot_size, tag + i);
		return (unsigned int)q.push(prod_buf, n);
	}

	/* One message, as boost's users push and pop one. */
	unsigned int push1(uint64_t tag) override
	{
		msg<Words> m;

		msg_fill(&m, sizeof(m), tag);
		return q.push(m) ? 1 : 0;
	}

	unsigned int pop1(uint64_t *tag) override
	{
		msg<Words> m;

		if (!q.pop(m))
			return 0;
		*tag = msg_tag(&m, sizeof(m));
		return 1;
	}

	unsigned int pop(uint64_t *tags, unsigned int n) override
	{
		unsigned int got = (unsigned int)q.pop(cons_buf, n);

		for (unsigned int i = 0; i < got; i++)
			tags[i] = msg_tag(&cons_buf[i], slot_size);
		return got;
	}
};

} // namespace

struct peer_queue {
	queue_base *impl;
};

static int boost_create(struct peer_queue **out, uint32_t slot_size,
			uint32_t slots, unsigned int producers, int mpsc)
{
	peer_queue *pq;

	if (producers != 1 || mpsc || (slot_size != 8 && slot_size != 64))
		return -EINVAL;
	pq = new (std::nothrow) peer_queue;
	if (!pq)
		return -ENOMEM;
	if (slot_size == 8)
		pq->impl = new (std::nothrow) queue<1>(slots);
	else
		pq->impl = new (std::nothrow) queue<8>(slots);
	if (!pq->impl) {
		delete pq;
		return -ENOMEM;
	}
	*out = pq;
	return 0;
}

static void boost_destroy(struct peer_queue *pq)
{
	delete pq->impl;
	delete pq;
}

static void *boost_handle(struct peer_queue *pq)
{
	queue_base **h = static_cast<queue_base **>(malloc(sizeof(*h)));

	if (h)
		*h = pq->impl;
	return h;
}

static void *boost_producer(struct peer_queue *pq, unsigned int)
{
	return boost_handle(pq);
}

static unsigned int boost_push(void *h, uint64_t tag, unsigned int n)
{
	return (*static_cast<queue_base **>(h))->push(tag, n);
}

static unsigned int boost_pop(void *h, uint64_t *tags, unsigned int n)
{
	return (*static_cast<queue_base **>(h))->pop(tags, n);
}

static unsigned int boost_push1(void *h, uint64_t tag, unsigned int)
{
	return (*static_cast<queue_base **>(h))->push1(tag);
}

static unsigned int boost_pop1(void *h, uint64_t *tags, unsigned int)
{
	return (*static_cast<queue_base **>(h))->pop1(tags);
}

extern "C" const struct peer peer_boost = {
	.name = "boost spsc",
	.flags = PEER_SPSC,
	.create = boost_create,
	.destroy = boost_destroy,
	.producer = boost_producer,
	.consumer = boost_handle,
	.push = boost_push,
	.pop = boost_pop,
	.push1 = boost_push1,
	.pop1 = boost_pop1,
};
