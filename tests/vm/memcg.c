// SPDX-License-Identifier: GPL-2.0
/*
 * memcg.c - a queue's pages are charged to the memory cgroup of the
 * process that creates it (GFP_KERNEL_ACCOUNT in kmod/lfq_queue.c) and
 * uncharged when the queue is freed (after the last close and munmap, one
 * RCU grace period later). Runs as root in the test VM: mounts cgroup2 if
 * needed and moves itself into a fresh child group.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lfq.h"
#include "tap.h"
#include "test_util.h"

#define CG	"/sys/fs/cgroup"
#define GRP	CG "/lfq-memcg"
#define MIB	(1024ll * 1024)
#define QBYTES	(32 * MIB)

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -errno;
}

static long long memory_current(void)
{
	FILE *f = fopen(GRP "/memory.current", "r");
	long long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Wait up to 5 s for the charge to drop back below @limit. */
static long long settle_below(long long limit)
{
	long long m = memory_current();
	int i;

	for (i = 0; i < 100 && m >= limit; i++) {
		msleep(50);
		m = memory_current();
	}
	return m;
}

static int create(void)
{
	struct lfq_create c = { .size = sizeof(c), .type = LFQ_TYPE_SPSC,
				.slot_size = 4096,
				.slot_count = QBYTES / 4096 };
	int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, LFQ_IOC_CREATE, &c)) {
		tap_diag("create: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int setup(void)
{
	char pid[32];
	int err;

	if (access(CG "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CG, "cgroup2", 0, NULL)) {
		tap_diag("mount cgroup2: %s", strerror(errno));
		return -1;
	}
	err = write_str(CG "/cgroup.subtree_control", "+memory");
	if (err) {
		tap_diag("enable the memory controller: %s", strerror(-err));
		return -1;
	}
	if (mkdir(GRP, 0755) && errno != EEXIST) {
		tap_diag("mkdir %s: %s", GRP, strerror(errno));
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	err = write_str(GRP "/cgroup.procs", pid);
	if (err) {
		tap_diag("join %s: %s", GRP, strerror(-err));
		return -1;
	}
	return 0;
}

int main(void)
{
	long long m0, m1, m2;
	char pid[32];
	void *p;
	int fd;

	tap_plan(4);
	if (setup()) {
		tap_skip("no memory cgroup: charge of a queue");
		tap_skip("no memory cgroup: uncharge after close");
		tap_skip("no memory cgroup: charge of a mapped queue");
		tap_skip("no memory cgroup: uncharge after close and munmap");
		return 0;
	}

	m0 = memory_current();
	fd = create();
	m1 = memory_current();
	if (!tap_ok(fd >= 0 && m0 >= 0 && m1 - m0 >= QBYTES,
		    "a 32 MiB queue is charged to the creator's memory cgroup"))
		tap_diag("  memory.current %lld -> %lld", m0, m1);
	tap_diag("memory.current %lld -> %lld (+%lld KiB)", m0, m1,
		 (m1 - m0) / 1024);
	if (fd >= 0)
		close(fd);
	m2 = settle_below(m0 + 2 * MIB);
	if (!tap_ok(m2 < m0 + 2 * MIB, "closing it uncharges it"))
		tap_diag("  memory.current %lld (baseline %lld)", m2, m0);

	m0 = memory_current();
	fd = create();
	p = MAP_FAILED;
	if (fd >= 0) {
		p = mmap(NULL, 3 * 4096 + 2 * QBYTES, PROT_READ, MAP_SHARED,
			 fd, 0);
		close(fd);
	}
	m1 = memory_current();
	if (!tap_ok(p != MAP_FAILED && m1 - m0 >= QBYTES,
		    "a mapped queue (fd closed) stays charged"))
		tap_diag("  mmap %s memory.current %lld -> %lld",
			 p == MAP_FAILED ? strerror(errno) : "ok", m0, m1);
	if (p != MAP_FAILED)
		munmap(p, 3 * 4096 + 2 * QBYTES);
	m2 = settle_below(m0 + 2 * MIB);
	if (!tap_ok(m2 < m0 + 2 * MIB, "munmap of the last mapping uncharges it"))
		tap_diag("  memory.current %lld (baseline %lld)", m2, m0);

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	write_str(CG "/cgroup.procs", pid);
	rmdir(GRP);
	return tap_done();
}
