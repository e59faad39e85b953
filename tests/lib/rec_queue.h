/* SPDX-License-Identifier: MIT */
/*
 * rec_queue.h - what the liblfq record-queue tests (tests/host/rec_lib.c,
 * rec_ow_lib.c; built for the VM with LFQ_KERNEL_QUEUE) share: a record
 * queue that is a named /dev/lfq queue in the VM (so that each producer
 * process opens a file of its own, whose claims die with it: a fork's
 * inherited fd would keep them alive) and a memfd queue on the host, and
 * a producer's own handle on it.
 */
#ifndef LFQ_TEST_REC_QUEUE_H
#define LFQ_TEST_REC_QUEUE_H

#include <stdio.h>

#include "liblfq.h"
#include "test_util.h"

#ifdef LFQ_KERNEL_QUEUE
#define REC_BACKEND	LFQ_BACKEND_KERNEL
#else
#define REC_BACKEND	LFQ_BACKEND_MEMFD
#endif

/* The name of the last queue rec_queue_make() made (/dev/lfq only). */
static char rec_name[LFQ_NAME_MAX] __attribute__((unused));

/*
 * A record queue of @bytes with @flags besides LFQ_CREATE_RECORDS; on
 * /dev/lfq named @prefix-N, mode 0600, the creator's file in @role.
 */
static inline int rec_queue_make(uint32_t type, uint32_t flags,
				 uint32_t bytes, const char *prefix,
				 uint32_t role, struct lfq **q)
{
	static unsigned int made;
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = 1,
		 .slot_count = bytes, .flags = LFQ_CREATE_RECORDS | flags,
		 .backend = REC_BACKEND);

#ifdef LFQ_KERNEL_QUEUE
	snprintf(rec_name, sizeof(rec_name), "%s-%u", prefix, made++);
	o.name = rec_name;
	o.mode = 0600;
	o.role = role;
#else
	(void)made;
	(void)prefix;
	(void)role;
#endif
	return lfq_create(&o, q);
}

/* A producer's own handle on the queue of @c (by name, or by fd). */
static inline struct lfq *rec_open_producer(struct lfq *c)
{
#ifdef LFQ_KERNEL_QUEUE
	LFQ_OPTS(lfq_open_opts, o, .name = rec_name,
		 .role = LFQ_ROLE_PRODUCER);
	struct lfq *q = NULL;

	(void)c;
	return lfq_open(&o, &q) ? NULL : q;
#else
	return open_fd(lfq_fd(c));
#endif
}

/* Close @q, and unlink the name of a /dev/lfq queue. */
static inline void rec_close_queue(struct lfq *q)
{
#ifdef LFQ_KERNEL_QUEUE
	lfq_unlink(rec_name);
#endif
	lfq_close(q);
}

#endif /* LFQ_TEST_REC_QUEUE_H */
