/* SPDX-License-Identifier: MIT */
/*
 * peers.h - the queues lfq-bench measures, behind one interface: lfq and
 * every in-memory peer (DPDK rte_ring, Concurrency Kit ck_ring, boost
 * spsc_queue, liburcu wfcqueue, a mutex+condvar ring). bench_inmem.c
 * drives them; each peer_*.c implements one.
 *
 * A message is @slot_size bytes (8 or 64); each of its 8-byte words holds
 * the same tag, (producer << 48) | sequence, so a consumer can verify
 * order and integrity from any word. push() makes up to @n messages with
 * tags seq, seq+1, ... (written in place by zero-copy peers, copied from a
 * staging buffer by the others); pop() takes up to @n and stores each
 * message's tag into @tags. Both return how many they did and never wait
 * (except the mutex+condvar ring, whose whole point is to sleep).
 */
#ifndef LFQ_BENCH_PEERS_H
#define LFQ_BENCH_PEERS_H

#include <stdint.h>
#include <string.h>

#define PEER_SPSC	(1u << 0)	/* one producer thread */
#define PEER_MPSC	(1u << 1)	/* several producer threads */
#define PEER_BATCH_MAX	32u
#define PEER_SLOT_MAX	64u

struct peer_queue;

struct peer {
	const char *name;
	unsigned int flags;
	/*
	 * @slots is a power of two; @mpsc picks the multi-producer variant
	 * (only for PEER_MPSC peers), which @producers threads then share.
	 */
	int (*create)(struct peer_queue **q, uint32_t slot_size,
		      uint32_t slots, unsigned int producers, int mpsc);
	void (*destroy)(struct peer_queue *q);
	/* A handle (malloc()ed; the caller frees it) for producer @i and for
	 * the consumer. */
	void *(*producer)(struct peer_queue *q, unsigned int i);
	void *(*consumer)(struct peer_queue *q);
	unsigned int (*push)(void *h, uint64_t tag, unsigned int n);
	unsigned int (*pop)(void *h, uint64_t *tags, unsigned int n);
	/*
	 * Optional: one message (@n is 1), through the call the peer's own
	 * users make to push or pop one (lfq_inline_reserve_one(),
	 * rte_ring_enqueue_elem(), boost's push(item), ck_ring's enqueue),
	 * a leaf with no batch loop around it. Loops of batch 1 take these
	 * (peer_push_fn()): a burst call of 1 costs rte_ring and boost about
	 * twice the instructions of their single-message call.
	 */
	unsigned int (*push1)(void *h, uint64_t tag, unsigned int n);
	unsigned int (*pop1)(void *h, uint64_t *tags, unsigned int n);
};

typedef unsigned int (*peer_push_t)(void *h, uint64_t tag, unsigned int n);
typedef unsigned int (*peer_pop_t)(void *h, uint64_t *tags, unsigned int n);

/* The push a loop of @batch messages per call uses. */
static inline peer_push_t peer_push_fn(const struct peer *p, unsigned int batch)
{
	return batch == 1 && p->push1 ? p->push1 : p->push;
}

/* The pop a loop of @batch messages per call uses. */
static inline peer_pop_t peer_pop_fn(const struct peer *p, unsigned int batch)
{
	return batch == 1 && p->pop1 ? p->pop1 : p->pop;
}

extern const struct peer peer_lfq, peer_lfq_nowake, peer_lfq_inline,
	peer_lfq_sym, peer_lfq_rec, peer_rte_ring, peer_rte_ring_zc, peer_ck_ring, peer_boost, peer_wfcqueue,
	peer_mutex;

/*
 * A message's words, @n of them: always inlined, so that with a constant
 * @n the loop unrolls. msg_fill() and msg_tag() call them with the two
 * sizes lfq-bench uses as constants, so every peer pays the same per
 * message: ck_ring copies fixed-size structs, whose fill the compiler
 * unrolls anyway, and a loop over a size known only at run time cost
 * the others about 20 instructions more per 64-byte message.
 */
static inline __attribute__((always_inline)) void
msg_fill_words(uint64_t *w, uint32_t n, uint64_t tag)
{
	for (uint32_t i = 0; i < n; i++)
		w[i] = tag;
}

static inline __attribute__((always_inline)) uint64_t
msg_tag_words(const uint64_t *w, uint32_t n)
{
	uint64_t t = w[0];

	for (uint32_t i = 1; i < n; i++)
		if (w[i] != t)
			return ~0ull;
	return t;
}

static inline void msg_fill(void *slot, uint32_t size, uint64_t tag)
{
	uint64_t *w = (uint64_t *)slot;

	if (size == 8)
		msg_fill_words(w, 1, tag);
	else if (size == 64)
		msg_fill_words(w, 8, tag);
	else
		msg_fill_words(w, size / 8, tag);
}

/* The tag of a message, or ~0 if its words disagree (torn or corrupt). */
static inline uint64_t msg_tag(const void *slot, uint32_t size)
{
	const uint64_t *w = (const uint64_t *)slot;

	if (size == 8)
		return msg_tag_words(w, 1);
	if (size == 64)
		return msg_tag_words(w, 8);
	return msg_tag_words(w, size / 8);
}

#endif /* LFQ_BENCH_PEERS_H */
