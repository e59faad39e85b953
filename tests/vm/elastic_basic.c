// SPDX-License-Identifier: MIT
/*
 * elastic_basic.c - the behaviour of an elastic queue on /dev/lfq, as one
 * process sees it:
 *   - creation: the geometry's errnos (LFQ_CREATE_ELASTIC with seg_min and
 *     seg_max), and INFO reporting the segment layout;
 *   - growth: records fill segment after segment and come out once, in
 *     order, for SPSC and MPSC; the counters say grows and shrinks;
 *   - the maximum: at seg_max segments a push is -EAGAIN, and after a
 *     drain the queue takes records again within a grace period or two;
 *   - a consumer asleep on the segment it drained keeps it (seg-cons);
 *   - the mapping: the segment table is read-only, a producer may write
 *     the head words and frames, a consumer only the tail words; a frame
 *     without a segment reads as zeros and is SIGBUS to write;
 *   - a retired, pooled segment still reads in its frame (no SIGBUS for a
 *     descheduled producer);
 *   - LFQ_IOC_GROW's errnos;
 *   - memory: after a drain and the idle period (seg_idle_ms), the queue
 *     holds seg_min segments again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq_ring.h"
#include "test_util.h"

#define SLOT	64
#define SEG	64		/* slots per segment: 4 KiB */

static struct lfq *elastic(uint32_t type, uint32_t seg_min, uint32_t seg_max)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = SLOT,
		 .slot_count = SEG, .flags = LFQ_CREATE_ELASTIC,
		 .seg_min = seg_min, .seg_max = seg_max);

	return queue_or_exit(&o);
}

static int try_create(uint32_t flags, uint32_t slot_count, uint32_t seg_min,
		      uint32_t seg_max)
{
	struct lfq_create c = {
		.size = sizeof(c), .type = LFQ_TYPE_MPSC, .flags = flags,
		.slot_size = SLOT, .slot_count = slot_count,
		.seg_min = seg_min, .seg_max = seg_max,
	};
	int fd = open_lfq(), err;

	err = ioctl(fd, LFQ_IOC_CREATE, &c) ? errno : 0;
	close(fd);
	return err;
}

static void test_create(void)
{
	expect(try_create(LFQ_CREATE_ELASTIC, SEG, 0, 4), EINVAL,
	       "elastic, seg_min 0");
	expect(try_create(LFQ_CREATE_ELASTIC, SEG, 5, 4), EINVAL,
	       "elastic, seg_min > seg_max");
	expect(try_create(LFQ_CREATE_ELASTIC, SEG, 1, LFQ_SEGS_MAX + 1),
	       EINVAL, "elastic, seg_max LFQ_SEGS_MAX + 1");
	expect(try_create(LFQ_CREATE_ELASTIC, 1u << 16, 1, 1024), EINVAL,
	       "elastic, 1024 segments of 4 MiB (> LFQ_ELASTIC_BYTES_MAX)");
	expect(try_create(0, SEG, 1, 4), EINVAL, "fixed queue with seg_min");
	expect(try_create(0, SEG, 0, 4), EINVAL, "fixed queue with seg_max");
	/* A sealed segment never reopens: one alone would be stuck. */
	expect(try_create(LFQ_CREATE_ELASTIC, SEG, 1, 1), EINVAL,
	       "elastic, one segment at most");
	expect(try_create(LFQ_CREATE_ELASTIC, SEG, 2, 2), 0,
	       "elastic, two segments at most");
	expect(try_create(LFQ_CREATE_ELASTIC, SEG, 4, LFQ_SEGS_MAX), 0,
	       "elastic, %u segments at most", LFQ_SEGS_MAX);
}

static void test_info(void)
{
	struct lfq *q = elastic(LFQ_TYPE_MPSC, 2, 16);
	struct lfq_info info = { .size = sizeof(info) };
	int ok;

	ok = !ioctl(lfq_fd(q), LFQ_IOC_INFO, &info);
	tap_ok(ok && info.size == LFQ_INFO_SIZE_VER3 && info.seg_min == 2 &&
	       info.seg_max == 16 && info.frame_size == 4096 + 2 * 4096 &&
	       info.frames_offset + 16 * info.frame_size == info.map_size &&
	       info.segtab_offset && info.heads_offset > info.segtab_offset &&
	       info.tails_offset > info.heads_offset &&
	       info.frames_offset > info.tails_offset,
	       "INFO: seg_min %u seg_max %u, frames at %llu of %llu bytes",
	       info.seg_min, info.seg_max,
	       (unsigned long long)info.frames_offset,
	       (unsigned long long)info.frame_size);
	lfq_close(q);
}

/* Push @n sequenced records, pop them all: 0 if every one came in order. */
static int fill_and_drain(struct lfq *q, uint64_t n)
{
	uint64_t m[SLOT / 8] = { 0 }, i, bad = 0;

	for (i = 0; i < n; i++) {
		m[0] = i;
		if (lfq_push(q, m, sizeof(m)))
			return -1;
	}
	for (i = 0; i < n; i++) {
		if (lfq_pop(q, m, sizeof(m)))
			return -2;
		bad += m[0] != i;
	}
	return bad || lfq_pop(q, m, sizeof(m)) != -EAGAIN ? -3 : 0;
}

static void test_growth(uint32_t type, const char *name)
{
	struct lfq *q = elastic(type, 1, 32);
	struct lfq_stats st = { .size = sizeof(st) };
	int err = fill_and_drain(q, 20 * SEG);

	lfq_get_stats(q, &st);
	tap_ok(!err && st.size == LFQ_STATS_SIZE_VER6 && st.grows == 19 &&
	       st.segments_peak == 20 && st.produced == 20 * SEG &&
	       st.consumed == 20 * SEG,
	       "%s: 20 segments' worth, in order (err %d), %llu grows, peak %llu",
	       name, err, (unsigned long long)st.grows,
	       (unsigned long long)st.segments_peak);
	/* Again, after the first pass: segments reused. */
	err = fill_and_drain(q, 20 * SEG);
	lfq_get_stats(q, &st);
	tap_ok(!err && st.grows == 38,
	       "%s: again through reused segments (err %d, %llu grows, %llu shrinks)",
	       name, err, (unsigned long long)st.grows,
	       (unsigned long long)st.shrinks);
	lfq_close(q);
}

/*
 * At seg_max a push fails; once drained, the producer's LFQ_IOC_GROW
 * retires what the consumer left and waits out the grace period, so the
 * queue takes records again within a grace period or two, not the idle
 * work's period (seg_idle_ms / 2, 500 ms by default).
 */
static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, sig);
}

static void test_max(uint32_t type, const char *name)
{
	struct lfq *q = elastic(type, 1, 3);
	uint64_t m[SLOT / 8] = { 0 }, n = 0, t0;
	int err, i;

	while (!(err = lfq_push(q, m, sizeof(m))))
		n++;
	tap_ok(err == -EAGAIN && n == 3 * SEG,
	       "%s at seg_max: %llu records fit, then -EAGAIN (%s)", name,
	       (unsigned long long)n, ename(-err));
	while (!lfq_pop(q, m, sizeof(m)))
		;
	t0 = now_ns();
	for (i = 0; i < 3000 && (err = lfq_push(q, m, sizeof(m))); i++)
		msleep(1);
	t0 = (now_ns() - t0) / 1000000;
	tap_ok(!err && t0 < 400,
	       "%s drained: a push fits again in %llu ms (< 400)", name,
	       (unsigned long long)t0);
	lfq_close(q);
}

/*
 * A consumer that read a sealed segment to its end, then slept through
 * the reclaim (and the frame's reuse by producers) before its next pop:
 * the kernel keeps the segment it names in its control page (ORDERING
 * seg-cons), so it moves on, no SIGBUS, no record lost or foreign.
 */
static void test_idle_consumer(uint32_t type, const char *name)
{
	struct lfq *q = elastic(type, 1, 8);
	struct sigaction sa = { .sa_handler = on_fault }, o1, o2;
	volatile uint64_t next = 64, bad = 0;
	uint64_t m[SLOT / 8] = { 0 }, i;
	int sig;

	for (i = 0; i < 100; i++) {
		m[0] = i;
		lfq_push(q, m, sizeof(m));
	}
	for (i = 0; i < 64; i++)
		lfq_pop(q, m, sizeof(m));
	msleep(1500);		/* > seg_idle_ms: the reclaim ran */
	for (i = 100; i < 300; i++) {
		m[0] = i;
		lfq_push(q, m, sizeof(m));
	}
	sigaction(SIGBUS, &sa, &o1);
	sigaction(SIGSEGV, &sa, &o2);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig) {
		while (!lfq_pop(q, m, sizeof(m)))
			bad += m[0] != next++;
	}
	sigaction(SIGBUS, &o1, NULL);
	sigaction(SIGSEGV, &o2, NULL);
	tap_ok(!sig && !bad && next == 300,
	       "%s consumer asleep on a drained segment: resumes at 64, reads to %llu in order (signal %d, %llu out of order)",
	       name, (unsigned long long)next, sig,
	       (unsigned long long)bad);
	if (!sig)
		lfq_close(q);
}

/*
 * Touch @p: 0, or the signal it raised; SIGALRM if it did not complete
 * in 5 s (a fault that returns without a usable page table entry is
 * taken again for ever).
 */
static int touch(volatile unsigned char *p, int write)
{
	struct sigaction sa = { .sa_handler = on_fault }, o1, o2, o3;
	int sig;

	sigaction(SIGBUS, &sa, &o1);
	sigaction(SIGSEGV, &sa, &o2);
	sigaction(SIGALRM, &sa, &o3);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig) {
		alarm(5);
		if (write)
			*p = *p;
		else
			(void)*p;
	}
	alarm(0);
	sigaction(SIGBUS, &o1, NULL);
	sigaction(SIGSEGV, &o2, NULL);
	sigaction(SIGALRM, &o3, NULL);
	return sig;
}

static void test_mapping(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SEG, .flags = LFQ_CREATE_ELASTIC, .seg_min = 1,
		 .seg_max = 4, .name = "t-elastic-map", .mode = 0600,
		 .role = LFQ_ROLE_PRODUCER);
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq *prod = NULL;
	unsigned char *m, *w, *f3;
	int fd, c;
	void *p;

	if (!tap_ok(!lfq_create(&o, &prod), "named elastic queue t-elastic-map"))
		return;
	/* A consumer file: segtab read-only, heads not writable, tails are. */
	c = open_lfq();
	{
		struct lfq_open op = { .size = sizeof(op),
				       .role = LFQ_ROLE_CONSUMER };

		strcpy(op.name, "t-elastic-map");
		fd = ioctl(c, LFQ_IOC_OPEN, &op);
	}
	ioctl(c, LFQ_IOC_INFO, &info);
	p = mmap(NULL, info.heads_offset - info.segtab_offset,
		 PROT_READ | PROT_WRITE, MAP_SHARED, c,
		 (off_t)info.segtab_offset);
	tap_ok(!fd && p == MAP_FAILED && errno == EPERM,
	       "the segment table cannot be mapped writable (EPERM)");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, c,
		 (off_t)info.heads_offset);
	tap_ok(p == MAP_FAILED && errno == EPERM,
	       "a consumer cannot map the head words writable (EPERM)");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, c,
		 (off_t)info.tails_offset);
	tap_ok(p != MAP_FAILED, "a consumer maps the tail words writable");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	/*
	 * Frame 0 is live, frame 3 holds no segment: it reads as zeros (a
	 * producer descheduled in a segment retired meanwhile must not
	 * fault), and a write is SIGBUS, first touch or after a read.
	 */
	m = mmap(NULL, info.map_size, PROT_READ, MAP_SHARED, c, 0);
	w = mmap(NULL, info.frame_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 lfq_fd(prod),
		 (off_t)(info.frames_offset + 3 * info.frame_size));
	f3 = m + info.frames_offset + 3 * info.frame_size;
	tap_ok(m != MAP_FAILED && w != MAP_FAILED &&
	       !touch(m + info.frames_offset, 0) && !touch(f3, 0) &&
	       !f3[0] && !f3[info.frame_size - 1] && !touch(w, 0) &&
	       touch(w, 1) == SIGBUS &&
	       touch(w + info.frame_size - 1, 1) == SIGBUS && !w[0],
	       "a live frame reads; a frame without a segment reads zeros, and is SIGBUS to write (after a read, and first)");
	if (m != MAP_FAILED)
		munmap(m, info.map_size);
	if (w != MAP_FAILED)
		munmap(w, info.frame_size);
	/*
	 * Mapped PROT_WRITE alone (which x86 reads too), a frame without a
	 * segment still reads zeros: the zero page is mapped readable, not
	 * PAGE_NONE (which kernels without NUMA balancing fault on for ever).
	 */
	w = mmap(NULL, info.frame_size, PROT_WRITE, MAP_SHARED, lfq_fd(prod),
		 (off_t)(info.frames_offset + 3 * info.frame_size));
	tap_ok(w != MAP_FAILED && !touch(w, 0) && !touch(w + 100, 0) &&
	       touch(w, 1) == SIGBUS,
	       "mapped PROT_WRITE only, a frame without a segment reads (no endless fault) and is SIGBUS to write");
	if (w != MAP_FAILED)
		munmap(w, info.frame_size);
	close(c);
	lfq_close(prod);
	lfq_unlink("t-elastic-map");
}

/*
 * A process producer has no RCU read-side section the kernel waits for: one
 * descheduled between reading a segment's head word and its commit words
 * may find the segment retired meanwhile. It must read this queue's own
 * words there (its compare-and-swap then fails), not fault: a retired,
 * pooled segment keeps its pages in its frame.
 */
static void test_stale_frame(uint32_t type, const char *name)
{
	struct lfq *q = elastic(type, 1, 4);
	const struct lfq_seg_meta *meta;
	struct lfq_info info = { .size = sizeof(info) };
	unsigned char *m = MAP_FAILED;
	uint32_t state = LFQ_SEG_LIVE;
	int i, sig = -1, got = 0;
	uint64_t v;

	for (i = 0; i < (int)SEG + 8; i++) {
		v = (uint64_t)i;
		got += !lfq_push(q, &v, sizeof(v));
	}
	for (i = 0; i < (int)SEG + 8; i++)
		got += !lfq_pop(q, &v, sizeof(v));
	if (!ioctl(lfq_fd(q), LFQ_IOC_INFO, &info))
		m = mmap(NULL, info.map_size, PROT_READ, MAP_SHARED, lfq_fd(q),
			 0);
	if (m != MAP_FAILED) {
		meta = (const void *)(m + info.segtab_offset +
				      sizeof(struct lfq_segtab));
		/* Frame 0, drained and left, retires within seg_idle_ms. */
		for (i = 0; i < 300; i++) {
			state = __atomic_load_n(&meta[0].state,
						__ATOMIC_ACQUIRE);
			if (state == LFQ_SEG_FREE)
				break;
			msleep(10);
		}
		sig = touch(m + info.frames_offset + info.frame_size - 1, 0);
		munmap(m, info.map_size);
	}
	tap_ok(got == 2 * ((int)SEG + 8) && state == LFQ_SEG_FREE && !sig,
	       "%s: a segment retired and pooled (frame 0 FREE: %u) still reads in its frame, no SIGBUS (%d)",
	       name, state == LFQ_SEG_FREE, sig);
	lfq_close(q);
}

static void test_grow_errno(void)
{
	struct lfq *q = elastic(LFQ_TYPE_MPSC, 1, 2);
	struct lfq *f = spsc_queue_or_exit(SLOT, SEG);
	int fd = lfq_fd(q);

	expect(ioctl(lfq_fd(f), LFQ_IOC_GROW, 0ul) ? errno : 0, EINVAL,
	       "GROW on a fixed queue");
	expect(ioctl(fd, LFQ_IOC_GROW, 2ul) ? errno : 0, EINVAL,
	       "GROW of frame 2 of 2");
	expect(ioctl(fd, LFQ_IOC_GROW, 1ul << 32) ? errno : 0, EINVAL,
	       "GROW of frame 2^32");
	/* Frame 0 is live and not full: the producer goes on there. */
	tap_ok(ioctl(fd, LFQ_IOC_GROW, 0ul) == 0,
	       "GROW of a segment that is not full: go on in it (frame 0)");
	lfq_close(f);
	lfq_close(q);
}

static void test_shrink(void)
{
	struct lfq *q = elastic(LFQ_TYPE_MPSC, 2, 32);
	struct lfq_stats a = { .size = sizeof(a) }, b = a, c = a;
	uint64_t m[SLOT / 8] = { 0 };
	int i;

	lfq_get_stats(q, &a);
	for (i = 0; i < 25 * SEG; i++)
		lfq_push(q, m, sizeof(m));
	lfq_get_stats(q, &b);
	while (!lfq_pop(q, m, sizeof(m)))
		;
	/* The reclaim runs at least every seg_idle_ms / 2 (default 1 s). */
	for (i = 0; i < 100; i++) {
		msleep(100);
		lfq_get_stats(q, &c);
		if (c.bytes == a.bytes && c.segments == 1)
			break;
	}
	tap_ok(b.segments == 25 && b.bytes > a.bytes && c.bytes == a.bytes &&
	       c.segments == 1 && c.pool == 1,
	       "memory: %llu bytes, %llu in a burst of %llu segments, %llu after drain and %d ms idle",
	       (unsigned long long)a.bytes, (unsigned long long)b.bytes,
	       (unsigned long long)b.segments, (unsigned long long)c.bytes,
	       i * 100);
	lfq_close(q);
}

int main(void)
{
	tap_plan(9 + 1 + 4 + 4 + 2 + 5 + 2 + 5 + 1);
	test_create();
	test_info();
	test_growth(LFQ_TYPE_SPSC, "SPSC");
	test_growth(LFQ_TYPE_MPSC, "MPSC");
	test_max(LFQ_TYPE_SPSC, "SPSC");
	test_max(LFQ_TYPE_MPSC, "MPSC");
	test_idle_consumer(LFQ_TYPE_SPSC, "SPSC");
	test_idle_consumer(LFQ_TYPE_MPSC, "MPSC");
	test_mapping();
	test_stale_frame(LFQ_TYPE_SPSC, "SPSC");
	test_stale_frame(LFQ_TYPE_MPSC, "MPSC");
	test_grow_errno();
	test_shrink();
	return tap_done();
}
