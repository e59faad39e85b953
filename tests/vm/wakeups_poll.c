// SPDX-License-Identifier: GPL-2.0
/*
 * wakeups_poll.c - readiness of a /dev/lfq queue through poll() and epoll:
 *
 *   - poll() and level-triggered epoll report POLLIN exactly when a slot
 *     is readable and POLLOUT exactly when one is free, and an epoll set
 *     that saw "not ready" reports the change a commit or release makes;
 *   - a process blocked in poll()/epoll_wait() (POLLIN on an empty ring,
 *     POLLOUT on a full one) is woken by the commit (or release) another
 *     process makes through its own mapping.
 *
 * Runs in the test VM with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"
#include "wakeups_util.h"

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
		    !child_ok(pid),
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
		    !child_ok(pid),
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
		    !child_ok(pid),
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
		    !child_ok(pid),
		    "epoll_wait(EPOLLOUT) on a full ring is woken by a release in another process"))
		tap_diag("  n %d events 0x%x after %lld ms errno %d", n,
			 n == 1 ? ev.events : 0, (long long)(dt / MS), errno);
	close(ep);
	lfq_close(q);
}

int main(void)
{
	tap_plan(21);
	test_poll_states();
	test_blocked_wakeup();
	return tap_done();
}
