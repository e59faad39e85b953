// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mmap.c - mapping a queue into a process. The file offset selects a
 * window of the layout in lfq_ring.h: the header page, the two control
 * pages, the commit words and the slot area twice (so a single mapping of
 * it makes every batch contiguous). Writable pages follow the file's role
 * by the ROLES rule (proto/lfq_rules.h, lfq_layout_part()), not even later
 * through mprotect(). Only shared mappings are allowed: a private one
 * would copy-on-write the queue's pages away from the other side.
 *
 * Pages are supplied by the fault handler, as ALSA and perf do, so a
 * range zapped by madvise(MADV_DONTNEED) simply faults back in.
 */
#include <linux/mm.h>

#include "core/lfq_queue.h"
#include "lfq_dev.h"
#include "lfq_file.h"

static vm_fault_t lfq_vm_fault(struct vm_fault *vmf)
{
	struct lfq_file *f = lfq_file_get(vmf->vma->vm_file);
	struct lfq_queue *q = f ? f->q : NULL;
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
 * part it overlaps must be one the role writes (ROLES).
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

/**
 * lfq_mmap() - the mmap of /dev/lfq files.
 * @file:	a bound file.
 * @vma:	the new mapping; its offset selects the window.
 *
 * Return: 0, -EBADFD for an unbound file, -EINVAL for a private mapping
 * or a window outside the layout, -EPERM for PROT_WRITE over a part the
 * file's role may not write.
 */
int lfq_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lfq_file *f = lfq_file_get(file);
	unsigned long total, pgoff, count;
	struct lfq_queue *q;

	if (!f)
		return -EBADFD;
	q = f->q;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	total = q->layout.map_size >> PAGE_SHIFT;
	pgoff = vma->vm_pgoff;
	count = vma_pages(vma);
	if (pgoff >= total || count > total - pgoff)
		return -EINVAL;

	/* Pages the role may not write never become writable here. */
	if (!lfq_mmap_writable(q, f->role, pgoff, count)) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	/* The layout is fixed: no mremap() growth, no core dumps of it. */
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_ops = &lfq_vm_ops;
	return 0;
}
