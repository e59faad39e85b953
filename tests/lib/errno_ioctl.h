/* SPDX-License-Identifier: GPL-2.0 */
/*
 * errno_ioctl.h - what the ioctl_errno* programs share: raw /dev/lfq
 * ioctls that return the errno they failed with (no liblfq: they test the
 * kernel ABI), argument structs built field by field (so a test can then
 * break one field), one-shot calls on a fresh file, and guard pages for
 * bad pointers. Header-only, static: each program takes what it uses.
 */
#ifndef LFQ_ERRNO_IOCTL_H
#define LFQ_ERRNO_IOCTL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq.h"
#include "tap.h"
#include "test_util.h"

#define PG 4096

/* ioctl() with a pointer argument: 0 or the errno it failed with. */
static inline int io(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* ioctl() with a value argument: 0 or the errno it failed with. */
static inline int io_val(int fd, unsigned long cmd, unsigned long arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* Two pages: the first read-write (zeroed), the second PROT_NONE. */
static inline unsigned char *guard_pages(void)
{
	unsigned char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + PG, PG, PROT_NONE)) {
		tap_diag("guard pages: %s", strerror(errno));
		exit(1);
	}
	memset(p, 0, PG);
	return p;
}

/* An anonymous SPSC CREATE argument of @slot_size x @slot_count. */
static inline struct lfq_create geo(uint32_t slot_size, uint32_t slot_count)
{
	return (struct lfq_create){
		.size = sizeof(struct lfq_create),
		.type = LFQ_TYPE_SPSC,
		.slot_size = slot_size,
		.slot_count = slot_count,
	};
}

/* Copy @name zero-padded into a name array, unchecked (may fill it all). */
static inline void set_name(char dst[LFQ_NAME_MAX], const char *name)
{
	memset(dst, 0, LFQ_NAME_MAX);
	memcpy(dst, name, strnlen(name, LFQ_NAME_MAX));
}

/* A named CREATE argument: SPSC 64x1024, @name, @mode. */
static inline struct lfq_create geo_named(const char *name, uint32_t mode)
{
	struct lfq_create c = geo(64, 1024);

	set_name(c.name, name);
	c.mode = mode;
	return c;
}

/* An OPEN argument for @name with @role. */
static inline struct lfq_open open_arg(const char *name, uint32_t role)
{
	struct lfq_open o = { .size = sizeof(o), .role = role };

	set_name(o.name, name);
	return o;
}

/* An UNLINK argument for @name. */
static inline struct lfq_unlink unlink_arg(const char *name)
{
	struct lfq_unlink u = { .size = sizeof(u) };

	set_name(u.name, name);
	return u;
}

/* @cmd with @arg on a fresh unbound file, then closed: the errno. */
static inline int try_fresh(unsigned long cmd, void *arg)
{
	int fd = open_lfq();
	int err = io(fd, cmd, arg);

	close(fd);
	return err;
}

/* A CREATE on a fresh unbound file; the errno (0: it bound, then closed). */
static inline int try_create(const struct lfq_create *c)
{
	return try_fresh(LFQ_IOC_CREATE, (void *)c);
}

/* LFQ_IOC_OPEN on a fresh file: the errno. */
static inline int try_open(const struct lfq_open *o)
{
	return try_fresh(LFQ_IOC_OPEN, (void *)o);
}

/* LFQ_IOC_UNLINK of @name on a fresh file: the errno. */
static inline int try_unlink(const char *name)
{
	struct lfq_unlink u = unlink_arg(name);

	return try_fresh(LFQ_IOC_UNLINK, &u);
}

/* LFQ_IOC_LIST on a fresh file: the errno. */
static inline int try_list(struct lfq_list *l)
{
	return try_fresh(LFQ_IOC_LIST, l);
}

#endif /* LFQ_ERRNO_IOCTL_H */
