/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_report.h - tests/vm/fuzz.c after the run: the summary (calls,
 * touches, children, creates, opens, sources, the errno histogram, then
 * what elastic queues saw), the four TAP results (the calls all checked
 * out, no worker died or hung, every named queue unlinked, the module
 * still creates, pushes and pops through liblfq). Static, for fuzz.c
 * alone.
 */
#ifndef LFQ_FUZZ_REPORT_H
#define LFQ_FUZZ_REPORT_H

#include <sys/ioctl.h>

#include "fuzz_state.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

/* Unlink every named queue: the pool's, and any LIST shows. */
static int unlink_all(int *others)
{
	struct lfq_list_entry e[64];
	struct lfq_unlink u = { .size = sizeof(u) };
	struct lfq_list l = { .size = sizeof(l), .entry_size = sizeof(e[0]),
			      .count = 64, .entries = (uintptr_t)e };
	int fd = open_lfq(), i;

	*others = 0;
	for (i = 0; i < NAMES; i++) {
		memset(u.name, 0, sizeof(u.name));
		snprintf(u.name, sizeof(u.name), "%s", name_pool[i]);
		ioctl(fd, LFQ_IOC_UNLINK, &u);
	}
	if (ioctl(fd, LFQ_IOC_LIST, &l)) {
		close(fd);
		return -1;
	}
	for (i = 0; i < (int)l.count; i++) {
		tap_diag("unlinking a name outside the pool: \"%s\"", e[i].name);
		memset(u.name, 0, sizeof(u.name));
		memcpy(u.name, e[i].name, sizeof(u.name));
		ioctl(fd, LFQ_IOC_UNLINK, &u);
		(*others)++;
	}
	l.count = 0;
	l.total = ~0u;
	i = ioctl(fd, LFQ_IOC_LIST, &l) ? -1 : (int)l.total;
	close(fd);
	return i;
}

static int module_works(void)
{
	struct lfq *q = spsc_queue_or_exit(64, 64);
	char in[64] = "after the fuzz", out[64] = "";
	int ok = lfq_push(q, in, sizeof(in)) == 0 &&
		 lfq_pop(q, out, sizeof(out)) == 0 && !strcmp(in, out);

	lfq_close(q);
	return ok;
}

/*
 * Print the summary of a run of @calls calls (asked for) within @secs
 * seconds, seed @seed, that took @elapsed seconds, in which @died workers
 * died or hung; then the four TAP results. Returns the exit status.
 */
static int fuzz_report(uint64_t calls, unsigned int secs, uint64_t seed,
		       int died, double elapsed)
{
	int i, left, others;

	tap_diag("%llu calls (%llu ok) in %.1f s, %llu touches (%llu faults caught), %llu children (%llu killed), %llu creates, %llu opens, %llu sources attached",
		 (unsigned long long)sh->calls, (unsigned long long)sh->ok,
		 elapsed, (unsigned long long)sh->touches,
		 (unsigned long long)sh->faults, (unsigned long long)sh->kids,
		 (unsigned long long)sh->killed,
		 (unsigned long long)sh->created,
		 (unsigned long long)sh->opened,
		 (unsigned long long)sh->attached);
	for (i = 0; i < 160; i++)
		if (sh->errs[i])
			tap_diag("  errno %s: %llu", i ? ename(i) : "?",
				 (unsigned long long)sh->errs[i]);
	tap_diag("record queues: %llu creates, %llu of them MPMC (their "
		 "consumer page's claim index and claims are touched as any "
		 "mapped word)",
		 (unsigned long long)sh->created_rec,
		 (unsigned long long)sh->created_rec_mpmc);
	tap_diag("elastic queues: %llu creates, %llu GROW calls (%llu gave a "
		 "frame), %llu touches aimed at their words and frames, %llu "
		 "faults caught on their mappings",
		 (unsigned long long)sh->created_el,
		 (unsigned long long)sh->grows,
		 (unsigned long long)sh->grows_ok,
		 (unsigned long long)sh->touches_el,
		 (unsigned long long)sh->faults_el);

	tap_ok(!died && !sh->bad && sh->calls >= calls && sh->calls,
	       "%llu calls, seed %llu", (unsigned long long)sh->calls,
	       (unsigned long long)seed);
	if (sh->calls < calls)
		tap_diag("only %llu of %llu calls before the %u s deadline",
			 (unsigned long long)sh->calls,
			 (unsigned long long)calls, secs);
	tap_ok(!died, "no worker died of a signal it did not send or hung (%d did)", died);
	left = unlink_all(&others);
	tap_ok(left == 0, "every named queue unlinked (%d left, %d outside the pool)",
	       left, others);
	tap_ok(module_works(), "the module still creates, pushes and pops");
	return tap_failed ? 1 : 0;
}

#endif /* LFQ_FUZZ_REPORT_H */
