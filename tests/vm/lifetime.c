// SPDX-License-Identifier: GPL-2.0
/*
 * lifetime.c - how long a /dev/lfq queue lives: a mapping keeps the file
 * (and so the queue and the module) alive after the fd is closed, in
 * either order of close() and munmap(); when both are gone the file is
 * released (module refcount back, queue id free for reuse); /proc/self/maps
 * shows the mappings; 1000 create/destroy cycles leak nothing visible;
 * two threads racing CREATE on one fd: one wins, the loser's queue is
 * freed; 256 live queues are distinct.
 *
 * Uses raw open/ioctl/mmap (not liblfq) so each step is under test control,
 * and the shared ring protocol (kmod/proto/lfq_spsc.h) to push and pop.
 *
 * `lifetime --hold FILE`: helper for the guest script: create a queue, map
 * it, push one message, close the fd, create FILE, then wait for SIGTERM;
 * on SIGTERM pop the message back and exit 0 if it is intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_layout.h"
#include "lfq_spsc.h"
#include "tap.h"
#include "test_util.h"

#define PG 4096ul
#define CYCLES 1000

struct rawq {
	int fd;
	unsigned char *base;
	struct lfq_info info;
	struct lfq_ring_hdr hdr;
	struct lfq_ring_loc loc;
	struct lfq_spsc_prod p;
	struct lfq_spsc_cons c;
};

/* open + CREATE + INFO + map (header read-only, the rest read-write). */
static int raw_create(struct rawq *r, uint32_t slot_size, uint32_t slot_count)
{
	struct lfq_create c = { .size = sizeof(c), .type = LFQ_TYPE_SPSC,
				.slot_size = slot_size,
				.slot_count = slot_count };
	void *p;

	memset(r, 0, sizeof(*r));
	r->info.size = sizeof(r->info);
	r->fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (ioctl(r->fd, LFQ_IOC_CREATE, &c) ||
	    ioctl(r->fd, LFQ_IOC_INFO, &r->info))
		goto fail;
	p = mmap(NULL, r->info.map_size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->base = p;
	if (mmap(r->base, PG, PROT_READ, MAP_SHARED | MAP_FIXED, r->fd, 0) ==
	    MAP_FAILED ||
	    mmap(r->base + PG, r->info.map_size - PG, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, r->fd, PG) == MAP_FAILED) {
		int err = -errno;

		munmap(r->base, r->info.map_size);
		close(r->fd);
		return err;
	}
	memcpy(&r->hdr, r->base, sizeof(r->hdr));
	lfq_ring_loc_init(&r->loc, r->base, &r->hdr);
	lfq_spsc_prod_init(&r->p, &r->loc);
	lfq_spsc_cons_init(&r->c, &r->loc);
	return 0;
fail:
	{
		int err = -errno;

		close(r->fd);
		return err;
	}
}

static int raw_push(struct rawq *r, uint64_t v)
{
	uint32_t got;
	uint64_t *slot = lfq_spsc_reserve(&r->p, 1, &got);

	if (!slot)
		return -1;
	*slot = v;
	lfq_spsc_commit(&r->p, 1);
	return 0;
}

/* 0 if the next message is @v. */
static int raw_pop(struct rawq *r, uint64_t v)
{
	uint32_t got;
	const uint64_t *slot = lfq_spsc_peek(&r->c, 1, &got);
	int bad;

	if (!slot)
		return -1;
	bad = *slot != v;
	lfq_spsc_release(&r->c, 1);
	return bad ? -2 : 0;
}

/* Push and pop @n values through the ring (wraps for n > slot_count). */
static int raw_cycle(struct rawq *r, uint32_t n, uint64_t tag)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (raw_push(r, tag + i))
			return -1;
		if (i % 3 == 2) {
			if (raw_pop(r, tag + i - 2) || raw_pop(r, tag + i - 1) ||
			    raw_pop(r, tag + i))
				return -2;
		}
	}
	for (i -= i % 3; i < n; i++)
		if (raw_pop(r, tag + i))
			return -3;
	return 0;
}

/* Count /dev/lfq lines in /proc/self/maps; record those at @base. */
static int maps_lines(const void *base, char *hdr_line, char *rest_line)
{
	char line[512];
	unsigned long lo, hi;
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (hdr_line)
		hdr_line[0] = 0;
	if (rest_line)
		rest_line[0] = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, LFQ_DEVICE_PATH))
			continue;
		n++;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (hdr_line && lo == (unsigned long)base)
			snprintf(hdr_line, 256, "%.200s", line);
		if (rest_line && lo == (unsigned long)base + PG)
			snprintf(rest_line, 256, "%.200s", line);
	}
	fclose(f);
	return n;
}

static long mem_available_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static volatile sig_atomic_t hold_stop;

static void on_term(int sig)
{
	(void)sig;
	hold_stop = 1;
}

static int hold(const char *ready)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct rawq r;
	sigset_t mask, old;
	int err, fd;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	err = raw_create(&r, 64, 1024);
	if (err) {
		fprintf(stderr, "hold: create: %s\n", strerror(-err));
		return 1;
	}
	raw_push(&r, 0x1f2e3d4c5b6a7988ull);
	close(r.fd);
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "hold: %s: %s\n", ready, strerror(errno));
		return 1;
	}
	close(fd);
	while (!hold_stop)
		sigsuspend(&old);
	err = raw_pop(&r, 0x1f2e3d4c5b6a7988ull);
	munmap(r.base, r.info.map_size);
	if (err)
		fprintf(stderr, "hold: the held queue lost its message (%d)\n",
			err);
	return err ? 1 : 0;
}

static void test_close_then_munmap(long r0)
{
	char hl[256], rl[256];
	struct rawq r;
	pid_t pid;
	int err, status, n, i, bad;
	long rc;

	err = raw_create(&r, 64, 1024);
	if (!tap_ok(!err, "create and map a queue"))
		tap_diag("  %d (%s)", err, strerror(-err));
	if (err)
		exit(1);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0 + 1, "an open queue file holds one module reference"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);

	n = maps_lines(r.base, hl, rl);
	if (!tap_ok(n == 2 && strstr(hl, " r--s 00000000 ") &&
		    strstr(rl, " rw-s 00001000 "),
		    "/proc/self/maps: header r--s at offset 0, rest rw-s at 0x1000, both /dev/lfq"))
		tap_diag("  %d lines; header '%s'; rest '%s'", n, hl, rl);

	for (i = 0; i < 5; i++)
		raw_push(&r, 500 + i);
	close(r.fd);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0 + 1,
		    "after close(fd) the mapping still holds the file (refcnt unchanged)"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);
	for (bad = 0, i = 0; i < 5; i++)
		bad |= raw_pop(&r, 500 + i);
	tap_ok(!bad, "messages committed before close(fd) are read after it");
	err = raw_cycle(&r, 3000, 1u << 20);
	if (!tap_ok(!err, "push/pop through the mapping after close(fd), across wraps"))
		tap_diag("  raw_cycle %d", err);
	n = maps_lines(r.base, NULL, NULL);
	if (!tap_ok(n == 2, "/proc/self/maps still shows both mappings after close(fd)"))
		tap_diag("  %d lines", n);

	/* Another process, no fd anywhere, same queue. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < 100; i++)
			if (raw_push(&r, 7000 + i))
				_exit(2);
		_exit(0);
	}
	status = -1;
	waitpid(pid, &status, 0);
	for (bad = 0, i = 0; i < 100; i++)
		bad |= raw_pop(&r, 7000 + i);
	if (!tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !bad,
		    "a forked child pushes into the fd-less mapping, the parent pops"))
		tap_diag("  status 0x%x bad %d", status, bad);

	munmap(r.base, r.info.map_size);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0, "munmap after close releases the file (refcnt back)"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);
	n = maps_lines(NULL, NULL, NULL);
	if (!tap_ok(n == 0, "/proc/self/maps shows no /dev/lfq mapping after munmap"))
		tap_diag("  %d lines", n);
}

static void test_munmap_then_close(long r0)
{
	struct lfq_info info = { .size = sizeof(info) };
	struct rawq r;
	void *p;
	long rc;
	int err;

	err = raw_create(&r, 64, 1024);
	if (err) {
		tap_diag("create: %s", strerror(-err));
		exit(1);
	}
	raw_push(&r, 77);
	munmap(r.base, r.info.map_size);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0 + 1, "munmap with the fd still open keeps the file"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);
	err = ioctl(r.fd, LFQ_IOC_INFO, &info) ? errno : 0;
	p = mmap(NULL, r.info.map_size - PG, PROT_READ | PROT_WRITE,
		 MAP_SHARED, r.fd, PG);
	if (!tap_ok(!err && p != MAP_FAILED &&
		    ((struct lfq_prod_ctl *)p)->head == 1,
		    "after munmap the fd still works: INFO, a new map shows the old head"))
		tap_diag("  INFO errno %d mmap %s", err,
			 p == MAP_FAILED ? strerror(errno) : "ok");
	if (p != MAP_FAILED)
		munmap(p, r.info.map_size - PG);
	close(r.fd);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0, "close after munmap releases the file (refcnt back)"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);

	/* Partial unmaps: every VMA holds the file until it goes. */
	err = raw_create(&r, 64, 1024);
	if (err) {
		tap_diag("create: %s", strerror(-err));
		exit(1);
	}
	close(r.fd);
	munmap(r.base, PG);	/* the header */
	munmap(r.base + r.info.data_offset, r.info.data_size); /* 1st copy */
	rc = lfq_module_refcnt();
	/* The ring code reads the header only at init: point it at the
	 * second copy of the slot area, which is still mapped. */
	r.p.data += r.info.data_size;
	r.c.data += r.info.data_size;
	err = raw_cycle(&r, 2500, 99);
	if (!tap_ok(rc == r0 + 1 && !err,
		    "header and first slot copy unmapped, fd closed: the rest still works"))
		tap_diag("  refcnt %ld baseline %ld raw_cycle %d", rc, r0, err);
	munmap(r.base + PG, r.info.data_offset - PG);
	munmap(r.base + r.info.data_offset + r.info.data_size,
	       r.info.data_size);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0, "the last partial munmap releases the file"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);
}

static void test_cycles(long r0)
{
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_stats st = { .size = sizeof(st) };
	long m0, m1, rc;
	uint32_t first_id = 0, other_ids = 0;
	struct rawq r;
	int i, err, fail = 0;

	/* A fresh queue after everything else is gone starts empty. */
	err = raw_create(&r, 64, 1024);
	if (err) {
		tap_diag("create: %s", strerror(-err));
		exit(1);
	}
	err = ioctl(r.fd, LFQ_IOC_STATS, &st);
	if (!tap_ok(!err && st.produced == 0 && st.consumed == 0 &&
		    st.waits == 0 && st.wake_calls == 0 &&
		    r.p.head == 0 && r.c.tail == 0,
		    "a fresh queue after the others are gone starts empty"))
		tap_diag("  produced %llu consumed %llu",
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);
	err = raw_cycle(&r, 5000, 3);
	tap_ok(!err, "the fresh queue works (push/pop across wraps)");
	munmap(r.base, r.info.map_size);
	close(r.fd);

	msleep(200);
	m0 = mem_available_kb();
	for (i = 0; i < CYCLES; i++) {
		err = raw_create(&r, 64, 1024);
		if (err) {
			if (fail++ < 3)
				tap_diag("cycle %d: create: %s", i,
					 strerror(-err));
			continue;
		}
		if (i == 0)
			first_id = r.info.id;
		else if (r.info.id != first_id)
			other_ids++;
		if (raw_cycle(&r, 200, (uint64_t)i << 32) && fail++ < 3)
			tap_diag("cycle %d: push/pop failed", i);
		/* Alternate the order of close() and munmap(). */
		if (i & 1) {
			close(r.fd);
			munmap(r.base, r.info.map_size);
		} else {
			munmap(r.base, r.info.map_size);
			close(r.fd);
		}
	}
	tap_ok(!fail, "%d create/map/push/pop/unmap/close cycles", CYCLES);
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0, "module refcount back to baseline after the cycles"))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);
	if (!tap_ok(other_ids == 0,
		    "every cycle reused queue id %u (each queue left the registry)",
		    first_id))
		tap_diag("  %u cycles got another id", other_ids);
	msleep(500);	/* frees run one RCU grace period later */
	m1 = mem_available_kb();
	if (!tap_ok(m0 > 0 && m1 > 0 && m0 - m1 < 24 * 1024,
		    "MemAvailable did not drop by 24 MiB or more (1000 leaked queues: ~76 MiB)"))
		tap_diag("  MemAvailable %ld kB -> %ld kB", m0, m1);
	tap_diag("MemAvailable %ld kB -> %ld kB", m0, m1);

	/* Bound and unbound files that are never mapped. */
	for (fail = 0, i = 0; i < CYCLES; i++) {
		struct lfq_create c = { .size = sizeof(c), .type = LFQ_TYPE_SPSC,
					.slot_size = 4096, .slot_count = 2 };
		int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			fail++;
			continue;
		}
		if ((i & 1) && (ioctl(fd, LFQ_IOC_CREATE, &c) ||
				ioctl(fd, LFQ_IOC_INFO, &info)))
			fail++;
		close(fd);
	}
	rc = lfq_module_refcnt();
	if (!tap_ok(!fail && rc == r0,
		    "%d open/(CREATE)/close cycles without mmap, refcount back",
		    CYCLES))
		tap_diag("  failures %d refcnt %ld baseline %ld", fail, rc, r0);
}

/* Two threads CREATE on the same fresh fd at once. */
struct race {
	pthread_barrier_t bar;
	int fd;
	int err;
	int stop;
};

static int create_on(int fd)
{
	struct lfq_create c = { .size = sizeof(c), .type = LFQ_TYPE_SPSC,
				.slot_size = 64, .slot_count = 1024 };

	return ioctl(fd, LFQ_IOC_CREATE, &c) ? errno : 0;
}

static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (;;) {
		pthread_barrier_wait(&r->bar);
		if (r->stop)
			return NULL;
		r->err = create_on(r->fd);
		pthread_barrier_wait(&r->bar);
	}
}

static uint32_t queue_id(int fd)
{
	struct lfq_info info = { .size = sizeof(info) };

	return ioctl(fd, LFQ_IOC_INFO, &info) ? 0xffffffffu : info.id;
}

static void test_create_race(long r0)
{
	struct race r = { .err = -1 };
	int i, e, odd = 0, fd1, fd2;
	uint32_t base, id1, id2;
	pthread_t t;

	/* The lowest free ids now. */
	fd1 = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	fd2 = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	create_on(fd1);
	create_on(fd2);
	id1 = queue_id(fd1);
	id2 = queue_id(fd2);
	base = id1 < id2 ? id1 : id2;
	close(fd1);
	close(fd2);

	pthread_barrier_init(&r.bar, NULL, 2);
	pthread_create(&t, NULL, race_thread, &r);
	for (i = 0; i < 500; i++) {
		r.fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		pthread_barrier_wait(&r.bar);
		e = create_on(r.fd);
		pthread_barrier_wait(&r.bar);
		if (!((e == 0 && r.err == EBUSY) || (e == EBUSY && r.err == 0)) &&
		    odd++ < 3)
			tap_diag("race %d: errnos %d and %d", i, e, r.err);
		close(r.fd);
	}
	r.stop = 1;
	pthread_barrier_wait(&r.bar);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&r.bar);
	tap_ok(!odd, "500 races of two threads CREATE on one fd: one wins, the other gets EBUSY");

	/* A leaked losing queue would keep one of the two lowest ids. */
	fd1 = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	fd2 = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	create_on(fd1);
	create_on(fd2);
	id1 = queue_id(fd1);
	id2 = queue_id(fd2);
	if (!tap_ok(((id1 == base && id2 == base + 1) ||
		     (id2 == base && id1 == base + 1)) &&
		    lfq_module_refcnt() == r0 + 2,
		    "no losing queue outlived its race (ids %u and %u free again)",
		    base, base + 1))
		tap_diag("  ids now %u and %u", id1, id2);
	close(fd1);
	close(fd2);
}

/* Many live queues at once are distinct. */
static void test_many(long r0)
{
	enum { NQ = 256 };
	static struct rawq q[NQ];
	static uint32_t ids[NQ];
	int i, j, n = 0, bad = 0, dup = 0;
	long rc;

	for (i = 0; i < NQ; i++) {
		if (raw_create(&q[i], 8, 512))
			break;
		ids[i] = q[i].info.id;
		raw_push(&q[i], 0xabc00000ull + (uint64_t)i);
		n++;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			dup += ids[i] == ids[j];
		bad += raw_pop(&q[i], 0xabc00000ull + (uint64_t)i) != 0;
	}
	rc = lfq_module_refcnt();
	if (!tap_ok(n == NQ && !dup && !bad && rc == r0 + NQ,
		    "%d queues live at once: distinct ids, no crosstalk, one module ref each",
		    NQ))
		tap_diag("  created %d dup ids %d bad %d refcnt %ld", n, dup,
			 bad, rc);
	for (i = 0; i < n; i++) {
		close(q[i].fd);
		munmap(q[i].base, q[i].info.map_size);
	}
	rc = lfq_module_refcnt();
	if (!tap_ok(rc == r0, "all %d released: refcnt back to baseline", NQ))
		tap_diag("  refcnt %ld, baseline %ld", rc, r0);
}

int main(int argc, char **argv)
{
	long r0;

	if (argc == 3 && !strcmp(argv[1], "--hold"))
		return hold(argv[2]);

	tap_plan(27);
	r0 = lfq_module_refcnt();
	if (!tap_ok(r0 >= 0, "/sys/module/lfq/refcnt readable (baseline %ld)",
		    r0))
		return 1;
	test_close_then_munmap(r0);
	test_munmap_then_close(r0);
	test_cycles(r0);
	test_create_race(r0);
	test_many(r0);
	return tap_done();
}
