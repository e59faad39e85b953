// SPDX-License-Identifier: GPL-2.0
/*
 * pid_ns.c - the pids in event records are as the attacher's pid
 * namespace sees them (struct lfq_src.pid_ns; lfq_src_pid() in
 * kmod/sources/lfq_source.h, whose initial-namespace path reads the
 * task's own numbers and whose other path asks task_pid_nr_ns()).
 *
 * In the initial namespace: a SYSCALL source on getpgid records the
 * calls of this process and of a thread of it with their global thread
 * ids. In a new pid namespace (unshare(CLONE_NEWPID), then fork: the
 * child is its pid 1): the child attaches a source itself and records its
 * own calls as pid 1 and a thread's as that thread's id there (2), and
 * the calls of this process, outside its namespace, as pid 0. Each call
 * carries its own arg0, so every record says whose call it was. A
 * kernel without pid namespaces (the test VM's debug and KCSAN builds:
 * CONFIG_NAMESPACES off) skips the second part; Debian's has them.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "tap.h"
#include "test_util.h"

#define CALLS		200u
#define SLOTS		4096u
#define MAGIC_MAIN	0x4c46510000000001ull
#define MAGIC_THREAD	0x4c46510000000002ull
#define MAGIC_OUTSIDE	0x4c46510000000003ull

/* What the records said for one caller: how many, and their pids. */
struct seen {
	uint32_t n, pid, other;	/* other: records with another pid */
};

struct census {
	struct seen main, thread, outside;
	uint32_t thread_tid;	/* the thread's id as its caller sees it */
	int err;
};

static void calls(uint64_t arg0)
{
	for (unsigned int i = 0; i < CALLS; i++)
		syscall(SYS_getpgid, (long)arg0);
}

static void *thread_fn(void *arg)
{
	uint32_t *tid = arg;

	*tid = (uint32_t)gettid();
	calls(MAGIC_THREAD);
	return NULL;
}

static void note(struct seen *s, uint32_t pid)
{
	if (!s->n)
		s->pid = pid;
	else if (pid != s->pid)
		s->other++;
	s->n++;
}

/* Every record in @q, by arg0. */
static void count(struct lfq *q, struct census *c)
{
	const void *first;
	int got;

	while ((got = lfq_peek(q, SLOTS, &first)) > 0) {
		const struct lfq_event_syscall *e = first;

		for (int i = 0; i < got; i++, e++) {
			if (e->hdr.type != LFQ_EVENT_SYSCALL ||
			    e->nr != SYS_getpgid)
				continue;
			if (e->arg0 == MAGIC_MAIN)
				note(&c->main, e->pid);
			else if (e->arg0 == MAGIC_THREAD)
				note(&c->thread, e->pid);
			else if (e->arg0 == MAGIC_OUTSIDE)
				note(&c->outside, e->pid);
		}
		lfq_release(q, (uint32_t)got);
	}
}

/*
 * Attach a getpgid source to a new queue, make the calls of this task
 * and of a thread (and, if @ready >= 0, let the other side make its own:
 * a byte on @ready, then one back on @done), then count the records. On
 * an error the other side still gets its byte, or sees @ready close.
 */
static void record(struct census *c, int ready, int done)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = sizeof(struct lfq_event_syscall),
		 .slot_count = SLOTS);
	struct lfq_source s = { .size = sizeof(s),
				.type = LFQ_SOURCE_SYSCALL,
				.syscall_nr = SYS_getpgid };
	struct lfq *q = NULL;
	pthread_t th;
	char b = 1;
	int id, err;

	memset(c, 0, sizeof(*c));
	c->err = lfq_create(&o, &q);
	if (!c->err) {
		id = ioc_source_attach(lfq_fd(q), &s);
		if (id < 0)
			c->err = id;
	}
	if (!c->err) {
		calls(MAGIC_MAIN);
		err = pthread_create(&th, NULL, thread_fn, &c->thread_tid);
		if (err)
			c->err = -err;
		else
			pthread_join(th, NULL);
	}
	if (ready >= 0 && (write(ready, &b, 1) != 1 || read(done, &b, 1) != 1) &&
	    !c->err)
		c->err = -EPIPE;
	if (q && !c->err)
		count(q, c);
	if (q)
		lfq_close(q);
}

int main(void)
{
	int to_child[2], to_parent[2], res[2], status;
	struct census c, in;
	pid_t pid;
	char b;

	tap_plan(5);

	record(&c, -1, -1);
	tap_ok(!c.err && c.main.n == CALLS && !c.main.other &&
	       c.main.pid == (uint32_t)gettid() && c.thread.n == CALLS &&
	       !c.thread.other && c.thread.pid == c.thread_tid,
	       "initial namespace: %u records as pid %u (this task %d), %u as %u (the thread %u)",
	       c.main.n, c.main.pid, (int)gettid(), c.thread.n, c.thread.pid,
	       c.thread_tid);

	/*
	 * From here on this process's children are born in the new
	 * namespace, and it may create no thread: it forks once, below.
	 */
	if (pipe(to_child) || pipe(to_parent) || pipe(res)) {
		tap_ok(0, "pipes: %s", strerror(errno));
		return tap_done();
	}
	if (unshare(CLONE_NEWPID)) {
		/* A kernel built without CONFIG_PID_NS has one namespace. */
		if (errno != EINVAL) {
			tap_ok(0, "a new pid namespace: %s", strerror(errno));
			return tap_done();
		}
		for (int i = 0; i < 4; i++)
			tap_skip("this kernel has no pid namespaces (unshare(CLONE_NEWPID): EINVAL)");
		return tap_done();
	}
	pid = fork();
	if (pid < 0) {
		tap_ok(0, "fork: %s", strerror(errno));
		return tap_done();
	}
	if (!pid) {
		/* pid 1 of the new namespace; its thread is pid 2 there. */
		close(to_parent[0]);
		close(to_child[1]);
		close(res[0]);
		alarm(60);
		record(&in, to_parent[1], to_child[0]);
		_exit(write(res[1], &in, sizeof(in)) == sizeof(in) ? 0 : 1);
	}
	/* Only the child's ends stay open there: its exit closes them. */
	close(to_parent[1]);
	close(to_child[0]);
	close(res[1]);
	/* This process is outside the child's namespace. */
	if (read(to_parent[0], &b, 1) == 1) {
		calls(MAGIC_OUTSIDE);
		b = 1;
		if (write(to_child[1], &b, 1) != 1)
			tap_diag("write: %s", strerror(errno));
	}
	memset(&in, 0, sizeof(in));
	if (read(res[0], &in, sizeof(in)) != sizeof(in))
		in.err = -EIO;
	waitpid(pid, &status, 0);
	tap_ok(!in.err && WIFEXITED(status) && !WEXITSTATUS(status),
	       "a child, pid 1 of a new pid namespace, attached a source there (%d)",
	       in.err);
	tap_ok(in.main.n == CALLS && !in.main.other && in.main.pid == 1,
	       "its calls: %u records as pid %u, as its namespace sees it",
	       in.main.n, in.main.pid);
	tap_ok(in.thread.n == CALLS && !in.thread.other && in.thread_tid > 1 &&
	       in.thread.pid == in.thread_tid,
	       "its thread's: %u records as pid %u (the thread saw itself as %u)",
	       in.thread.n, in.thread.pid, in.thread_tid);
	tap_ok(in.outside.n == CALLS && !in.outside.other &&
	       in.outside.pid == 0,
	       "this process's, outside that namespace: %u records as pid %u",
	       in.outside.n, in.outside.pid);
	return tap_done();
}
