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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lfq_common.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define SLOTS		64u
#define SLOT_SIZE	64u
#define HOLD_MS		500
#define MAX_CPU_MS	50

struct blocked {
	struct lfq *q;
	int rc;
	int done;
};

static void *push_blocking(void *arg)
{
	struct blocked *b = arg;
	char msg[SLOT_SIZE] = "late";

	b->rc = lfq_push(b->q, msg, sizeof(msg));
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int64_t thread_cpu_ms(pthread_t t)
{
	struct timespec ts;
	clockid_t id;

	if (pthread_getcpuclockid(t, &id) || clock_gettime(id, &ts))
		return -1;
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = SLOT_SIZE, .slot_count = SLOTS,
		 .backend = LFQ_BACKEND_MEMFD, .flags = LFQ_CREATE_BLOCK);
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = -1);
	struct lfq *q = queue_or_exit(&o), *holder = NULL;
	struct blocked b = { .rc = 1 };
	struct lfq_ring_hdr h;
	struct lfq_ring_loc r;
	char msg[SLOT_SIZE] = "m";
	int64_t cpu0, cpu1, t0;
	int wait_rc, res_rc, pushed = 0, err;
	void *held, *span, *map;
	pthread_t t;

	tap_plan(4);
	by_fd.fd = lfq_fd(q);
	err = lfq_open(&by_fd, &holder);
	if (!err)
		err = lfq_open(&by_fd, &b.q);
	/* The holder takes slot 0 and keeps it; the rest fill the ring. */
	if (!err && lfq_reserve(holder, 1, &held) != 1)
		err = -EIO;
	/* lfq_push() would block on the full ring (LFQ_CREATE_BLOCK). */
	while (!err && lfq_reserve(q, 1, &span) == 1) {
		lfq_commit(q, 1);
		pushed++;
	}
	/* The control pages, up to the slots: the liar's view. */
	if (!err && pread(lfq_fd(q), &h, sizeof(h), 0) != sizeof(h))
		err = -EIO;
	map = err ? MAP_FAILED : mmap(NULL, h.data_offset,
				      PROT_READ | PROT_WRITE, MAP_SHARED,
				      lfq_fd(q), 0);
	if (map == MAP_FAILED) {
		tap_ok(0, "setup: a full ring with one held slot (err %d)", err);
		return tap_done();
	}
	lfq_ring_loc_init(&r, map, &h);
	/* The liar: everything consumed. */
	lfq_store_release(r.tail, lfq_load_relaxed(r.head));
	wait_rc = lfq_wait_space(b.q, 1, 0);
	res_rc = lfq_reserve(b.q, 1, &span);
	tap_ok(pushed == SLOTS - 1 && res_rc == -EAGAIN && wait_rc == -EAGAIN,
	       "forged tail = head over a held slot: reserve says full (%s) and so does a space wait (%s); %d pushed",
	       ename(-res_rc), ename(-wait_rc), pushed);

	pthread_create(&t, NULL, push_blocking, &b);
	msleep(20);
	cpu0 = thread_cpu_ms(t);
	msleep(HOLD_MS);
	cpu1 = thread_cpu_ms(t);
	tap_ok(cpu0 >= 0 && cpu1 - cpu0 <= MAX_CPU_MS &&
	       !__atomic_load_n(&b.done, __ATOMIC_ACQUIRE),
	       "a producer blocked in lfq_push() sleeps while the tail lies: %lld ms of CPU in %d ms (at most %d)",
	       (long long)(cpu1 - cpu0), HOLD_MS, MAX_CPU_MS);

	/* The holder commits; an honest release (slot 0) wakes the pusher. */
	lfq_commit(holder, 1);
	err = lfq_pop(q, msg, sizeof(msg));
	t0 = now_ns();
	while (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE) &&
	       now_ns() - t0 < 5000000000ll)
		msleep(1);
	tap_ok(!err && __atomic_load_n(&b.done, __ATOMIC_ACQUIRE) && b.rc == 0,
	       "after the holder's commit, one honest release wakes it and its push goes through (pop %s, push %s, %lld ms)",
	       ename(-err), ename(-b.rc), (long long)((now_ns() - t0) / 1000000));
	if (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE))
		return tap_done();	/* exits with the pusher still stuck */
	pthread_join(t, NULL);
	tap_ok(lfq_wait_space(q, 1, 0) == -EAGAIN,
	       "the ring is full again, as it should be");
	munmap(map, h.data_offset);
	lfq_close(b.q);
	lfq_close(holder);
	lfq_close(q);
	return tap_done();
}
