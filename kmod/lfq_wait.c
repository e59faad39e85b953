// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_wait.c - the kernel half of the wakeup handshake: sleeping in
 * LFQ_IOC_WAIT and poll(), and LFQ_IOC_WAKE.
 *
 * A sleeper is queued on the wait queue first, then arms the ring's
 * need_data/need_space flag with a full barrier and re-checks the indices
 * (lfq_spsc_arm_*_wait()); a peer that publishes after that sees the flag
 * and calls LFQ_IOC_WAKE. The flags live in user-writable pages: a process
 * that clears or sets them only delays or adds its own wakeups.
 */
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/poll.h>
#include <linux/wait.h>

#include "lfq.h"
#include "lfq_dev.h"
#include "lfq_ready.h"

/* The shared words a waiter looks at (see lfq_ready.h). */
static void lfq_queue_ring_ctl(struct lfq_queue *q, struct lfq_ring_ctl *r)
{
	r->prod = q->prod;
	r->cons = q->cons;
	r->commit = q->commit;
	r->type = q->hdr.type;
	r->slot_count = q->hdr.slot_count;
}

/*
 * Slots ready for @flags (MPSC readable ones counted up to @min_count),
 * arming the waiter's flag first if @arm; true if at least @min_count.
 */
static bool lfq_ready(struct lfq_queue *q, u32 flags, u32 min_count,
		      bool arm, u32 *available)
{
	struct lfq_ring_ctl r;

	lfq_queue_ring_ctl(q, &r);
	*available = flags == LFQ_WAIT_DATA ? lfq_ready_data(&r, min_count, arm) :
					      lfq_ready_space(&r, arm);
	return *available >= min_count;
}

/**
 * lfq_wait() - sleep until the ring is ready for the caller.
 * @q:		the queue.
 * @flags:	LFQ_WAIT_DATA or LFQ_WAIT_SPACE.
 * @min_count:	slots wanted, 1..slot_count.
 * @timeout_ns:	< 0 forever, 0 check only, else a relative timeout.
 * @available:	slots readable or free at return.
 *
 * Return: 0, -EAGAIN (not ready, @timeout_ns == 0), -ETIMEDOUT or -EINTR
 * (a signal, or kthread_stop() for a kernel thread).
 */
int lfq_wait(struct lfq_queue *q, u32 flags, u32 min_count, s64 timeout_ns,
	     u32 *available)
{
	wait_queue_head_t *wq = flags == LFQ_WAIT_DATA ? &q->data_wq :
							 &q->space_wq;
	ktime_t expires = 0;
	DEFINE_WAIT(wait);
	int ret;

	/* Fast check without arming, so a ready ring costs the peer nothing. */
	if (lfq_ready(q, flags, min_count, false, available))
		return 0;
	if (!timeout_ns)
		return -EAGAIN;
	if (timeout_ns > 0)
		expires = ktime_add_ns(ktime_get(), timeout_ns);

	for (;;) {
		/*
		 * Queue first, then arm and re-check: prepare_to_wait()'s
		 * barrier pairs with wq_has_sleeper() in lfq_wake_one().
		 */
		prepare_to_wait(wq, &wait, TASK_INTERRUPTIBLE);
		if (lfq_ready(q, flags, min_count, true, available)) {
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
	/* wq_has_sleeper()'s barrier pairs with the sleeper's queueing. */
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

	lfq_wake_one(q, &q->data_wq, &q->cons->need_data);
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
	lfq_wake_one(q, &q->space_wq, &q->prod->need_space);
}

/**
 * lfq_wake() - wake sleepers after publishing (LFQ_IOC_WAKE).
 * @q:		the queue.
 * @flags:	LFQ_WAKE_CONSUMER and/or LFQ_WAKE_PRODUCER.
 *
 * Return: 0, or -EINVAL for no or unknown flags.
 */
int lfq_wake(struct lfq_queue *q, u32 flags)
{
	if (!flags || flags & ~(LFQ_WAKE_CONSUMER | LFQ_WAKE_PRODUCER))
		return -EINVAL;
	atomic64_inc(&q->wake_calls);
	if (flags & LFQ_WAKE_CONSUMER)
		lfq_wake_one(q, &q->data_wq, &q->cons->need_data);
	if (flags & LFQ_WAKE_PRODUCER)
		lfq_wake_one(q, &q->space_wq, &q->prod->need_space);
	return 0;
}

__poll_t lfq_poll(struct file *file, poll_table *pt)
{
	struct lfq_queue *q = lfq_file_queue(file);
	__poll_t want = poll_requested_events(pt);
	__poll_t mask = 0;
	u32 n;

	if (!q)
		return EPOLLERR;
	poll_wait(file, &q->data_wq, pt);
	poll_wait(file, &q->space_wq, pt);

	/* Arm only a direction the caller waits for and that is not ready. */
	if (lfq_ready(q, LFQ_WAIT_DATA, 1, false, &n) ||
	    ((want & EPOLLIN) && lfq_ready(q, LFQ_WAIT_DATA, 1, true, &n)))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (lfq_ready(q, LFQ_WAIT_SPACE, 1, false, &n) ||
	    ((want & EPOLLOUT) && lfq_ready(q, LFQ_WAIT_SPACE, 1, true, &n)))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}
