// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mmap.c - mapping a queue into a process. The file offset selects a
 * window of the layout in lfq_ring.h: the header page, the two control
 * pages, and the slot area twice (so a single mapping of it makes every
 * batch contiguous). The header page is never writable, not even later
 * through mprotect(). Only shared mappings are allowed: a private one
 * would copy-on-write the queue's pages away from the other side.
 *
 * Pages are supplied by the fault handler, as ALSA and perf do, so a
 * range zapped by madvise(MADV_DONTNEED) simply faults back in.
 */
#include <linux/mm.h>

#include "lfq_dev.h"

static vm_fault_t lfq_vm_fault(struct vm_fault *vmf)
{
	struct lfq_queue *q = lfq_file_queue(vmf->vma->vm_file);
	struct page *page;

	/* lfq_mmap() checked the window; a bound file stays bound. */
	if (!q || vmf->pgoff >= (q->layout.map_size >> PAGE_SHIFT))
		return VM_FAULT_SIGBUS;
	page = q->map_pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct lfq_vm_ops = {
	.fault = lfq_vm_fault,
};

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
	vma->vm_ops = &lfq_vm_ops;
	return 0;
}
