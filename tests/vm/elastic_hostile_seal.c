// SPDX-License-Identifier: MIT
/*
 * elastic_hostile_seal.c - a producer that seals its segment below the
 * segment's own base (its head word is producer-writable), has it linked
 * with LFQ_IOC_GROW, and fills its commit words with indices far ahead,
 * while the consumer's tail words say both segments are done. The next
 * segment's base is then below the sealed one's: the kernel's check that
 * every reservation in a retiring MPSC segment is published must still
 * read at most a segment's worth of commit words (HOSTILE MEMORY H5). It
 * once looped for ever under the segments' lock, and every later GROW,
 * fault and the queue's teardown hung behind it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elastic_util.h"
#include "lfq_ring.h"

#define SEG	64

int main(void)
{
	struct lfq *q = el_queue(LFQ_TYPE_MPSC, 64, SEG, 2, 4);
	struct lfq_info in = { .size = sizeof(in) };
	struct lfq_seg_word *heads, *tails;
	struct lfq_seg_meta *meta;
	struct lfq_segtab *st;
	uint64_t m[8] = { 0 }, *commit;
	uint32_t f0, f1, f2, i;
	int fd = lfq_fd(q), r, status = 0;
	unsigned char *b;
	pid_t pid;

	tap_plan(4);
	if (ioctl(fd, LFQ_IOC_INFO, &in))
		return tap_ok(0, "INFO: %s", ename(errno)), tap_done();
	b = mmap(NULL, in.map_size, PROT_READ, MAP_SHARED, fd, 0);
	/* Both roles: the consumer page, head and tail words and frames
	 * are writable.
	 */
	if (b == MAP_FAILED ||
	    mmap(b + in.heads_offset, in.map_size - in.heads_offset,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 in.heads_offset) == MAP_FAILED ||
	    mmap(b + in.cons_offset, 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, in.cons_offset) == MAP_FAILED)
		return tap_ok(0, "mmap: %s", ename(errno)), tap_done();
	st = (struct lfq_segtab *)(b + in.segtab_offset);
	meta = (struct lfq_seg_meta *)(st + 1);
	heads = (struct lfq_seg_word *)(b + in.heads_offset);
	tails = (struct lfq_seg_word *)(b + in.tails_offset);

	for (i = 0; i < SEG + 1; i++)	/* segment 0 full, 1 record in 1 */
		lfq_push(q, m, sizeof(m));
	f0 = st->cseg;
	f1 = st->pseg;
	heads[f1].v = 3 | LFQ_SEG_SEALED;	/* its base is 64 */
	r = ioctl(fd, LFQ_IOC_GROW, (unsigned long)f1);
	f2 = st->pseg;
	tap_ok(r >= 0 && f2 != f1 && meta[f2].base == 3,
	       "a segment sealed at 3, below its base %llu, is linked: the next starts at %llu (GROW %d)",
	       (unsigned long long)meta[f1].base,
	       (unsigned long long)meta[f2].base, r);
	tails[f0].v = SEG;
	tails[f1].v = 3;
	commit = (uint64_t *)(b + in.frames_offset + (uint64_t)f1 * in.frame_size);
	for (i = 0; i < SEG; i++)
		commit[i] = 0x7fffffffffffffffull;
	/* The consumer handle names segment 0; name segment 2 instead. */
	((struct lfq_cons_ctl *)(b + in.cons_offset))->seg = f2;

	/* The reclaim runs from GROW and the periodic work. */
	pid = fork();
	if (!pid) {
		alarm(20);
		_exit(ioctl(fd, LFQ_IOC_GROW, (unsigned long)f2) < 0 &&
		      errno != EAGAIN);
	}
	for (i = 0; i < 100 && waitpid(pid, &status, WNOHANG) != pid; i++)
		msleep(100);
	tap_ok(i < 100 && WIFEXITED(status) && !WEXITSTATUS(status),
	       "a GROW after it returns in %u ms (the segments' lock is free)",
	       i * 100);
	if (i == 100)
		kill(pid, SIGKILL);
	msleep(1500);			/* > seg_idle_ms / 2: a periodic pass */
	tap_ok(meta[f1].state != LFQ_SEG_LIVE,
	       "the lying segment is retired like any drained one (state %u)",
	       meta[f1].state);
	munmap(b, in.map_size);
	lfq_close(q);
	tap_ok(1, "the queue is released (a hung teardown would be a splat)");
	return tap_done();
}
