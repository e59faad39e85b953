// SPDX-License-Identifier: MIT
/*
 * lfq_create.c - the two front doors: lfq_create() makes a queue
 * (anonymous or named in the kernel, or a memfd) and lfq_open() opens one
 * (by name, or by a /dev/lfq fd or memfd), each reading its options struct
 * once and handing over to the backend.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lfq_handle.h"

int lfq_create(const struct lfq_create_opts *opts, struct lfq **out)
{
	struct lfq_create_opts o;
	struct lfq_create arg;
	int err;

	err = lfq_opts_copy(&o, sizeof(o), opts);
	if (err)
		return err;
	if (o.backend == LFQ_BACKEND_MEMFD)
		return lfq_memfd_create(&o, out);
	if (o.backend != LFQ_BACKEND_KERNEL)
		return -EINVAL;
	arg = (struct lfq_create) {
		.size = sizeof(arg),
		.flags = o.flags,
		.type = o.type,
		.slot_size = o.slot_size,
		.slot_count = o.slot_count,
		.mode = o.mode,
		.role = o.role,
		.seg_min = o.seg_min,
		.seg_max = o.seg_max,
	};
	if (o.name) {
		err = lfq_name_put(arg.name, o.name);
		if (err)
			return err;
	}
	return lfq_kernel_bind(LFQ_IOC_CREATE, &arg, out);
}

int lfq_open(const struct lfq_open_opts *opts, struct lfq **out)
{
	struct lfq_open_opts o;
	struct lfq_ring_hdr hdr;
	struct lfq_open arg;
	struct stat st;
	int fd, err;

	err = lfq_opts_copy(&o, sizeof(o), opts);
	if (err)
		return err;
	if (o.name) {
		arg = (struct lfq_open) { .size = sizeof(arg), .role = o.role };
		err = lfq_name_put(arg.name, o.name);
		if (err)
			return err;
		return lfq_kernel_bind(LFQ_IOC_OPEN, &arg, out);
	}
	/* By fd: the file's role (kernel) or none (memfd). */
	if (o.role)
		return -EINVAL;
	if (fstat(o.fd, &st))
		return -errno;
	/* An in-process elastic queue: this process's own, or none. */
	if (!S_ISCHR(st.st_mode) &&
	    pread(o.fd, &hdr, sizeof(hdr), 0) == sizeof(hdr) &&
	    (hdr.flags & LFQ_CREATE_ELASTIC))
		return lfq_local_open_fd(&st, out);
	fd = fcntl(o.fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (S_ISCHR(st.st_mode))
		return lfq_kernel_open_fd(fd, out);
	return lfq_memfd_open_fd(fd, out);
}
