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

int lfq_source_attach(struct lfq *q, const struct lfq_source *src)
{
	struct lfq_source arg = *src;
	int id;

	if (!lfq_is_kernel(q))
		return -EOPNOTSUPP;
	arg.size = sizeof(arg);
	id = ioctl(q->fd, LFQ_IOC_SOURCE_ATTACH, &arg);
	return id < 0 ? -errno : id;
}

int lfq_source_detach(struct lfq *q, int id)
{
	if (!lfq_is_kernel(q))
		return -EOPNOTSUPP;
	if (id < 0)
		return -EINVAL;
	return ioctl(q->fd, LFQ_IOC_SOURCE_DETACH, (unsigned long)id) ? -errno : 0;
}
