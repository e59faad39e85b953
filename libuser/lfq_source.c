// SPDX-License-Identifier: MIT
/*
 * lfq_source.c - liblfq's event-source calls: attaching kernel event
 * sources (LFQ_IOC_SOURCE_ATTACH) to a /dev/lfq queue and detaching them.
 * The records sources write are in lfq_event.h; consumers read them with
 * the ordinary lfq_peek()/lfq_release().
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "lfq_handle.h"

/**
 * lfq_source_attach() - start a kernel event source on the queue.
 * @q:		a handle on a /dev/lfq queue.
 * @src:	what to attach; @src->size is ignored and set by the library.
 *
 * Return: the source's id (>= 0), -EOPNOTSUPP for a memfd queue, or a
 * negative errno from LFQ_IOC_SOURCE_ATTACH (see struct lfq_source).
 */
int lfq_source_attach(struct lfq *q, const struct lfq_source *src)
{
	struct lfq_source arg = *src;
	int id;

	if (q->backend != LFQ_BACKEND_KERNEL)
		return -EOPNOTSUPP;
	arg.size = sizeof(arg);
	id = ioctl(q->fd, LFQ_IOC_SOURCE_ATTACH, &arg);
	return id < 0 ? -errno : id;
}

/**
 * lfq_source_detach() - stop a source attached through this queue's file.
 * @q:		the handle the source was attached through.
 * @id:		the id lfq_source_attach() returned.
 *
 * Records the source already committed stay in the ring for the consumer.
 *
 * Return: 0, -EOPNOTSUPP for a memfd queue, -EINVAL for a negative @id, or
 * a negative errno from LFQ_IOC_SOURCE_DETACH.
 */
int lfq_source_detach(struct lfq *q, int id)
{
	if (q->backend != LFQ_BACKEND_KERNEL)
		return -EOPNOTSUPP;
	if (id < 0)
		return -EINVAL;
	return ioctl(q->fd, LFQ_IOC_SOURCE_DETACH, (unsigned long)id) ? -errno : 0;
}
