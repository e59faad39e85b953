// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_poll.c - poll()/epoll on /dev/lfq files: readable when the ring has
 * a slot to read, writable when it has a free one. A direction the caller
 * waits for and that is not ready arms the ring's need-wakeup flag, as a
 * sleeper in LFQ_IOC_WAIT does (core/lfq_wait.c), so publishers wake the
 * poller.
 */
#include <linux/poll.h>

#include "core/lfq_queue.h"
#include "core/lfq_wait.h"
#include "lfq_dev.h"
#include "lfq_file.h"

/**
 * lfq_poll() - the poll of /dev/lfq files.
 * @file:	the file.
 * @pt:		the poll table.
 *
 * Return: EPOLLIN/EPOLLOUT (and the RDNORM/WRNORM twins) as ready, or
 * EPOLLERR for an unbound file.
 */
__poll_t lfq_poll(struct file *file, poll_table *pt)
{
	struct lfq_file *f = lfq_file_get(file);
	__poll_t want = poll_requested_events(pt);
	__poll_t mask = 0;
	struct lfq_queue *q;
	u32 n;

	if (!f)
		return EPOLLERR;
	q = f->q;
	poll_wait(file, &q->data_wq, pt);
	poll_wait(file, &q->space_wq, pt);

	/* Arm only a direction the caller waits for and that is not ready. */
	if (lfq_queue_ready(q, LFQ_WAIT_DATA, 1, false, &n) ||
	    ((want & EPOLLIN) && lfq_queue_ready(q, LFQ_WAIT_DATA, 1, true, &n)))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (lfq_queue_ready(q, LFQ_WAIT_SPACE, 1, false, &n) ||
	    ((want & EPOLLOUT) &&
	     lfq_queue_ready(q, LFQ_WAIT_SPACE, 1, true, &n)))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}
