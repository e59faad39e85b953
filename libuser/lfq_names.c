// SPDX-License-Identifier: MIT
/*
 * lfq_names.c - liblfq's named queues: create a queue under a name, attach
 * to it by name from any process the queue's mode admits, unlink the name,
 * and list the names (LFQ_IOC_CREATE/OPEN/UNLINK/LIST).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lfq_handle.h"

/* Copy a C string into a zero-padded name array; the kernel checks the rest. */
static int lfq_name_put(char dst[LFQ_NAME_MAX], const char *name)
{
	size_t len;

	if (!name || !name[0])
		return -EINVAL;
	len = strnlen(name, LFQ_NAME_MAX);
	if (len == LFQ_NAME_MAX)
		return -ENAMETOOLONG;
	memset(dst, 0, LFQ_NAME_MAX);
	memcpy(dst, name, len);
	return 0;
}

/* One ioctl on a fresh, unbound /dev/lfq file; 0 or a negative errno. */
static int lfq_ioctl_unbound(unsigned long cmd, void *arg)
{
	int fd, err = 0;

	fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, cmd, arg))
		err = -errno;
	close(fd);
	return err;
}

/**
 * lfq_create_named() - create a named queue in the kernel.
 * @p:		type, geometry and LFQ_CREATE_* flags.
 * @name:	1 to LFQ_NAME_MAX - 1 characters of [A-Za-z0-9._-], not
 *		starting with '.'.
 * @mode:	permission bits (0777 at most) for lfq_open_named(): a write
 *		bit admits producers, a read bit consumers. No umask applies.
 * @role:	the new handle's role, LFQ_ROLE_PRODUCER and/or
 *		LFQ_ROLE_CONSUMER; 0 for both. A queue has one consumer (and
 *		one producer if SPSC): take only the side this process uses.
 * @out:	the new handle; it may be closed at once: the name keeps the
 *		queue until lfq_unlink().
 *
 * The queue is owned by the caller's fsuid and fsgid.
 *
 * Return: 0, or -EEXIST (name taken), -EINVAL (bad name, mode, role or
 * geometry), -ENAMETOOLONG, -ENOSPC (LFQ_NAMED_MAX names), -ENOENT (no
 * /dev/lfq), -ENOMEM, or another open/ioctl/mmap error.
 */
int lfq_create_named(const struct lfq_params *p, const char *name,
		     unsigned int mode, unsigned int role, struct lfq **out)
{
	struct lfq_create arg = {
		.size = sizeof(arg),
		.flags = p->flags,
		.type = p->type,
		.slot_size = p->slot_size,
		.slot_count = p->slot_count,
		.mode = mode,
		.role = role,
	};
	int err = lfq_name_put(arg.name, name);

	if (err)
		return err;
	return lfq_bind_new(LFQ_IOC_CREATE, &arg, out);
}

/**
 * lfq_open_named() - attach to a named queue.
 * @name:	the queue's name.
 * @role:	LFQ_ROLE_PRODUCER and/or LFQ_ROLE_CONSUMER: checked against
 *		the queue's owner, group and mode, and what the handle may do.
 * @out:	the new handle.
 *
 * Return: 0, or -ENOENT (no such name, or no /dev/lfq), -EACCES (the mode
 * denies it), -EBUSY (the queue has its consumer, or its SPSC producer,
 * already), -EINVAL (bad name or role), -ENAMETOOLONG, or another
 * open/ioctl/mmap error.
 */
int lfq_open_named(const char *name, unsigned int role, struct lfq **out)
{
	struct lfq_open arg = { .size = sizeof(arg), .role = role };
	int err = lfq_name_put(arg.name, name);

	if (err)
		return err;
	return lfq_bind_new(LFQ_IOC_OPEN, &arg, out);
}

/**
 * lfq_unlink() - remove a queue's name. The queue lives on while handles,
 * files or mappings hold it; the name may be created again at once.
 * @name:	the queue's name.
 *
 * Return: 0, or -ENOENT (no such name), -EPERM (neither the owner nor
 * CAP_FOWNER), -EINVAL, -ENAMETOOLONG.
 */
int lfq_unlink(const char *name)
{
	struct lfq_unlink arg = { .size = sizeof(arg) };
	int err = lfq_name_put(arg.name, name);

	if (err)
		return err;
	return lfq_ioctl_unbound(LFQ_IOC_UNLINK, &arg);
}

/**
 * lfq_list() - report the named queues, in increasing order of id.
 * @entries:	room for @max entries (may be NULL when @max is 0).
 * @max:	entries @entries holds.
 * @total:	out (may be NULL): named queues in all; more than the return
 *		value when @entries was too small.
 *
 * Return: the number of entries written, or a negative errno.
 */
int lfq_list(struct lfq_list_entry *entries, unsigned int max,
	     unsigned int *total)
{
	struct lfq_list arg = {
		.size = sizeof(arg),
		.entry_size = sizeof(*entries),
		.count = max,
		.entries = (uintptr_t)entries,
	};
	int err = lfq_ioctl_unbound(LFQ_IOC_LIST, &arg);

	if (err)
		return err;
	if (total)
		*total = arg.total;
	return (int)arg.count;
}
