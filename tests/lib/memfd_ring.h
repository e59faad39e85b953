/* SPDX-License-Identifier: MIT */
/*
 * memfd_ring.h - a bare ring for the protocol tests (tests/host, _mt.c):
 * the shared words of one ring in a MAP_SHARED memfd, usable by threads
 * and forked processes, without liblfq or the module. Producer page,
 * consumer page, commit words, then (for MPMC) release words and a page
 * of consumer claim records, then the slot area mapped twice; located as
 * lfq_ring_loc_init() reads a header. Also a bare record ring
 * (proto/lfq_rec.h: a page of indices, then the byte area mapped twice)
 * and the check word the tests write beside each message. Header-only,
 * static inline.
 */
#ifndef LFQ_TEST_MEMFD_RING_H
#define LFQ_TEST_MEMFD_RING_H

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_common.h"
#include "lfq_rec.h"

#define MEMFD_RING_PAGE	4096ul

/**
 * struct memfd_ring - one ring's mapping.
 * @base:	the mapping.
 * @len:	its length (munmap(@base, @len) frees it).
 * @loc:	where the ring's words are.
 * @cclaims:	MPMC: a page of consumer claim records; else NULL.
 */
struct memfd_ring {
	unsigned char *base;
	size_t len;
	struct lfq_ring_loc loc;
	struct lfq_mpsc_claim *cclaims;
};

/*
 * Map a ring of @slots slots of @slot_size bytes (the slot area must be a
 * whole number of pages, for its double mapping); with @mpmc, release
 * words and consumer claim records too. 0, or -1 if it cannot.
 */
static inline int memfd_ring_init(struct memfd_ring *r, uint32_t slots,
				  uint32_t slot_size, int mpmc)
{
	size_t words = (slots * 8 + MEMFD_RING_PAGE - 1) &
		       ~(MEMFD_RING_PAGE - 1);
	size_t data_len = (size_t)slots * slot_size;
	size_t extra = mpmc ? words + MEMFD_RING_PAGE : 0;
	size_t ctl_len = 2 * MEMFD_RING_PAGE + words + extra;
	struct lfq_ring_hdr hdr = {
		.type = LFQ_TYPE_MPSC,
		.slot_size = slot_size,
		.slot_count = slots,
		.prod_offset = 0,
		.cons_offset = MEMFD_RING_PAGE,
		.commit_offset = 2 * MEMFD_RING_PAGE,
		.commit_size = words,
		.data_offset = ctl_len,
		.data_size = data_len,
	};
	int fd = memfd_create("lfq-test-ring", MFD_CLOEXEC);

	if (fd < 0 || data_len % MEMFD_RING_PAGE ||
	    ftruncate(fd, (off_t)(ctl_len + data_len)))
		return -1;
	r->len = ctl_len + 2 * data_len;
	r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED ||
	    mmap(r->base + ctl_len + data_len, data_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, (off_t)ctl_len) == MAP_FAILED)
		return -1;
	close(fd);
	lfq_ring_loc_init(&r->loc, r->base, &hdr);
	r->cclaims = NULL;
	if (mpmc) {
		r->loc.release = (__u64 *)(r->base + 2 * MEMFD_RING_PAGE +
					   words);
		r->cclaims = (struct lfq_mpsc_claim *)(r->base +
			2 * MEMFD_RING_PAGE + 2 * words);
	}
	return 0;
}

/*
 * Map a record ring of @size bytes (a whole number of pages): head and
 * tail on their own cache lines of the first page, then the byte area
 * twice. @base and @len as memfd_ring_init(); 0, or -1 if it cannot.
 */
static inline int memfd_rec_init(struct lfq_rec_ring *r, uint64_t size,
				 unsigned char **base, size_t *len)
{
	int fd = memfd_create("lfq-test-rec", MFD_CLOEXEC);
	unsigned char *b;

	if (fd < 0 || size % MEMFD_RING_PAGE ||
	    ftruncate(fd, (off_t)(MEMFD_RING_PAGE + size)))
		return -1;
	*len = MEMFD_RING_PAGE + 2 * size;
	b = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED ||
	    mmap(b + MEMFD_RING_PAGE + size, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, (off_t)MEMFD_RING_PAGE) ==
	    MAP_FAILED)
		return -1;
	close(fd);
	*base = b;
	r->head = (__u64 *)b;
	r->tail = (__u64 *)(b + 128);
	r->data = b + MEMFD_RING_PAGE;
	r->size = size;
	r->need_data = NULL;	/* a bare ring: nobody sleeps */
	r->need_space = NULL;
	r->light = 0;
	r->overwrite = 0;	/* rec_ow_mt.c sets it */
	return 0;
}

/* The word written beside message word @w, to catch torn records. */
static inline uint64_t check_word(uint64_t w)
{
	return w * 0x9e3779b97f4a7c15ull ^ (w >> 29);
}

#endif /* LFQ_TEST_MEMFD_RING_H */
