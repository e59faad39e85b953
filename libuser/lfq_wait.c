// SPDX-License-Identifier: MIT
/*
 * lfq_wait.c - liblfq's slow path: sleeping until the ring is ready, waking
 * a sleeping peer, and reading counters. Kernel queues sleep in
 * LFQ_IOC_WAIT and are woken with LFQ_IOC_WAKE; memfd queues sleep on the
 * need_data/need_space word itself with a futex. Both follow the handshake
 * in lfq_spsc.h: arm the flag, full barrier, re-check, then sleep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lfq_handle.h"

static long lfq_futex(uint32_t *word, int op, uint32_t val,
		      const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static int64_t lfq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Wake the sleeper that armed @flag (the peer's need_data/need_space).
 * Kernel queues: LFQ_IOC_WAKE clears the flag itself, so a producer never
 * writes the consumer's page (or the reverse). Memfd queues have no roles;
 * the waker clears the flag so only one waker pays the futex call.
 */
static void lfq_wake(struct lfq *q, const uint32_t *flag, uint32_t kernel_flag)
{
	uint32_t *word = (uint32_t *)flag;

	if (q->backend == LFQ_BACKEND_KERNEL) {
		ioctl(q->fd, LFQ_IOC_WAKE, kernel_flag);
		return;
	}
	/* Full barrier (seq_cst exchange): only one waker pays the futex
	 * call; the sleeper's FUTEX_WAIT on the armed value (1) pairs with
	 * it, so a wakeup between its arm and its sleep is not lost.
	 */
	if (lfq_xchg(word, 0))
		lfq_futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

void lfq_wake_consumer(struct lfq *q)
{
	lfq_wake(q, &q->prod.peer->need_data, LFQ_WAKE_CONSUMER);
}

void lfq_wake_producer(struct lfq *q)
{
	lfq_wake(q, &q->cons.peer->need_space, LFQ_WAKE_PRODUCER);
}

/*
 * Slots ready for the waiter (readable or free; see lfq_ready.h), arming
 * its wakeup flag first if @arm.
 */
static uint32_t lfq_ready_count(struct lfq *q, int data, int arm,
				uint32_t min_count)
{
	struct lfq_ring_ctl r = {
		.prod = q->prod.ctl,
		.cons = q->cons.ctl,
		.commit = q->mcons.commit,
		.type = q->hdr.type,
		.slot_count = q->hdr.slot_count,
	};

	return data ? lfq_ready_data(&r, min_count, arm) :
		      lfq_ready_space(&r, arm);
}

static int lfq_futex_wait(struct lfq *q, int data, uint32_t min_count,
			  int64_t timeout_ns)
{
	uint32_t *flag = data ? &q->cons.ctl->need_data :
				&q->prod.ctl->need_space;
	int64_t deadline = timeout_ns > 0 ? lfq_now_ns() + timeout_ns : 0;

	for (;;) {
		struct timespec ts, *tsp = NULL;

		if (lfq_ready_count(q, data, 1, min_count) >= min_count)
			return 0;
		if (timeout_ns > 0) {
			int64_t left = deadline - lfq_now_ns();

			if (left <= 0)
				return -ETIMEDOUT;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			tsp = &ts;
		}
		/* Sleeps only while the flag is still armed (== 1). */
		if (lfq_futex(flag, FUTEX_WAIT, 1, tsp) &&
		    errno != EAGAIN && errno != ETIMEDOUT)
			return -errno;
	}
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

	struct lfq_wait w = {
		.size = sizeof(w),
		.flags = data ? LFQ_WAIT_DATA : LFQ_WAIT_SPACE,
		.min_count = min_count,
		.timeout_ns = timeout_ns,
	};

	if (!min_count || min_count > q->hdr.slot_count)
		return -EINVAL;
	while (lfq_ready_count(q, data, 0, min_count) < min_count) {
		if (!timeout_ns)
			return -EAGAIN;
		if (!spins--)
			goto sleep;
		lfq_cpu_relax();
	}
	return 0;
sleep:
	if (q->backend == LFQ_BACKEND_MEMFD)
		return lfq_futex_wait(q, data, min_count, timeout_ns);
	return ioctl(q->fd, LFQ_IOC_WAIT, &w) ? -errno : 0;
}

/**
 * lfq_wait_data() - sleep until at least @min_count slots are readable.
 * @q:		the handle.
 * @min_count:	1..slot_count.
 * @timeout_ns:	< 0 forever, 0 only check.
 *
 * Return: 0, -EAGAIN (not ready, no timeout), -ETIMEDOUT, -EINTR, -EINVAL.
 */
int lfq_wait_data(struct lfq *q, uint32_t min_count, int64_t timeout_ns)
{
	return lfq_wait_common(q, 1, min_count, timeout_ns);
}

/**
 * lfq_wait_space() - sleep until at least @min_count slots are free.
 * @q:		the handle.
 * @min_count:	1..slot_count.
 * @timeout_ns:	< 0 forever, 0 only check.
 *
 * Return: as lfq_wait_data().
 */
int lfq_wait_space(struct lfq *q, uint32_t min_count, int64_t timeout_ns)
{
	return lfq_wait_common(q, 0, min_count, timeout_ns);
}

/**
 * lfq_get_stats() - read the queue's counters.
 * @q:		the handle.
 * @st:		filled in; st->size says how much of it the source knew.
 *
 * Return: 0 or a negative errno from LFQ_IOC_STATS.
 */
int lfq_get_stats(struct lfq *q, struct lfq_stats *st)
{
	*st = (struct lfq_stats){ .size = sizeof(*st) };
	if (q->backend == LFQ_BACKEND_KERNEL)
		return ioctl(q->fd, LFQ_IOC_STATS, st) ? -errno : 0;
	st->produced = lfq_load_relaxed(&q->prod.ctl->head);
	st->consumed = lfq_load_relaxed(&q->cons.ctl->tail);
	st->full_events = lfq_load_relaxed(&q->prod.ctl->full_events);
	st->empty_events = lfq_load_relaxed(&q->cons.ctl->empty_events);
	return 0;
}
