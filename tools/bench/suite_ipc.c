// SPDX-License-Identifier: MIT
/*
 * suite_ipc.c - suite 5: 64-byte messages between two processes. lfq (on
 * a memfd on the host, through /dev/lfq in the VM) against a pipe, a unix
 * stream socketpair and a POSIX message queue, each in two modes:
 *   busy      the receiver never sleeps: lfq spins on its ring, the others
 *             use O_NONBLOCK descriptors and retry on EAGAIN;
 *   blocking  the receiver sleeps when there is nothing: lfq in
 *             lfq_wait_data(), the others in read()/mq_receive().
 * lfq is measured through two APIs over the same queue: "lfq", the
 * copying lfq_push()/lfq_pop(), and "lfq inline", lfq_inline.h's
 * zero-copy one-slot calls (the message written and read in its slot),
 * as a program using lfq for IPC would; the targets take the better.
 * Every message is 64 bytes, its sequence number then zeros: the
 * receiver checks all of it, in its buffer or in its slot.
 * Throughput: a child streams bench_opts.msgs / 20 messages, the parent
 * checks every one; the clock runs from the child's go to the
 * last message's arrival (not over fork() and exit, a fixed cost that
 * would weigh most on the fastest channel), and the channels take turns
 * in every repeat. Round trip: the parent sends one message,
 * the child echoes it back. A bare cache-line ping-pong between the two
 * processes (shared memory, no queue) is measured beside the busy round
 * trips as the floor.
 *
 * The cost of a sleep: "64B sleeping" round trips through lfq with
 * liblfq's wait spin off (every receive that finds nothing sleeps at
 * once), asymmetric (the default: the sleeper pays membarrier(2)) against
 * symmetric (LFQ_CREATE_WAKE_SYMMETRIC: every publish pays a full
 * barrier), and the heavy fence alone: membarrier(GLOBAL_EXPEDITED) while
 * a registered peer process runs on the other CPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/membarrier.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "liblfq.h"
#include "lfq_inline.h"

#define IPC_MSG		64u
#define IPC_SLOTS	1024u	/* 64 KiB: a pipe's default capacity */

struct chan {
	int fd[2];		/* pipe, socketpair: [0] read end, [1] write */
	mqd_t mq;
	struct lfq *q;
	struct lfq_inline_prod ip;	/* "lfq inline" */
	struct lfq_inline_cons ic;
	int busy;
	uint64_t empty;		/* receives that found nothing and retried */
	uint64_t buf[IPC_MSG / 8];	/* the copying channels' message */
};

/*
 * A channel moves 64-byte messages: send() writes sequence number @seq
 * and zeros, recv() reads one and checks it (-EPROTO if a zero word is
 * not). 0 or -errno.
 */
struct chan_ops {
	const char *name;
	int (*open)(struct chan *c);
	int (*send)(struct chan *c, uint64_t seq);
	int (*recv)(struct chan *c, uint64_t *seq);
	void (*close)(struct chan *c);
};

/* The message: @seq, then zeros. */
static inline void msg_write(uint64_t *w, uint64_t seq)
{
	w[0] = seq;
	for (unsigned int i = 1; i < IPC_MSG / 8; i++)
		w[i] = 0;
}

/* Its sequence number, or -EPROTO in *@seq's place if a zero word is not. */
static inline int msg_read(const uint64_t *w, uint64_t *seq)
{
	uint64_t junk = 0;

	for (unsigned int i = 1; i < IPC_MSG / 8; i++)
		junk |= w[i];
	*seq = w[0];
	return junk ? -EPROTO : 0;
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* ------------------------------------------------- pipe and socketpair */

static int fd_set_busy(struct chan *c)
{
	for (int i = 0; c->busy && i < 2; i++)
		if (fcntl(c->fd[i], F_SETFL, O_NONBLOCK))
			return -errno;
	return 0;
}

static int pipe_open(struct chan *c)
{
	return pipe(c->fd) ? -errno : fd_set_busy(c);
}

static int sock_open(struct chan *c)
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, c->fd) ? -errno :
							      fd_set_busy(c);
}

static int fd_send(struct chan *c, uint64_t seq)
{
	const char *msg = (const char *)c->buf;
	size_t off = 0;

	msg_write(c->buf, seq);
	while (off < IPC_MSG) {
		ssize_t n = write(c->fd[1], msg + off, IPC_MSG - off);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			cpu_relax();
		else if (n < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

static int fd_recv(struct chan *c, uint64_t *seq)
{
	char *msg = (char *)c->buf;
	size_t off = 0;

	while (off < IPC_MSG) {
		ssize_t n = read(c->fd[0], msg + off, IPC_MSG - off);

		if (n > 0)
			off += (size_t)n;
		else if (!n)
			return -EPIPE;
		else if (errno == EAGAIN)
			c->empty++, cpu_relax();
		else if (errno != EINTR)
			return -errno;
	}
	return msg_read(c->buf, seq);
}

static void fd_close(struct chan *c)
{
	close(c->fd[0]);
	close(c->fd[1]);
}

/* ------------------------------------------------------------ POSIX mq */

static int mq_chan_open(struct chan *c)
{
	struct mq_attr attr = { .mq_maxmsg = IPC_SLOTS, .mq_msgsize = IPC_MSG };
	char name[64];
	int flags = O_CREAT | O_EXCL | O_RDWR | (c->busy ? O_NONBLOCK : 0);
	static int seq;

	snprintf(name, sizeof(name), "/lfq-bench-%d-%d", (int)getpid(), seq++);
	c->mq = mq_open(name, flags, 0600, &attr);
	if (c->mq == (mqd_t)-1 && errno == EINVAL) {
		/* Unprivileged: at most /proc/sys/fs/mqueue/msg_max. */
		attr.mq_maxmsg = 10;
		c->mq = mq_open(name, flags, 0600, &attr);
	}
	if (c->mq == (mqd_t)-1)
		return -errno;
	mq_unlink(name);
	return 0;
}

static int mq_chan_send(struct chan *c, uint64_t seq)
{
	msg_write(c->buf, seq);
	while (mq_send(c->mq, (const char *)c->buf, IPC_MSG, 0))
		if (errno == EAGAIN)
			cpu_relax();
		else if (errno != EINTR)
			return -errno;
	return 0;
}

static int mq_chan_recv(struct chan *c, uint64_t *seq)
{
	while (mq_receive(c->mq, (char *)c->buf, IPC_MSG, NULL) < 0)
		if (errno == EAGAIN)
			c->empty++, cpu_relax();
		else if (errno != EINTR)
			return -errno;
	return msg_read(c->buf, seq);
}

static void mq_chan_close(struct chan *c)
{
	mq_close(c->mq);
}

/* ----------------------------------------------------------------- lfq */

static int lfq_chan_open(struct chan *c)
{
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_SPSC,
		 .slot_size = IPC_MSG, .slot_count = IPC_SLOTS,
		 .backend = bench_opts.in_vm ? LFQ_BACKEND_KERNEL :
					       LFQ_BACKEND_MEMFD);

	return lfq_create(&p, &c->q);
}

/* The sleeping round trips: no spin before a sleep; @flags as created. */
static int lfq_chan_open_sleeping(struct chan *c, uint32_t flags)
{
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_SPSC,
		 .slot_size = IPC_MSG, .slot_count = IPC_SLOTS, .flags = flags,
		 .backend = bench_opts.in_vm ? LFQ_BACKEND_KERNEL :
					       LFQ_BACKEND_MEMFD);
	int rc = lfq_create(&p, &c->q);

	if (!rc)
		lfq_set_wait_spin(c->q, 0);
	return rc;
}

static int lfq_chan_open_asym(struct chan *c)
{
	return lfq_chan_open_sleeping(c, 0);
}

static int lfq_chan_open_sym(struct chan *c)
{
	return lfq_chan_open_sleeping(c, LFQ_CREATE_WAKE_SYMMETRIC);
}

static int lfq_chan_send(struct chan *c, uint64_t seq)
{
	int rc;

	msg_write(c->buf, seq);
	while ((rc = lfq_push(c->q, c->buf, IPC_MSG)) == -EAGAIN)
		if (c->busy)
			cpu_relax();
		else if ((rc = lfq_wait_space(c->q, 1, -1)) < 0 && rc != -EINTR)
			return rc;
	return rc < 0 ? rc : 0;
}

static int lfq_chan_recv(struct chan *c, uint64_t *seq)
{
	int rc;

	while ((rc = lfq_pop(c->q, c->buf, IPC_MSG)) == -EAGAIN)
		if (c->empty++, c->busy)
			cpu_relax();
		else if ((rc = lfq_wait_data(c->q, 1, -1)) < 0 && rc != -EINTR)
			return rc;
	return rc < 0 ? rc : msg_read(c->buf, seq);
}

/*
 * "lfq inline": the same queue through lfq_inline.h, zero-copy: the
 * sender writes the message in its slot, the receiver reads it there.
 * The views are taken before fork(); each process uses its side only.
 */
static int lfq_inline_chan_open(struct chan *c)
{
	int rc = lfq_chan_open(c);

	if (!rc)
		rc = lfq_inline_producer(c->q, &c->ip) ?:
		     lfq_inline_consumer(c->q, &c->ic);
	if (rc && c->q)
		lfq_close(c->q);
	return rc;
}

static int lfq_inline_chan_send(struct chan *c, uint64_t seq)
{
	void *slot;
	int rc;

	while (!(slot = lfq_inline_reserve_one(&c->ip)))
		if (c->busy)
			cpu_relax();
		else if ((rc = lfq_wait_space(c->q, 1, -1)) < 0 && rc != -EINTR)
			return rc;
	msg_write(slot, seq);
	lfq_inline_commit_one(&c->ip);
	return 0;
}

static int lfq_inline_chan_recv(struct chan *c, uint64_t *seq)
{
	const void *slot;
	int rc;

	while (!(slot = lfq_inline_peek_one(&c->ic)))
		if (c->empty++, c->busy)
			cpu_relax();
		else if ((rc = lfq_wait_data(c->q, 1, -1)) < 0 && rc != -EINTR)
			return rc;
	rc = msg_read(slot, seq);
	lfq_inline_release_one(&c->ic);
	return rc;
}

static void lfq_chan_close(struct chan *c)
{
	lfq_close(c->q);
}

static const struct chan_ops chans[] = {
	{ "lfq", lfq_chan_open, lfq_chan_send, lfq_chan_recv, lfq_chan_close },
	{ "lfq inline", lfq_inline_chan_open, lfq_inline_chan_send,
	  lfq_inline_chan_recv, lfq_chan_close },
	{ "pipe", pipe_open, fd_send, fd_recv, fd_close },
	{ "socketpair", sock_open, fd_send, fd_recv, fd_close },
	{ "posix mq", mq_chan_open, mq_chan_send, mq_chan_recv, mq_chan_close },
};

#define NCHANS (sizeof(chans) / sizeof(chans[0]))

/* "64B sleeping": every receive that finds nothing sleeps. */
static const struct chan_ops sleep_chans[] = {
	{ "lfq", lfq_chan_open_asym, lfq_chan_send, lfq_chan_recv,
	  lfq_chan_close },
	{ "lfq symmetric", lfq_chan_open_sym, lfq_chan_send, lfq_chan_recv,
	  lfq_chan_close },
};

/* ------------------------------------------------------------- runs */

static int child_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/* The start line both processes of a throughput run wait at. */
struct ipc_start {
	_Atomic int ready, go;
};

/*
 * Messages per second from a child producer to the parent, or -errno;
 * *@empty gets the parent's receives that found nothing, per message.
 */
static double ipc_throughput(const struct chan_ops *ops, int busy, uint64_t n,
			     double *empty)
{
	struct chan c = { .busy = busy };
	uint64_t t0, seq, bad = 0;
	struct ipc_start *st;
	pid_t pid;
	int rc = ops->open(&c);

	if (rc)
		return rc;
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		ops->close(&c);
		return -errno;
	}
	atomic_init(&st->ready, 0);
	atomic_init(&st->go, 0);
	pid = fork();
	if (pid < 0) {
		munmap(st, sizeof(*st));
		ops->close(&c);
		return -errno;
	}
	if (!pid) {
		bench_pin(bench_cpu(1));
		atomic_store(&st->ready, 1);
		/* Pairs with the parent's release of go, after its t0. */
		while (!atomic_load_explicit(&st->go, memory_order_acquire))
			cpu_relax();
		for (uint64_t i = 0; i < n; i++)
			if (ops->send(&c, i))
				_exit(1);
		_exit(0);
	}
	bench_pin(bench_cpu(0));
	while (!atomic_load(&st->ready))
		cpu_relax();
	t0 = bench_now_ns();
	/* Pairs with the child's acquire of go. */
	atomic_store_explicit(&st->go, 1, memory_order_release);
	for (uint64_t i = 0; i < n && !rc; i++) {
		rc = ops->recv(&c, &seq);
		bad += seq != i;
	}
	t0 = bench_now_ns() - t0;
	*empty = (double)c.empty / (double)n;
	if (rc)
		kill(pid, SIGKILL);
	rc = child_exit(pid) ?: rc;
	munmap(st, sizeof(*st));
	ops->close(&c);
	if (!rc && bad)
		rc = -EPROTO;
	return rc ? rc : (double)n * 1e9 / (double)t0;
}

/* Round trips through two channels of one kind; 0 or -errno. */
static int ipc_pingpong(const struct chan_ops *ops, int busy, double *rtt,
			uint64_t n)
{
	struct chan ping = { .busy = busy }, pong = { .busy = busy };
	uint64_t seq, warm = n / 10 + 10;
	pid_t pid;
	int rc = ops->open(&ping);

	if (rc)
		return rc;
	rc = ops->open(&pong);
	if (rc) {
		ops->close(&ping);
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (!pid) {
		bench_pin(bench_cpu(1));
		for (uint64_t i = 0; i < n + warm; i++)
			if (ops->recv(&ping, &seq) || ops->send(&pong, seq))
				_exit(1);
		_exit(0);
	}
	bench_pin(bench_cpu(0));
	for (uint64_t i = 0; i < n + warm && !rc; i++) {
		uint64_t t0 = bench_now_ns();

		rc = ops->send(&ping, i) ?: ops->recv(&pong, &seq);
		if (!rc && seq != i)
			rc = -EPROTO;
		if (i >= warm)
			rtt[i - warm] = (double)(bench_now_ns() - t0);
	}
	if (rc)
		kill(pid, SIGKILL);
	rc = child_exit(pid) ?: rc;
out:
	ops->close(&ping);
	ops->close(&pong);
	return rc;
}

/* The floor: one cache line bounced between two processes. */
static int raw_pingpong(double *rtt, uint64_t n)
{
	_Atomic uint64_t *line = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t warm = n / 10 + 10;
	pid_t pid;

	if (line == MAP_FAILED)
		return -errno;
	atomic_init(line, 0);
	pid = fork();
	if (pid < 0) {
		munmap((void *)line, 4096);
		return -errno;
	}
	if (!pid) {
		bench_pin(bench_cpu(1));
		for (uint64_t i = 0; i < n + warm; i++) {
			/* Acquire pairs with the parent's release of 2i+1. */
			while (atomic_load_explicit(line, memory_order_acquire) !=
			       2 * i + 1)
				cpu_relax();
			/* Release pairs with the parent's acquire below. */
			atomic_store_explicit(line, 2 * i + 2, memory_order_release);
		}
		_exit(0);
	}
	bench_pin(bench_cpu(0));
	for (uint64_t i = 0; i < n + warm; i++) {
		uint64_t t0 = bench_now_ns();

		atomic_store_explicit(line, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(line, memory_order_acquire) != 2 * i + 2)
			cpu_relax();
		if (i >= warm)
			rtt[i - warm] = (double)(bench_now_ns() - t0);
	}
	munmap((void *)line, 4096);
	return child_exit(pid);
}

/*
 * The heavy fence alone: @n calls of membarrier(GLOBAL_EXPEDITED), as
 * liblfq's sleeper makes one (lfq_fence.c), while a process registered
 * for it spins on the other CPU (a publishing peer: the IPI must reach
 * it). 0 or -errno.
 */
static int heavy_fence(double *ns, uint64_t n)
{
	_Atomic int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int rc = 0;

	if (stop == MAP_FAILED)
		return -errno;
	atomic_init(stop, 0);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
		    0, 0)) {
		munmap((void *)stop, 4096);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		munmap((void *)stop, 4096);
		return -errno;
	}
	if (!pid) {
		bench_pin(bench_cpu(1));
		if (syscall(SYS_membarrier,
			    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0))
			_exit(1);
		while (!atomic_load_explicit(stop, memory_order_relaxed))
			cpu_relax();
		_exit(0);
	}
	bench_pin(bench_cpu(0));
	usleep(10000);	/* let the child register and start spinning */
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint64_t t0 = bench_now_ns();

		if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0,
			    0))
			rc = -errno;
		ns[i] = (double)(bench_now_ns() - t0);
	}
	atomic_store_explicit(stop, 1, memory_order_relaxed);
	rc = child_exit(pid) ?: rc;
	munmap((void *)stop, 4096);
	return rc;
}

/* "64B sleeping": the cost of a sleep, asymmetric against symmetric. */
static int ipc_sleeping(const char *suite, double *v, uint64_t n)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(sleep_chans) / sizeof(sleep_chans[0]);
	     i++) {
		int err = ipc_pingpong(&sleep_chans[i], 0, v, n);

		if (err) {
			fprintf(stderr, "lfq-bench: %s sleeping round trip: %s\n",
				sleep_chans[i].name, strerror(-err));
			rc = err;
			continue;
		}
		bench_result_rtt(suite, "64B sleeping", sleep_chans[i].name, v,
				 n, 1e3, "us");
	}
	/* The host only: /dev/lfq queues fence from the kernel. */
	if (!bench_opts.in_vm) {
		int err = heavy_fence(v, n);

		if (err) {
			fprintf(stderr, "lfq-bench: membarrier: %s\n",
				strerror(-err));
			return err;
		}
		bench_result_rtt(suite, "heavy fence", "membarrier", v, n, 1e3,
				 "us");
	}
	return rc;
}

int suite_ipc(void)
{
	const char *suite = bench_opts.in_vm ? "vm-ipc" : "ipc";
	uint64_t msgs = bench_opts.msgs / (bench_opts.in_vm ? 200 : 20);
	uint64_t n = bench_opts.samples / (bench_opts.in_vm ? 40 : 4);
	unsigned int reps = bench_opts.repeats;
	double *v = calloc(n > reps ? n : reps, sizeof(double));
	double *tput = calloc(NCHANS * reps, sizeof(double));
	double *empty = calloc(NCHANS * reps, sizeof(double));
	size_t *run = calloc(NCHANS * reps, sizeof(*run));
	int tput_err[NCHANS] = { 0 };
	struct bench_modes modes;
	char scen[48];
	int rc = 0;

	if (!v || !tput || !empty || !run) {
		free(v);
		free(tput);
		free(empty);
		free(run);
		return -ENOMEM;
	}
	for (int busy = 1; busy >= 0; busy--) {
		const char *mode = busy ? "busy" : "blocking";

		snprintf(scen, sizeof(scen), "64B %s", mode);
		if (bench_modes_init(&modes, NCHANS * reps)) {
			rc = -ENOMEM;
			break;
		}
		/*
		 * Taking turns: every channel once per repeat, each run after
		 * a probe of the machine's mode (struct bench_modes).
		 */
		for (unsigned int r = 0; r < reps; r++) {
			for (size_t i = 0; i < NCHANS; i++) {
				double mps;

				if (tput_err[i])
					continue;
				run[i * reps + r] = bench_modes_next(&modes);
				mps = ipc_throughput(&chans[i], busy, msgs,
						     &empty[i * reps + r]);
				if (mps < 0)
					tput_err[i] = (int)mps;
				tput[i * reps + r] = mps / 1e6;
			}
		}
		bench_modes_done(&modes);
		for (size_t i = 0; i < NCHANS; i++) {
			if (tput_err[i]) {
				rc = tput_err[i];
				tput_err[i] = 0;
				continue;
			}
			bench_result_moded(suite, scen, chans[i].name,
					   "throughput", "Mmsg/s", BENCH_HIGHER,
					   tput + i * reps, run + i * reps,
					   reps, &modes);
			/*
			 * How often the receiver caught up with the sender:
			 * a queue drained message by message moves its
			 * index and slot lines across for every message.
			 */
			bench_result_moded(suite, scen, chans[i].name,
					   "empty polls", "per msg",
					   BENCH_LOWER, empty + i * reps,
					   run + i * reps, reps, &modes);
		}
		bench_modes_record(&modes, suite, scen);
		bench_modes_free(&modes);
		for (size_t i = 0; i < NCHANS; i++) {
			int err = ipc_pingpong(&chans[i], busy, v, n);

			if (err) {
				fprintf(stderr, "lfq-bench: %s %s round trip: %s\n",
					chans[i].name, mode, strerror(-err));
				rc = err;
				continue;
			}
			bench_result_rtt(suite, scen, chans[i].name, v, n, 1e3,
					 "us");
		}
		if (busy && !raw_pingpong(v, n))
			bench_result_rtt(suite, scen, "cache line", v, n, 1e3,
					 "us");
	}
	rc = ipc_sleeping(suite, v, n) ?: rc;
	free(v);
	free(tput);
	free(empty);
	free(run);
	return rc;
}
