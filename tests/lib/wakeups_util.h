/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wakeups_util.h - what the readiness and sleeping tests
 * (tests/vm/wakeups_*.c) share: their one-page SPSC queue, filling and
 * draining it, a poll() that does not wait, and a child process that
 * pushes or pops on a schedule (the peer that wakes the test's sleeper).
 * Header-only, static inline: each program takes what it uses.
 */
#ifndef LFQ_TEST_WAKEUPS_UTIL_H
#define LFQ_TEST_WAKEUPS_UTIL_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define SLOTS		64	/* 64 x 64 bytes: one page, quick to fill */
#define MS		1000000ll

/* A /dev/lfq SPSC queue of SLOTS slots of 64 bytes (or the test's end). */
static inline struct lfq *make_queue(void)
{
	return spsc_queue_or_exit(64, SLOTS);
}

/* Push @n 8-byte messages: 0, or -1 at the first that fails. */
static inline int push_n(struct lfq *q, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (lfq_push(q, &v, sizeof(v)))
			return -1;
	return 0;
}

/* Pop @n 8-byte messages: 0, or -1 at the first that fails. */
static inline int pop_n(struct lfq *q, uint32_t n)
{
	uint64_t v;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (lfq_pop(q, &v, sizeof(v)))
			return -1;
	return 0;
}

/* poll() of @events with timeout 0: the revents, 0 for none, -1. */
static inline int poll_now(struct lfq *q, short events)
{
	struct pollfd pfd = { .fd = lfq_fd(q), .events = events };
	int n = poll(&pfd, 1, 0);

	return n < 0 ? -1 : n == 0 ? 0 : pfd.revents;
}

/* Child actions for the cross-process tests. */
enum act { ACT_PUSH, ACT_POP };

/*
 * A child that, after @delay_ms, pushes or pops @count messages through
 * the mapping it inherited, @every_ms apart, and exits 0 (2 if one
 * failed). Returns its pid.
 */
static inline pid_t delayed(struct lfq *q, enum act act, unsigned int delay_ms,
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

#endif /* LFQ_TEST_WAKEUPS_UTIL_H */
