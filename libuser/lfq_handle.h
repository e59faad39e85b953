/* SPDX-License-Identifier: MIT */
/*
 * lfq_handle.h - liblfq's private definition of struct lfq, shared by the
 * library's source files and nothing else.
 */
#ifndef LFQ_HANDLE_H
#define LFQ_HANDLE_H

#include <stddef.h>

#include "liblfq.h"
#include "lfq_layout.h"
#include "lfq_mpsc.h"
#include "lfq_ready.h"
#include "lfq_spsc.h"

enum lfq_backend {
	LFQ_BACKEND_KERNEL,	/* /dev/lfq: waits by ioctl, poll/epoll */
	LFQ_BACKEND_MEMFD,	/* sealed memfd: waits by futex */
};

/*
 * The producer and consumer handles sit on their own cache lines: the two
 * sides of one struct lfq are used by two threads at once. Each queue type
 * uses its own pair (hdr.type says which).
 */
struct lfq {
	struct lfq_spsc_prod prod __attribute__((aligned(64)));
	struct lfq_mpsc_prod mprod;
	struct lfq_mpsc_resv resv;
	struct lfq_spsc_cons cons __attribute__((aligned(64)));
	struct lfq_mpsc_cons mcons;
	struct lfq_ring_hdr hdr __attribute__((aligned(64)));
	struct lfq_layout layout;
	unsigned char *map;
	enum lfq_backend backend;
	int fd;
	uint32_t id;
	uint32_t role;		/* LFQ_ROLE_*: what this handle may write */
	int claim;		/* LFQ_IOC_CLAIM index, or -1 (mprod.claim) */
	int wakeups;
	unsigned int wait_spins;
};

/*
 * A peer that is active right now usually delivers within a microsecond or
 * two: waits spin that many checks before the handshake and a sleep.
 */
#define LFQ_WAIT_SPINS_DEFAULT 256

int lfq_map_layout(struct lfq *q, int double_in_file);
int lfq_bind_new(unsigned long cmd, void *arg, struct lfq **out);

/* Whether the handle's role allows producing / consuming. */
static inline int lfq_can_produce(const struct lfq *q)
{
	return q->role & LFQ_ROLE_PRODUCER;
}

static inline int lfq_can_consume(const struct lfq *q)
{
	return q->role & LFQ_ROLE_CONSUMER;
}

static inline int lfq_is_mpsc(const struct lfq *q)
{
	return q->hdr.type == LFQ_TYPE_MPSC;
}
void lfq_wake_consumer(struct lfq *q);
void lfq_wake_producer(struct lfq *q);

#endif /* LFQ_HANDLE_H */
