// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_wait.c - the kernel half of the wakeup handshake: how ready a
 * queue is for a waiter (LFQ_IOC_WAIT, poll, the in-kernel consumer),
 * sleeping until it is, and waking sleepers (LFQ_IOC_WAKE, kernel
 * producers through irq_work, the in-kernel consumer).
 *
 * A sleeper is queued on the wait queue first, then arms the ring's
 * need_data/need_space flag with a full barrier and re-checks
 * (proto/lfq_ready.h; ORDERING wake-queue, wake-data, wake-space in
 * proto/lfq_rules.h); a peer that publishes after that sees the flag and
 * wakes it. The flags live in user-writable pages: a process that clears
 * or sets them only delays or adds its own wakeups.
 *
 * On an asymmetric queue (LFQ_WAKE_ASYMMETRIC, the default: module
 * parameter wake_asym) publishers skip their full barrier,
 * and the sleeper pays for both sides: after arming, an IPI makes every
 * CPU execute a full barrier, then the sleeper re-checks (ORDERING
 * wake-asym). A sleeper that cannot send IPIs (atomic context) reports
 * the queue ready instead: a spurious wakeup, never a lost one.
 */
#include <kunit/visibility.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/smp.h>
#include <linux/poll.h>
#include <linux/sched/isolation.h>
#include <linux/wait.h>

#include "lfq.h"
#include "lfq_queue.h"
#include "lfq_seg.h"
#include "lfq_wait.h"
#include "proto/lfq_ready.h"

static bool wake_asym = true;
module_param(wake_asym, bool, 0644);
MODULE_PARM_DESC(wake_asym,
		 "new queues fence wakeups asymmetrically: publishers use a compiler barrier, sleepers an IPI to every CPU (default on)");

/**
 * lfq_wake_mode_new() - the wakeup fencing of a queue being created.
 * @g:		its geometry.
 *
 * Symmetric when asked (LFQ_CREATE_WAKE_SYMMETRIC), and on a machine with
 * isolated CPUs (isolcpus=, nohz_full=), which the heavy fence's IPIs
 * would disturb. Elastic queues too are asymmetric: their segments' views
 * copy the queue's light flag (lfq_seg.c), their sleepers re-count after
 * the heavy fence across segments (lfq_seg_ready_data(), _space(), armed
 * for any publish); linking a segment keeps its full barrier before it
 * looks at the space flag, and a retirement wakes the space waiters
 * through the wait queue whatever the flag says.
 *
 * Return: LFQ_WAKE_ASYMMETRIC or LFQ_WAKE_SYMMETRIC.
 */
u32 lfq_wake_mode_new(const struct lfq_geometry *g)
{
	if (READ_ONCE(wake_asym) &&
	    !(g->flags & LFQ_CREATE_WAKE_SYMMETRIC) &&
	    !housekeeping_enabled(HK_TYPE_DOMAIN) &&
	    !housekeeping_enabled(HK_TYPE_TICK))
		return LFQ_WAKE_ASYMMETRIC;
	return LFQ_WAKE_SYMMETRIC;
}

/* This CPU's part of the heavy fence, for a sleeper elsewhere. */
static void lfq_ipi_mb(void *unused)
{
	/* ORDERING wake-asym: pairs with the publishers' compiler barrier. */
	smp_mb();
}

/*
 * The sleeper's heavy fence: every CPU runs a full barrier, after which the
 * sleeper's own loads see every store a publisher made before it, and every
 * publisher's later loads see the sleeper's armed flag (ORDERING
 * wake-asym, the heavy half; what membarrier(2) does for processes). An
 * NMI or an interrupt handler that publishes runs wholly before or after
 * the IPI on its CPU. False when it cannot be sent from here.
 */
static bool lfq_heavy_fence(void)
{
	if (!in_task() || irqs_disabled())
		return false;
	/* A spinning holder of a lock we held would never answer. */
	lockdep_assert_preemption_enabled();
	on_each_cpu(lfq_ipi_mb, NULL, 1);
	return true;
}

/* How ready the queue is, arming the flag first if @arm. */
static bool lfq_queue_count(struct lfq_queue *q, u32 flags, u32 min_count,
			    bool arm, u32 *available)
{
	min_count = lfq_ready_want(&q->ring, flags == LFQ_WAIT_DATA,
				   min_count);
	if (q->el)
		*available = flags == LFQ_WAIT_DATA ?
			     lfq_seg_ready_data(q->el, min_count, arm) :
			     lfq_seg_ready_space(q->el, min_count, arm);
	else
		*available = flags == LFQ_WAIT_DATA ?
			     lfq_ready_data(&q->ring, min_count,
					    arm ? min_count : 0) :
			     lfq_ready_space(&q->ring, min_count,
					     arm ? min_count : 0);
	return *available >= min_count;
}

/**
 * lfq_queue_ready() - is the queue ready for a waiter?
 * @q:		the queue.
 * @flags:	LFQ_WAIT_DATA or LFQ_WAIT_SPACE.
 * @min_count:	slots wanted; MPSC slots (readable, or free and
 *		reservable) are counted up to it.
 * @arm:	arm the waiter's need-wakeup flag first (the caller is
 *		queued on the wait queue already).
 * @available:	set to the slots readable or free.
 *
 * Context: process context with preemption and interrupts enabled when
 * @arm (the heavy fence of an asymmetric queue); else any.
 * Return: true if at least @min_count slots are ready, or if @arm on an
 * asymmetric queue could not send its fence from this context (a spurious
 * "ready", with *@available possibly below @min_count).
 */
bool lfq_queue_ready(struct lfq_queue *q, u32 flags, u32 min_count,
		     bool arm, u32 *available)
{
	if (lfq_queue_count(q, flags, min_count, arm, available))
		return true;
	if (!arm || q->hdr.wake_mode != LFQ_WAKE_ASYMMETRIC)
		return false;
	/* Armed; the heavy fence; then the count that decides: ORDERING
	 * wake-asym. Without the fence, a spurious "ready" rather than a
	 * lost wakeup.
	 */
	if (!lfq_heavy_fence())
		return true;
	return lfq_queue_count(q, flags, min_count, false, available);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_queue_ready);

/**
 * lfq_queue_wait() - sleep until the ring is ready for the caller.
 * @q:		the queue.
 * @flags:	LFQ_WAIT_DATA or LFQ_WAIT_SPACE.
 * @min_count:	slots wanted, 1..slot_count.
 * @timeout_ns:	< 0 forever, 0 check only, else a relative timeout.
 * @available:	slots readable or free at return.
 *
 * Return: 0, -EAGAIN (not ready, @timeout_ns == 0), -ETIMEDOUT or -EINTR
 * (a signal, or kthread_stop() for a kernel thread).
 */
int lfq_queue_wait(struct lfq_queue *q, u32 flags, u32 min_count,
		   s64 timeout_ns, u32 *available)
{
	wait_queue_head_t *wq = flags == LFQ_WAIT_DATA ? &q->data_wq :
							 &q->space_wq;
	ktime_t expires = 0;
	DEFINE_WAIT(wait);
	int ret;

	/* Fast check without arming, so a ready ring costs the peer nothing. */
	if (lfq_queue_ready(q, flags, min_count, false, available))
		return 0;
	if (!timeout_ns)
		return -EAGAIN;
	if (timeout_ns > 0)
		expires = ktime_add_ns(ktime_get(), timeout_ns);

	for (;;) {
		/* Queue first, then arm and re-check: ORDERING wake-queue. */
		prepare_to_wait(wq, &wait, TASK_INTERRUPTIBLE);
		if (lfq_queue_ready(q, flags, min_count, true, available)) {
			ret = 0;
			break;
		}
		/* In-kernel consumers (lfq_source_echo.c) stop this way. */
		if (signal_pending(current) ||
		    ((current->flags & PF_KTHREAD) && kthread_should_stop())) {
			ret = -EINTR;
			break;
		}
		if (timeout_ns > 0 && ktime_after(ktime_get(), expires)) {
			ret = -ETIMEDOUT;
			break;
		}
		atomic64_inc(&q->waits);
		if (timeout_ns > 0)
			schedule_hrtimeout(&expires, HRTIMER_MODE_ABS);
		else
			schedule();
	}
	finish_wait(wq, &wait);
	return ret;
}

static void lfq_wake_one(struct lfq_queue *q, wait_queue_head_t *wq,
			 u32 *need)
{
	WRITE_ONCE(*need, 0);
	/* ORDERING wake-queue. */
	if (wq_has_sleeper(wq)) {
		atomic64_inc(&q->wakeups);
		wake_up_interruptible_all(wq);
	}
}

/**
 * lfq_queue_wake_work() - wake the consumer for a kernel producer.
 * @work:	the queue's wake_work, queued from any context.
 *
 * Context: hardirq (irq_work).
 */
void lfq_queue_wake_work(struct irq_work *work)
{
	struct lfq_queue *q = container_of(work, struct lfq_queue, wake_work);

	lfq_wake_one(q, &q->data_wq, q->ring.need_data);
}

/**
 * lfq_queue_space_work() - wake producers sleeping for space, for a
 * segment linked in any context (lfq_seg_advance()).
 * @work:	the queue's space_work.
 *
 * Context: hardirq (irq_work).
 */
void lfq_queue_space_work(struct irq_work *work)
{
	struct lfq_queue *q = container_of(work, struct lfq_queue, space_work);

	lfq_wake_one(q, &q->space_wq, q->ring.need_space);
}

/**
 * lfq_queue_wake_producers() - wake producers sleeping for space, for an
 * in-kernel consumer that freed slots.
 * @q:		the queue.
 *
 * Context: any context but NMI.
 */
void lfq_queue_wake_producers(struct lfq_queue *q)
{
	lfq_wake_one(q, &q->space_wq, q->ring.need_space);
}

/**
 * lfq_queue_wake() - wake sleepers after publishing (LFQ_IOC_WAKE).
 * @q:		the queue.
 * @flags:	LFQ_WAKE_CONSUMER and/or LFQ_WAKE_PRODUCER.
 *
 * Return: 0, or -EINVAL for no or unknown flags.
 */
int lfq_queue_wake(struct lfq_queue *q, u32 flags)
{
	if (!flags || flags & ~(LFQ_WAKE_CONSUMER | LFQ_WAKE_PRODUCER))
		return -EINVAL;
	atomic64_inc(&q->wake_calls);
	if (flags & LFQ_WAKE_CONSUMER)
		lfq_wake_one(q, &q->data_wq, q->ring.need_data);
	if (flags & LFQ_WAKE_PRODUCER)
		lfq_wake_one(q, &q->space_wq, q->ring.need_space);
	return 0;
}
