/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_fds.h - tests/vm/fuzz.c's file table: the NFD fd slots a process's
 * threads share, filled at the start (setup_fds(): unbound files,
 * anonymous and named queues, fixed and elastic) and churned during the
 * run by open, close (then a fresh file, mostly bound by CREATE or OPEN,
 * of a fixed or an elastic queue), dup and dup2;
 * pick_fd() for the other operations (a slot, -1, or an fd not open);
 * and poll on random fds with random events. Static, for fuzz.c alone.
 */
#ifndef LFQ_FUZZ_FDS_H
#define LFQ_FUZZ_FDS_H

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>

#include "fuzz_state.h"

static int pick_fd(void)
{
	switch (below(20)) {
	case 0:
		return -1;
	case 1:
		return 1000 + below(100);	/* not open */
	default:
		return __atomic_load_n(&fds[below(NFD)], __ATOMIC_RELAXED);
	}
}

/* Put @fd in slot @i and close what was there. */
static void replace_fd(int i, int fd)
{
	int old = __atomic_exchange_n(&fds[i], fd, __ATOMIC_RELAXED);

	if (old >= 3)
		check("close", old, close(old), fd_errs);
}

static void op_open(void)
{
	int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	check("open", 0, fd, open_errs);
	if (fd >= 3)
		replace_fd(below(NFD), fd);
}

static void op_close(void)
{
	int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	/* Keep the slot filled: close what is there, put a fresh file, and
	 * mostly bind it: a new queue, or a pool name (OPEN).
	 */
	check("open", 0, fd, open_errs);
	if (fd >= 3 && chance(70)) {
		struct lfq_create c = {
			.size = sizeof(c), .type = 1 + below(2),
			.slot_size = 8u << below(4), .slot_count = 2u << below(7),
			.role = below(4),
		};
		struct lfq_open o = {
			.size = sizeof(o), .role = 1 + below(3),
		};

		if (chance(30)) {
			/* Elastic: 4 KiB segments, 1-2 of them, up to 16. */
			c.flags = LFQ_CREATE_ELASTIC;
			c.slot_count = 4096 / c.slot_size;
			c.seg_min = 1 + below(2);
			c.seg_max = c.seg_min + 1 + below(14);
			if (chance(30)) {
				/* Elastic records: 4 KiB segments of bytes. */
				c.flags |= LFQ_CREATE_RECORDS;
				c.slot_size = 1;
				c.slot_count = 4096;
			}
		} else if (chance(30)) {
			/* Records: a ring of 4 to 32 KiB. */
			c.flags = LFQ_CREATE_RECORDS;
			c.slot_size = 1;
			c.slot_count = 4096u << below(4);
		}
		if (chance(50)) {
			if (chance(30))
				snprintf(c.name, sizeof(c.name), "%s",
					 name_pool[below(NAMES)]);
			check("create", 0, ioctl(fd, LFQ_IOC_CREATE, &c),
			      ioctl_errs);
		} else {
			snprintf(o.name, sizeof(o.name), "%s",
				 name_pool[below(NAMES)]);
			check("open", 0, ioctl(fd, LFQ_IOC_OPEN, &o),
			      ioctl_errs);
		}
	}
	replace_fd(below(NFD), fd >= 3 ? fd : -1);
}

static void op_dup(void)
{
	int i = below(NFD), j = below(NFD);
	int src = __atomic_load_n(&fds[i], __ATOMIC_RELAXED);
	int dst = __atomic_load_n(&fds[j], __ATOMIC_RELAXED);
	int fd;

	if (chance(50) || dst < 3 || src < 3) {
		fd = dup(src);
		check("dup", src, fd, fd_errs);
		if (fd >= 3)
			replace_fd(j, fd);
	} else {
		/* dup2 onto a slot's fd: only ever over our own files */
		check("dup2", src, dup2(src, dst), dup2_errs);
	}
}

static void op_poll(void)
{
	struct pollfd p[4];
	int n = 1 + below(4), i;

	for (i = 0; i < n; i++) {
		p[i].fd = pick_fd();
		p[i].events = chance(70) ? (short)(POLLIN | POLLOUT) : (short)rnd();
		p[i].revents = 0;
	}
	check("poll", n, poll(p, n, chance(50) ? 0 : (int)below(3)),
	      poll_errs);
}

/* Fill the fd slots: unbound files, anonymous queues, named ones. */
static void setup_fds(uint64_t seed)
{
	struct th t0 = { .rng = seed };
	int i;

	cur = &t0;
	for (i = 0; i < NFD; i++) {
		int fd = open_lfq();

		if (i % 3) {
			struct lfq_create c = {
				.size = sizeof(c),
				.type = i % 2 ? LFQ_TYPE_MPSC : LFQ_TYPE_SPSC,
				.slot_size = 64, .slot_count = 64,
				.role = i % 4 == 1 ? LFQ_ROLE_PRODUCER : 0,
			};

			/*
			 * Two elastic: an anonymous SPSC, a named MPSC of
			 * records.
			 */
			if (i == 4 || i == 7) {
				c.flags = LFQ_CREATE_ELASTIC;
				c.seg_min = 1 + i % 2;
				c.seg_max = 8;
			}
			if (i == 7) {
				c.flags |= LFQ_CREATE_RECORDS;
				c.slot_size = 1;
				c.slot_count = 8192;
			}
			/* Two record queues: an anonymous MPSC, a named SPSC. */
			if (i == 5 || i == 2) {
				c.flags = LFQ_CREATE_RECORDS;
				c.slot_size = 1;
				c.slot_count = 8192;
			}

			if (i < NAMES * 2 && i % 2)
				snprintf(c.name, sizeof(c.name), "%s",
					 name_pool[i / 2]);
			if (ioctl(fd, LFQ_IOC_CREATE, &c))
				tap_diag("setup create %d: %s", i, strerror(errno));
		}
		fds[i] = fd;
	}
	cur = NULL;
}

#endif /* LFQ_FUZZ_FDS_H */
