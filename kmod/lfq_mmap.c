// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mmap.c - mapping a queue into a process. The file offset selects a
 * window of the layout in lfq_ring.h: the header page, the two control
 * pages, and the slot area twice (so a single mapping of it makes every
 * batch contiguous). The header page is never writable, not even later
 * through mprotect(). Only shared mappings are allowed: a private one
 * would copy-on-write the queue's pages away from the other side.
 */
#include <linux/mm.h>

#include "lfq_dev.h"

int lfq_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lfq_queue *q = lfq_file_queue(file);
	unsigned long total, pgoff, count;

	if (!q)
		return -EBADFD;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	total = q->layout.map_size >> PAGE_SHIFT;
	pgoff = vma->vm_pgoff;
	count = vma_pages(vma);
	if (pgoff >= total || count > total - pgoff)
		return -EINVAL;

	if (pgoff <= (q->layout.hdr_offset >> PAGE_SHIFT)) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	/* The layout is fixed: no mremap() growth, no core dumps of it. */
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;

	return vm_insert_pages(vma, vma->vm_start, q->map_pages + pgoff,
			       &count);
}
