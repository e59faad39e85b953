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
 * May a file in @role write every page of [@pgoff, @pgoff + @count)? The
 * header never; the producer page, the commit words and the slots (both
 * copies) only a producer; the consumer page only a consumer.
 */
static bool lfq_mmap_writable(const struct lfq_queue *q, u32 role,
			      unsigned long pgoff, unsigned long count)
{
	const struct lfq_layout *l = &q->layout;
	unsigned long end = pgoff + count;

	if (lfq_overlaps(pgoff, end, l->hdr_offset, PAGE_SIZE))
		return false;
	if (!(role & LFQ_ROLE_PRODUCER) &&
	    (lfq_overlaps(pgoff, end, l->prod_offset, PAGE_SIZE) ||
	     lfq_overlaps(pgoff, end, l->commit_offset, l->commit_size) ||
	     lfq_overlaps(pgoff, end, l->data_offset, 2 * l->data_size)))
		return false;
	if (!(role & LFQ_ROLE_CONSUMER) &&
	    lfq_overlaps(pgoff, end, l->cons_offset, PAGE_SIZE))
		return false;
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
