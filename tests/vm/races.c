// SPDX-License-Identifier: GPL-2.0
/*
 * races.c - lifetime races against the real module, in loops: attach by
 * name vs unlink vs re-create; mmap and munmap vs close of the same fd
 * from another thread; poll and LFQ_IOC_WAIT vs close; and, all the while,
 * module removal attempts, which must fail (open files and names pin the
 * module) without disturbing anything. Run under the debug and KCSAN
 * kernels, any use-after-free, lock or RCU misuse shows up as a splat.
 *
 *   races [-s SECONDS]     (default 5)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define NAME	"t-race"

static volatile int stop;
static uint64_t n_attach, n_attach_fail, n_unlink, n_create, n_map, n_poll,
		n_rmmod, n_rmmod_ok, n_unexpected;
static int shared_fd = -1;	/* swapped under the threads' feet */

static void bump(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* An error no race explains: count it, and say which (the first few). */
static void unexpected(const char *what, int err)
{
	if (__atomic_fetch_add(&n_unexpected, 1, __ATOMIC_RELAXED) < 5)
		tap_diag("unexpected: %s -> %d (%s)", what, err, ename(-err));
}

/* Create NAME: an MPSC queue whose creator is its consumer. */
static int create_race_queue(struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 64,
		 .slot_count = 64, .name = NAME, .mode = 0600,
		 .role = LFQ_ROLE_CONSUMER);

	return lfq_create(&o, q);
}

/* Attach by name in every role, push or pop a little, close. */
static void *attacher(void *arg)
{
	LFQ_OPTS(lfq_open_opts, o, .name = NAME,
		 .role = (uint32_t)(uintptr_t)arg);
	struct lfq *q;
	uint64_t v = 1;
	int err;

	while (!stop) {
		err = lfq_open(&o, &q);
		if (err) {
			/* Gone (unlinked), role taken, or being re-created. */
			if (err != -ENOENT && err != -EBUSY)
				unexpected("lfq_open by name", err);
			bump(&n_attach_fail);
			continue;
		}
		/* Full or empty, but never a role the open did not give. */
		if (o.role & LFQ_ROLE_PRODUCER) {
			err = lfq_push(q, &v, sizeof(v));
			if (err && err != -EAGAIN)
				unexpected("lfq_push", err);
		} else {
			err = lfq_pop(q, &v, sizeof(v));
			if (err && err != -EAGAIN)
				unexpected("lfq_pop", err);
		}
		lfq_close(q);
		bump(&n_attach);
	}
	return NULL;
}

/* Unlink and re-create the name. */
static void *unlinker(void *arg)
{
	struct lfq *q;
	int err;

	(void)arg;
	while (!stop) {
		err = lfq_unlink(NAME);
		if (!err)
			bump(&n_unlink);
		else if (err != -ENOENT)
			unexpected("lfq_unlink", err);
		err = create_race_queue(&q);
		if (!err) {
			bump(&n_create);
			lfq_close(q);
		} else if (err != -EEXIST) {
			unexpected("lfq_create by name", err);
		}
	}
	return NULL;
}

/* Bind fresh files, publish them, and close them under the others. */
static void *closer(void *arg)
{
	struct lfq_open o = { .size = sizeof(o), .role = LFQ_ROLE_PRODUCER };
	int fd, old;

	(void)arg;
	strcpy(o.name, NAME);
	while (!stop) {
		fd = open_lfq();
		if (ioctl(fd, LFQ_IOC_OPEN, &o)) {
			close(fd);
			continue;
		}
		old = __atomic_exchange_n(&shared_fd, fd, __ATOMIC_ACQ_REL);
		usleep(100);
		if (old >= 0)
			close(old);
	}
	return NULL;
}

/* mmap/munmap and poll/WAIT whatever fd is published right now. */
static void *user(void *arg)
{
	struct lfq_wait w = { .size = sizeof(w), .flags = LFQ_WAIT_SPACE,
			      .min_count = 1, .timeout_ns = 1000 };
	struct pollfd pfd;
	void *m;
	int fd;

	(void)arg;
	while (!stop) {
		fd = __atomic_load_n(&shared_fd, __ATOMIC_ACQUIRE);
		if (fd < 0)
			continue;
		m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			/* The header page stays readable after the close. */
			if (*(volatile uint32_t *)m != LFQ_RING_MAGIC)
				unexpected("header magic", 0);
			munmap(m, 4096);
			bump(&n_map);
		}
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		poll(&pfd, 1, 0);
		ioctl(fd, LFQ_IOC_WAIT, &w);
		bump(&n_poll);
	}
	return NULL;
}

/* Try to remove the module the whole time: it must stay. */
static void *remover(void *arg)
{
	int st;
	pid_t pid;

	(void)arg;
	while (!stop) {
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 2);
			execlp("rmmod", "rmmod", "lfq", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			continue;
		bump(&n_rmmod);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			bump(&n_rmmod_ok);
		usleep(20000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int secs = 5, i;
	pthread_t th[8];
	struct lfq *keep;
	int opt, n = 0;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's')
			return 2;
		secs = (unsigned int)strtoul(optarg, NULL, 0);
	}
	tap_plan(4);
	lfq_unlink(NAME);
	/* One file open all along: the module must not go. */
	if (!tap_ok(!create_race_queue(&keep),
		    "named queue %s", NAME))
		return tap_done();
	pthread_create(&th[n++], NULL, attacher,
		       (void *)(uintptr_t)LFQ_ROLE_PRODUCER);
	pthread_create(&th[n++], NULL, attacher,
		       (void *)(uintptr_t)LFQ_ROLE_PRODUCER);
	pthread_create(&th[n++], NULL, attacher,
		       (void *)(uintptr_t)LFQ_ROLE_CONSUMER);
	pthread_create(&th[n++], NULL, unlinker, NULL);
	pthread_create(&th[n++], NULL, closer, NULL);
	pthread_create(&th[n++], NULL, user, NULL);
	pthread_create(&th[n++], NULL, remover, NULL);
	sleep(secs);
	stop = 1;
	for (i = 0; i < (unsigned int)n; i++)
		pthread_join(th[i], NULL);
	if (shared_fd >= 0)
		close(shared_fd);
	lfq_close(keep);
	lfq_unlink(NAME);

	tap_diag("%us: %llu attaches (%llu refused), %llu unlinks, %llu "
		 "creates, %llu mmaps, %llu poll+wait, %llu rmmod attempts",
		 secs, (unsigned long long)n_attach,
		 (unsigned long long)n_attach_fail,
		 (unsigned long long)n_unlink, (unsigned long long)n_create,
		 (unsigned long long)n_map, (unsigned long long)n_poll,
		 (unsigned long long)n_rmmod);
	tap_ok(n_attach && n_unlink && n_create && n_map && n_poll && n_rmmod,
	       "every loop ran");
	tap_ok(!n_unexpected, "only the expected errors (%llu unexpected)",
	       (unsigned long long)n_unexpected);
	tap_ok(!n_rmmod_ok, "rmmod refused every time while files were open "
	       "(%llu of %llu succeeded)", (unsigned long long)n_rmmod_ok,
	       (unsigned long long)n_rmmod);
	return tap_done();
}
