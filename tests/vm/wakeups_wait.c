// SPDX-License-Identifier: GPL-2.0
/*
 * wakeups_wait.c - sleeping in LFQ_IOC_WAIT on a /dev/lfq queue:
 *
 *   - ETIMEDOUT on time (not early, not more than 2 s late), EAGAIN for
 *     timeout 0, the available count reported either way;
 *   - min_count honoured: a waiter sleeps through the commits (or
 *     releases) another process makes until enough slots are ready;
 *   - EINTR when a signal arrives, with or without SA_RESTART, timed or
 *     not;
 *   - STATS counts each sleep as one wait (and a poll() with timeout 0
 *     as none), and the wakeup that found the sleeper.
 *
 * Runs in the test VM with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"
#include "wakeups_util.h"

#define SLACK_NS	(2000 * MS)	/* TCG is slow: generous upper bound */

/* LFQ_IOC_WAIT; returns 0 or the errno, *avail the reported count. */
static int wait_raw(struct lfq *q, uint32_t flags, uint32_t min_count,
		    int64_t timeout_ns, uint64_t *avail)
{
	struct lfq_wait w = { .size = sizeof(w), .flags = flags,
			      .min_count = min_count, .timeout_ns = timeout_ns,
			      .available = 0xdeadbeef };
	int err = ioctl(lfq_fd(q), LFQ_IOC_WAIT, &w) ? errno : 0;

	if (avail)
		*avail = w.available;
	return err;
}

static void expect_timeout(struct lfq *q, uint32_t flags, int64_t timeout_ns,
			   const char *what)
{
	int64_t t0 = now_ns(), dt;
	uint64_t avail;
	int err = wait_raw(q, flags, 1, timeout_ns, &avail);

	dt = now_ns() - t0;
	if (!tap_ok(err == ETIMEDOUT && avail == 0,
		    "WAIT %s, timeout %lld ms -> ETIMEDOUT, available 0", what,
		    (long long)(timeout_ns / MS)))
		tap_diag("  errno %d (%s) available %llu", err, strerror(err),
			 (unsigned long long)avail);
	if (!tap_ok(dt >= timeout_ns && dt < timeout_ns + SLACK_NS,
		    "WAIT %s timed out after %lld ms (>= %lld, < +2 s)", what,
		    (long long)(dt / MS), (long long)(timeout_ns / MS)))
		tap_diag("  elapsed %lld ns", (long long)dt);
}

static void test_wait(void)
{
	struct lfq *q = make_queue();
	uint64_t avail;
	int64_t t0, dt;
	pid_t pid;
	int err;

	expect_timeout(q, LFQ_WAIT_DATA, 300 * MS, "DATA on an empty ring");
	expect_timeout(q, LFQ_WAIT_DATA, 1 * MS, "DATA on an empty ring");
	err = wait_raw(q, LFQ_WAIT_DATA, 1, 0, &avail);
	if (!tap_ok(err == EAGAIN && avail == 0,
		    "WAIT DATA timeout 0 on an empty ring -> EAGAIN"))
		tap_diag("  errno %d available %llu", err,
			 (unsigned long long)avail);
	push_n(q, 3);
	err = wait_raw(q, LFQ_WAIT_DATA, 4, 0, &avail);
	if (!tap_ok(err == EAGAIN && avail == 3,
		    "WAIT DATA min_count 4, timeout 0, 3 readable -> EAGAIN, available 3"))
		tap_diag("  errno %d available %llu", err,
			 (unsigned long long)avail);
	err = wait_raw(q, LFQ_WAIT_DATA, 3, 0, &avail);
	if (!tap_ok(err == 0 && avail == 3,
		    "WAIT DATA min_count 3, timeout 0, 3 readable -> 0, available 3"))
		tap_diag("  errno %d available %llu", err,
			 (unsigned long long)avail);
	err = wait_raw(q, LFQ_WAIT_DATA, 4, 200 * MS, &avail);
	if (!tap_ok(err == ETIMEDOUT && avail == 3,
		    "WAIT DATA min_count 4 with 3 readable times out, available 3"))
		tap_diag("  errno %d available %llu", err,
			 (unsigned long long)avail);
	push_n(q, SLOTS - 3);
	expect_timeout(q, LFQ_WAIT_SPACE, 300 * MS, "SPACE on a full ring");
	err = wait_raw(q, LFQ_WAIT_SPACE, 1, 0, &avail);
	if (!tap_ok(err == EAGAIN && avail == 0,
		    "WAIT SPACE timeout 0 on a full ring -> EAGAIN"))
		tap_diag("  errno %d available %llu", err,
			 (unsigned long long)avail);
	lfq_close(q);

	/* min_count: a commit every 100 ms; the waiter wants 4. */
	q = make_queue();
	t0 = now_ns();
	pid = delayed(q, ACT_PUSH, 100, 6, 100);
	err = wait_raw(q, LFQ_WAIT_DATA, 4, 10000 * MS, &avail);
	dt = now_ns() - t0;
	if (!tap_ok(err == 0 && avail >= 4 && dt >= 350 * MS,
		    "WAIT DATA min_count 4 sleeps through 3 commits, returns at the 4th"))
		tap_diag("  errno %d available %llu after %lld ms", err,
			 (unsigned long long)avail, (long long)(dt / MS));
	if (!tap_ok(!child_ok(pid), "min_count DATA: producer child"))
		tap_diag("  (see above)");
	lfq_close(q);

	/* min_count on SPACE: a release every 100 ms; the waiter wants 3. */
	q = make_queue();
	push_n(q, SLOTS);
	t0 = now_ns();
	pid = delayed(q, ACT_POP, 100, 5, 100);
	err = wait_raw(q, LFQ_WAIT_SPACE, 3, 10000 * MS, &avail);
	dt = now_ns() - t0;
	if (!tap_ok(err == 0 && avail >= 3 && dt >= 250 * MS && !child_ok(pid),
		    "WAIT SPACE min_count 3 sleeps through 2 releases, returns at the 3rd"))
		tap_diag("  errno %d available %llu after %lld ms", err,
			 (unsigned long long)avail, (long long)(dt / MS));
	lfq_close(q);
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal++;
}

static void arm_signal(int restart, unsigned int ms)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = restart ? SA_RESTART : 0 };
	struct itimerval it = { .it_value = { 0, (long)ms * 1000 } };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	got_signal = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void test_signal(void)
{
	struct lfq *q = make_queue();
	int64_t t0, dt;
	uint64_t avail;
	int err;

	arm_signal(0, 500);
	t0 = now_ns();
	err = wait_raw(q, LFQ_WAIT_DATA, 1, -1, &avail);
	dt = now_ns() - t0;
	if (!tap_ok(err == EINTR && got_signal == 1 && dt >= 450 * MS,
		    "SIGALRM (no SA_RESTART) interrupts an untimed WAIT -> EINTR"))
		tap_diag("  errno %d signals %d after %lld ms", err,
			 (int)got_signal, (long long)(dt / MS));

	arm_signal(0, 500);
	t0 = now_ns();
	err = wait_raw(q, LFQ_WAIT_DATA, 1, 20000 * MS, &avail);
	dt = now_ns() - t0;
	if (!tap_ok(err == EINTR && got_signal == 1 && dt < 10000 * MS,
		    "SIGALRM interrupts a timed WAIT -> EINTR, not ETIMEDOUT"))
		tap_diag("  errno %d signals %d after %lld ms", err,
			 (int)got_signal, (long long)(dt / MS));

	push_n(q, SLOTS);
	arm_signal(1, 500);
	t0 = now_ns();
	err = wait_raw(q, LFQ_WAIT_SPACE, 1, -1, &avail);
	dt = now_ns() - t0;
	if (!tap_ok(err == EINTR && got_signal == 1,
		    "SA_RESTART signal: WAIT SPACE still returns EINTR (documented)"))
		tap_diag("  errno %d signals %d after %lld ms", err,
			 (int)got_signal, (long long)(dt / MS));
	signal(SIGALRM, SIG_DFL);
	lfq_close(q);
}

/*
 * STATS.waits is documented (lfq.h) as the times an LFQ_IOC_WAIT caller
 * went to sleep; wakeups as the wakeups that found sleepers.
 */
static void test_wait_stats(void)
{
	struct lfq_stats st;
	struct lfq *q = make_queue();
	uint64_t avail;
	pid_t pid;
	int err;

	/* One WAIT that sleeps once and is woken once. */
	lfq_set_wait_spin(q, 0);
	pid = delayed(q, ACT_PUSH, 300, 1, 0);
	err = wait_raw(q, LFQ_WAIT_DATA, 1, -1, &avail);
	child_ok(pid);
	lfq_get_stats(q, &st);
	if (!tap_ok(err == 0 && st.wakeups == 1 && st.wake_calls == 1,
		    "one sleep, one commit: STATS wakeups 1, wake_calls 1"))
		tap_diag("  err %d wakeups %llu wake_calls %llu", err,
			 (unsigned long long)st.wakeups,
			 (unsigned long long)st.wake_calls);
	if (!tap_ok(st.waits == 1,
		      "a WAIT that slept once counts one wait"))
		tap_diag("  waits %llu", (unsigned long long)st.waits);
	lfq_close(q);

	/* One WAIT that sleeps until its timeout. */
	q = make_queue();
	err = wait_raw(q, LFQ_WAIT_DATA, 1, 100 * MS, &avail);
	lfq_get_stats(q, &st);
	if (!tap_ok(err == ETIMEDOUT && st.waits == 1,
		      "a WAIT that slept once until its timeout counts one wait"))
		tap_diag("  err %d waits %llu", err,
			 (unsigned long long)st.waits);
	lfq_close(q);

	/* poll() with timeout 0 never sleeps. */
	q = make_queue();
	poll_now(q, POLLIN);
	lfq_get_stats(q, &st);
	if (!tap_ok(st.waits == 0,
		      "poll() with timeout 0 on an empty ring counts no wait"))
		tap_diag("  waits %llu", (unsigned long long)st.waits);
	lfq_close(q);
}

int main(void)
{
	tap_plan(21);
	test_wait();
	test_signal();
	test_wait_stats();
	return tap_done();
}
