// SPDX-License-Identifier: GPL-2.0
/*
 * forged_tail.c - the CVE-2024-41009 class against the real module: a
 * consumer-role file forges its tail (tail = head: "all consumed", over
 * and over) while a producer process holds a reservation it has written
 * but not published, and kernel producers (LFQ_SOURCE_SYNTH: two threads,
 * a hardirq and a softirq hrtimer) lap the ring. No kernel producer may
 * write the held slot (lfq_mpsc_lap_free()): they stop exactly one lap
 * past it, counting drops, and the record stays intact; once it is
 * published they go on. The VM runner fails the run on any splat.
 *
 *   forged_tail [-s SECS]     (how long each phase forges; default 2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define NAME	"t-forged"
#define SLOT	64u
#define SLOTS	64u

struct view {			/* the consumer file's own mapping */
	unsigned char *base;
	size_t len;
	const struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
};

/* Map @fd (a consumer-role file) read-only, its consumer page writable. */
static int map_view(int fd, struct view *v)
{
	struct lfq_info info = { .size = sizeof(info) };
	void *cons;

	if (ioctl(fd, LFQ_IOC_INFO, &info))
		return -errno;
	v->len = info.map_size;
	v->base = mmap(NULL, v->len, PROT_READ, MAP_SHARED, fd, 0);
	if (v->base == MAP_FAILED)
		return -errno;
	cons = mmap(v->base + info.cons_offset, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, fd, (off_t)info.cons_offset);
	if (cons == MAP_FAILED)
		return -errno;
	v->prod = (const void *)(v->base + info.prod_offset);
	v->cons = cons;
	return 0;
}

static uint64_t head_of(const struct view *v)
{
	return __atomic_load_n(&v->prod->head, __ATOMIC_ACQUIRE);
}

/* Forge tail = head for @secs; returns the last head seen. */
static uint64_t forge(struct view *v, double secs)
{
	double end = now_s() + secs;
	uint64_t h = 0;

	while (now_s() < end) {
		h = head_of(v);
		__atomic_store_n(&v->cons->tail, h, __ATOMIC_RELEASE);
		sched_yield();
	}
	return h;
}

static uint64_t dropped(struct lfq *q)
{
	struct lfq_stats st = { 0 };

	lfq_get_stats(q, &st);
	return st.dropped;
}

int main(int argc, char **argv)
{
	LFQ_OPTS(lfq_create_opts, co, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SLOTS, .name = NAME, .mode = 0600,
		 .role = LFQ_ROLE_PRODUCER);
	LFQ_OPTS(lfq_open_opts, oo, .name = NAME, .role = LFQ_ROLE_CONSUMER);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 2, .hardirq_timers = 1,
				.softirq_timers = 1, .thread_period_ns = 20000,
				.timer_period_ns = 50000 };
	unsigned char pattern[SLOT], *held = NULL;
	struct lfq *prod = NULL, *cons = NULL;
	uint64_t h1, h2, h3, d1, d2;
	double secs = 2;
	struct view v;
	void *span;
	int err, id, opt, n;

	while ((opt = getopt(argc, argv, "s:")) != -1)
		secs = atof(optarg);
	tap_plan(8);

	lfq_unlink(NAME);
	err = lfq_create(&co, &prod);
	if (!err)
		err = lfq_open(&oo, &cons);
	if (!err)
		err = map_view(lfq_fd(cons), &v);
	if (!tap_ok(!err, "MPSC queue of %u slots: a producer file, a consumer "
		    "file mapping its consumer page writable", SLOTS)) {
		tap_diag("setup: %s", strerror(-err));
		return tap_done();
	}

	/* A record written but not published, in slot 0 (index 0). */
	n = lfq_reserve(prod, 1, &span);
	if (n == 1)
		held = span;
	memset(pattern, 0xa5, sizeof(pattern));
	if (held)
		memcpy(held, pattern, sizeof(pattern));
	if (!tap_ok(n == 1 && head_of(&v) == 1,
		    "a producer holds index 0, written and not published"))
		tap_diag("  lfq_reserve: %d (%s), head %llu", n,
			 n < 0 ? ename(-n) : "ok",
			 (unsigned long long)head_of(&v));

	id = lfq_source_attach(prod, &s);
	if (!tap_ok(id >= 0, "SYNTH attached: 2 threads, a hardirq and a "
		    "softirq timer, no end")) {
		tap_diag("attach: %s", strerror(-id));
		return tap_done();
	}

	/* Phase 1: the kernel producers lap up to the held slot, no further. */
	h1 = forge(&v, secs);
	d1 = dropped(prod);
	h2 = forge(&v, secs / 4);
	tap_ok(h1 == SLOTS && h2 == SLOTS,
	       "forging tail = head for %.1f s: head stops at %llu then %llu "
	       "(one lap past the held index: %u)", secs,
	       (unsigned long long)h1, (unsigned long long)h2, SLOTS);
	tap_ok(held && !memcmp(held, pattern, sizeof(pattern)),
	       "the held record is intact");
	tap_ok(d1 > 0, "the kernel producers' refusals are counted: %llu "
	       "dropped", (unsigned long long)d1);

	/* Phase 2: published, the slot is free and the lapping goes on. */
	lfq_commit(prod, 1);
	h3 = forge(&v, secs);
	d2 = dropped(prod);
	tap_ok(h3 > 4ull * SLOTS,
	       "published: the kernel producers go on lapping (head %llu)",
	       (unsigned long long)h3);

	err = lfq_source_detach(prod, id);
	tap_ok(!err && d2 >= d1, "SYNTH detached (%s); dropped %llu, then %llu",
	       strerror(-err), (unsigned long long)d1,
	       (unsigned long long)d2);
	munmap(v.base, v.len);
	lfq_close(cons);
	lfq_close(prod);
	lfq_unlink(NAME);
	return tap_done();
}
