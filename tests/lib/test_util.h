/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - small helpers the test programs share (clock, sleep,
 * errno names, opening /dev/lfq, making queues, raw event-source ioctls,
 * errno expectations as TAP lines).
 * Header-only, static inline: each program takes what it uses.
 */
#ifndef LFQ_TEST_UTIL_H
#define LFQ_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline double now_s(void)
{
	return now_ns() / 1e9;
}

/* Sleep @ms milliseconds, through signals. */
static inline void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* "EINVAL" for EINVAL, "0" for 0. */
static inline const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "?";
}

/* The lfq module's reference count (/sys/module/lfq/refcnt), or -1. */
static inline int lfq_module_refcnt(void)
{
	FILE *f = fopen("/sys/module/lfq/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* A fresh, unbound /dev/lfq file; exits the test program if it can't. */
static inline int open_lfq(void)
{
	int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		tap_diag("open %s: %s", LFQ_DEVICE_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

/* A queue made by @o; exits the test program if it can't be made. */
static inline struct lfq *queue_or_exit(const struct lfq_create_opts *o)
{
	struct lfq *q = NULL;
	int err = lfq_create(o, &q);

	if (err) {
		tap_diag("lfq_create(type %u, %ux%u, backend %u): %d (%s)",
			 o->type, o->slot_size, o->slot_count, o->backend, err,
			 strerror(-err));
		exit(1);
	}
	return q;
}

/* A /dev/lfq SPSC queue; exits the test program if it can't be made. */
static inline struct lfq *spsc_queue_or_exit(uint32_t slot_size,
					     uint32_t slot_count)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC,
		 .slot_size = slot_size, .slot_count = slot_count);

	return queue_or_exit(&o);
}

/* A /dev/lfq MPSC queue; exits the test program if it can't be made. */
static inline struct lfq *mpsc_queue_or_exit(uint32_t slot_size,
					     uint32_t slot_count)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = slot_size, .slot_count = slot_count);

	return queue_or_exit(&o);
}

/* A named queue shaped as @o, named @name, of @mode; the creator takes @role. */
static inline int create_named(struct lfq_create_opts o, const char *name,
			       unsigned int mode, unsigned int role,
			       struct lfq **out)
{
	o.name = name;
	o.mode = mode;
	o.role = role;
	return lfq_create(&o, out);
}

/* lfq_open() by name. */
static inline int open_named(const char *name, unsigned int role,
			     struct lfq **out)
{
	LFQ_OPTS(lfq_open_opts, o, .name = name, .role = role);

	return lfq_open(&o, out);
}

/* Wait for child @pid: its wait status, or -1 if it cannot be waited for. */
static inline int child_status(pid_t pid)
{
	int status;

	if (pid <= 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* Wait for child @pid: 0 if it exited with status 0, else -1 (and a diag). */
static inline int child_ok(pid_t pid)
{
	int status = child_status(pid);

	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	tap_diag("  child wait status 0x%x", status);
	return -1;
}

/* Another handle on the queue behind @fd (lfq_open() by fd), or NULL. */
static inline struct lfq *open_fd(int fd)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = fd);
	struct lfq *q = NULL;
	int err = lfq_open(&o, &q);

	if (err)
		tap_diag("lfq_open(fd %d): %d (%s)", fd, err, strerror(-err));
	return err ? NULL : q;
}

/*
 * LFQ_IOC_SOURCE_ATTACH on @fd with @src as given (size included): the
 * source id, or a negative errno. Raw, so tests do not depend on liblfq's
 * wrapper.
 */
static inline int ioc_source_attach(int fd, const struct lfq_source *src)
{
	int r = ioctl(fd, LFQ_IOC_SOURCE_ATTACH, src);

	return r < 0 ? -errno : r;
}

/* LFQ_IOC_CLAIM on @fd: the claim's index, or a negative errno. */
static inline int ioc_claim(int fd, uint32_t flags, uint32_t index)
{
	struct lfq_claim c = { .size = sizeof(c), .flags = flags,
			       .index = index };

	return ioctl(fd, LFQ_IOC_CLAIM, &c) ? -errno : (int)c.index;
}

/* LFQ_IOC_SOURCE_DETACH of source @id on @fd: 0 or a negative errno. */
static inline int ioc_source_detach(int fd, unsigned long id)
{
	return ioctl(fd, LFQ_IOC_SOURCE_DETACH, id) < 0 ? -errno : 0;
}

/*
 * Map the whole layout of the queue bound to /dev/lfq fd @fd, as LFQ_IOC_INFO
 * (into @in) reports it, with @prot (the file's role must allow it): for
 * tests that look at, or scribble on, the shared words themselves.
 * Returns the mapping, or NULL.
 */
static inline unsigned char *mmap_queue(int fd, struct lfq_info *in, int prot)
{
	void *p;

	*in = (struct lfq_info){ .size = sizeof(*in) };
	if (ioctl(fd, LFQ_IOC_INFO, in))
		return NULL;
	p = mmap(NULL, in->map_size, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* One TAP line: errno @got (0: success) must be @want. */
__attribute__((format(printf, 3, 4)))
static inline int expect(int got, int want, const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (!tap_ok(got == want, "%s -> %s", desc, ename(want)))
		tap_diag("  got errno %d (%s), want %d (%s)", got, ename(got),
			 want, ename(want));
	return got == want;
}

/*
 * Set bit @bit of a shared bitmap (a message seen); true if it was set
 * already (seen twice). Relaxed: the count is read after the threads or
 * processes that set bits are joined.
 */
static inline int bit_seen_twice(uint64_t *bits, uint64_t bit)
{
	uint64_t m = 1ull << (bit % 64);

	return !!(__atomic_fetch_or(&bits[bit / 64], m, __ATOMIC_RELAXED) & m);
}

/* A 64-bit mixer (splitmix's finaliser): record contents from an id. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

/* A 64-bit LCG step: reproducible draws (its upper 31 bits). */
static inline uint64_t rnd_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/*
 * Record @id's payload bytes from @from to @len, 8 at a time from
 * mix64(): written (id_fill()), or compared (id_same(): 1 if equal).
 */
static inline void id_fill(uint8_t *b, uint64_t id, uint32_t from,
			   uint32_t len)
{
	for (uint32_t i = from; i < len; i += 8) {
		uint64_t w = mix64(id * 4096 + i / 8);

		memcpy(b + i, &w, len - i < 8 ? len - i : 8);
	}
}

static inline int id_same(const uint8_t *b, uint64_t id, uint32_t from,
			  uint32_t len)
{
	for (uint32_t i = from; i < len; i += 8) {
		uint64_t w = mix64(id * 4096 + i / 8);

		if (memcmp(b + i, &w, len - i < 8 ? len - i : 8))
			return 0;
	}
	return 1;
}

/*
 * A consumer process's loop on @q: peek 1 to 8 records at a time, hand
 * each span to @fn, release it; sleep when @q is empty. Exits the process:
 * 0 once *@stop is set and @q is empty, 3 on an error.
 */
static inline void consume_until_stop(struct lfq *q, const uint64_t *stop,
				      void (*fn)(const void *span, int got,
						 void *arg),
				      void *arg)
{
	uint32_t n = 0;

	for (;;) {
		const void *span;
		int got = lfq_peek(q, n++ % 8 + 1, &span);

		if (got == -EAGAIN) {
			if (__atomic_load_n(stop, __ATOMIC_RELAXED))
				_exit(0);
			lfq_wait_data(q, 1, 20000000);
			continue;
		}
		if (got < 0)
			_exit(3);
		fn(span, got, arg);
		lfq_release(q, (uint32_t)got);
	}
}

#endif /* LFQ_TEST_UTIL_H */
