// SPDX-License-Identifier: MIT
/*
 * lfq_wait.c - liblfq's slow path: waiting until the ring is ready (a
 * short spin, then the backend's sleep, which arms the wakeup flag and
 * re-checks first: the handshake of kmod/proto/lfq_common.h), and reading
 * the counters.
 */
#include <errno.h>

#include "lfq_handle.h"
#include "lfq_ready.h"

/**
 * lfq_ready_count() - slots ready for a waiter (readable if @data, else
 * free; see lfq_ready.h), arming its wakeup flag first if @arm.
 * @q:		the handle.
 * @data:	waiting for data (else for space).
 * @arm:	announce the sleep first.
 * @min_count:	MPSC slots (readable, or free and reservable) are counted
 *		up to it.
 *
 * Return: the slots ready.
 */
uint32_t lfq_ready_count(struct lfq *q, int data, int arm,
			 uint32_t min_count)
{
	if (q->hdr.seg_max)
		return lfq_elastic_ready(q, data, arm, min_count);
	/* Armed for min_count: woken once that many are ready. */
	return data ? lfq_ready_data(&q->ring, min_count, arm ? min_count : 0) :
		      lfq_ready_space(&q->ring, min_count, arm ? min_count : 0);
}

static inline void lfq_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static int lfq_wait_common(struct lfq *q, int data, uint32_t min_count,
			   int64_t timeout_ns)
{
	unsigned int spins = q->wait_spins;

	if (!min_count || min_count > q->hdr.slot_count)
		return -EINVAL;
	while (lfq_ready_count(q, data, 0, min_count) < min_count) {
		if (!timeout_ns)
			return -EAGAIN;
		if (!spins--)
			return q->backend->sleep(q, data, min_count,
						 timeout_ns);
		lfq_cpu_relax();
	}
	return 0;
}

int lfq_wait_data(struct lfq *q, uint32_t min_count, int64_t timeout_ns)
{
	return lfq_wait_common(q, 1, min_count, timeout_ns);
}

int lfq_wait_space(struct lfq *q, uint32_t min_count, int64_t timeout_ns)
{
	return lfq_wait_common(q, 0, min_count, timeout_ns);
}

int lfq_get_stats(struct lfq *q, struct lfq_stats *st)
{
	*st = (struct lfq_stats){ .size = sizeof(*st) };
	return q->backend->stats(q, st);
}
