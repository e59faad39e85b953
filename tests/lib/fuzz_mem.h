/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_mem.h - tests/vm/fuzz.c's memory side: each process's trap pages
 * (setup_process_memory(): a read-only page holding a plausible struct, a
 * buffer against a guard page, a PROT_NONE hole); mmap of the fds at
 * random or INFO-guided offsets, lengths, protections and flags, munmap
 * and mprotect of all or part of a mapping, madvise; and the loads and
 * stores into queue mappings, whose SIGSEGV/SIGBUS fault_handler()
 * catches and counts (and lets any other kill the process). In an
 * elastic queue's mapping (its layout from INFO VER3) touches aim at the
 * segment table, the head and tail words and the frames as well: a frame
 * without a live segment is a SIGBUS, expected. Static, for fuzz.c alone.
 */
#ifndef LFQ_FUZZ_MEM_H
#define LFQ_FUZZ_MEM_H

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "fuzz_fds.h"
#include "fuzz_state.h"

static struct map *free_map(void)
{
	struct map *m = &cur->maps[below(NMAP)];

	if (m->addr) {
		check("munmap", 0, munmap(m->addr, m->len), mprotect_errs);
		m->addr = NULL;
	}
	return m;
}

static void op_mmap(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int fd = pick_fd(), prot = prots[below(6)];
	int flags = chance(90) ? MAP_SHARED : (chance(50) ? MAP_PRIVATE : MAP_SHARED_VALIDATE | MAP_POPULATE);
	struct lfq_info in = { .size = sizeof(in) };
	size_t len;
	off_t off;
	void *p;
	struct map *m;

	switch (below(6)) {
	case 0:
		len = below(3 * PG);		/* maybe 0, maybe unaligned */
		break;
	case 1:
		len = (size_t)interesting();
		break;
	default:
		len = PG * (1 + below(24));
		break;
	}
	switch (below(6)) {
	case 0:
		off = (off_t)(interesting() & ~(PG - 1));
		break;
	case 1:
		off = (off_t)below(PG);		/* unaligned: EINVAL */
		break;
	default:
		off = (off_t)(PG * below(24));
		break;
	}
	if (chance(60)) {
		/* Inside the queue's layout, as INFO reports it. */
		if (!check("INFO", 0, ioctl(fd, LFQ_IOC_INFO, &in), ioctl_errs) &&
		    in.map_size >= PG) {
			size_t pages = in.map_size / PG, first = below(pages);

			off = (off_t)(first * PG);
			len = PG * (1 + below(pages - first));
		}
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	check("mmap", (unsigned long)off, p == MAP_FAILED ? -1 : 0, mmap_errs);
	if (p == MAP_FAILED)
		return;
	m = free_map();
	m->addr = p;
	m->len = (len + PG - 1) & ~(PG - 1);
	m->prot = prot;
	m->partial = 0;
	m->off = (uint64_t)off;
	m->el = in;
	if (in.size < LFQ_INFO_SIZE_VER3 || !in.frame_size ||
	    in.seg_max > LFQ_SEGS_MAX)
		m->el.seg_max = 0;
}

/*
 * A word of an elastic queue's mapping @m worth touching: in the segment
 * table, a head or tail word, or a frame (live or not); NULL if @m does
 * not cover the one picked.
 */
static volatile uint64_t *elastic_word(const struct map *m)
{
	const struct lfq_info *in = &m->el;
	uint64_t f = below(in->seg_max + 1), off;

	switch (below(4)) {
	case 0:
		off = in->segtab_offset + 8 * below(64 + 2 * in->seg_max);
		break;
	case 1:
		off = in->heads_offset + LFQ_CACHELINE * (f % in->seg_max);
		break;
	case 2:
		off = in->tails_offset + LFQ_CACHELINE * (f % in->seg_max);
		break;
	default:
		off = in->frames_offset + f * in->frame_size +
		      8 * below((uint32_t)(in->frame_size / 8));
		break;
	}
	if (off < m->off || off - m->off + 8 > m->len)
		return NULL;
	return (volatile uint64_t *)(m->addr + (off - m->off));
}

static void op_munmap(void)
{
	struct map *m = &cur->maps[below(NMAP)];
	size_t pages, first, n;

	if (!m->addr)
		return;
	pages = m->len / PG;
	if (chance(60) || pages < 2) {
		check("munmap", 0, munmap(m->addr, m->len), mprotect_errs);
		m->addr = NULL;
		return;
	}
	/* A part: the rest is never touched again, unmapped later whole. */
	first = below(pages);
	n = 1 + below(pages - first);
	check("munmap part", 0, munmap(m->addr + first * PG, n * PG),
	      mprotect_errs);
	m->partial = 1;
}

static void op_mprotect(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
	};
	struct map *m = &cur->maps[below(NMAP)];
	int prot = prots[below(4)];
	size_t pages;

	if (!m->addr)
		return;
	pages = m->len / PG;
	if (chance(70)) {
		if (!check("mprotect", prot, mprotect(m->addr, m->len, prot),
			   mprotect_errs))
			m->prot = prot;
	} else {
		check("mprotect part", prot,
		      mprotect(m->addr + PG * below(pages), PG, prot),
		      mprotect_errs);
		m->partial = 1;
	}
}

static void op_madvise(void)
{
	struct map *m = &cur->maps[below(NMAP)];
	static const int advs[] = { MADV_DONTNEED, MADV_WILLNEED, MADV_RANDOM,
				    MADV_DONTFORK, MADV_DOFORK };

	if (!m->addr || m->partial)
		return;
	check("madvise", 0, madvise(m->addr, m->len, advs[below(5)]),
	      mprotect_errs);
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	(void)si;
	if (touching) {
		touching = 0;
		siglongjmp(touch_jb, 1);
	}
	/* Not ours: die of it, and the parent reports the signal. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void op_touch(void)
{
	struct map *m = &cur->maps[below(NMAP)];
	volatile uint64_t *w;
	int k;

	if (!m->addr || m->partial)
		return;
	if (sigsetjmp(touch_jb, 1)) {
		__atomic_fetch_add(&sh->faults, 1, __ATOMIC_RELAXED);
		if (m->el.seg_max)
			__atomic_fetch_add(&sh->faults_el, 1, __ATOMIC_RELAXED);
		return;
	}
	touching = 1;
	for (k = 0; k < 8; k++) {
		w = m->el.seg_max && chance(50) ? elastic_word(m) : NULL;
		if (w)
			__atomic_fetch_add(&sh->touches_el, 1, __ATOMIC_RELAXED);
		else
			w = (volatile uint64_t *)(m->addr + 8 * below(m->len / 8));
		if (chance(50) && (m->prot & PROT_WRITE))
			*w = chance(50) ? interesting() : *w + below(3) - 1;
		else if (m->prot & PROT_READ)
			(void)*w;
		__atomic_fetch_add(&sh->touches, 1, __ATOMIC_RELAXED);
	}
	touching = 0;
}

static void setup_process_memory(void)
{
	ro_page = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guarded = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hole = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_page == MAP_FAILED || guarded == MAP_FAILED || hole == MAP_FAILED) {
		tap_diag("setup mmap: %s", strerror(errno));
		exit(1);
	}
	/* A struct that claims 96 bytes, all else zero: read-only memory
	 * that parses, so INFO and STATS fail only on writing back.
	 */
	memset(ro_page, 0, PG);
	put32(ro_page, 0, 96);
	mprotect(ro_page, PG, PROT_READ);
	mprotect(guarded + 2 * PG, PG, PROT_NONE);
	/* The hole stays reserved PROT_NONE: unmapped, a later mmap (a
	 * thread's stack) could land there and take the kernel's writes.
	 */
}

#endif /* LFQ_FUZZ_MEM_H */
