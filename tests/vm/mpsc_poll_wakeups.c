// SPDX-License-Identifier: GPL-2.0
/*
 * mpsc_poll_wakeups.c - lost-wakeup hunt on an MPSC queue with the
 * consumer asleep in poll(): 10^5 sleep/wake cycles (the default; the
 * debug and KCSAN VMs run fewer, tests/vm/guest.sh).
 *
 * Two producer processes, each with its own handle, take turns: before
 * committing record i, its producer waits until the consumer has taken
 * record i - 1 (the consumer's tail, read through a read-only mapping of
 * the consumer control page) and has armed need_data on its way to sleep
 * in poll(); on every other round it also waits until the consumer is
 * really asleep (/proc/PID/stat says S). So every round is a sleep/wake
 * cycle, half of them racing the commit against the sleep (the window
 * the Dekker handshake must close). A poll() that times out (5 s) is a
 * lost wakeup. Every commit must find need_data armed and call
 * LFQ_IOC_WAKE once, and every one of those must find the sleeper.
 *
 * It runs twice, on an asymmetric queue (the default: producers publish
 * with a compiler barrier, the consumer's poll() sends the IPIs of the
 * heavy fence) and on a symmetric one (LFQ_CREATE_WAKE_SYMMETRIC), and
 * reports the two rates side by side: what the heavy fence costs a
 * sleep.
 *
 * Usage: mpsc_poll_wakeups [CYCLES] (default 100000). Runs in the test VM
 * with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define MS		1000000ll
#define CYCLES		100000u
#define PRODUCERS	2u
#define POLL_MS		5000

struct rec {
	uint64_t seq;
	uint64_t producer;
};

static const struct lfq_cons_ctl *map_cons_page(int fd)
{
	struct lfq_info info = { .size = sizeof(info) };
	void *p;

	if (ioctl(fd, LFQ_IOC_INFO, &info))
		return NULL;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd,
		 (off_t)info.cons_offset);
	return p == MAP_FAILED ? NULL : p;
}

/* The scheduler state letter of a process, from /proc/PID/stat. */
static char proc_state(int stat_fd)
{
	char buf[256], *p;
	ssize_t n = pread(stat_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * Producer @id: rounds id, id + PRODUCERS, ... Each one waits for the
 * consumer to have taken everything before and to have armed need_data
 * (and on odd turns to be asleep), then commits one record.
 */
static int producer(int fd, uint32_t id, uint32_t cycles, pid_t consumer)
{
	const struct lfq_cons_ctl *cons = map_cons_page(fd);
	char path[64];
	struct lfq *q;
	int stat_fd;
	uint32_t i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)consumer);
	stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!cons || stat_fd < 0 || !(q = open_fd(fd)))
		return 2;
	for (i = id; i < cycles; i += PRODUCERS) {
		int asleep = (i / PRODUCERS) & 1;
		int64_t deadline = now_ns() + 2 * POLL_MS * MS;
		struct rec r = { i, id };

		while (__atomic_load_n(&cons->tail, __ATOMIC_ACQUIRE) != i ||
		       !__atomic_load_n(&cons->need_data, __ATOMIC_ACQUIRE) ||
		       (asleep && proc_state(stat_fd) != 'S')) {
			if (now_ns() > deadline) {
				fprintf(stderr, "producer %u: round %u: consumer never armed (tail %llu need_data %u)\n",
					id, i,
					(unsigned long long)cons->tail,
					cons->need_data);
				return 3;
			}
			sched_yield();
		}
		if (lfq_push(q, &r, sizeof(r))) {
			fprintf(stderr, "producer %u: push %u failed\n", id, i);
			return 4;
		}
	}
	lfq_close(q);
	return 0;
}

/* One run of @cycles sleep/wake cycles on a queue made with @flags. */
static double run(uint32_t cycles, uint32_t flags, const char *mode)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = sizeof(struct rec) * 4, .slot_count = 64,
		 .flags = flags);
	struct lfq *q = queue_or_exit(&o);
	struct lfq_info info = { .size = sizeof(info) };
	struct pollfd pfd = { .fd = lfq_fd(q), .events = POLLIN };
	pid_t pids[PRODUCERS];
	uint32_t i, k, lost_at = UINT32_MAX, bad = 0;
	uint64_t polls = 0;
	struct lfq_stats st;
	int64_t t0, dt;
	int ok = 1, status;
	uint32_t asleep_rounds, want_mode;

	want_mode = flags & LFQ_CREATE_WAKE_SYMMETRIC ? LFQ_WAKE_SYMMETRIC :
							LFQ_WAKE_ASYMMETRIC;
	if (ioctl(lfq_fd(q), LFQ_IOC_INFO, &info))
		info.wake_mode = ~0u;
	tap_ok(info.wake_mode == want_mode,
	       "%s: LFQ_IOC_INFO reports wake_mode %u", mode, info.wake_mode);
	fflush(stdout);
	for (k = 0; k < PRODUCERS; k++) {
		pids[k] = fork();
		if (pids[k] == 0)
			_exit(producer(lfq_fd(q), k, cycles, getppid()));
	}
	t0 = now_ns();
	for (i = 0; i < cycles && lost_at == UINT32_MAX; i++) {
		struct rec r;
		int n;

		while (lfq_pop(q, &r, sizeof(r)) == -EAGAIN) {
			n = poll(&pfd, 1, POLL_MS);
			polls++;
			if (n != 1 || pfd.revents != POLLIN) {
				tap_diag("round %u: poll() -> %d revents 0x%x: %s",
					 i, n, pfd.revents,
					 n ? strerror(errno) : "timed out (lost wakeup)");
				lost_at = i;
				break;
			}
		}
		if (lost_at == UINT32_MAX &&
		    (r.seq != i || r.producer != i % PRODUCERS) && bad++ < 5)
			tap_diag("round %u: record seq %llu producer %llu", i,
				 (unsigned long long)r.seq,
				 (unsigned long long)r.producer);
	}
	dt = now_ns() - t0;
	if (lost_at != UINT32_MAX)
		for (k = 0; k < PRODUCERS; k++)
			kill(pids[k], SIGKILL);
	for (k = 0; k < PRODUCERS; k++) {
		if (waitpid(pids[k], &status, 0) != pids[k] || status) {
			tap_diag("producer %u: wait status 0x%x", k, status);
			ok = 0;
		}
	}
	asleep_rounds = 0;
	for (k = 0; k < cycles; k++)
		asleep_rounds += (k / PRODUCERS) & 1;
	lfq_get_stats(q, &st);
	tap_diag("%s: %u cycles in %.2f s (%.1f us per cycle), %llu polls; wake_calls %llu wakeups %llu",
		 mode, i, dt / 1e9, i ? dt / 1e3 / i : 0.0,
		 (unsigned long long)polls, (unsigned long long)st.wake_calls,
		 (unsigned long long)st.wakeups);
	tap_ok(lost_at == UINT32_MAX && i == cycles,
	       "%s: %u sleep/wake cycles, consumer in poll(), %u producer processes: no poll() timed out",
	       mode, cycles, PRODUCERS);
	tap_ok(!bad, "%s: every record arrived in its round, from its producer",
	       mode);
	tap_ok(ok, "%s: both producers saw every round armed and exited 0",
	       mode);
	/*
	 * Each producer waited for need_data armed before committing, and
	 * only LFQ_IOC_WAKE clears it, so nearly one WAKE per cycle: the
	 * other producer's WAKE of the round before may still be on its way
	 * when the consumer, already past that round, re-arms, and clear
	 * the flag this round's commit then reads (the consumer was woken
	 * by that WAKE or saw the record in its re-check: no wakeup is
	 * lost, which the poll() timeouts above check). On the rounds that
	 * waited for state S the consumer sat in poll()'s wait queue, so
	 * each of those found a sleeper.
	 */
	tap_ok(st.wake_calls <= cycles && st.wake_calls >= cycles - cycles / 100 &&
	       st.wakeups >= asleep_rounds - cycles / 100 &&
	       st.wakeups <= cycles && polls >= cycles,
	       "%s: one LFQ_IOC_WAKE per cycle but for a late one of the round before (%llu, >= 99%%); wakeups that found the sleeper %llu >= %u rounds asleep (-1%%); >= 1 poll() per cycle (%llu)",
	       mode, (unsigned long long)st.wake_calls,
	       (unsigned long long)st.wakeups, asleep_rounds,
	       (unsigned long long)polls);
	lfq_close(q);
	return i ? (double)i * 1e9 / (double)dt : 0.0;
}

int main(int argc, char **argv)
{
	uint32_t cycles = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : CYCLES;
	double asym, sym;

	tap_plan(10);
	if (!cycles)
		cycles = CYCLES;
	asym = run(cycles, 0, "asymmetric");
	sym = run(cycles, LFQ_CREATE_WAKE_SYMMETRIC, "symmetric");
	tap_diag("sleep/wake cycles per second: asymmetric %.0f, symmetric %.0f (asymmetric/symmetric %.2f; TCG: one run's ratio only)",
		 asym, sym, sym > 0 ? asym / sym : 0.0);
	return tap_done();
}
