// SPDX-License-Identifier: MIT
/*
 * xproc.c - the SPSC ring between two processes on a sealed memfd: the
 * child opens it by fd (as a process that received it would) and
 * produces, the parent consumes and verifies 10^7 messages, sleeping and
 * waking through the shared futex words. A child killed mid-stream leaves
 * a ring the parent can still drain and reuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define COUNT 10000000ull
#define TIMEOUT_NS 5000000000ll

static int child_produce(int memfd, uint64_t count)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = memfd);
	struct lfq *q;
	uint64_t m[4], seq;

	if (lfq_open(&o, &q))
		return 2;
	for (seq = 0; seq < count; seq++) {
		m[0] = seq;
		m[1] = ~seq;
		m[2] = seq * 3;
		m[3] = getpid();
		while (lfq_push(q, m, sizeof(m)) == -EAGAIN)
			if (lfq_wait_space(q, 1, TIMEOUT_NS))
				return 3;
	}
	lfq_close(q);
	return 0;
}

static void test_stream(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 32,
		 .slot_count = 4096, .backend = LFQ_BACKEND_MEMFD);
	uint64_t m[4], seq, bad = 0, stalls = 0;
	struct lfq *q = queue_or_exit(&o);
	int status = -1;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(child_produce(lfq_fd(q), COUNT));
	for (seq = 0; seq < COUNT; seq++) {
		while (lfq_pop(q, m, sizeof(m)) == -EAGAIN)
			if (lfq_wait_data(q, 1, TIMEOUT_NS)) {
				stalls++;
				goto out;
			}
		if (m[0] != seq || m[1] != ~seq || m[2] != seq * 3 ||
		    m[3] != (uint64_t)pid)
			bad++;
	}
out:
	waitpid(pid, &status, 0);
	tap_ok(!bad && !stalls && WIFEXITED(status) && !WEXITSTATUS(status),
	       "%llu messages from a child process on a memfd, verified "
	       "(bad=%llu stalls=%llu status=%d)", COUNT,
	       (unsigned long long)bad, (unsigned long long)stalls, status);
	lfq_close(q);
}

static void test_killed_producer(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 32,
		 .slot_count = 128, .backend = LFQ_BACKEND_MEMFD);
	uint64_t m[4], seq = 0, bad = 0;
	struct lfq *q = queue_or_exit(&o);
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(child_produce(lfq_fd(q), UINT64_MAX));
	/* Let it fill the ring and block, then kill it. */
	lfq_wait_data(q, 128, TIMEOUT_NS);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (lfq_pop(q, m, sizeof(m)) == 0)
		if (m[0] != seq++)
			bad++;
	tap_ok(!bad && seq >= 128,
	       "ring drained in order after its producer was killed (%llu)",
	       (unsigned long long)seq);
	m[0] = 12345;
	tap_ok(lfq_push(q, m, sizeof(m)) == 0 && lfq_pop(q, m, sizeof(m)) == 0 &&
	       m[0] == 12345, "and the ring is usable again");
	lfq_close(q);
}

int main(void)
{
	tap_plan(3);
	test_stream();
	test_killed_producer();
	return tap_done();
}
