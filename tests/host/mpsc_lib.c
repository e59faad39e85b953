// SPDX-License-Identifier: MIT
/*
 * mpsc_lib.c - MPSC queues through liblfq's API: producer processes, each
 * with its own handle attached by fd, stream sequenced messages with
 * blocking waits into one consumer that verifies per-producer order and
 * checksums; partial commits and discards are skipped and counted; the
 * full-queue policy: lfq_push() fails on a full ring by default and waits
 * for space on a queue created with LFQ_CREATE_BLOCK.
 *
 * Runs on a memfd queue here, and on a /dev/lfq queue in the test VM
 * (tests/vm/mpsc_kernel.c builds this file with LFQ_KERNEL_QUEUE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define PRODUCERS	4
#define TIMEOUT_NS	10000000000ll
#ifdef LFQ_KERNEL_QUEUE
#define PER_PRODUCER	250000ull	/* TCG is slow */
#else
#define PER_PRODUCER	2500000ull
#endif

#ifdef LFQ_KERNEL_QUEUE
#define QUEUE_BACKEND	LFQ_BACKEND_KERNEL
#else
#define QUEUE_BACKEND	LFQ_BACKEND_MEMFD
#endif

static int make_queue_flags(uint32_t slots, uint32_t flags, struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 32,
		 .slot_count = slots, .flags = flags, .backend = QUEUE_BACKEND);

	return lfq_create(&o, q);
}

static int make_queue(uint32_t slots, struct lfq **q)
{
	return make_queue_flags(slots, 0, q);
}

/* A handle of its own on the queue behind @fd (a /dev/lfq fd or memfd). */
static int attach(int fd, struct lfq **q)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = fd);

	return lfq_open(&o, q);
}

static inline uint64_t check_word(uint64_t w)
{
	return w * 0x9e3779b97f4a7c15ull ^ (w >> 31);
}

/* Producer process: its own handle; every 1000th batch gives one up. */
static int produce(int fd, unsigned int id, uint64_t count)
{
	uint64_t seq = 0, round = 0;
	struct lfq *q;

	if (attach(fd, &q))
		return 2;
	while (seq < count) {
		uint32_t i, keep;
		uint64_t *m;
		void *span;
		int got = lfq_reserve(q, 4, &span);

		if (got == -EAGAIN) {
			if (lfq_wait_space(q, 1, TIMEOUT_NS))
				return 3;
			continue;
		}
		if (got < 0)
			return 4;
		m = span;
		if (++round % 1000 == 0) {
			lfq_discard(q);
			continue;
		}
		keep = (uint32_t)got;
		if (keep > count - seq)
			keep = (uint32_t)(count - seq);
		for (i = 0; i < keep; i++, seq++) {
			m[4 * i] = (uint64_t)id << 48 | seq;
			m[4 * i + 1] = check_word(m[4 * i]);
		}
		lfq_commit(q, keep);	/* the rest, if any, is discarded */
	}
	lfq_close(q);
	return 0;
}

static void test_processes(void)
{
	uint64_t next[PRODUCERS] = { 0 }, n = 0, bad = 0, stall = 0;
	uint64_t total = PRODUCERS * PER_PRODUCER;
	pid_t pid[PRODUCERS];
	struct lfq_stats st;
	const void *span;
	struct lfq *q;
	unsigned int i;
	int failed = 0, status;

	if (!tap_ok(make_queue(1024, &q) == 0, "create an MPSC queue"))
		return;
	for (i = 0; i < PRODUCERS; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			_exit(produce(lfq_fd(q), i, PER_PRODUCER));
	}
	while (n < total) {
		int got = lfq_peek(q, 64, &span), k;
		const uint64_t *m = span;

		if (got == -EAGAIN) {
			if (lfq_wait_data(q, 1, TIMEOUT_NS)) {
				stall++;
				break;
			}
			continue;
		}
		if (got < 0) {
			tap_diag("lfq_peek: %d (%s)", got, ename(-got));
			bad++;
			break;
		}
		for (k = 0; k < got; k++, n++) {
			uint64_t w = m[4 * k], id = w >> 48;

			if (id >= PRODUCERS || m[4 * k + 1] != check_word(w) ||
			    (w & 0xffffffffffffull) != next[id]++)
				bad++;
		}
		lfq_release(q, (uint32_t)got);
	}
	for (i = 0; i < PRODUCERS; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] || status)
			failed++;
	/* Skips discards left behind the last message, then is empty. */
	if (lfq_peek(q, 1, &span) != -EAGAIN)
		bad++;
	tap_ok(!bad && !stall && !failed && n == total,
	       "%u producer processes, %llu messages, per-producer order and "
	       "checksums verified (bad %llu, stalls %llu, failed %d)",
	       PRODUCERS, (unsigned long long)n, (unsigned long long)bad,
	       (unsigned long long)stall, failed);
	lfq_get_stats(q, &st);
	tap_ok(st.consumed == st.produced && st.produced > total,
	       "every reserved slot consumed or skipped as discarded "
	       "(reserved %llu, consumed-or-skipped %llu, messages %llu)",
	       (unsigned long long)st.produced,
	       (unsigned long long)st.consumed, (unsigned long long)total);
	lfq_close(q);
}

static void test_out_of_order(void)
{
	struct lfq *q, *a, *b;
	uint64_t *sa, *sb, v = 0;
	const void *peeked;
	void *span;
	int ok, ga;

	if (make_queue(128, &q) || attach(lfq_fd(q), &a) ||
	    attach(lfq_fd(q), &b)) {
		tap_ok(0, "queue for the out-of-order tests");
		tap_ok(0, "queue for the partial commit test");
		return;
	}
	ok = lfq_reserve(a, 1, &span) == 1;
	sa = span;
	ok &= lfq_reserve(b, 1, &span) == 1;
	sb = span;
	if (ok) {
		*sa = 1;
		*sb = 2;
	}
	lfq_commit(b, 1);
	ok &= lfq_peek(q, 1, &peeked) == -EAGAIN &&
	      lfq_wait_data(q, 1, 0) == -EAGAIN;
	lfq_commit(a, 1);
	ok &= lfq_pop(q, &v, sizeof(v)) == 0 && v == 1;
	ok &= lfq_pop(q, &v, sizeof(v)) == 0 && v == 2;
	tap_ok(ok, "a later reservation committed first waits for the earlier");

	ga = lfq_reserve(a, 3, &span);
	sa = span;
	if (ga > 0)
		sa[0] = 10;
	lfq_commit(a, 1);		/* slots 2 and 3 discarded */
	v = 11;
	lfq_push(b, &v, sizeof(v));
	ok = lfq_pop(q, &v, sizeof(v)) == 0 && v == 10 &&
	     lfq_pop(q, &v, sizeof(v)) == 0 && v == 11 &&
	     lfq_pop(q, &v, sizeof(v)) == -EAGAIN;
	tap_ok(ok && ga == 3, "a partial commit discards the rest of the "
	       "reservation, and the consumer skips it");
	lfq_close(a);
	lfq_close(b);
	lfq_close(q);
}

/* Default policy fails when full; LFQ_CREATE_BLOCK waits for the consumer. */
static void test_full_policy(void)
{
	uint64_t v, n = 0, bad = 0;
	struct lfq *q, *p;
	int status, ok;
	pid_t pid;

	ok = make_queue(128, &q) == 0;
	for (v = 0; ok && v < 128; v++)
		ok = lfq_push(q, &v, sizeof(v)) == 0;
	tap_ok(ok && lfq_push(q, &v, sizeof(v)) == -EAGAIN,
	       "full ring, default policy: lfq_push() fails with EAGAIN");
	lfq_close(q);

	if (make_queue_flags(128, LFQ_CREATE_BLOCK, &q) || attach(lfq_fd(q), &p)) {
		tap_ok(0, "LFQ_CREATE_BLOCK queue");
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* A late, slow consumer: the producer must wait, not fail. */
		usleep(100000);
		while (n < 3 * 128) {
			if (lfq_wait_data(q, 1, TIMEOUT_NS))
				_exit(2);
			while (lfq_pop(q, &v, sizeof(v)) == 0)
				bad += v != n++;
		}
		_exit(bad ? 1 : 0);
	}
	ok = pid > 0;
	for (v = 0; ok && v < 3 * 128; v++)
		ok = lfq_push(p, &v, sizeof(v)) == 0;
	ok &= pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0;
	tap_ok(ok, "full ring, LFQ_CREATE_BLOCK: 3 rings' worth pushed through "
	       "a late consumer, every lfq_push() waited and succeeded, in order");
	lfq_close(p);
	lfq_close(q);
}

/*
 * A ring full of discarded slots and a producer asleep for space: the
 * consumer's peek frees them without handing any out, and must still wake
 * the producer (lfq_mpsc_peek_check()); nothing else ever would.
 */
static void test_discard_wakes_producer(void)
{
	struct lfq *q, *a, *b;
	const void *peeked;
	void *span;
	int status, ok;
	pid_t pid;

	if (make_queue(128, &q) || attach(lfq_fd(q), &a) ||
	    attach(lfq_fd(q), &b)) {
		tap_ok(0, "queue for the discard wakeup test");
		return;
	}
	ok = lfq_reserve(a, 128, &span) == 128;
	lfq_discard(a);
	pid = fork();
	if (pid == 0) {
		/* A missed wakeup ends in the timeout (a late re-check). */
		int64_t t0 = now_ns();

		_exit(lfq_wait_space(b, 1, TIMEOUT_NS) == 0 &&
		      now_ns() - t0 < TIMEOUT_NS / 2 ? 0 : 1);
	}
	usleep(200000);		/* let it go to sleep */
	ok &= lfq_peek(q, 1, &peeked) == -EAGAIN;
	ok &= pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0;
	tap_ok(ok, "a peek that only skips discarded slots wakes a producer "
	       "sleeping for space");
	lfq_close(a);
	lfq_close(b);
	lfq_close(q);
}

int main(void)
{
	tap_plan(8);
	test_full_policy();
	test_discard_wakes_producer();
	test_out_of_order();
	test_processes();
	return tap_done();
}
