// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mmap.c - mapping a queue into a process. The file offset selects a
 * window of the layout in lfq_ring.h: the header page, the two control
 * pages, and the slot area twice (so a single mapping of it makes every
 * batch contiguous). Writable pages follow the file's role (see
 * LFQ_ROLE_* in lfq.h): the header page is never writable, the consumer
 * page only for a consumer, the rest only for a producer, not even later
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

/* Do pages [@pgoff, @end) overlap the @size bytes at byte @off? */
static bool lfq_overlaps(unsigned long pgoff, unsigned long end, u64 off,
			 u64 size)
{
	return size && pgoff < (off + size) >> PAGE_SHIFT &&
	       off >> PAGE_SHIFT < end;
}

/*
 * May a file in @role write every page of [@pgoff, @pgoff + @count)? Each
 * part it overlaps must be one the role writes (lfq_layout_part()).
 */
static bool lfq_mmap_writable(const struct lfq_queue *q, u32 role,
			      unsigned long pgoff, unsigned long count)
{
	unsigned long end = pgoff + count;
	unsigned int part;
	u64 off, size;
	u32 writer;

	for (part = 0; part < LFQ_PARTS; part++) {
		writer = lfq_layout_part(&q->layout, part, &off, &size);
		if (lfq_overlaps(pgoff, end, off, size) && !(role & writer))
			return false;
	}
	return true;
}

int lfq_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lfq_attach *a = lfq_file_attach(file);
	unsigned long total, pgoff, count;
	struct lfq_queue *q;

	if (!a)
		return -EBADFD;
	q = a->q;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	total = q->layout.map_size >> PAGE_SHIFT;
	pgoff = vma->vm_pgoff;
	count = vma_pages(vma);
	if (pgoff >= total || count > total - pgoff)
		return -EINVAL;

	/* Pages the role may not write never become writable here. */
	if (!lfq_mmap_writable(q, a->role, pgoff, count)) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	/* The layout is fixed: no mremap() growth, no core dumps of it. */
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_ops = &lfq_vm_ops;
	return 0;
}
