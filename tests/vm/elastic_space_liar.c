// SPDX-License-Identifier: MIT
/*
 * elastic_space_liar.c - tests/host/space_liar.c on an elastic /dev/lfq
 * MPSC queue at seg_max: a producer blocked in LFQ_IOC_WAIT sleeps while
 * the consumer's forged segment tail frees nothing.
 *
 * Two segments of 64 slots, both live (seg_max 2): the first full, the
 * second full with its first slot reserved by a holder that has not
 * committed. The consumer writes the second segment's tail word = its head
 * ("all consumed"). The indices then say the whole segment is free, but
 * no slot can be reserved: its first slot's previous lap is still being
 * written. The module's space count for an elastic queue must see that
 * too (lfq_seg_ready_space() counts only reservable slots), or the
 * producer spins between a wait that says "space" and a reservation that
 * says "full": it may use at most a tenth of the half second it is left
 * there, by its thread's CPU clock. Then the holder commits, an honest
 * release in the first segment wakes it, and its push goes through.
 *
 * Then the newest segment is filled until a reservation fails, which
 * seals it: at seg_max, a producer blocked in lfq_push() must sleep in
 * LFQ_IOC_WAIT (liblfq asks the module whether the queue may grow, rather
 * than answer "a segment's worth" for a sealed segment), until the
 * consumer drains the first segment, the module retires it, and the push
 * grows the queue again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "lfq.h"
#include "lfq_ring.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"
#include "blocked_push.h"

#define SLOTS		64u
#define SLOT_SIZE	64u
#define PAGE		4096ul
#define HOLD_MS		500
#define MAX_CPU_MS	50
/* A wait's spins at seg_max: memory only, then one sleep. */
#define SPINS		100000u
#define SPIN_WAIT_MS	20
#define MAX_SYS_MS	20

/* This thread's CPU time in the kernel, in ms. */
static int64_t thread_sys_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (int64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

/* One page-aligned part of the queue's mapping, alone. */
static void *map_part(int fd, uint64_t off, uint64_t len, int prot)
{
	size_t size = (len + PAGE - 1) & ~(PAGE - 1);

	return mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)off);
}

int main(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = SLOT_SIZE, .slot_count = SLOTS,
		 .flags = LFQ_CREATE_BLOCK | LFQ_CREATE_ELASTIC,
		 .seg_min = 2, .seg_max = 2);
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = -1);
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq *q = queue_or_exit(&o), *holder = NULL;
	struct blocked b = { .rc = 1 };
	struct lfq *pusher = NULL;
	const struct lfq_segtab *tab = MAP_FAILED;
	const struct lfq_seg_word *heads = MAP_FAILED;
	struct lfq_seg_word *tails = MAP_FAILED;
	char msg[SLOT_SIZE] = "m";
	int64_t cpu, waited, sys;
	int wait_rc, res_rc, pushed = 0, err;
	uint32_t frame = 0, popped;
	void *held, *span;

	tap_plan(6);
	by_fd.fd = lfq_fd(q);
	err = lfq_open(&by_fd, &holder);
	if (!err)
		err = lfq_open(&by_fd, &pusher);
	/* The first segment full. */
	while (!err && pushed < (int)SLOTS && lfq_reserve(q, 1, &span) == 1) {
		lfq_commit(q, 1);
		pushed++;
	}
	/* The holder takes the second segment's first slot and keeps it. */
	if (!err && lfq_reserve(holder, 1, &held) != 1)
		err = -EIO;
	/*
	 * The rest of it full, exactly: one more reservation would seal it.
	 * lfq_push() would block (LFQ_CREATE_BLOCK).
	 */
	while (!err && pushed < (int)(2 * SLOTS - 1) &&
	       lfq_reserve(q, 1, &span) == 1) {
		lfq_commit(q, 1);
		pushed++;
	}
	if (!err && ioctl(lfq_fd(q), LFQ_IOC_INFO, &info))
		err = -errno;
	if (!err) {
		tab = map_part(lfq_fd(q), info.segtab_offset, PAGE, PROT_READ);
		heads = map_part(lfq_fd(q), info.heads_offset,
				 info.seg_max * sizeof(*heads), PROT_READ);
		tails = map_part(lfq_fd(q), info.tails_offset,
				 info.seg_max * sizeof(*tails),
				 PROT_READ | PROT_WRITE);
	}
	if (err || tab == MAP_FAILED || heads == MAP_FAILED ||
	    tails == MAP_FAILED) {
		tap_ok(0, "setup: two full segments, one held slot, mapped (err %d, errno %d)",
		       err, errno);
		return tap_done();
	}
	/* The liar: the newest segment all consumed. */
	frame = __atomic_load_n(&tab->pseg, __ATOMIC_ACQUIRE) % info.seg_max;
	__atomic_store_n(&tails[frame].v,
			 __atomic_load_n(&heads[frame].v, __ATOMIC_RELAXED) &
			 ~LFQ_SEG_SEALED, __ATOMIC_RELEASE);
	tap_diag("newest frame %u: head 0x%llx tail 0x%llx; frame %u: head 0x%llx tail 0x%llx",
		 frame, (unsigned long long)heads[frame].v,
		 (unsigned long long)tails[frame].v, !frame,
		 (unsigned long long)heads[!frame].v,
		 (unsigned long long)tails[!frame].v);
	wait_rc = lfq_wait_space(pusher, 1, 0);
	res_rc = lfq_reserve(pusher, 1, &span);
	tap_ok(pushed == 2 * SLOTS - 1 && res_rc == -EAGAIN &&
	       wait_rc == -EAGAIN,
	       "seg_max segments, the newest's forged tail = head over a held slot: reserve says full (%s) and so does a space wait (%s); %d pushed",
	       ename(-res_rc), ename(-wait_rc), pushed);

	cpu = blocked_start(&b, pusher, SLOT_SIZE, HOLD_MS);
	tap_ok(cpu >= 0 && cpu <= MAX_CPU_MS && !blocked_done(&b),
	       "a producer blocked in lfq_push() (LFQ_IOC_WAIT) sleeps while the segment's tail lies: %lld ms of CPU in %d ms (at most %d)",
	       (long long)cpu, HOLD_MS, MAX_CPU_MS);

	/* The holder commits; an honest release wakes the pusher. */
	lfq_commit(holder, 1);
	err = lfq_pop(q, msg, sizeof(msg));
	waited = blocked_wait(&b);
	tap_ok(!err && blocked_done(&b) && b.rc == 0,
	       "after the holder's commit, one honest release wakes it and its push goes through (pop %s, push %s, %lld ms)",
	       ename(-err), ename(-b.rc), (long long)waited);
	if (!blocked_done(&b))
		return tap_done();	/* exits with the pusher still stuck */

	/* The newest filled until a reservation fails: sealed, at seg_max. */
	while (lfq_reserve(q, 1, &span) == 1)
		lfq_commit(q, 1);
	/*
	 * A wait there spins on memory: whether the queue may grow is asked
	 * of the module before the spins and in the sleep, not once per
	 * spin (100000 LFQ_IOC_WAIT calls would cost far more than 20 ms of
	 * system time).
	 */
	lfq_set_wait_spin(pusher, SPINS);
	sys = thread_sys_ms();
	wait_rc = lfq_wait_space(pusher, 1, SPIN_WAIT_MS * 1000000ll);
	sys = thread_sys_ms() - sys;
	lfq_set_wait_spin(pusher, 256);
	tap_ok(wait_rc == -ETIMEDOUT && sys <= MAX_SYS_MS,
	       "the newest segment sealed at seg_max: a wait with %u spins times out (%s) after %lld ms of system time (at most %d)",
	       SPINS, ename(-wait_rc), (long long)sys, MAX_SYS_MS);
	cpu = blocked_start(&b, pusher, SLOT_SIZE, HOLD_MS);
	tap_ok(cpu >= 0 && cpu <= MAX_CPU_MS && !blocked_done(&b),
	       "the newest segment sealed at seg_max: a producer blocked in lfq_push() sleeps: %lld ms of CPU in %d ms (at most %d)",
	       (long long)cpu, HOLD_MS, MAX_CPU_MS);
	/* Drain the queue: the first segment retires, and the push grows. */
	for (popped = 0; popped < 4 * SLOTS &&
	     !lfq_pop(q, msg, sizeof(msg)); popped++)
		;
	waited = blocked_wait(&b);
	tap_ok(blocked_done(&b) && b.rc == 0,
	       "once the consumer drains the queue (%u records), the module retires the first segment and the push goes through (push %s, %lld ms)",
	       popped, ename(-b.rc), (long long)waited);
	if (!blocked_done(&b))
		return tap_done();	/* exits with the pusher still stuck */
	lfq_close(pusher);
	lfq_close(holder);
	lfq_close(q);
	return tap_done();
}
