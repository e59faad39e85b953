// SPDX-License-Identifier: MIT
/*
 * lfq_names.c - liblfq's named queues: the name as the kernel wants it,
 * unlinking a name and listing the names (LFQ_IOC_UNLINK, LFQ_IOC_LIST).
 * Creating and opening by name are lfq_create() and lfq_open().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "lfq_handle.h"

/**
 * lfq_name_put() - copy a C string into a zero-padded name array; the
 * kernel checks the characters.
 * @dst:	the LFQ_NAME_MAX-byte array.
 * @name:	the name.
 *
 * Return: 0, -EINVAL (NULL or empty), -ENAMETOOLONG.
 */
int lfq_name_put(char dst[LFQ_NAME_MAX], const char *name)
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

int lfq_unlink(const char *name)
{
	struct lfq_unlink arg = { .size = sizeof(arg) };
	int err = lfq_name_put(arg.name, name);

	if (err)
		return err;
	return lfq_kernel_ioctl_unbound(LFQ_IOC_UNLINK, &arg);
}

int lfq_list(struct lfq_list_entry *entries, unsigned int max,
	     unsigned int *total)
{
	struct lfq_list arg = {
		.size = sizeof(arg),
		.entry_size = sizeof(*entries),
		.count = max,
		.entries = (uintptr_t)entries,
	};
	int err = lfq_kernel_ioctl_unbound(LFQ_IOC_LIST, &arg);

	if (err)
		return err;
	if (total)
		*total = arg.total;
	return (int)arg.count;
}
