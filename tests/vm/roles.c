// SPDX-License-Identifier: GPL-2.0
/*
 * roles.c - attachment roles: admission (one consumer; one producer for
 * SPSC, many for MPSC; -EBUSY beyond), a dead or closed consumer frees
 * its role for a new one that resumes where it stopped, INFO reports the
 * file's role, mappings follow the role (every region mapped PROT_WRITE
 * by a role that may not write it is refused with EPERM, and a read-only
 * mapping of it cannot be mprotect()ed writable: EACCES), a write through
 * a read-only mapping faults, liblfq refuses calls outside a handle's role
 * with -EPERM (lfq_inline.h's views too; a handle opened by fd takes its
 * file's role, and may not ask for one), and an ECHO kernel consumer
 * needs the consumer role. MPMC: any number of consumer files, release
 * words writable by consumers only, consumer claims (LFQ_IOC_CLAIM with
 * LFQ_CLAIM_CONSUMER) and their errors, kernel producers but no kernel
 * consumer (ECHO) yet.
 *
 * Runs in the test VM as root with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_inline.h"
#include "tap.h"
#include "test_util.h"

#define P	LFQ_ROLE_PRODUCER
#define C	LFQ_ROLE_CONSUMER

static const LFQ_OPTS(lfq_create_opts, spsc, .type = LFQ_TYPE_SPSC,
		      .slot_size = 64, .slot_count = 64);
static const LFQ_OPTS(lfq_create_opts, mpsc, .type = LFQ_TYPE_MPSC,
		      .slot_size = 64, .slot_count = 64);
static const LFQ_OPTS(lfq_create_opts, mpmc, .type = LFQ_TYPE_MPMC,
		      .slot_size = 64, .slot_count = 64);

/* LFQ_IOC_OPEN on a new file: the fd, or a negative errno. */
static int open_role_fd(const char *name, uint32_t role)
{
	struct lfq_open o = { .size = sizeof(o), .role = role };
	int fd = open_lfq();

	memcpy(o.name, name, strlen(name));
	if (ioctl(fd, LFQ_IOC_OPEN, &o)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static uint32_t fd_role(int fd)
{
	struct lfq_info info = { .size = sizeof(info) };

	return ioctl(fd, LFQ_IOC_INFO, &info) ? 0xdead : info.role;
}

static int list_roles(const char *name, uint32_t *attached, uint32_t *prod,
		      uint32_t *cons)
{
	struct lfq_list_entry e[16];
	int n = lfq_list(e, 16, NULL), i;

	for (i = 0; i < n; i++) {
		if (!strcmp(e[i].name, name)) {
			*attached = e[i].attached;
			*prod = e[i].producers;
			*cons = e[i].consumers;
			return 0;
		}
	}
	return -ENOENT;
}

static void test_admission(void)
{
	uint32_t a = 0, pr = 0, co = 0;
	struct lfq *p = NULL, *m = NULL;
	int c1, fd, status, pfd[2], fds[3], i, ok;
	char ch;
	pid_t pid;

	expect(-create_named(spsc, "t-role", 0600, P, &p), 0,
	       "create SPSC t-role as its producer");
	c1 = open_role_fd("t-role", C);
	tap_ok(c1 >= 0, "open t-role as consumer");
	expect(-open_role_fd("t-role", C), EBUSY, "a second consumer");
	expect(-open_role_fd("t-role", P), EBUSY, "a second SPSC producer");
	expect(-open_role_fd("t-role", P | C), EBUSY, "a second producer and consumer");
	tap_ok(fd_role(c1) == C && fd_role(lfq_fd(p)) == P,
	       "INFO reports each file's role (%u, %u)", fd_role(c1),
	       fd_role(lfq_fd(p)));
	tap_ok(list_roles("t-role", &a, &pr, &co) == 0 && a == 2 && pr == 1 &&
	       co == 1, "LIST: 2 files, 1 producer, 1 consumer");

	/* fork: the child's fd is the same file, so the same attachment. */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(fd_role(c1) == C && list_roles("t-role", &a, &pr, &co) == 0 &&
		      a == 2 && co == 1 ? 0 : 1);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a forked child shares the consumer's file and role");
	close(c1);
	fd = open_role_fd("t-role", C);
	tap_ok(fd >= 0, "after close, a new consumer attaches");
	close(fd);

	/* A consumer killed while attached frees the role. */
	if (pipe(pfd))
		exit(1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int cfd = open_role_fd("t-role", C);

		if (write(pfd[1], cfd >= 0 ? "y" : "n", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ok = read(pfd[0], &ch, 1) == 1 && ch == 'y';
	expect(ok ? -open_role_fd("t-role", C) : 0, EBUSY,
	       "while a child holds the consumer role, another consumer");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fd = open_role_fd("t-role", C);
	tap_ok(fd >= 0, "the child killed, a new consumer attaches");
	close(fd);
	close(pfd[0]);
	close(pfd[1]);
	lfq_close(p);
	expect(-lfq_unlink("t-role"), 0, "unlink t-role");

	/* MPSC: many producer files, one consumer. */
	expect(-create_named(mpsc, "t-rolem", 0600, C, &m), 0,
	       "create MPSC t-rolem as its consumer");
	for (i = 0, ok = 1; i < 3; i++)
		ok &= (fds[i] = open_role_fd("t-rolem", P)) >= 0;
	tap_ok(ok, "three producer files attach to MPSC t-rolem");
	expect(-open_role_fd("t-rolem", C), EBUSY, "a second MPSC consumer");
	expect(-open_role_fd("t-rolem", P | C), EBUSY,
	       "a producer that also wants the consumer role");
	tap_ok(list_roles("t-rolem", &a, &pr, &co) == 0 && a == 4 && pr == 3 &&
	       co == 1, "LIST: 4 files, 3 producers, 1 consumer");
	for (i = 0; i < 3; i++)
		close(fds[i]);
	lfq_close(m);
	expect(-lfq_unlink("t-rolem"), 0, "unlink t-rolem");
}

struct region {
	const char *name;
	uint64_t off, len;
	uint32_t writers;	/* roles that may write it */
};

/* Each region of @fd's queue, mapped by a file in @role. */
static void check_maps(int fd, uint32_t role, const char *who)
{
	struct lfq_info i = { .size = sizeof(i) };
	struct region r[6];
	unsigned int k;

	if (ioctl(fd, LFQ_IOC_INFO, &i)) {
		tap_ok(0, "%s: INFO", who);
		return;
	}
	r[0] = (struct region){ "header", i.hdr_offset, 4096, 0 };
	r[1] = (struct region){ "producer page", i.prod_offset, 4096, P };
	r[2] = (struct region){ "consumer page", i.cons_offset, 4096, C };
	r[3] = (struct region){ "commit words", i.commit_offset, i.commit_size, P };
	r[4] = (struct region){ "second copy of the slots",
				i.data_offset + i.data_size, i.data_size, P };
	r[5] = (struct region){ "everything after the header", i.prod_offset,
				i.map_size - i.prod_offset, P & C };
	for (k = 0; k < 6; k++) {
		int may = (r[k].writers & role) || (k == 5 && role == (P | C));
		void *w, *ro;
		int werr, perr = 0;

		w = mmap(NULL, r[k].len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)r[k].off);
		werr = w == MAP_FAILED ? errno : 0;
		if (w != MAP_FAILED)
			munmap(w, r[k].len);
		ro = mmap(NULL, r[k].len, PROT_READ, MAP_SHARED, fd,
			  (off_t)r[k].off);
		if (ro == MAP_FAILED)
			perr = -1;
		else if (mprotect(ro, r[k].len, PROT_READ | PROT_WRITE))
			perr = errno;
		if (ro != MAP_FAILED)
			munmap(ro, r[k].len);
		if (!tap_ok(may ? !werr && !perr : werr == EPERM && perr == EACCES,
			    "%s: %s %s", who, r[k].name,
			    may ? "maps writable" :
			    "refused writable (EPERM), read-only cannot be upgraded (EACCES)"))
			tap_diag("  mmap errno %s, mprotect errno %s", ename(werr),
				 perr < 0 ? "mmap failed" : ename(perr));
	}
}

static void test_mappings(void)
{
	struct lfq *p = NULL, *both = NULL;
	struct lfq_info info = { .size = sizeof(info) };
	int cfd, status;
	pid_t pid;

	if (create_named(mpsc, "t-rolemap", 0600, P, &p) ||
	    lfq_create(&mpsc, &both)) {
		tap_ok(0, "create the MPSC queues");
		exit(1);
	}
	cfd = open_role_fd("t-rolemap", C);
	check_maps(lfq_fd(p), P, "producer");
	check_maps(cfd, C, "consumer");
	check_maps(lfq_fd(both), P | C, "producer and consumer");

	/* A write through a read-only mapping of the slots faults. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		volatile unsigned char *d;

		if (ioctl(cfd, LFQ_IOC_INFO, &info))
			_exit(1);
		d = mmap(NULL, info.data_size, PROT_READ, MAP_SHARED, cfd,
			 (off_t)info.data_offset);
		if (d == MAP_FAILED)
			_exit(2);
		d[0] = 1;
		_exit(3);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	       "a consumer writing its read-only slot mapping gets SIGSEGV");
	close(cfd);
	lfq_close(p);
	lfq_close(both);
	expect(-lfq_unlink("t-rolemap"), 0, "unlink t-rolemap");
}

static void test_library(void)
{
	struct lfq *p = NULL, *c = NULL, *c2 = NULL, *a = NULL;
	char msg[64] = "hello";
	LFQ_OPTS(lfq_open_opts, by_fd, .fd = -1);
	const void *cspan;
	void *span;
	int n;

	if (create_named(spsc, "t-rolelib", 0600, P, &p) ||
	    open_named("t-rolelib", C, &c)) {
		tap_ok(0, "create and open t-rolelib");
		exit(1);
	}
	expect(-lfq_push(c, msg, sizeof(msg)), EPERM, "lfq_push on a consumer");
	n = lfq_reserve(c, 1, &span);
	expect(-n, EPERM, "lfq_reserve on a consumer");
	expect(-lfq_commit(c, 1), EPERM, "lfq_commit on a consumer");
	expect(-lfq_discard(c), EPERM, "lfq_discard on a consumer");
	expect(-lfq_pop(p, msg, sizeof(msg)), EPERM, "lfq_pop on a producer");
	n = lfq_peek(p, 1, &cspan);
	expect(-n, EPERM, "lfq_peek on a producer");
	expect(-lfq_release(p, 1), EPERM, "lfq_release on a producer");
	{
		struct lfq_inline_prod ip;
		struct lfq_inline_cons ic;

		expect(-lfq_inline_producer(c, &ip), EPERM,
		       "lfq_inline_producer on a consumer");
		expect(-lfq_inline_consumer(p, &ic), EPERM,
		       "lfq_inline_consumer on a producer");
		expect(-lfq_inline_producer(p, &ip), 0,
		       "lfq_inline_producer on the producer");
		expect(-lfq_inline_consumer(c, &ic), 0,
		       "lfq_inline_consumer on the consumer");
	}
	expect(-lfq_wait_data(c, 1, 0), EAGAIN,
	       "lfq_wait_data on an empty ring (consumer)");
	expect(-lfq_wait_space(p, 1, 0), 0, "lfq_wait_space (producer)");
	expect(-lfq_wait_data(p, 1, 0), EAGAIN,
	       "lfq_wait_data on a producer handle only reads");
	memset(msg, 0, sizeof(msg));
	strcpy(msg, "hello");
	tap_ok(lfq_push(p, msg, sizeof(msg)) == 0 &&
	       lfq_wait_data(c, 1, 1000000000) == 0 &&
	       lfq_pop(c, msg, sizeof(msg)) == 0 && !strcmp(msg, "hello"),
	       "producer and consumer handles round-trip a message");
	by_fd.fd = lfq_fd(c);
	expect(-lfq_open(&by_fd, &a), 0, "lfq_open of the consumer's fd");
	n = a ? lfq_push(a, msg, sizeof(msg)) : 0;
	if (!tap_ok(a && lfq_role(a) == C && n == -EPERM,
		    "the handle opened by fd takes the file's role (consumer: push refused)"))
		tap_diag("  role %u, push %d (%s)", a ? lfq_role(a) : 0, n,
			 ename(-n));
	lfq_close(a);
	a = NULL;
	by_fd.role = C;
	expect(-lfq_open(&by_fd, &a), EINVAL,
	       "lfq_open by fd with a role (roles come from the file)");
	lfq_close(a);
	a = NULL;
	expect(-open_named("t-rolelib", C, &c2), EBUSY,
	       "lfq_open by name as a second consumer");
	lfq_close(c);
	lfq_close(p);
	expect(-lfq_unlink("t-rolelib"), 0, "unlink t-rolelib");

	/* Anonymous and role-0 named queues: both roles, as before. */
	if (!lfq_create(&spsc, &a)) {
		tap_ok(fd_role(lfq_fd(a)) == (P | C) && lfq_role(a) == (P | C),
		       "lfq_create: both roles");
		lfq_close(a);
	} else {
		tap_ok(0, "lfq_create");
	}
	if (!create_named(spsc, "t-roleall", 0600, 0, &a)) {
		tap_ok(fd_role(lfq_fd(a)) == (P | C) && lfq_role(a) == (P | C),
		       "lfq_create with a name and role 0: both roles");
		lfq_close(a);
	} else {
		tap_ok(0, "lfq_create t-roleall");
	}
	expect(-lfq_unlink("t-roleall"), 0, "unlink t-roleall");
}

static void test_echo(void)
{
	struct lfq *p = NULL, *both = NULL, *target = NULL, *cons = NULL;
	struct lfq_source src = { .type = LFQ_SOURCE_ECHO };
	int id;

	if (create_named(mpsc, "t-roleecho", 0600, P, &p) ||
	    lfq_create(&mpsc, &both) || lfq_create(&mpsc, &target)) {
		tap_ok(0, "create the echo queues");
		return;
	}
	src.target_fd = lfq_fd(target);
	expect(-lfq_source_attach(p, &src), EPERM,
	       "ECHO (a kernel consumer) on a producer-only file");
	id = lfq_source_attach(both, &src);
	tap_ok(id >= 0, "ECHO on a file with the consumer role (id %d)", id);
	if (id >= 0)
		lfq_source_detach(both, id);
	if (!open_named("t-roleecho", C, &cons)) {
		/* Kernel producers act in the producer role: not here. */
		struct lfq_source proc = { .type = LFQ_SOURCE_PROC };

		expect(-lfq_source_attach(cons, &proc), EPERM,
		       "PROC (a kernel producer) on a consumer-only file");
		/* ECHO produces into its target: a consumer-only target. */
		src.target_fd = lfq_fd(cons);
		expect(-lfq_source_attach(both, &src), EPERM,
		       "ECHO into a target file without the producer role");
		lfq_close(cons);
	} else {
		tap_ok(0, "open t-roleecho as consumer");
		tap_ok(0, "open t-roleecho as consumer");
	}
	lfq_close(p);
	lfq_close(both);
	lfq_close(target);
	expect(-lfq_unlink("t-roleecho"), 0, "unlink t-roleecho");
}

/* LFQ_IOC_CLAIM with @flags on @fd: the index, or a negative errno. */
/* Writable mapping of [@off, @off + @len) of @fd: 0 or the errno. */
static int map_rw(int fd, uint64_t off, uint64_t len)
{
	void *w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)off);

	if (w == MAP_FAILED)
		return errno;
	munmap(w, len);
	return 0;
}

/*
 * MPMC: any number of consumer files; the release words are theirs to
 * write (and only theirs), the commit words not; consumer claims need the
 * consumer role and an MPMC queue, LFQ_MPMC_CLAIMS of them at most; kernel
 * producers (SYNTH) need the producer role and kernel consumers (ECHO,
 * several of them) the consumer role.
 */
static void test_mpmc(void)
{
	struct lfq_source echo = { .type = LFQ_SOURCE_ECHO };
	struct lfq_source synth = { .type = LFQ_SOURCE_SYNTH, .threads = 1 };
	struct lfq_info i = { .size = sizeof(i) };
	uint32_t a = 0, pr = 0, co = 0;
	struct lfq *p = NULL, *m = NULL;
	int c[3], k, n, mfd;

	if (create_named(mpmc, "t-rolempmc", 0600, P, &p) ||
	    create_named(mpsc, "t-rolempsc", 0600, P, &m)) {
		tap_ok(0, "create the MPMC and MPSC queues");
		exit(1);
	}
	for (k = 0; k < 3; k++)
		c[k] = open_role_fd("t-rolempmc", C);
	tap_ok(c[0] >= 0 && c[1] >= 0 && c[2] >= 0,
	       "MPMC: three consumer files are admitted");
	tap_ok(!list_roles("t-rolempmc", &a, &pr, &co) && co == 3 && pr == 1,
	       "MPMC: LIST counts 3 consumers and 1 producer (%u, %u)", co, pr);
	if (ioctl(c[0], LFQ_IOC_INFO, &i))
		tap_diag("INFO: %s", strerror(errno));
	/* The release words: right after the commit words, as many bytes. */
	expect(map_rw(c[0], i.commit_offset + i.commit_size, i.commit_size), 0,
	       "MPMC: a consumer maps the release words writable");
	expect(map_rw(lfq_fd(p), i.commit_offset + i.commit_size,
		      i.commit_size), EPERM,
	       "MPMC: a producer may not map them writable");
	expect(map_rw(c[0], i.commit_offset, i.commit_size), EPERM,
	       "MPMC: a consumer may not map the commit words writable");
	echo.target_fd = lfq_fd(m);
	echo.size = sizeof(echo);
	expect(-ioc_source_attach(lfq_fd(p), &echo), EPERM,
	       "MPMC: an ECHO source (a kernel consumer) on a producer-only file");
	k = ioc_source_attach(c[0], &echo);
	n = ioc_source_attach(c[1], &echo);
	tap_ok(k >= 0 && n >= 0,
	       "MPMC: two ECHO sources (kernel consumers) attach through two consumer files (%d, %d)",
	       k, n);
	if (k >= 0)
		ioc_source_detach(c[0], (unsigned long)k);
	if (n >= 0)
		ioc_source_detach(c[1], (unsigned long)n);
	k = lfq_source_attach(p, &synth);
	tap_ok(k >= 0, "MPMC: a SYNTH source (kernel producers) attaches (%d)",
	       k);
	if (k >= 0)
		lfq_source_detach(p, k);
	expect(-ioc_claim(lfq_fd(p), LFQ_CLAIM_CONSUMER, 0), EPERM,
	       "MPMC: a consumer claim on a producer-only file");
	k = ioc_claim(c[1], LFQ_CLAIM_CONSUMER, 0);
	tap_ok(k >= 0 && k < LFQ_MPMC_CLAIMS,
	       "MPMC: a consumer file registers a consumer claim (%d)", k);
	expect(-ioc_claim(c[2], LFQ_CLAIM_CONSUMER | LFQ_CLAIM_FREE, (uint32_t)k),
	       EINVAL, "MPMC: freeing another file's consumer claim");
	mfd = open_role_fd("t-rolempsc", C);
	expect(-ioc_claim(mfd, LFQ_CLAIM_CONSUMER, 0), EINVAL,
	       "a consumer claim on an MPSC queue");
	for (n = 1; ioc_claim(c[2], LFQ_CLAIM_CONSUMER, 0) >= 0; n++)
		;
	expect(-ioc_claim(c[2], LFQ_CLAIM_CONSUMER, 0), ENOSPC,
	       "MPMC: claim %d of %d", n + 1, LFQ_MPMC_CLAIMS);
	{
		struct lfq *cons = NULL;
		LFQ_OPTS(lfq_open_opts, o, .name = "t-rolempmc", .role = C);

		expect(lfq_open(&o, &cons) ? ENOSPC : 0, ENOSPC,
		       "MPMC: a consumer handle with no claim left (ENOSPC)");
		lfq_close(cons);
	}
	close(mfd);
	for (k = 0; k < 3; k++)
		close(c[k]);
	lfq_close(p);
	lfq_close(m);
	expect(-lfq_unlink("t-rolempmc"), 0, "unlink t-rolempmc");
	expect(-lfq_unlink("t-rolempsc"), 0, "unlink t-rolempsc");
}

int main(void)
{
	tap_plan(82);
	test_admission();
	test_mappings();
	test_library();
	test_echo();
	test_mpmc();
	return tap_done();
}
