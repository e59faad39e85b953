// SPDX-License-Identifier: MIT
/*
 * lfq_wait.c - liblfq's slow path: waiting until the ring is ready (a
 * short spin, then the backend's sleep, which arms the wakeup flag and
 * re-checks first: the handshake of kmod/proto/lfq_common.h), and reading
 * the counters.
 */
#include <errno.h>
#include <string.h>

#include "lfq_handle.h"
#include "lfq_ready.h"

/**
 * lfq_arm_count() - the count a waiter arms its flag with (ORDERING
 * wake-threshold): its min_count, or 1 on an elastic queue.
 * @q:		the handle.
 * @min_count:	the slots it waits for.
 *
 * Return: the count.
 */
uint32_t lfq_arm_count(const struct lfq *q, uint32_t min_count)
{
	return q->hdr.seg_max ? 1 : min_count;
}

/**
 * lfq_ready_count() - slots ready for a waiter (readable if @data, else
 * free; see lfq_ready.h).
 * @q:		the handle.
 * @data:	waiting for data (else for space).
 * @how:	LFQ_READY_ARM: announce the sleep first; LFQ_READY_ASK: the
 *		backend may be asked (lfq_handle.h).
 * @min_count:	MPSC slots (readable, or free and reservable) are counted
 *		up to it.
 *
 * Return: the slots ready.
 */
uint32_t lfq_ready_count(struct lfq *q, int data, unsigned int how,
			 uint32_t min_count)
{
	uint32_t arm = how & LFQ_READY_ARM ? lfq_arm_count(q, min_count) : 0;

	if (q->hdr.seg_max)
		return lfq_elastic_ready(q, data, how, min_count);
	/* Armed for min_count: woken once that many are ready. */
	return data ? lfq_ready_data(&q->ring, min_count, arm) :
		      lfq_ready_space(&q->ring, min_count, arm);
}

static inline void lfq_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * The next wait's spin on that side (lfq_spin_next()). Threads waiting on
 * one side of a handle may race on its word: relaxed accesses, a lost
 * step only delays the adaptation.
 */
static void lfq_spin_adapt(struct lfq *q, unsigned int *side,
			   unsigned int now, int slept)
{
	unsigned int next = lfq_spin_next(now, q->wait_spins, slept);

	if (next != now)
		lfq_store_relaxed(side, next);
}

static int lfq_wait_common(struct lfq *q, int data, uint32_t min_count,
			   int64_t timeout_ns)
{
	unsigned int *side = data ? &q->cspin : &q->pspin;
	unsigned int now, spins;

	if (!min_count || min_count > q->hdr.slot_count)
		return -EINVAL;
	min_count = lfq_ready_want(&q->ring, data, min_count);
	/*
	 * The first look may ask the backend; the spins look at memory only,
	 * with no system call each (the sleep asks again).
	 */
	if (lfq_ready_count(q, data, LFQ_READY_ASK, min_count) >= min_count)
		return 0;
	if (!timeout_ns)
		return -EAGAIN;
	now = lfq_load_relaxed(side);
	for (spins = 0; spins < now; spins++) {
		lfq_cpu_relax();
		if (lfq_ready_count(q, data, 0, min_count) >= min_count) {
			lfq_spin_adapt(q, side, now, 0);
			return 0;
		}
	}
	lfq_spin_adapt(q, side, now, 1);
	return q->backend->sleep(q, data, min_count, timeout_ns);
}

unsigned int lfq_get_wait_spin(const struct lfq *q, unsigned int which)
{
	return lfq_load_relaxed(which == LFQ_WAIT_DATA ? &q->cspin :
							 &q->pspin);
}

int lfq_wait_data(struct lfq *q, uint32_t min_count, int64_t timeout_ns)
{
	return lfq_wait_common(q, 1, min_count, timeout_ns);
}

int lfq_wait_space(struct lfq *q, uint32_t min_count, int64_t timeout_ns)
{
	return lfq_wait_common(q, 0, min_count, timeout_ns);
}

static int lfq_stats_fill(struct lfq *q, struct lfq_stats *st)
{
	*st = (struct lfq_stats){ .size = sizeof(*st) };
	return q->backend->stats(q, st);
}

/* The first @size bytes of the counters, for a struct that ends there. */
static int lfq_stats_fill_old(struct lfq *q, struct lfq_stats *st,
			      uint32_t size)
{
	struct lfq_stats all;
	int err = lfq_stats_fill(q, &all);

	if (all.size > size)
		all.size = size;
	memcpy(st, &all, size);
	return err;
}

/*
 * struct lfq_stats grew in 0.5 (overwritten) and in 0.6 (torn), and the
 * caller passes no size: lfq_get_stats@@LIBLFQ_0.6 fills the whole
 * struct, for programs built with these headers; programs built before
 * bound to lfq_get_stats@LIBLFQ_0.5 or @LIBLFQ_0.2, which fill the
 * LFQ_STATS_SIZE_VER5 or _VER4 bytes their struct has. (All are local
 * names in the .a and the .so: only the versioned lfq_get_stats is
 * exported.)
 */
LFQ_API int lfq_get_stats_v6(struct lfq *q, struct lfq_stats *st);
LFQ_API int lfq_get_stats_v5(struct lfq *q, struct lfq_stats *st);
LFQ_API int lfq_get_stats_v2(struct lfq *q, struct lfq_stats *st);

int lfq_get_stats_v6(struct lfq *q, struct lfq_stats *st)
{
	return lfq_stats_fill(q, st);
}
__asm__(".symver lfq_get_stats_v6, lfq_get_stats@@LIBLFQ_0.6");

int lfq_get_stats_v5(struct lfq *q, struct lfq_stats *st)
{
	return lfq_stats_fill_old(q, st, LFQ_STATS_SIZE_VER5);
}
__asm__(".symver lfq_get_stats_v5, lfq_get_stats@LIBLFQ_0.5");

int lfq_get_stats_v2(struct lfq *q, struct lfq_stats *st)
{
	return lfq_stats_fill_old(q, st, LFQ_STATS_SIZE_VER4);
}
__asm__(".symver lfq_get_stats_v2, lfq_get_stats@LIBLFQ_0.2");
