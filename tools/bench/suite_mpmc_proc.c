// SPDX-License-Identifier: MIT
/*
 * suite_mpmc_proc.c - the process part of suite "mpmc": work distributed
 * from P producer processes to C worker processes (1x2, 2x2, 4x4), 8-byte
 * work items one at a time, every worker asleep when there is no work.
 * lfq's MPMC queue on a memfd (each process a handle of its own, workers
 * in lfq_wait_data()) against the two kernel channels a pool of worker
 * processes shares: a pipe (8-byte writes and reads are atomic, readers
 * sleep in read()) and a POSIX message queue (mq_receive()). Producers
 * end with one end marker per worker (a pipe: closing it). Every worker
 * checks per-producer order; the parent checks count and sum.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "liblfq.h"

#define PROC_MAX	4
#define PROC_SLOTS	4096u
#define PROC_END	UINT64_MAX	/* end marker */

/* Shared between the processes of one run. */
struct proc_shared {
	_Atomic int ready, go;
	_Atomic uint64_t got, sum, bad;
};

/* One kind of channel: open in the parent, use in any child. */
struct proc_chan {
	const char *name;
	int (*open)(struct proc_chan *c);
	int (*send)(struct proc_chan *c, uint64_t v);
	int (*recv)(struct proc_chan *c, uint64_t *v);	/* 1, 0 at the end */
	void (*close)(struct proc_chan *c);
	int fd[2];
	mqd_t mq;
	struct lfq *q, *h;	/* the queue; this process's handle */
};

/* ---------------------------------------------------------------- lfq */

static int lfq_p_open(struct proc_chan *c)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = 8,
		 .slot_count = PROC_SLOTS, .backend = LFQ_BACKEND_MEMFD);

	c->h = NULL;
	return lfq_create(&o, &c->q);
}

/* Each process attaches its own handle on first use. */
static struct lfq *lfq_p_handle(struct proc_chan *c)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = lfq_fd(c->q));

	if (!c->h && lfq_open(&o, &c->h))
		c->h = NULL;
	return c->h;
}

static int lfq_p_send(struct proc_chan *c, uint64_t v)
{
	struct lfq *h = lfq_p_handle(c);
	int rc;

	if (!h)
		return -ENOMEM;
	while ((rc = lfq_push(h, &v, sizeof(v))) == -EAGAIN)
		if ((rc = lfq_wait_space(h, 1, -1)) && rc != -EINTR)
			return rc;
	return rc;
}

static int lfq_p_recv(struct proc_chan *c, uint64_t *v)
{
	struct lfq *h = lfq_p_handle(c);
	int rc;

	if (!h)
		return -ENOMEM;
	while ((rc = lfq_pop(h, v, sizeof(*v))) == -EAGAIN)
		if ((rc = lfq_wait_data(h, 1, -1)) && rc != -EINTR)
			return rc;
	return rc ? rc : *v != PROC_END;
}

static void lfq_p_close(struct proc_chan *c)
{
	lfq_close(c->h);
	lfq_close(c->q);
}

/* ---------------------------------------------------------------- pipe */

static int pipe_p_open(struct proc_chan *c)
{
	return pipe(c->fd) ? -errno : 0;
}

static int pipe_p_send(struct proc_chan *c, uint64_t v)
{
	ssize_t n;

	while ((n = write(c->fd[1], &v, sizeof(v))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(v) ? 0 : -EIO;
}

static int pipe_p_recv(struct proc_chan *c, uint64_t *v)
{
	ssize_t n;

	while ((n = read(c->fd[0], v, sizeof(*v))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(*v) ? 1 : n == 0 ? 0 : -EIO;
}

static void pipe_p_close(struct proc_chan *c)
{
	close(c->fd[0]);
	close(c->fd[1]);
}

/* ------------------------------------------------------------ POSIX mq */

static int mq_p_open(struct proc_chan *c)
{
	struct mq_attr attr = { .mq_maxmsg = PROC_SLOTS, .mq_msgsize = 8 };
	char name[64];

	snprintf(name, sizeof(name), "/lfq-bench-mpmc-%d", (int)getpid());
	c->mq = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (c->mq == (mqd_t)-1 && errno == EINVAL) {
		/* Unprivileged: at most /proc/sys/fs/mqueue/msg_max. */
		attr.mq_maxmsg = 10;
		c->mq = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	}
	if (c->mq == (mqd_t)-1)
		return -errno;
	mq_unlink(name);
	return 0;
}

static int mq_p_send(struct proc_chan *c, uint64_t v)
{
	while (mq_send(c->mq, (const char *)&v, sizeof(v), 0))
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int mq_p_recv(struct proc_chan *c, uint64_t *v)
{
	while (mq_receive(c->mq, (char *)v, sizeof(*v), NULL) < 0)
		if (errno != EINTR)
			return -errno;
	return *v != PROC_END;
}

static void mq_p_close(struct proc_chan *c)
{
	mq_close(c->mq);
}

static const struct proc_chan proc_chans[] = {
	{ .name = "lfq", .open = lfq_p_open, .send = lfq_p_send,
	  .recv = lfq_p_recv, .close = lfq_p_close },
	{ .name = "pipe", .open = pipe_p_open, .send = pipe_p_send,
	  .recv = pipe_p_recv, .close = pipe_p_close },
	{ .name = "posix mq", .open = mq_p_open, .send = mq_p_send,
	  .recv = mq_p_recv, .close = mq_p_close },
};

#define NCHANS (sizeof(proc_chans) / sizeof(proc_chans[0]))

/* ------------------------------------------------------------- the run */

/* 0 if the child exited 0, else 1. */
static int proc_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return !(WIFEXITED(status) && !WEXITSTATUS(status));
}

static void proc_wait_go(struct proc_shared *sh)
{
	atomic_fetch_add(&sh->ready, 1);
	/* Pairs with the parent's release of go. */
	while (!atomic_load_explicit(&sh->go, memory_order_acquire))
		usleep(100);
}

static int proc_producer(struct proc_chan *c, struct proc_shared *sh,
			 unsigned int id, uint64_t n)
{
	if (c->send == pipe_p_send)
		close(c->fd[0]);
	proc_wait_go(sh);
	for (uint64_t i = 0; i < n; i++)
		if (c->send(c, (uint64_t)id << 48 | i))
			return 1;
	return 0;
}

static int proc_worker(struct proc_chan *c, struct proc_shared *sh)
{
	uint64_t last[PROC_MAX], v, got = 0, sum = 0, bad = 0;
	int rc;

	for (int i = 0; i < PROC_MAX; i++)
		last[i] = UINT64_MAX;
	if (c->send == pipe_p_send)
		close(c->fd[1]);	/* EOF once every producer closed */
	proc_wait_go(sh);
	while ((rc = c->recv(c, &v)) == 1) {
		uint64_t p = v >> 48, s = v & ((1ull << 48) - 1);

		if (p >= PROC_MAX || (last[p] != UINT64_MAX && s <= last[p]))
			bad++;
		else
			last[p] = s;
		got++;
		sum += v;
	}
	atomic_fetch_add(&sh->got, got);
	atomic_fetch_add(&sh->sum, sum);
	atomic_fetch_add(&sh->bad, bad);
	return rc < 0;
}

/* Messages per second of one run, or a negative errno. */
static double proc_once(const struct proc_chan *kind, unsigned int np,
			unsigned int nc, uint64_t msgs)
{
	struct proc_chan c = *kind;
	struct proc_shared *sh;
	pid_t pid[2 * PROC_MAX];
	uint64_t per = msgs / np, want = 0, t0;
	unsigned int i, n = np + nc;
	int rc, bad = 0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	memset(sh, 0, sizeof(*sh));
	rc = c.open(&c);
	if (rc) {
		munmap(sh, sizeof(*sh));
		return rc;
	}
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		if (!pid[i])
			_exit(i < np ? proc_producer(&c, sh, i, per) :
				       proc_worker(&c, sh));
	}
	while ((unsigned int)atomic_load(&sh->ready) < n)
		usleep(100);
	t0 = bench_now_ns();
	/* Pairs with proc_wait_go()'s acquire in every child. */
	atomic_store_explicit(&sh->go, 1, memory_order_release);
	for (i = 0; i < np; i++)
		bad |= proc_exit(pid[i]);
	/* The end: a marker per worker, or the pipe's last write end. */
	if (c.send == pipe_p_send)
		close(c.fd[1]);
	else
		for (i = 0; i < nc; i++)
			bad |= c.send(&c, PROC_END) != 0;
	for (i = np; i < n; i++)
		bad |= proc_exit(pid[i]);
	t0 = bench_now_ns() - t0;
	if (c.send == pipe_p_send)
		close(c.fd[0]);
	else
		c.close(&c);
	for (i = 0; i < np; i++)
		want += ((uint64_t)i << 48) * per + per * (per - 1) / 2;
	if (bad || atomic_load(&sh->bad) || atomic_load(&sh->got) != per * np ||
	    atomic_load(&sh->sum) != want)
		rc = -EPROTO;
	munmap(sh, sizeof(*sh));
	return rc ? rc : (double)(per * np) * 1e9 / (double)t0;
}

static const unsigned int proc_shapes[][2] = { { 1, 2 }, { 2, 2 }, { 4, 4 } };

/**
 * mpmc_processes() - the process part of suite "mpmc": every channel
 * once per repeat, in turn, for each shape.
 *
 * Return: 0, or the negative errno of a run that failed.
 */
int mpmc_processes(void)
{
	unsigned int reps = bench_opts.repeats;
	uint64_t msgs = bench_opts.msgs / 50;
	double *v = calloc(NCHANS * reps, sizeof(double));
	char scen[48];
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (size_t s = 0; s < 3; s++) {
		unsigned int np = proc_shapes[s][0], nc = proc_shapes[s][1];
		int err[NCHANS] = { 0 };

		snprintf(scen, sizeof(scen), "8B proc %up%uc", np, nc);
		for (unsigned int k = 0; k < reps; k++)
			for (size_t i = 0; i < NCHANS; i++) {
				double mps;

				if (err[i])
					continue;
				mps = proc_once(&proc_chans[i], np, nc, msgs);
				if (mps < 0)
					err[i] = (int)mps;
				v[i * reps + k] = mps / 1e6;
			}
		for (size_t i = 0; i < NCHANS; i++) {
			if (err[i]) {
				fprintf(stderr, "lfq-bench: mpmc %s %s: %s\n",
					scen, proc_chans[i].name,
					strerror(-err[i]));
				rc = err[i];
				continue;
			}
			bench_result_samples("mpmc", scen, proc_chans[i].name,
					     "throughput", "Mmsg/s",
					     BENCH_HIGHER, v + i * reps, reps);
		}
	}
	free(v);
	return rc;
}
