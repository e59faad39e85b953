// SPDX-License-Identifier: GPL-2.0
/*
 * fork_share.c - a queue created before fork() is one queue in both
 * processes: the child inherits the fd and the MAP_SHARED mappings (and
 * liblfq's handle, a private copy of the indices), so one side can produce
 * and the other consume through the very same pages, in either direction.
 * Also: the queue outlives the creator's lfq_close() while the child still
 * maps it; after a child exits (or is killed asleep in LFQ_IOC_WAIT) the
 * parent carries on, reopening the queue by fd to resume at the current
 * indices. A child's lfq_close() of its copy of a handle leaves the
 * parent's claims alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define SLOTS	256
#define N	100000u
#define WAIT_NS	(10ll * 1000000000)

static struct lfq *make_queue(void)
{
	return spsc_queue_or_exit(16, SLOTS);
}

/* A new handle on @q's queue, opened by its fd (lfq_open() dups it). */
static int reopen(struct lfq *q, struct lfq **out)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = lfq_fd(q));

	return lfq_open(&o, out);
}

struct rec {
	uint64_t seq;
	uint64_t check;
};

static uint64_t check_of(uint64_t seq)
{
	return ~seq * 0xff51afd7ed558ccdull;
}

static int produce(struct lfq *q, uint64_t first, uint32_t n)
{
	struct rec r;
	uint32_t i;
	int err;

	for (i = 0; i < n; i++) {
		r.seq = first + i;
		r.check = check_of(r.seq);
		while ((err = lfq_push(q, &r, sizeof(r))) == -EAGAIN)
			if ((err = lfq_wait_space(q, 1, WAIT_NS))) {
				tap_diag("produce: wait_space at %u: %s", i,
					 strerror(-err));
				return 3;
			}
		if (err)
			return 4;
	}
	return 0;
}

static int consume(struct lfq *q, uint64_t first, uint32_t n)
{
	struct rec r;
	uint32_t i;
	int err;

	for (i = 0; i < n; i++) {
		while ((err = lfq_pop(q, &r, sizeof(r))) == -EAGAIN)
			if ((err = lfq_wait_data(q, 1, WAIT_NS))) {
				tap_diag("consume: wait_data at %u: %s", i,
					 strerror(-err));
				return 3;
			}
		if (err)
			return 4;
		if (r.seq != first + i || r.check != check_of(r.seq)) {
			tap_diag("consume: message %u is seq %llu (want %llu)",
				 i, (unsigned long long)r.seq,
				 (unsigned long long)(first + i));
			return 5;
		}
	}
	return 0;
}

/* Child producer; afterwards it reports its view of the counters. */
static int child_producer(struct lfq *q, int pipe_w)
{
	struct lfq_stats st;
	int err = produce(q, 0, N);

	if (err)
		return err;
	/* All consumed: every slot free again. */
	if ((err = lfq_wait_space(q, SLOTS, WAIT_NS)))
		return 6;
	if (lfq_get_stats(q, &st) ||
	    write(pipe_w, &st, sizeof(st)) != (ssize_t)sizeof(st))
		return 7;
	return 0;
}

static void test_child_to_parent(void)
{
	struct lfq_stats mine, theirs;
	struct lfq *q = make_queue(), *a = NULL;
	int pfd[2], rc, crc, err;
	pid_t pid;

	if (pipe(pfd)) {
		tap_diag("pipe: %s", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child_producer(q, pfd[1]));
	rc = consume(q, 0, N);
	memset(&theirs, 0, sizeof(theirs));
	if (read(pfd[0], &theirs, sizeof(theirs)) != (ssize_t)sizeof(theirs))
		rc = rc ? rc : 8;
	crc = child_ok(pid);
	tap_ok(!rc && !crc,
	       "queue made before fork: child produces %u, parent consumes, same mappings",
	       N);
	lfq_get_stats(q, &mine);
	if (!tap_ok(theirs.produced == N && theirs.consumed == N &&
		    mine.produced == N && mine.consumed == N,
		    "both processes read the same counters through the shared fd"))
		tap_diag("  child %llu/%llu parent %llu/%llu",
			 (unsigned long long)theirs.produced,
			 (unsigned long long)theirs.consumed,
			 (unsigned long long)mine.produced,
			 (unsigned long long)mine.consumed);

	/* The producer is gone; the parent takes over as producer by
	 * attaching anew (its own handle's producer index is stale). */
	err = reopen(q, &a);
	if (!tap_ok(!err && !produce(a, N, 100) && !consume(q, N, 100),
		    "after the child exits the parent re-attaches and continues at index %u",
		    N))
		tap_diag("  attach %d", err);
	lfq_close(a);
	close(pfd[0]);
	close(pfd[1]);
	lfq_close(q);
}

static void test_parent_to_child(void)
{
	struct lfq *q = make_queue();
	int rc, crc;
	pid_t pid;

	/* Committed before fork: the child must see these too. */
	rc = produce(q, 0, 100);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(consume(q, 0, N));
	rc = rc ? rc : produce(q, 100, N - 100);
	crc = child_ok(pid);
	tap_ok(!rc && !crc,
	       "parent produces %u (100 before fork), child consumes them through the inherited mapping",
	       N);
	lfq_close(q);
}

static void test_creator_closes(void)
{
	struct lfq *q = make_queue();
	int go[2], rc = 0, crc;
	char c = 0;
	pid_t pid;

	if (pipe(go)) {
		tap_diag("pipe: %s", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint32_t i;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		/* Both roles in one process, through the inherited copy. */
		for (i = 0; i < 50; i++)
			if (produce(q, (uint64_t)i * 100, 100) ||
			    consume(q, (uint64_t)i * 100, 100))
				_exit(3);
		_exit(0);
	}
	close(go[0]);
	lfq_close(q);	/* unmaps and closes the parent's side */
	if (write(go[1], &c, 1) != 1)
		rc = 1;
	close(go[1]);
	crc = child_ok(pid);
	tap_ok(!rc && !crc,
	       "after the creator's lfq_close() the child still uses the queue (5000 messages)");
}

static void test_killed_sleeper(void)
{
	struct lfq_stats st;
	struct lfq *q = make_queue(), *a = NULL;
	int status = -1, err;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(lfq_wait_data(q, 1, -1) ? 2 : 3);
	msleep(300);
	lfq_get_stats(q, &st);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
		    st.waits >= 1,
		    "a child asleep in LFQ_IOC_WAIT is killed by SIGKILL"))
		tap_diag("  status 0x%x waits %llu", status,
			 (unsigned long long)st.waits);
	err = produce(q, 0, SLOTS) ? -1 : consume(q, 0, SLOTS) ? -2 :
	      reopen(q, &a);
	if (!tap_ok(!err && ioctl(lfq_fd(q), LFQ_IOC_WAKE,
				   LFQ_WAKE_CONSUMER | LFQ_WAKE_PRODUCER) == 0,
		    "the parent's queue works after the sleeper was killed"))
		tap_diag("  err %d errno %d", err, errno);
	lfq_close(a);
	lfq_close(q);
}

/*
 * A forked child that closes its copy of the parent's MPSC producer handle
 * leaves the parent's claim registered: it names the same claim on the
 * same open file, and only the process that registered a claim frees it.
 */
static void test_child_close_keeps_claims(void)
{
	struct lfq *q = mpsc_queue_or_exit(16, SLOTS);
	int free_left = 0, idx[LFQ_MPSC_CLAIMS], k, status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		lfq_close(q);
		_exit(0);
	}
	status = child_status(pid);
	/* What the parent's file still has free: all but the parent's one. */
	while (free_left < LFQ_MPSC_CLAIMS &&
	       (idx[free_left] = ioc_claim(lfq_fd(q), 0, 0)) >= 0)
		free_left++;
	for (k = 0; k < free_left; k++)
		ioc_claim(lfq_fd(q), LFQ_CLAIM_FREE, (uint32_t)idx[k]);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
	       free_left == LFQ_MPSC_CLAIMS - 1,
	       "a forked child's lfq_close() of the parent's MPSC handle leaves the parent's claim registered (%d of %d claims free)",
	       free_left, LFQ_MPSC_CLAIMS);
	lfq_close(q);
}

int main(void)
{
	tap_plan(8);
	test_child_to_parent();
	test_parent_to_child();
	test_creator_closes();
	test_killed_sleeper();
	test_child_close_keeps_claims();
	return tap_done();
}
