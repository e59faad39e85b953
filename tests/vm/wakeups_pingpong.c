// SPDX-License-Identifier: GPL-2.0
/*
 * wakeups_pingpong.c - no lost wakeup between two processes, or two
 * threads of one process, on /dev/lfq queues: ping-pong round trips, each
 * side asleep in LFQ_IOC_WAIT, every commit made just as the peer goes to
 * sleep (5 * 10^4 round trips, i.e. 10^5 sleep/wake cycles, between
 * processes and again between threads; -n sets the count), 10^4 unforced
 * each way, 2000 with one side in poll() and 2000 in epoll_wait(). A wait
 * that times out (5 s) is a lost wakeup; STATS must show the sleeps were
 * real.
 *
 * Runs in the test VM with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"
#include "wakeups_util.h"

#define PINGPONG_FORCED	50000u	/* round trips: two sleep/wake cycles each */
#define PINGPONG	10000u
#define PINGPONG_POLL	2000u

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
	int peer_stat;	/* /proc/PEER/stat, or /proc/self/task/TID/stat */
	/* Thread mode: the thread's arguments and result. */
	pid_t peer_tid, tid;	/* tid: the thread's own, once it runs */
	uint32_t rounds;
	int force, rc;
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

/* Thread mode: the answering side, in a thread of this process. */
static void *pp_thread(void *arg)
{
	struct pp_end *e = arg;
	char path[64];

	/* Pairs with the initiator's acquire load: it reads our stat. */
	__atomic_store_n(&e->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat",
		 (int)e->peer_tid);
	e->peer_stat = open(path, O_RDONLY | O_CLOEXEC);
	e->rc = e->peer_stat < 0 ? 5 :
		pp_side(e, e->rounds, 0, e->force, "thread");
	close(e->peer_stat);
	return NULL;
}

/*
 * The answering side in a thread (@threads) or a child process; the
 * initiator in this thread. 0 if both sides ran all rounds; on a failure
 * the peer is stopped (killed, or its waits time out).
 */
static int pp_run(struct pp_end *parent, struct pp_end *child,
		  uint32_t rounds, int force, int threads)
{
	char path[64];
	pthread_t th;
	pid_t pid;
	int rc, crc;

	if (threads) {
		child->peer_tid = (pid_t)syscall(SYS_gettid);
		child->rounds = rounds;
		child->force = force;
		if (pthread_create(&th, NULL, pp_thread, child))
			return -1;
		/* Pairs with the thread's release store of its id. */
		while (!__atomic_load_n(&child->tid, __ATOMIC_ACQUIRE))
			sched_yield();
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat",
			 (int)child->tid);
		parent->peer_stat = open(path, O_RDONLY | O_CLOEXEC);
		rc = parent->peer_stat < 0 ? 5 :
		     pp_side(parent, rounds, 1, force, "initiator");
		close(parent->peer_stat);
		/* On a failure the thread's next wait times out (5 s). */
		pthread_join(th, NULL);
		return rc || child->rc ? -1 : 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)getppid());
		child->peer_stat = open(path, O_RDONLY | O_CLOEXEC);
		_exit(pp_side(child, rounds, 0, force, "child"));
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	parent->peer_stat = open(path, O_RDONLY | O_CLOEXEC);
	rc = pp_side(parent, rounds, 1, force, "parent");
	close(parent->peer_stat);
	if (rc && pid > 0)
		kill(pid, SIGKILL);
	crc = child_ok(pid);
	return rc || crc ? -1 : 0;
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

static void test_pingpong(uint32_t rounds, enum pp_how child_how, int force,
			  int threads)
{
	struct lfq *ab = make_queue(), *ba = make_queue();
	struct pp_end parent = { .in = ba, .out = ab, .how = PP_WAIT };
	struct pp_end child = { .in = ab, .out = ba, .how = child_how };
	struct lfq_stats sa, sb;
	struct lfq_info info = { .size = sizeof(info) };
	int64_t t0 = now_ns();
	int rc;

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
	rc = pp_run(&parent, &child, rounds, force, threads);
	tap_ok(!rc,
	       "%u ping-pong round trips between two %s, one in %s, one in LFQ_IOC_WAIT%s: no lost wakeup",
	       rounds, threads ? "threads" : "processes", pp_name[child_how],
	       force ? ", each commit racing the peer's sleep" : "");
	lfq_get_stats(ab, &sa);
	lfq_get_stats(ba, &sb);
	if (ioctl(lfq_fd(ab), LFQ_IOC_INFO, &info))
		info.wake_mode = ~0u;
	tap_diag("ping-pong: %.2f s, %s; a->b waits %llu wakeups %llu; b->a waits %llu wakeups %llu",
		 (double)(now_ns() - t0) / 1e9,
		 info.wake_mode == LFQ_WAKE_ASYMMETRIC ? "asymmetric" :
		 info.wake_mode == LFQ_WAKE_SYMMETRIC ? "symmetric" : "?",
		 (unsigned long long)sa.waits,
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

int main(int argc, char **argv)
{
	uint32_t forced = PINGPONG_FORCED;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n' || atoi(optarg) < 2) {
			fprintf(stderr, "usage: %s [-n FORCED_ROUND_TRIPS]\n",
				argv[0]);
			return 2;
		}
		forced = (uint32_t)atoi(optarg);
	}
	tap_plan(12);
	test_pingpong(forced, PP_WAIT, 1, 0);
	test_pingpong(forced, PP_WAIT, 1, 1);
	test_pingpong(PINGPONG, PP_WAIT, 0, 0);
	test_pingpong(PINGPONG, PP_WAIT, 0, 1);
	test_pingpong(PINGPONG_POLL, PP_POLL, 1, 0);
	test_pingpong(PINGPONG_POLL, PP_EPOLL, 1, 0);
	return tap_done();
}
