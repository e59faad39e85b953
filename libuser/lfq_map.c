// SPDX-License-Identifier: MIT
/*
 * lfq_map.c - mapping a queue's layout into the process: the header
 * read-only, each part writable only if the handle's role may write it
 * (the ROLES rule, lfq_layout_part() in kmod/proto/lfq_layout.h), and the
 * slot area twice back to back so every batch is one contiguous span.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq_handle.h"

long lfq_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* Map @len bytes of q->fd at offset @off to the same offset of @base. */
static int lfq_map_at(struct lfq *q, unsigned char *base, uint64_t off,
		      uint64_t len, int writable)
{
	if (!len)
		return 0;
	if (mmap(base + off, len, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		 MAP_SHARED | MAP_FIXED, q->fd, (off_t)off) == MAP_FAILED)
		return -errno;
	return 0;
}

/**
 * lfq_map_layout() - map q->layout from q->fd and locate the ring in it.
 * @q:		a handle whose hdr, layout, fd and role are set.
 * @double_in_file: the kernel exposes the slot area twice in its own
 *		layout; a memfd holds it once and it is mapped twice here.
 *
 * Return: 0 (q->map and q->ring set) or a negative errno.
 */
int lfq_map_layout(struct lfq *q, int double_in_file)
{
	const struct lfq_layout *l = &q->layout;
	__u64 off, size;
	unsigned char *base;
	unsigned int part;
	uint32_t writer;
	int err = 0;

	base = mmap(NULL, l->map_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (part = 0; part < LFQ_PARTS && !err; part++) {
		writer = lfq_layout_part(l, part, &off, &size);
		if (part == LFQ_PART_DATA && !double_in_file) {
			/* The second copy: the file's first, again. */
			size /= 2;
			err = lfq_map_at(q, base + size, off, size,
					 q->role & writer);
		}
		if (!err)
			err = lfq_map_at(q, base, off, size, q->role & writer);
	}
	if (err) {
		munmap(base, l->map_size);
		return err;
	}
	q->map = base;
	lfq_ring_loc_init(&q->ring, base, &q->hdr);
	return 0;
}
