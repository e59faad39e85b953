// SPDX-License-Identifier: MIT
/*
 * space_liar.c - a blocking MPSC producer against a consumer that forges
 * its tail. The ring is full, one of its slots still held by a producer
 * that reserved it and has not committed; the consumer writes tail = head
 * ("all consumed"). The indices then say every slot is free, but no slot
 * can be reserved: the first one's previous lap is still being written
 * (lfq_mpsc_lap_free()). A producer blocked in lfq_push() must sleep
 * through this, not spin between a wait that says "space" and a
 * reservation that says "full": it may use at most a tenth of the half
 * second it is left there, by its thread's CPU clock. Then the holder
 * commits and an honest release wakes it, and its push goes through.
 *
 * Runs on a memfd queue here, and on a /dev/lfq queue in the test VM
 * (tests/vm/space_liar_kernel.c builds this file with LFQ_KERNEL_QUEUE),
 * where the wait is the module's LFQ_IOC_WAIT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "lfq_ring.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"
#include "blocked_push.h"

#ifdef LFQ_KERNEL_QUEUE
#define QUEUE_BACKEND	LFQ_BACKEND_KERNEL
#else
#define QUEUE_BACKEND	LFQ_BACKEND_MEMFD
#endif

#define SLOTS		64u
#define PAGE		4096ul
#define SLOT_SIZE	64u
#define HOLD_MS		500
#define MAX_CPU_MS	50

int main(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = SLOT_SIZE, .slot_count = SLOTS,
		 .backend = QUEUE_BACKEND, .flags = LFQ_CREATE_BLOCK);
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = -1);
	struct lfq *q = queue_or_exit(&o), *holder = NULL;
	struct blocked b = { .rc = 1 };
	struct lfq *pusher = NULL;
	void *hdr, *prod = MAP_FAILED, *cons = MAP_FAILED;
	struct lfq_ring_hdr h;
	char msg[SLOT_SIZE] = "m";
	int64_t cpu, waited;
	int wait_rc, res_rc, pushed = 0, err;
	void *held, *span;

	tap_plan(4);
	by_fd.fd = lfq_fd(q);
	err = lfq_open(&by_fd, &holder);
	if (!err)
		err = lfq_open(&by_fd, &pusher);
	/* The holder takes slot 0 and keeps it; the rest fill the ring. */
	if (!err && lfq_reserve(holder, 1, &held) != 1)
		err = -EIO;
	/* lfq_push() would block on the full ring (LFQ_CREATE_BLOCK). */
	while (!err && lfq_reserve(q, 1, &span) == 1) {
		lfq_commit(q, 1);
		pushed++;
	}
	/*
	 * The liar's view: the producer page read-only, its own consumer
	 * page writable (the queue's creator has both roles), each mapped
	 * alone at its offset as /dev/lfq requires.
	 */
	hdr = err ? MAP_FAILED : mmap(NULL, PAGE, PROT_READ, MAP_SHARED,
				      lfq_fd(q), 0);
	if (hdr != MAP_FAILED) {
		h = *(const struct lfq_ring_hdr *)hdr;
		prod = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, lfq_fd(q),
			    (off_t)h.prod_offset);
		cons = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			    lfq_fd(q), (off_t)h.cons_offset);
	}
	if (hdr == MAP_FAILED || prod == MAP_FAILED || cons == MAP_FAILED) {
		tap_ok(0, "setup: a full ring with one held slot, mapped (err %d, errno %d)",
		       err, errno);
		return tap_done();
	}
	/* The liar: everything consumed. */
	__atomic_store_n(&((struct lfq_cons_ctl *)cons)->tail,
			 __atomic_load_n(&((const struct lfq_prod_ctl *)prod)->head,
					 __ATOMIC_RELAXED),
			 __ATOMIC_RELEASE);
	wait_rc = lfq_wait_space(pusher, 1, 0);
	res_rc = lfq_reserve(pusher, 1, &span);
	tap_ok(pushed == SLOTS - 1 && res_rc == -EAGAIN && wait_rc == -EAGAIN,
	       "forged tail = head over a held slot: reserve says full (%s) and so does a space wait (%s); %d pushed",
	       ename(-res_rc), ename(-wait_rc), pushed);

	cpu = blocked_start(&b, pusher, SLOT_SIZE, HOLD_MS);
	tap_ok(cpu >= 0 && cpu <= MAX_CPU_MS && !blocked_done(&b),
	       "a producer blocked in lfq_push() sleeps while the tail lies: %lld ms of CPU in %d ms (at most %d)",
	       (long long)cpu, HOLD_MS, MAX_CPU_MS);

	/* The holder commits; an honest release (slot 0) wakes the pusher. */
	lfq_commit(holder, 1);
	err = lfq_pop(q, msg, sizeof(msg));
	waited = blocked_wait(&b);
	tap_ok(!err && blocked_done(&b) && b.rc == 0,
	       "after the holder's commit, one honest release wakes it and its push goes through (pop %s, push %s, %lld ms)",
	       ename(-err), ename(-b.rc), (long long)waited);
	if (!blocked_done(&b))
		return tap_done();	/* exits with the pusher still stuck */
	tap_ok(lfq_wait_space(q, 1, 0) == -EAGAIN,
	       "the ring is full again, as it should be");
	munmap(hdr, PAGE);
	munmap(prod, PAGE);
	munmap(cons, PAGE);
	lfq_close(pusher);
	lfq_close(holder);
	lfq_close(q);
	return tap_done();
}
