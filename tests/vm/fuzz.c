// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - a seeded ioctl/mmap/poll fuzzer for /dev/lfq.
 *
 *   fuzz [-s SEED] [-n CALLS] [-T SECONDS] [-p PROCS] [-t THREADS]
 *
 * Runs until CALLS system calls were made (default 100000; 0: no limit)
 * or SECONDS passed (default 240; fewer calls than asked then fail),
 * with PROCS processes (3) of THREADS threads (2). The seed (default:
 * from the time) is printed first, as the command line that replays it.
 *
 * Several processes (forked after the files were opened and bound, so
 * they share them), each with several threads sharing one fd table, race:
 * random ioctl numbers (the real LFQ_IOC_* ones, the same with random _IOC
 * direction and size bits, random ones), random argument structs of random
 * sizes (plausible ones, ones whose size field lies, random bytes, fields
 * mutated; every struct version, elastic queues' CREATE with seg_min and
 * seg_max, LFQ_IOC_GROW of frames in and out of range), bad pointers
 * (NULL, unmapped, kernel, misaligned, read-only, straddling a guard
 * page, inside a queue mapping), CREATE/OPEN/UNLINK/LIST with names
 * from a small pool so they collide, SOURCE_ATTACH of
 * every type (bounded: SYNTH sources have a small count and few
 * producers), mmap/munmap/mprotect/madvise at random offsets, lengths and
 * protections, reads and writes of what is mapped, poll with random
 * events and short timeouts, close, dup, dup2, open, and fork with
 * children that run a while and exit, or are killed, at random points.
 *
 * It checks no errno exactly (tests/vm/ioctl_errno*.c do): every call
 * must return success or -1 with an errno in the call's plausible set;
 * no process may die of a signal the fuzzer did not send (SIGSEGV/SIGBUS
 * on a queue mapping is caught and counted: the mapping may be
 * PROT_NONE, or an elastic queue's frame may hold no live segment); at
 * the end every name is unlinked and the module still creates, pushes
 * and pops. The same seed replays the same choices, not the same
 * interleaving.
 *
 * The parts: tests/lib/fuzz_state.h (limits, shared counters, random
 * choices, the check of every call), fuzz_fds.h (the fd slots, open,
 * close, dup, poll), fuzz_ioctl.h (commands and argument bytes),
 * fuzz_mem.h (mmap and friends, loads and stores into queue mappings),
 * fuzz_report.h (the summary and the TAP results); here, the processes
 * and threads that run them and the command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_fds.h"
#include "fuzz_ioctl.h"
#include "fuzz_mem.h"
#include "fuzz_report.h"
#include "fuzz_state.h"
#include "tap.h"
#include "test_util.h"

/* ------------------------------------------------------------ processes */

static void run_ops(uint64_t limit);

static void reap(int block)
{
	int i, st;
	pid_t r;

	for (i = 0; i < MAX_KIDS; i++) {
		if (!cur->kids[i])
			continue;
		r = waitpid(cur->kids[i], &st, block ? 0 : WNOHANG);
		if (r == 0)
			continue;
		if (r < 0) {
			cur->kids[i] = 0;
			continue;
		}
		cur->kids[i] = 0;
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
			__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED);
			report("child %d died of signal %d", r, WTERMSIG(st));
		} else if (WIFEXITED(st) && WEXITSTATUS(st)) {
			__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED);
			report("child %d exited %d", r, WEXITSTATUS(st));
		}
	}
}

static void op_fork(void)
{
	int i;
	pid_t pid;

	reap(0);
	for (i = 0; i < MAX_KIDS && cur->kids[i]; i++)
		;
	if (i == MAX_KIDS) {
		/* Kill one at a random point of its life. */
		i = below(MAX_KIDS);
		kill(cur->kids[i], SIGKILL);
		__atomic_fetch_add(&sh->killed, 1, __ATOMIC_RELAXED);
		reap(1);
		return;
	}
	if (cur->depth >= 2)
		return;
	pid = fork();
	check("fork", 0, pid, fork_errs);
	if (pid < 0)
		return;
	if (pid == 0) {
		/* The child: this thread only, the fds and mappings shared. */
		cur->depth++;
		cur->rng ^= rnd() + (uint64_t)getpid();
		memset(cur->kids, 0, sizeof(cur->kids));
		run_ops(1 + below(300));
		reap(1);
		_exit(0);
	}
	__atomic_fetch_add(&sh->kids, 1, __ATOMIC_RELAXED);
	cur->kids[i] = pid;
}

static void run_ops(uint64_t limit)
{
	uint64_t n;

	for (n = 0; n < limit; n++) {
		if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) >= sh->target)
			break;
		if (!(n & 255) && now_ns() > deadline_ns)
			break;
		switch (below(100)) {
		case 0 ... 54:
			op_ioctl();
			break;
		case 55 ... 61:
			op_mmap();
			break;
		case 62 ... 64:
			op_munmap();
			break;
		case 65 ... 67:
			op_mprotect();
			break;
		case 68:
			op_madvise();
			break;
		case 69 ... 78:
			op_touch();
			break;
		case 79 ... 84:
			op_poll();
			break;
		case 85 ... 86:
			op_close();
			break;
		case 87 ... 88:
			op_dup();
			break;
		case 89 ... 90:
			op_open();
			break;
		case 91:
			if (chance(30))
				op_fork();
			else
				op_ioctl();
			break;
		default:
			op_ioctl();
			break;
		}
	}
}

static void *thread_main(void *arg)
{
	struct th *t = arg;
	int i;

	cur = t;
	run_ops(UINT64_MAX);
	reap(0);
	for (i = 0; i < MAX_KIDS; i++)
		if (t->kids[i]) {
			kill(t->kids[i], SIGKILL);
			__atomic_fetch_add(&sh->killed, 1, __ATOMIC_RELAXED);
		}
	reap(1);
	for (i = 0; i < NMAP; i++)
		if (t->maps[i].addr)
			munmap(t->maps[i].addr, t->maps[i].len);
	return NULL;
}

static int worker(int w, uint64_t seed, int nthreads)
{
	pthread_t tid[MAX_THREADS];
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	setup_process_memory();
	for (i = 0; i < nthreads; i++) {
		struct th *t = aligned_alloc(4096, sizeof(*t));

		if (!t)
			return 1;
		memset(t, 0, sizeof(*t));
		t->rng = seed * 0x100000001b3ull + (uint64_t)w * 1000 + i + 1;
		if (pthread_create(&tid[i], NULL, thread_main, t))
			return 1;
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [-s SEED] [-n CALLS] [-T SECONDS] [-p PROCS] [-t THREADS]\n");
	exit(2);
}

/* The first line of /proc/PID/task/TID/NAME, in a static buffer. */
static const char *first_line(pid_t pid, const char *tid, const char *name)
{
	static char buf[256];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%.16s/%s", (int)pid, tid,
		 name);
	buf[0] = 0;
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

/*
 * Where a worker that missed the deadline is: each thread's kernel stack
 * (root only), so that a hang names its function.
 */
static void show_stacks(pid_t pid)
{
	char path[64], line[256];
	struct dirent *d;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stack",
			 (int)pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		tap_diag("worker %d thread %s (syscall: %s):", (int)pid,
			 d->d_name, first_line(pid, d->d_name, "syscall"));
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			tap_diag("  %s", line);
		}
		fclose(f);
	}
	closedir(dir);
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	uint64_t calls = 100000;
	unsigned int secs = 240, procs = 3, threads = 2, i;
	pid_t pids[MAX_PROCS];
	int opt, left, died = 0;
	double t0;

	while ((opt = getopt(argc, argv, "s:n:T:p:t:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			calls = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			secs = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			procs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			threads = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!procs || procs > MAX_PROCS || !threads || threads > MAX_THREADS)
		usage();

	tap_diag("fuzz seed %llu", (unsigned long long)seed);
	tap_diag("replay: /lfq/fuzz -s %llu -n %llu -T %u -p %u -t %u (same choices, not the same interleaving)",
		 (unsigned long long)seed, (unsigned long long)calls, secs,
		 procs, threads);
	tap_plan(4);
	setvbuf(stdout, NULL, _IOLBF, 0);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	/* -n 0: no call limit, run until the deadline. */
	sh->target = calls ? calls : UINT64_MAX;
	deadline_ns = now_ns() + (int64_t)secs * 1000000000;
	setup_fds(seed);

	t0 = now_s();
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			tap_diag("fork: %s", strerror(errno));
			return 1;
		}
		if (pids[i] == 0)
			_exit(worker((int)i, seed, (int)threads));
	}
	/* The workers have the files: the parent keeps none. */
	for (i = 0; i < NFD; i++)
		close(fds[i]);

	/* Wait; past the deadline (plus slack) stop them, then kill them. */
	for (left = (int)procs; left > 0;) {
		int st;
		pid_t r = waitpid(-1, &st, WNOHANG);

		if (r > 0) {
			left--;
			if (WIFSIGNALED(st)) {
				died++;
				tap_diag("worker %d died of signal %d (%s)", r,
					 WTERMSIG(st), strsignal(WTERMSIG(st)));
			} else if (WEXITSTATUS(st)) {
				died++;
				tap_diag("worker %d exited %d", r, WEXITSTATUS(st));
			}
			continue;
		}
		if (now_ns() > deadline_ns + 30ll * 1000000000) {
			tap_diag("workers still running 30 s past the deadline: killing them");
			died++;
			for (i = 0; i < procs; i++) {
				show_stacks(pids[i]);
				kill(pids[i], SIGKILL);
			}
			deadline_ns = INT64_MAX - 100ll * 1000000000;
		}
		msleep(20);
	}
	return fuzz_report(calls, secs, seed, died, now_s() - t0);
}
