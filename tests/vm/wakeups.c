// SPDX-License-Identifier: GPL-2.0
/*
 * wakeups.c - readiness and sleeping on a /dev/lfq queue:
 *
 *   - poll() and level-triggered epoll report POLLIN exactly when a slot
 *     is readable and POLLOUT exactly when one is free;
 *   - a process blocked in poll()/epoll_wait() is woken by the commit (or
 *     release) another process makes through its own mapping;
 *   - LFQ_IOC_WAIT: -ETIMEDOUT on time, -EAGAIN for timeout 0, min_count
 *     honoured, -EINTR when a signal arrives;
 *   - 10^4 ping-pong round trips between two processes, each side asleep
 *     in LFQ_IOC_WAIT, every commit made just as the peer goes to sleep
 *     (and 10^4 unforced, 2000 with one side in poll(), 2000 in
 *     epoll_wait()), where a timeout means a lost wakeup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define SLOTS		64	/* 64 x 64 bytes: one page, quick to fill */
#define MS		1000000ll
#define SLACK_NS	(2000 * MS)	/* TCG is slow: generous upper bound */
#define PINGPONG	10000u
#define PINGPONG_POLL	2000u

static struct lfq *make_queue(void)
{
	return spsc_queue_or_exit(64, SLOTS);
}

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

static int push_n(struct lfq *q, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (lfq_push(q, &v, sizeof(v)))
			return -1;
	return 0;
}

static int pop_n(struct lfq *q, uint32_t n)
{
	uint64_t v;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (lfq_pop(q, &v, sizeof(v)))
			return -1;
	return 0;
}

static int poll_now(struct lfq *q, short events)
{
	struct pollfd pfd = { .fd = lfq_fd(q), .events = events };
	int n = poll(&pfd, 1, 0);

	return n < 0 ? -1 : n == 0 ? 0 : pfd.revents;
}

static const char *evname(int ev)
{
	static char bufs[4][32];
	static unsigned int next;
	char *buf = bufs[next++ % 4];

	size_t n;

	snprintf(buf, sizeof(bufs[0]), "%s%s%s%s",
		 ev & POLLIN ? "IN " : "", ev & POLLOUT ? "OUT " : "",
		 ev & POLLERR ? "ERR " : "", ev & POLLHUP ? "HUP " : "");
	n = strlen(buf);
	if (n)
		buf[n - 1] = 0;
	return buf;
}

static void expect_poll(struct lfq *q, short events, int want,
			const char *state)
{
	int got = poll_now(q, events);

	if (!tap_ok(got == want, "poll(%s) when %s -> %s", evname(events),
		    state, want ? evname(want) : "nothing"))
		tap_diag("  revents %d (%s)", got, got > 0 ? evname(got) : "");
}

static void expect_epoll(int ep, uint32_t want, const char *state)
{
	struct epoll_event ev[2];
	int n = epoll_wait(ep, ev, 2, 0);
	uint32_t got = n == 1 ? ev[0].events : 0;

	if (!tap_ok((want ? n == 1 : n == 0) && got == want,
		    "epoll_wait when %s -> %s", state,
		    want ? evname((int)want) : "no event"))
		tap_diag("  n %d events 0x%x errno %d", n, got, errno);
}

static int epoll_for(struct lfq *q, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfq_fd(q), &ev)) {
		tap_diag("epoll: %s", strerror(errno));
		exit(1);
	}
	return ep;
}

static void test_poll_states(void)
{
	struct lfq *q = make_queue();
	int ep, ep_in, ep_out;

	expect_poll(q, POLLIN | POLLOUT, POLLOUT, "empty");
	expect_poll(q, POLLIN, 0, "empty");
	push_n(q, 1);
	expect_poll(q, POLLIN | POLLOUT, POLLIN | POLLOUT, "1 slot used");
	push_n(q, SLOTS - 1);
	expect_poll(q, POLLIN | POLLOUT, POLLIN, "full");
	expect_poll(q, POLLOUT, 0, "full");
	pop_n(q, 1);
	expect_poll(q, POLLOUT, POLLOUT, "1 slot free");
	pop_n(q, SLOTS - 1);
	expect_poll(q, POLLIN | POLLOUT, POLLOUT, "drained");
	lfq_close(q);

	q = make_queue();
	ep = epoll_for(q, EPOLLIN | EPOLLOUT);
	expect_epoll(ep, EPOLLOUT, "empty (IN|OUT)");
	push_n(q, 1);
	expect_epoll(ep, EPOLLIN | EPOLLOUT, "1 slot used (IN|OUT)");
	push_n(q, SLOTS - 1);
	expect_epoll(ep, EPOLLIN, "full (IN|OUT)");
	pop_n(q, 1);
	expect_epoll(ep, EPOLLIN | EPOLLOUT, "1 slot free (IN|OUT)");
	pop_n(q, SLOTS - 1);
	expect_epoll(ep, EPOLLOUT, "drained (IN|OUT)");
	close(ep);

	/* Not ready -> ready needs the wakeup the poll armed. */
	ep_in = epoll_for(q, EPOLLIN);
	expect_epoll(ep_in, 0, "empty (IN only)");
	expect_epoll(ep_in, 0, "still empty (IN only)");
	push_n(q, 1);
	expect_epoll(ep_in, EPOLLIN, "a commit after an empty poll (IN only)");
	push_n(q, SLOTS - 1);
	ep_out = epoll_for(q, EPOLLOUT);
	expect_epoll(ep_out, 0, "full (OUT only)");
	pop_n(q, 1);
	expect_epoll(ep_out, EPOLLOUT, "a release after a full poll (OUT only)");
	close(ep_in);
	close(ep_out);
	lfq_close(q);
}

/* Child actions for the cross-process tests. */
enum act { ACT_PUSH, ACT_POP };

static pid_t delayed(struct lfq *q, enum act act, unsigned int delay_ms,
		     uint32_t count, unsigned int every_ms)
{
	pid_t pid;
	uint32_t i;

	fflush(stdout);
	pid = fork();
	if (pid)
		return pid;
	msleep(delay_ms);
	for (i = 0; i < count; i++) {
		if (i)
			msleep(every_ms);
		if (act == ACT_PUSH ? push_n(q, 1) : pop_n(q, 1))
			_exit(2);
	}
	_exit(0);
}

static int reap(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	tap_diag("  child wait status 0x%x", status);
	return -1;
}

static void test_blocked_wakeup(void)
{
	struct epoll_event ev;
	struct pollfd pfd;
	struct lfq *q;
	int64_t t0, dt;
	int n, ep;
	pid_t pid;

	/* poll(POLLIN) woken by another process's commit. */
	q = make_queue();
	t0 = now_ns();
	pid = delayed(q, ACT_PUSH, 300, 1, 0);
	pfd = (struct pollfd){ .fd = lfq_fd(q), .events = POLLIN };
	n = poll(&pfd, 1, 10000);
	dt = now_ns() - t0;
	if (!tap_ok(n == 1 && pfd.revents == POLLIN && dt >= 250 * MS &&
		    !reap(pid),
		    "poll(POLLIN) blocked on an empty ring is woken by a commit in another process"))
		tap_diag("  n %d revents 0x%x after %lld ms errno %d", n,
			 pfd.revents, (long long)(dt / MS), errno);
	lfq_close(q);

	/* epoll_wait(EPOLLIN) likewise. */
	q = make_queue();
	ep = epoll_for(q, EPOLLIN);
	t0 = now_ns();
	pid = delayed(q, ACT_PUSH, 300, 1, 0);
	n = epoll_wait(ep, &ev, 1, 10000);
	dt = now_ns() - t0;
	if (!tap_ok(n == 1 && ev.events == EPOLLIN && dt >= 250 * MS &&
		    !reap(pid),
		    "epoll_wait(EPOLLIN) on an empty ring is woken by a commit in another process"))
		tap_diag("  n %d events 0x%x after %lld ms errno %d", n,
			 n == 1 ? ev.events : 0, (long long)(dt / MS), errno);
	close(ep);
	lfq_close(q);

	/* poll(POLLOUT) on a full ring woken by a release. */
	q = make_queue();
	push_n(q, SLOTS);
	t0 = now_ns();
	pid = delayed(q, ACT_POP, 300, 1, 0);
	pfd = (struct pollfd){ .fd = lfq_fd(q), .events = POLLOUT };
	n = poll(&pfd, 1, 10000);
	dt = now_ns() - t0;
	if (!tap_ok(n == 1 && pfd.revents == POLLOUT && dt >= 250 * MS &&
		    !reap(pid),
		    "poll(POLLOUT) blocked on a full ring is woken by a release in another process"))
		tap_diag("  n %d revents 0x%x after %lld ms errno %d", n,
			 pfd.revents, (long long)(dt / MS), errno);
	lfq_close(q);

	/* epoll_wait(EPOLLOUT) likewise. */
	q = make_queue();
	push_n(q, SLOTS);
	ep = epoll_for(q, EPOLLOUT);
	t0 = now_ns();
	pid = delayed(q, ACT_POP, 300, 1, 0);
	n = epoll_wait(ep, &ev, 1, 10000);
	dt = now_ns() - t0;
	if (!tap_ok(n == 1 && ev.events == EPOLLOUT && dt >= 250 * MS &&
		    !reap(pid),
		    "epoll_wait(EPOLLOUT) on a full ring is woken by a release in another process"))
		tap_diag("  n %d events 0x%x after %lld ms errno %d", n,
			 n == 1 ? ev.events : 0, (long long)(dt / MS), errno);
	close(ep);
	lfq_close(q);
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
	if (!tap_ok(!reap(pid), "min_count DATA: producer child"))
		tap_diag("  (see above)");
	lfq_close(q);

	/* min_count on SPACE: a release every 100 ms; the waiter wants 3. */
	q = make_queue();
	push_n(q, SLOTS);
	t0 = now_ns();
	pid = delayed(q, ACT_POP, 100, 5, 100);
	err = wait_raw(q, LFQ_WAIT_SPACE, 3, 10000 * MS, &avail);
	dt = now_ns() - t0;
	if (!tap_ok(err == 0 && avail >= 3 && dt >= 250 * MS && !reap(pid),
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
 * Ping-pong: the parent sends on "ab", the child answers on "ba". Each side
 * sleeps in LFQ_IOC_WAIT, poll() or epoll_wait() (WAIT_*) with a 5 s
 * timeout; a timeout is a lost wakeup. With @force, a side commits only
 * once it sees the peer's need_data armed (read from the peer's consumer
 * page), i.e. once the peer is inside the kernel on its way to sleep, and
 * on every other round only once the peer is asleep (/proc/PID/stat), so
 * every round is a sleep/wake cycle, half of them racing the commit
 * against the sleep.
 */
enum pp_how { PP_WAIT, PP_POLL, PP_EPOLL };

static const char *const pp_name[] = { "LFQ_IOC_WAIT", "poll()",
				       "epoll_wait()" };

struct pp_end {
	struct lfq *in, *out;
	const struct lfq_cons_ctl *out_cons;	/* peer's page on @out */
	enum pp_how how;
	int ep;
	int peer_stat;	/* /proc/PEER/stat */
};

static int pp_wait(struct pp_end *e)
{
	struct pollfd pfd = { .fd = lfq_fd(e->in), .events = POLLIN };
	struct epoll_event ev;
	int n;

	switch (e->how) {
	case PP_WAIT:
		return lfq_wait_data(e->in, 1, 5000 * MS);
	case PP_POLL:
		n = poll(&pfd, 1, 5000);
		return n == 1 && pfd.revents == POLLIN ? 0 :
		       n == 0 ? -ETIMEDOUT : -EIO;
	default:
		n = epoll_wait(e->ep, &ev, 1, 5000);
		return n == 1 && ev.events == EPOLLIN ? 0 :
		       n == 0 ? -ETIMEDOUT : -EIO;
	}
}

/* The scheduler state letter of the peer, from /proc/PID/stat. */
static char pp_peer_state(struct pp_end *e)
{
	char buf[256], *p;
	ssize_t n = pread(e->peer_stat, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * Wait (yielding) until the peer has armed need_data on @out; on odd
 * rounds also until it is actually asleep (the flag alone may be left
 * armed by the peer's previous, successful wait).
 */
static int pp_peer_armed(struct pp_end *e, int asleep)
{
	int64_t deadline = now_ns() + 5000 * MS;

	while (!__atomic_load_n(&e->out_cons->need_data, __ATOMIC_ACQUIRE) ||
	       (asleep && pp_peer_state(e) != 'S')) {
		if (now_ns() > deadline)
			return -1;
		sched_yield();
	}
	return 0;
}

static int pp_send(struct pp_end *e, uint64_t v, int force, const char *who)
{
	if (force && pp_peer_armed(e, v & 1)) {
		tap_diag("%s: peer never armed need_data for value %llu", who,
			 (unsigned long long)v);
		return 6;
	}
	if (lfq_push(e->out, &v, sizeof(v))) {
		tap_diag("%s: push %llu failed", who, (unsigned long long)v);
		return 2;
	}
	return 0;
}

static int pp_side(struct pp_end *e, uint32_t rounds, int initiator,
		   int force, const char *who)
{
	uint64_t v, want;
	uint32_t i;
	int err;

	for (i = 0; i < rounds; i++) {
		if (initiator && (err = pp_send(e, i, force, who)))
			return err;
		while ((err = lfq_pop(e->in, &v, sizeof(v))) == -EAGAIN) {
			err = pp_wait(e);
			if (err) {
				tap_diag("%s: round %u: %s: %d (%s)", who, i,
					 pp_name[e->how], err, strerror(-err));
				return 3;
			}
		}
		want = initiator ? (uint64_t)i + 1000000 : i;
		if (err || v != want) {
			tap_diag("%s: round %u: pop %d value %llu want %llu",
				 who, i, err, (unsigned long long)v,
				 (unsigned long long)want);
			return 4;
		}
		if (!initiator && (err = pp_send(e, i + 1000000ull, force, who)))
			return err;
	}
	return 0;
}

static const struct lfq_cons_ctl *map_cons_page(struct lfq *q)
{
	struct lfq_info info = { .size = sizeof(info) };
	void *p;

	if (ioctl(lfq_fd(q), LFQ_IOC_INFO, &info))
		return NULL;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, lfq_fd(q),
		 (off_t)info.cons_offset);
	return p == MAP_FAILED ? NULL : p;
}

static void test_pingpong(uint32_t rounds, enum pp_how child_how, int force)
{
	struct lfq *ab = make_queue(), *ba = make_queue();
	struct pp_end parent = { .in = ba, .out = ab, .how = PP_WAIT };
	struct pp_end child = { .in = ab, .out = ba, .how = child_how };
	struct lfq_stats sa, sb;
	int64_t t0 = now_ns();
	char path[64];
	pid_t pid;
	int rc, crc;

	/* Sleep at once: liblfq's waits would spin a while first. */
	lfq_set_wait_spin(ab, 0);
	lfq_set_wait_spin(ba, 0);
	parent.out_cons = map_cons_page(ab);
	child.out_cons = map_cons_page(ba);
	if (!parent.out_cons || !child.out_cons) {
		tap_diag("mapping the consumer pages: %s", strerror(errno));
		exit(1);
	}
	if (child_how == PP_EPOLL) {
		struct epoll_event ev = { .events = EPOLLIN };

		child.ep = epoll_create1(EPOLL_CLOEXEC);
		if (child.ep < 0 ||
		    epoll_ctl(child.ep, EPOLL_CTL_ADD, lfq_fd(ab), &ev)) {
			tap_diag("epoll: %s", strerror(errno));
			exit(1);
		}
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)getppid());
		child.peer_stat = open(path, O_RDONLY | O_CLOEXEC);
		_exit(pp_side(&child, rounds, 0, force, "child"));
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	parent.peer_stat = open(path, O_RDONLY | O_CLOEXEC);
	rc = pp_side(&parent, rounds, 1, force, "parent");
	close(parent.peer_stat);
	if (rc && pid > 0)
		kill(pid, SIGKILL);
	crc = reap(pid);
	tap_ok(!rc && !crc,
	       "%u ping-pong round trips, child in %s, parent in LFQ_IOC_WAIT%s: no lost wakeup",
	       rounds, pp_name[child_how],
	       force ? ", each commit racing the peer's sleep" : "");
	lfq_get_stats(ab, &sa);
	lfq_get_stats(ba, &sb);
	tap_diag("ping-pong: %.2f s; a->b waits %llu wakeups %llu; b->a waits %llu wakeups %llu",
		 (double)(now_ns() - t0) / 1e9, (unsigned long long)sa.waits,
		 (unsigned long long)sa.wakeups, (unsigned long long)sb.waits,
		 (unsigned long long)sb.wakeups);
	/* Forced: (nearly) every round slept; else at least some did. */
	if (!tap_ok(sa.produced == rounds && sb.consumed == rounds &&
		    sa.wakeups >= (force ? rounds / 2 : 1) &&
		    sb.wakeups >= (force ? rounds / 2 : 1) &&
		    sa.wakeups + sb.wakeups >= (force ? rounds : 2),
		    "ping-pong: all messages through, >= %u wakeups on each side, %u in all",
		    force ? rounds / 2 : 1, force ? rounds : 2))
		tap_diag("  produced %llu consumed %llu",
			 (unsigned long long)sa.produced,
			 (unsigned long long)sb.consumed);
	if (child_how == PP_EPOLL)
		close(child.ep);
	munmap((void *)parent.out_cons, 4096);
	munmap((void *)child.out_cons, 4096);
	lfq_close(ab);
	lfq_close(ba);
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
	reap(pid);
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
	tap_plan(50);
	test_poll_states();
	test_blocked_wakeup();
	test_wait();
	test_signal();
	test_wait_stats();
	test_pingpong(PINGPONG, PP_WAIT, 1);
	test_pingpong(PINGPONG, PP_WAIT, 0);
	test_pingpong(PINGPONG_POLL, PP_POLL, 1);
	test_pingpong(PINGPONG_POLL, PP_EPOLL, 1);
	return tap_done();
}
