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
 * range zapped by madvise(MADV_DONTNEED) simply faults back in. An elastic
 * queue's frames hold its segments' pages: the handler inserts them under
 * the queue's segment lock, which the kernel also holds when it zaps a
 * frame from every mapping as a segment is allocated in it or freed
 * (core/lfq_seg.c, "Mappings"), so no page table entry outlives the page
 * it maps. A frame without a segment reads as zeros (the zero page,
 * mapped read-only) and is SIGBUS to write.
 */
#include <linux/mm.h>
#include <linux/pfn_t.h>

#include "core/lfq_queue.h"
#include "core/lfq_seg.h"
#include "lfq_dev.h"
#include "lfq_file.h"

/*
 * A page of an elastic queue's frames: its segment's, or, in a frame with
 * none, the zero page read-only (a write there is SIGBUS, here or in
 * lfq_vm_pfn_mkwrite()).
 */
static vm_fault_t lfq_vm_fault_frame(struct lfq_queue *q,
				     struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	struct page *page;
	int err;

	lfq_seg_lock(q->el);
	page = lfq_seg_frame_page(q->el, vmf->pgoff -
				  (q->layout.frames_offset >> PAGE_SHIFT));
	/* Under the lock: a zap comes before the lookup or after us. */
	if (page) {
		err = vm_insert_page(vma, vmf->address, page);
		ret = !err || err == -EBUSY ? VM_FAULT_NOPAGE : vmf_error(err);
	} else if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		/*
		 * Readable: a read fault came, so the mapping may be read
		 * (VM_WRITE alone reads too). Without VM_READ the protection
		 * would be PAGE_NONE, a fault taken again for ever on
		 * kernels without NUMA balancing.
		 */
		ret = vmf_insert_mixed_prot(vma, vmf->address,
					    pfn_to_pfn_t(my_zero_pfn(vmf->address)),
					    vm_get_page_prot((vma->vm_flags &
							      ~VM_WRITE) |
							     VM_READ));
	}
	lfq_seg_unlock(q->el);
	return ret;
}

/*
 * A write to a page mapped without a struct page behind it: only the zero
 * page of a frame without a segment (segments' pages are inserted with
 * the mapping's own protection), which must stay zero.
 */
static vm_fault_t lfq_vm_pfn_mkwrite(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static vm_fault_t lfq_vm_fault(struct vm_fault *vmf)
{
	struct lfq_file *f = lfq_file_get(vmf->vma->vm_file);
	struct lfq_queue *q = f ? f->q : NULL;
	struct page *page;

	/* lfq_mmap() checked the window; a bound file stays bound. */
	if (!q || vmf->pgoff >= (q->layout.map_size >> PAGE_SHIFT))
		return VM_FAULT_SIGBUS;
	if (vmf->pgoff >= q->nr_pages && q->el)
		return lfq_vm_fault_frame(q, vmf);
	page = q->map_pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct lfq_vm_ops = {
	.fault = lfq_vm_fault,
	.pfn_mkwrite = lfq_vm_pfn_mkwrite,
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
	/* Frames get their pages by vm_insert_page() (lfq_vm_fault_frame()). */
	if (q->el)
		vma->vm_flags |= VM_MIXEDMAP;
	vma->vm_ops = &lfq_vm_ops;
	return 0;
}
