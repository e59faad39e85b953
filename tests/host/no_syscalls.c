// SPDX-License-Identifier: MIT
/*
 * no_syscalls.c - proves the fast path makes no system call and no
 * allocation: a producer and a consumer thread stream 10^7 messages
 * (single and batched, wakeups enabled as by default) under a seccomp
 * filter that traps every system call but exit and rt_sigreturn, with a
 * SIGSYS handler counting them, and with malloc and friends interposed
 * to count allocations. Both counts must be 0.
 *
 * Runs on a memfd queue here, and on a /dev/lfq queue in the test VM
 * (tests/vm/no_syscalls_kernel.c builds this file with LFQ_KERNEL_QUEUE);
 * then again on an elastic queue whose producer keeps under one segment
 * in flight, so it never grows (growing may take a system call: GROW on
 * /dev/lfq, call_rcu()'s wakeup in process): inside a segment, the fast
 * path of an elastic queue makes no system call and no allocation either;
 * and again through the inline fast path (lfq_inline.h: batches, and the
 * one-slot calls) on a fixed queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_inline.h"
#include "tap.h"

#define COUNT 10000000ull

#ifdef LFQ_KERNEL_QUEUE
#define QUEUE_BACKEND	LFQ_BACKEND_KERNEL
#else
#define QUEUE_BACKEND	LFQ_BACKEND_MEMFD
#endif

/* Shared with the parent: what happened inside the filtered child. */
struct result {
	uint64_t syscalls;	/* trapped while filtered */
	uint64_t allocs;	/* malloc family calls while filtered */
	uint64_t consumed;
	uint64_t bad;
	uint64_t grows;		/* elastic: segments linked, or -1 unknown */
	int last_syscall;
	int setup_err;
};

static struct result *res;
static volatile int counting;	/* set once the filter is on */
static int ready, go, done;
static int elastic;		/* the elastic pass */
static int inlined;		/* the inline pass: these views */
static struct lfq_inline_prod iprod;
static struct lfq_inline_cons icons;
static uint64_t taken;		/* elastic: messages the consumer has */

#define SEG_SLOTS	256u
#define IN_FLIGHT	(SEG_SLOTS / 2)	/* elastic: never a full segment */

#ifndef LFQ_STATIC_LIBC
/*
 * Count every allocation by interposing the malloc family (dynamically
 * linked builds; glibc's static malloc cannot be interposed).
 */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);
extern void __libc_free(void *p);

static void count_alloc(void)
{
	if (counting)
		__atomic_fetch_add(&res->allocs, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
	count_alloc();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	count_alloc();
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	count_alloc();
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t a, size_t n)
{
	count_alloc();
	return __libc_memalign(a, n);
}

int posix_memalign(void **pp, size_t a, size_t n)
{
	count_alloc();
	*pp = __libc_memalign(a, n);
	return *pp ? 0 : ENOMEM;
}

void free(void *p)
{
	count_alloc();
	__libc_free(p);
}
#define ALLOC_COUNTED 1
#else
#define ALLOC_COUNTED 0
#endif

/*
 * lfq_reserve() or lfq_peek() failed other than with -EAGAIN (full or
 * empty): count it and end the child at once, as retrying would loop
 * forever. exit_group is allowed by the filter.
 */
static void fail_fast(void)
{
	__atomic_fetch_add(&res->bad, 1, __ATOMIC_RELAXED);
	_exit(2);
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	__atomic_fetch_add(&res->syscalls, 1, __ATOMIC_RELAXED);
	res->last_syscall = si->si_syscall;
}

static int install_filter(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(insns) / sizeof(insns[0]),
		.filter = insns,
	};
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO };

	if (sigaction(SIGSYS, &sa, NULL) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	/* TSYNC: the consumer thread, already running, is filtered too. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, &prog))
		return -errno;
	return 0;
}

static void *consumer(void *arg)
{
	struct lfq *q = arg;
	uint64_t seq = 0, v;

	/* Thread start-up makes system calls: finish it before the filter. */
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		;
	while (seq < COUNT) {
		const uint64_t *m;
		const void *span;
		int got, i, one = inlined && (seq & 3) == 3;

		if (one) {	/* and the one-slot path */
			span = lfq_inline_peek_one(&icons);
			got = span ? 1 : -EAGAIN;
		} else if (inlined) {	/* alternate peeks of 1 and of 32 */
			got = lfq_inline_peek(&icons, seq & 1 ? 1 : 32, &span);
		} else if (seq & 1) {	/* single pops and batch peeks */
			if (lfq_pop(q, &v, sizeof(v)) == 0 && v != seq++)
				res->bad++;
			continue;
		} else {
			got = lfq_peek(q, 32, &span);
		}
		if (got == -EAGAIN)
			continue;
		if (got < 0)
			fail_fast();
		m = span;
		for (i = 0; i < got; i++)
			if (m[i * 8] != seq++)
				res->bad++;
		if (one)
			lfq_inline_release_one(&icons);
		else if (inlined)
			lfq_inline_release(&icons, (uint32_t)got);
		else
			lfq_release(q, (uint32_t)got);
		__atomic_store_n(&taken, seq, __ATOMIC_RELEASE);
	}
	res->consumed = seq;
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	/* Returning would run thread exit code; the main thread ends us. */
	for (;;)
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return NULL;
}

static void producer(struct lfq *q)
{
	uint64_t seq = 0;

	while (seq < COUNT) {
		uint32_t n, i;
		uint64_t *m;
		void *span;
		int got, one = inlined && (seq & 3) == 3;

		if (elastic &&
		    seq - __atomic_load_n(&taken, __ATOMIC_ACQUIRE) >=
		    IN_FLIGHT - 32)
			continue;
		if (one) {	/* and the one-slot path */
			span = lfq_inline_reserve_one(&iprod);
			got = span ? 1 : -EAGAIN;
		} else if (inlined) {	/* alternate reservations of 1 and of 32 */
			got = lfq_inline_reserve(&iprod, seq & 1 ? 1 : 32,
						 &span);
		} else if (seq & 1) {	/* single pushes and batches */
			if (lfq_push(q, &seq, sizeof(seq)) == 0)
				seq++;
			continue;
		} else {
			got = lfq_reserve(q, 32, &span);
		}
		if (got == -EAGAIN)
			continue;
		if (got < 0)
			fail_fast();
		m = span;
		n = (uint32_t)got;
		if (n > COUNT - seq)
			n = (uint32_t)(COUNT - seq);
		for (i = 0; i < n; i++)
			m[i * 8] = seq++;
		if (one)
			lfq_inline_commit_one(&iprod);
		else if (inlined)
			lfq_inline_commit(&iprod, n);
		else
			lfq_commit(q, n);
	}
}

static int open_queue(struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = SEG_SLOTS, .backend = QUEUE_BACKEND);

	if (elastic) {
		o.flags = LFQ_CREATE_ELASTIC;
		o.seg_min = 1;
		o.seg_max = 4;
	}
	return lfq_create(&o, q);
}

static void child(int control)
{
	struct lfq *q;
	pthread_t t;
	uint64_t v;
	int i, err;

	err = open_queue(&q);
	if (!err && inlined)
		err = lfq_inline_producer(q, &iprod);
	if (!err && inlined)
		err = lfq_inline_consumer(q, &icons);
	if (!err)
		err = -pthread_create(&t, NULL, consumer, q);
	/* Warm up: fault every page in, so the loop is truly steady. */
	for (i = 0; !err && i < 1024; i++) {
		v = i;
		lfq_push(q, &v, sizeof(v));
		lfq_pop(q, &v, sizeof(v));
	}
	while (!err && !__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		;
	if (!err)
		err = install_filter();
	res->setup_err = err;
	if (err)
		_exit(1);
	counting = 1;
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	if (control) {	/* prove the instruments see what they count */
		void *volatile p;

		syscall(SYS_getppid);
		p = malloc(16);
		free(p);
	}
	producer(q);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		;
	counting = 0;
	res->grows = (uint64_t)-1;
#ifndef LFQ_KERNEL_QUEUE
	{
		/* A memfd queue's counters are in its memory: no call. */
		struct lfq_stats st = { .size = sizeof(st) };

		if (!lfq_get_stats(q, &st))
			res->grows = st.grows;
	}
#endif
	_exit(0);	/* exit_group: allowed */
}

static int run_child(int control)
{
	int status = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	pid = fork();
	if (pid == 0)
		child(control);
	waitpid(pid, &status, 0);
	return status;
}

/* The elastic pass: the steady state again, on an elastic queue. */
static void elastic_pass(void)
{
	int status;

	elastic = 1;
	status = run_child(0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
	       res->consumed == COUNT && !res->bad && res->syscalls == 0 &&
	       (!ALLOC_COUNTED || res->allocs == 0),
	       "elastic queue, %u-slot segments, under %u in flight: %llu messages (bad %llu), %llu system calls (last nr %d), %llu allocations%s",
	       SEG_SLOTS, IN_FLIGHT, (unsigned long long)res->consumed,
	       (unsigned long long)res->bad,
	       (unsigned long long)res->syscalls, res->last_syscall,
	       (unsigned long long)res->allocs,
	       ALLOC_COUNTED ? "" : " (not counted: static libc)");
	if (res->grows == (uint64_t)-1)
		tap_skip("elastic: growth count needs a system call here (stats ioctl)");
	else
		tap_ok(res->grows == 0,
		       "elastic: the queue never grew (%llu grows): the pass stayed in one segment",
		       (unsigned long long)res->grows);
}

/* The inline pass: the steady state through lfq_inline.h's calls. */
static void inline_pass(void)
{
	int status;

	elastic = 0;
	inlined = 1;
	status = run_child(0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
	       res->consumed == COUNT && !res->bad && res->syscalls == 0 &&
	       (!ALLOC_COUNTED || res->allocs == 0),
	       "inline fast path (lfq_inline.h), batches of 1 and 32 and the one-slot calls: %llu messages (setup %d, bad %llu), %llu system calls (last nr %d), %llu allocations%s",
	       (unsigned long long)res->consumed, res->setup_err,
	       (unsigned long long)res->bad,
	       (unsigned long long)res->syscalls, res->last_syscall,
	       (unsigned long long)res->allocs,
	       ALLOC_COUNTED ? "" : " (not counted: static libc)");
}

int main(void)
{
	int status;

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	tap_plan(4 + 2 + 1);
	status = run_child(1);
	if (res->setup_err == -ENOSYS || res->setup_err == -EINVAL) {
		/* e.g. the debug test kernel, built without CONFIG_SECCOMP */
		tap_skip("control run: this kernel has no seccomp filters");
		tap_skip("steady-state streaming under a seccomp filter");
		tap_skip("system call count needs seccomp filters");
		tap_skip("allocation count runs with the seccomp proof");
		tap_skip("elastic pass: this kernel has no seccomp filters");
		tap_skip("elastic growth count: no seccomp filters");
		tap_skip("inline pass: this kernel has no seccomp filters");
		return tap_done();
	}
	tap_ok(WIFEXITED(status) && res->syscalls == 1 &&
	       res->last_syscall == SYS_getppid &&
	       (!ALLOC_COUNTED || res->allocs == 2),
	       "control run: one deliberate getppid() and malloc()/free() are "
	       "counted (%llu syscalls, %llu allocations)",
	       (unsigned long long)res->syscalls,
	       (unsigned long long)res->allocs);
	status = run_child(0);
	if (!tap_ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
		    res->consumed == COUNT && !res->bad,
		    "%llu messages streamed under the seccomp filter "
		    "(status %d, setup %d, consumed %llu, bad %llu)", COUNT,
		    status, res->setup_err, (unsigned long long)res->consumed,
		    (unsigned long long)res->bad)) {
		tap_skip("system calls: the stream failed");
		tap_skip("allocations: the stream failed");
		elastic_pass();
		inline_pass();
		return tap_done();
	}
	tap_ok(res->syscalls == 0,
	       "steady-state push/pop loop made %llu system calls (last nr %d)",
	       (unsigned long long)res->syscalls, res->last_syscall);
	if (ALLOC_COUNTED)
		tap_ok(res->allocs == 0,
		       "steady-state push/pop loop made %llu allocations",
		       (unsigned long long)res->allocs);
	else
		tap_skip("allocation count needs a dynamically linked libc");
	elastic_pass();
	inline_pass();
	return tap_done();
}
