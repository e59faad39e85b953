// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kunit.c - KUnit suites for lfq.
 *
 * lfq_proto: the shared protocol headers on their own (ring_count clamps,
 * u64 arithmetic, geometry rules, layout, header validation).
 *
 * lfq_queue: the SPSC protocol running on real queues made by
 * lfq_queue_create() (vmap'd, slot area mapped twice), including a hostile
 * peer writing the shared control pages, the wakeup handshake, the queue
 * lifetime and a producer kthread racing the test thread.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/wait.h>

#include "lfq.h"
#include "lfq_layout.h"
#include "lfq_queue.h"
#include "lfq_ring.h"
#include "lfq_spsc.h"

/* ---------------------------------------------------------------------- */
/* lfq_proto: pure protocol functions                                      */
/* ---------------------------------------------------------------------- */

static void lfq_ring_count_healthy_test(struct kunit *test)
{
	const u32 n = 16;
	u32 d;

	for (d = 0; d <= n; d++)
		KUNIT_EXPECT_EQ(test, lfq_ring_count(1000 + d, 1000, n), d);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(0, 0, n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(U64_MAX, U64_MAX, n), 0U);
}

static void lfq_ring_count_clamp_test(struct kunit *test)
{
	const u32 n = 16;
	s64 d;

	/* Every distance outside [0, n] reads as a full ring. */
	for (d = -3 * (s64)n; d <= 3 * (s64)n; d++) {
		u64 tail = 5000;
		u64 head = tail + (u64)d;
		u32 want = (d >= 0 && d <= n) ? (u32)d : n;

		KUNIT_EXPECT_EQ_MSG(test, lfq_ring_count(head, tail, n), want,
				    "distance %lld", d);
	}
	/* Tail ahead of head by one, and by the largest amount. */
	KUNIT_EXPECT_EQ(test, lfq_ring_count(10, 11, n), n);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(0, 2 * n, n), n);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(U64_MAX - n, U64_MAX, n), n);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(U64_MAX, 0, n), n);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(1ULL << 63, 0, n), n);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(0, 1ULL << 63, n), n);
	/* head - tail just above slot_count, and far above it. */
	KUNIT_EXPECT_EQ(test, lfq_ring_count(n + 1, 0, n), n);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(1ULL << 40, 0, n), n);
	/* A distance that truncates to a small u32 must not leak through. */
	KUNIT_EXPECT_EQ(test, lfq_ring_count((1ULL << 32) + 3, 0, n), n);
	/* Largest ring. */
	KUNIT_EXPECT_EQ(test, lfq_ring_count(LFQ_SLOT_COUNT_MAX, 0,
					     LFQ_SLOT_COUNT_MAX),
			LFQ_SLOT_COUNT_MAX);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(LFQ_SLOT_COUNT_MAX + 1ULL, 0,
					     LFQ_SLOT_COUNT_MAX),
			LFQ_SLOT_COUNT_MAX);
}

static void lfq_ring_count_u64_wrap_test(struct kunit *test)
{
	const u32 n = 16;
	u64 tail = U64_MAX - 2;
	u32 d;

	/* head has wrapped past zero, tail has not: still a plain distance. */
	for (d = 0; d <= n; d++)
		KUNIT_EXPECT_EQ(test, lfq_ring_count(tail + d, tail, n), d);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(2, U64_MAX - 2, n), 5U);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(U64_MAX, U64_MAX - 16, n), 16U);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(13, U64_MAX - 2, n), 16U);
	KUNIT_EXPECT_EQ(test, lfq_ring_count(14, U64_MAX - 2, n), n);
	/* Tail wrapped, head did not: tail is ahead, ring reads full. */
	KUNIT_EXPECT_EQ(test, lfq_ring_count(U64_MAX - 1, 1, n), n);
	/* Slot offsets keep masking correctly across the wrap. */
	KUNIT_EXPECT_EQ(test, (U64_MAX & (n - 1)), (u64)(n - 1));
	KUNIT_EXPECT_EQ(test, ((U64_MAX + 1ULL) & (n - 1)), 0ULL);
}

struct lfq_geo_case {
	const char *name;
	u32 type;
	u32 slot_size;
	u32 slot_count;
	u64 page_size;
	int err;
};

static const struct lfq_geo_case lfq_geo_cases[] = {
	{ "smallest", LFQ_TYPE_SPSC, 8, 512, 4096, 0 },
	{ "slot-0", LFQ_TYPE_SPSC, 0, 512, 4096, -EINVAL },
	{ "slot-7", LFQ_TYPE_SPSC, 7, 4096, 4096, -EINVAL },
	{ "slot-8", LFQ_TYPE_SPSC, 8, 1024, 4096, 0 },
	{ "slot-12", LFQ_TYPE_SPSC, 12, 1024, 4096, -EINVAL },
	{ "slot-65536", LFQ_TYPE_SPSC, 65536, 2, 4096, 0 },
	{ "slot-65544", LFQ_TYPE_SPSC, 65544, 512, 4096, -EINVAL },
	{ "slot-u32max", LFQ_TYPE_SPSC, U32_MAX, 2, 4096, -EINVAL },
	{ "count-0", LFQ_TYPE_SPSC, 4096, 0, 4096, -EINVAL },
	{ "count-1", LFQ_TYPE_SPSC, 4096, 1, 4096, -EINVAL },
	{ "count-2", LFQ_TYPE_SPSC, 2048, 2, 4096, 0 },
	{ "count-3", LFQ_TYPE_SPSC, 4096, 3, 4096, -EINVAL },
	{ "count-6", LFQ_TYPE_SPSC, 4096, 6, 4096, -EINVAL },
	{ "count-2^24", LFQ_TYPE_SPSC, 8, 1U << 24, 4096, 0 },
	{ "count-2^25", LFQ_TYPE_SPSC, 8, 1U << 25, 4096, -EINVAL },
	{ "count-u32max", LFQ_TYPE_SPSC, 8, U32_MAX, 4096, -EINVAL },
	{ "bytes-16", LFQ_TYPE_SPSC, 8, 2, 4096, -EINVAL },
	{ "bytes-1.5-pages", LFQ_TYPE_SPSC, 24, 256, 4096, -EINVAL },
	{ "bytes-256MiB", LFQ_TYPE_SPSC, 16, 1U << 24, 4096, 0 },
	{ "bytes-384MiB", LFQ_TYPE_SPSC, 24, 1U << 24, 4096, -EINVAL },
	{ "bytes-512MiB", LFQ_TYPE_SPSC, 65536, 8192, 4096, -EINVAL },
	{ "bytes-max-slots", LFQ_TYPE_SPSC, 65536, 1U << 24, 4096, -EINVAL },
	{ "type-0", 0, 64, 64, 4096, -EINVAL },
	{ "type-mpsc", LFQ_TYPE_MPSC, 64, 64, 4096, 0 },
	{ "type-3", 3, 64, 64, 4096, -EINVAL },
	{ "type-u32max", U32_MAX, 64, 64, 4096, -EINVAL },
	{ "page-0", LFQ_TYPE_SPSC, 8, 512, 0, -EINVAL },
	{ "page-3", LFQ_TYPE_SPSC, 8, 512, 3, -EINVAL },
	{ "page-8192-short", LFQ_TYPE_SPSC, 8, 512, 8192, -EINVAL },
	{ "page-8192", LFQ_TYPE_SPSC, 8, 1024, 8192, 0 },
	{ "page-64k", LFQ_TYPE_SPSC, 64, 1024, 65536, 0 },
};

static void lfq_geo_case_desc(const struct lfq_geo_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(lfq_geo, lfq_geo_cases, lfq_geo_case_desc);

static void lfq_geometry_check_test(struct kunit *test)
{
	const struct lfq_geo_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, lfq_geometry_check(c->type, c->slot_size,
						 c->slot_count, c->page_size),
			c->err);
}

static void lfq_abi_layout_test(struct kunit *test)
{
	/* The uapi structs are ABI: pin every offset a process relies on. */
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, slot_size), 16UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, slot_count), 20UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, prod_offset), 24UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, data_size), 48UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, commit_offset),
			56UL);
	KUNIT_EXPECT_EQ(test, sizeof(struct lfq_ring_hdr), 72UL);
	/* head, need_space and full_events on separate cache lines. */
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_prod_ctl, head), 0UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_prod_ctl, need_space),
			(size_t)LFQ_CACHELINE);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_prod_ctl, full_events),
			(size_t)2 * LFQ_CACHELINE);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_cons_ctl, tail), 0UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_cons_ctl, need_data),
			(size_t)LFQ_CACHELINE);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_cons_ctl, empty_events),
			(size_t)2 * LFQ_CACHELINE);
	KUNIT_EXPECT_LE(test, sizeof(struct lfq_prod_ctl), 4096UL);
	KUNIT_EXPECT_LE(test, sizeof(struct lfq_cons_ctl), 4096UL);
}

static void lfq_layout_offsets_test(struct kunit *test)
{
	struct lfq_layout l;

	lfq_layout_init(&l, LFQ_TYPE_SPSC, 64, 1024, 4096);
	KUNIT_EXPECT_EQ(test, l.hdr_offset, 0ULL);
	KUNIT_EXPECT_EQ(test, l.prod_offset, 4096ULL);
	KUNIT_EXPECT_EQ(test, l.cons_offset, 8192ULL);
	KUNIT_EXPECT_EQ(test, l.commit_size, 0ULL);
	KUNIT_EXPECT_EQ(test, l.data_offset, 12288ULL);
	KUNIT_EXPECT_EQ(test, l.data_size, 65536ULL);
	KUNIT_EXPECT_EQ(test, l.map_size, 12288ULL + 2 * 65536);

	/* MPSC: one commit word per slot, in whole pages, before the data. */
	lfq_layout_init(&l, LFQ_TYPE_MPSC, 64, 1024, 4096);
	KUNIT_EXPECT_EQ(test, l.commit_offset, 12288ULL);
	KUNIT_EXPECT_EQ(test, l.commit_size, 8192ULL);
	KUNIT_EXPECT_EQ(test, l.data_offset, 12288ULL + 8192);
	KUNIT_EXPECT_EQ(test, l.map_size, 20480ULL + 2 * 65536);
	lfq_layout_init(&l, LFQ_TYPE_MPSC, 4096, 2, 4096);
	KUNIT_EXPECT_EQ(test, l.commit_size, 4096ULL);

	/* The largest slot area: no 32-bit overflow in data_size. */
	lfq_layout_init(&l, LFQ_TYPE_SPSC, 16, 1U << 24, 4096);
	KUNIT_EXPECT_EQ(test, l.data_size, 256ULL << 20);
	KUNIT_EXPECT_EQ(test, l.map_size, 3 * 4096ULL + (512ULL << 20));

	/* Another page size moves every offset. */
	lfq_layout_init(&l, LFQ_TYPE_SPSC, 64, 1024, 65536);
	KUNIT_EXPECT_EQ(test, l.prod_offset, 65536ULL);
	KUNIT_EXPECT_EQ(test, l.cons_offset, 2 * 65536ULL);
	KUNIT_EXPECT_EQ(test, l.data_offset, 3 * 65536ULL);
	KUNIT_EXPECT_EQ(test, l.map_size, 3 * 65536ULL + 2 * 65536);
}

static void lfq_hdr_init_check_test(struct kunit *test)
{
	struct lfq_ring_hdr h = { };
	struct lfq_layout l, got;

	lfq_layout_init(&l, LFQ_TYPE_SPSC, 128, 256, 4096);
	lfq_ring_hdr_init(&h, LFQ_TYPE_SPSC, 0, 128, 256, &l);
	KUNIT_EXPECT_EQ(test, h.magic, LFQ_RING_MAGIC);
	KUNIT_EXPECT_EQ(test, h.layout_version, LFQ_RING_LAYOUT_VERSION);
	KUNIT_EXPECT_EQ(test, h.type, (u32)LFQ_TYPE_SPSC);
	KUNIT_EXPECT_EQ(test, h.slot_size, 128U);
	KUNIT_EXPECT_EQ(test, h.slot_count, 256U);
	KUNIT_EXPECT_EQ(test, h.prod_offset, l.prod_offset);
	KUNIT_EXPECT_EQ(test, h.cons_offset, l.cons_offset);
	KUNIT_EXPECT_EQ(test, h.data_offset, l.data_offset);
	KUNIT_EXPECT_EQ(test, h.data_size, l.data_size);

	memset(&got, 0xa5, sizeof(got));
	KUNIT_ASSERT_EQ(test, lfq_ring_hdr_check(&h, 4096, &got), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&got, &l, sizeof(l)), 0);
	/* "LFQ1" in memory, whatever the host. */
	KUNIT_EXPECT_EQ(test, memcmp(&h.magic, "LFQ1", 4), 0);
}

static void lfq_hdr_check_rejects_test(struct kunit *test)
{
	struct lfq_ring_hdr good = { }, h;
	struct lfq_layout l;

	lfq_layout_init(&l, LFQ_TYPE_SPSC, 64, 128, 4096);
	lfq_ring_hdr_init(&good, LFQ_TYPE_SPSC, 0, 64, 128, &l);
	KUNIT_ASSERT_EQ(test, lfq_ring_hdr_check(&good, 4096, &l), 0);

	h = good;
	h.magic ^= 1;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EPROTO);
	h = good;
	h.magic = 0;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EPROTO);
	h = good;
	h.layout_version = LFQ_RING_LAYOUT_VERSION + 1;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EPROTO);
	h = good;
	h.layout_version = 0;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EPROTO);

	h = good;
	h.flags = 0x80000000;	/* unknown creation flag */
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.type = 0;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.slot_count = 127;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.slot_size = 60;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	/* A valid geometry that does not match data_size. */
	h = good;
	h.slot_count = 256;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);

	h = good;
	h.prod_offset += 4096;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.prod_offset = 0;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.cons_offset = good.prod_offset;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.data_offset = U64_MAX;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.data_offset -= 8;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.data_size *= 2;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);
	h = good;
	h.data_size = 0;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), -EINVAL);

	/* A good header checked against another page size. */
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&good, 8192, &l), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&good, 3, &l), -EINVAL);
}

static struct kunit_case lfq_proto_cases[] = {
	KUNIT_CASE(lfq_ring_count_healthy_test),
	KUNIT_CASE(lfq_ring_count_clamp_test),
	KUNIT_CASE(lfq_ring_count_u64_wrap_test),
	KUNIT_CASE_PARAM(lfq_geometry_check_test, lfq_geo_gen_params),
	KUNIT_CASE(lfq_abi_layout_test),
	KUNIT_CASE(lfq_layout_offsets_test),
	KUNIT_CASE(lfq_hdr_init_check_test),
	KUNIT_CASE(lfq_hdr_check_rejects_test),
	{}
};

static struct kunit_suite lfq_proto_suite = {
	.name = "lfq_proto",
	.test_cases = lfq_proto_cases,
};

/* ---------------------------------------------------------------------- */
/* lfq_queue: the protocol on real queues                                  */
/* ---------------------------------------------------------------------- */

/**
 * struct lfq_kt - per-test fixture.
 * @q:		the queue under test, put by lfq_kt_exit().
 * @p:		a producer handle on @q.
 * @c:		a consumer handle on @q.
 * @data:	first copy of @q's slot area.
 * @data_size:	bytes of one copy.
 * @n:		slot_count.
 * @sz:		slot_size.
 */
struct lfq_kt {
	struct lfq_queue *q;
	struct lfq_spsc_prod p;
	struct lfq_spsc_cons c;
	unsigned char *data;
	u64 data_size;
	u32 n;
	u32 sz;
};

static int lfq_kt_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct lfq_kt), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static void lfq_kt_exit(struct kunit *test)
{
	struct lfq_kt *kt = test->priv;

	if (kt && kt->q)
		lfq_queue_put(kt->q);
}

/* (Re)bind both handles: they resume at the indices found in the ring. */
static void lfq_kt_bind(struct lfq_kt *kt)
{
	lfq_spsc_prod_init(&kt->p, kt->q->base, &kt->q->hdr);
	lfq_spsc_cons_init(&kt->c, kt->q->base, &kt->q->hdr);
}

/* The shared indices and flags, as a peer would read them. */
static u64 lfq_shared_head(const struct lfq_queue *q)
{
	return READ_ONCE(q->prod->head);
}

static u64 lfq_shared_tail(const struct lfq_queue *q)
{
	return READ_ONCE(q->cons->tail);
}

static u32 lfq_shared_need_data(const struct lfq_queue *q)
{
	return READ_ONCE(q->cons->need_data);
}

static u32 lfq_shared_need_space(const struct lfq_queue *q)
{
	return READ_ONCE(q->prod->need_space);
}

static struct lfq_kt *lfq_kt_open(struct kunit *test, u32 slot_size,
				  u32 slot_count)
{
	struct lfq_queue_params params = {
		.type = LFQ_TYPE_SPSC,
		.slot_size = slot_size,
		.slot_count = slot_count,
	};
	struct lfq_kt *kt = test->priv;
	struct lfq_queue *q;

	q = lfq_queue_create(&params);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, q);
	kt->q = q;
	kt->n = slot_count;
	kt->sz = slot_size;
	kt->data = (unsigned char *)q->base + q->layout.data_offset;
	kt->data_size = q->layout.data_size;
	lfq_kt_bind(kt);
	return kt;
}

/* A span handed out by reserve/peek lies inside the double mapping. */
static bool lfq_kt_span_ok(const struct lfq_kt *kt, const void *ptr, u32 got)
{
	const unsigned char *s = ptr;
	u64 off;

	if (!got)
		return !ptr;
	if (!ptr || got > kt->n || s < kt->data)
		return false;
	off = s - kt->data;
	return off < kt->data_size && off % kt->sz == 0 &&
	       off + (u64)got * kt->sz <= 2 * kt->data_size;
}

/* Slots of 16 bytes or more: the sequence first, its complement last. */
static void lfq_kt_put_seq(struct lfq_kt *kt, void *slot, u64 seq)
{
	u64 *w = slot;

	w[0] = seq;
	w[kt->sz / 8 - 1] = ~seq;
}

static bool lfq_kt_push(struct lfq_kt *kt, u64 seq)
{
	void *s;
	u32 got;

	s = lfq_spsc_reserve(&kt->p, 1, &got);
	if (!s)
		return false;
	memset(s, 0, kt->sz);
	lfq_kt_put_seq(kt, s, seq);
	lfq_spsc_commit(&kt->p, got);
	return true;
}

/* Pops one slot; *seq is its first word, *check its last word. */
static bool lfq_kt_pop(struct lfq_kt *kt, u64 *seq, u64 *check)
{
	const u64 *r;
	u32 got;

	r = lfq_spsc_peek(&kt->c, 1, &got);
	if (!r)
		return false;
	*seq = r[0];
	*check = r[kt->sz / 8 - 1];
	lfq_spsc_release(&kt->c, got);
	return true;
}

static void lfq_queue_pages_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 128);
	struct lfq_queue *q = kt->q;
	const struct lfq_ring_hdr *shared = q->base;
	struct lfq_layout l;
	u64 i;

	KUNIT_EXPECT_EQ(test, q->layout.prod_offset, (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, q->layout.data_size, 64ULL * 128);
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->prod, q->base + PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->cons, q->base + 2 * PAGE_SIZE);
	/* The header page holds exactly the kernel's copy, and it checks. */
	KUNIT_EXPECT_EQ(test, memcmp(shared, &q->hdr, sizeof(q->hdr)), 0);
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(shared, PAGE_SIZE, &l), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&l, &q->layout, sizeof(l)), 0);
	/* A new queue is empty with zeroed control pages and slots. */
	KUNIT_EXPECT_EQ(test, lfq_shared_head(q), 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_space(q), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_data(q), 0U);
	for (i = 0; i < 2 * kt->data_size; i++)
		if (kt->data[i])
			break;
	KUNIT_EXPECT_EQ(test, i, 2 * kt->data_size);
	KUNIT_EXPECT_EQ(test, kref_read(&q->ref), 1U);
}

static void lfq_queue_empty_peek_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u64 seq, check;
	u32 got = 123;

	KUNIT_EXPECT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 123;
	KUNIT_EXPECT_NULL(test, lfq_spsc_peek(&kt->c, kt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(kt->q->prod, kt->q->cons,
						kt->n), 0U);
	/* Releasing after an empty peek moves nothing. */
	lfq_spsc_release(&kt->c, 5);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 0ULL);

	/* Reserved but uncommitted slots are invisible to the consumer. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 4, &got));
	KUNIT_EXPECT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));

	KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, 77));
	KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, seq, 77ULL);
	KUNIT_EXPECT_FALSE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 1ULL);
}

static void lfq_queue_fill_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u64 seq, check;
	void *s;
	u32 i, got;

	/* All N slots are usable... */
	for (i = 0; i < kt->n; i++)
		KUNIT_ASSERT_TRUE_MSG(test, lfq_kt_push(kt, i), "slot %u", i);
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(kt->q->prod, kt->q->cons,
						kt->n), kt->n);
	/* ...and then the ring is full, for any request size. */
	got = 99;
	KUNIT_EXPECT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 99;
	KUNIT_EXPECT_NULL(test, lfq_spsc_reserve(&kt->p, kt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_space_wait(kt->q->prod, kt->q->cons,
						      kt->n), 0U);
	/* A commit while full publishes nothing. */
	lfq_spsc_commit(&kt->p, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), (u64)kt->n);

	/* One release frees exactly one slot, at the old slot 0. */
	KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, seq, 0ULL);
	s = lfq_spsc_reserve(&kt->p, kt->n, &got);
	KUNIT_EXPECT_EQ(test, got, 1U);
	KUNIT_EXPECT_PTR_EQ(test, s, (void *)kt->data);
	lfq_spsc_commit(&kt->p, 0);

	/* The consumer sees everything in order, then an empty ring. */
	for (i = 1; i < kt->n; i++) {
		KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
		KUNIT_EXPECT_EQ(test, seq, (u64)i);
		KUNIT_EXPECT_EQ(test, check, ~(u64)i);
	}
	KUNIT_EXPECT_FALSE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_space_wait(kt->q->prod, kt->q->cons,
						      kt->n), kt->n);
}

static void lfq_queue_wrap_many_test(struct kunit *test)
{
	/* 8 slots of 512 bytes: the ring wraps every 8 records. */
	struct lfq_kt *kt = lfq_kt_open(test, 512, 8);
	u64 next_in = 0, next_out = 0, seq, check;
	unsigned int round;
	u32 i, got;

	for (round = 0; round < 2000; round++) {
		u32 want_in = 1 + round % kt->n;
		u32 want_out = 1 + (round * 7) % kt->n;
		unsigned char *w;
		const unsigned char *r;

		w = lfq_spsc_reserve(&kt->p, want_in, &got);
		KUNIT_ASSERT_TRUE(test, lfq_kt_span_ok(kt, w, got));
		for (i = 0; i < got; i++) {
			memset(w + (size_t)i * kt->sz, (u8)next_in, kt->sz);
			lfq_kt_put_seq(kt, w + (size_t)i * kt->sz, next_in);
			next_in++;
		}
		lfq_spsc_commit(&kt->p, got);

		r = lfq_spsc_peek(&kt->c, want_out, &got);
		KUNIT_ASSERT_TRUE(test, lfq_kt_span_ok(kt, r, got));
		for (i = 0; i < got; i++) {
			const u64 *s = (const u64 *)(r + (size_t)i * kt->sz);

			KUNIT_ASSERT_EQ(test, s[0], next_out);
			KUNIT_ASSERT_EQ(test, s[kt->sz / 8 - 1], ~next_out);
			KUNIT_ASSERT_EQ(test, ((const u8 *)s)[100],
					(u8)next_out);
			next_out++;
		}
		lfq_spsc_release(&kt->c, got);
		KUNIT_ASSERT_LE(test, next_in - next_out, (u64)kt->n);
	}
	while (lfq_kt_pop(kt, &seq, &check))
		KUNIT_ASSERT_EQ(test, seq, next_out++);
	KUNIT_EXPECT_EQ(test, next_out, next_in);
	KUNIT_EXPECT_GT(test, next_in, 100ULL * kt->n);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), next_in);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), next_out);
}

static void lfq_queue_u64_wrap_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 256, 16);
	const u64 start = U64_MAX - 20;
	u64 seq, check, i, next_out = 0;
	u32 got;

	/* A ring that has run for 2^64 - 21 slots: resume there. */
	WRITE_ONCE(kt->q->prod->head, start);
	WRITE_ONCE(kt->q->cons->tail, start);
	lfq_kt_bind(kt);
	KUNIT_EXPECT_EQ(test, kt->p.head, start);
	KUNIT_EXPECT_EQ(test, kt->c.tail, start);

	/* Fill the ring across the wrap of the u64 indices. */
	for (i = 0; i < kt->n; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	KUNIT_EXPECT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(kt->q->prod, kt->q->cons,
						kt->n), kt->n);

	/* Then stream 64 more through it, one in one out. */
	for (; i < kt->n + 64; i++) {
		KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
		KUNIT_ASSERT_EQ(test, seq, next_out);
		KUNIT_ASSERT_EQ(test, check, ~next_out);
		next_out++;
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	}
	while (lfq_kt_pop(kt, &seq, &check))
		KUNIT_ASSERT_EQ(test, seq, next_out++);
	KUNIT_EXPECT_EQ(test, next_out, (u64)kt->n + 64);
	/* Both indices wrapped through zero. */
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), start + kt->n + 64);
	KUNIT_EXPECT_LT(test, lfq_shared_head(kt->q), 128ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q),
			lfq_shared_head(kt->q));
}

static void lfq_queue_double_map_test(struct kunit *test)
{
	/* 128 slots of 64 bytes: two pages, so the span crosses pages too. */
	struct lfq_kt *kt = lfq_kt_open(test, 64, 128);
	const u32 n = kt->n, sz = kt->sz;
	unsigned char *w;
	const unsigned char *r;
	u64 seq, check;
	u32 i, got;

	/* Move both indices to slot N-1. */
	for (i = 0; i < n - 1; i++) {
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
		KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
	}

	/* Two slots, N-1 and 0, as one contiguous span. */
	w = lfq_spsc_reserve(&kt->p, 2, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(kt->data + (n - 1) * sz));
	KUNIT_EXPECT_TRUE(test, lfq_kt_span_ok(kt, w, got));
	memset(w, 0xa1, sz);
	memset(w + sz, 0xb2, sz);	/* the second copy's first slot */
	lfq_spsc_commit(&kt->p, got);

	/* Read back through the first copy only. */
	KUNIT_EXPECT_EQ(test, kt->data[(n - 1) * sz], 0xa1);
	KUNIT_EXPECT_EQ(test, kt->data[n * sz - 1], 0xa1);
	KUNIT_EXPECT_EQ(test, kt->data[0], 0xb2);
	KUNIT_EXPECT_EQ(test, kt->data[sz - 1], 0xb2);
	/* The neighbour, slot 1, still holds record 1. */
	KUNIT_EXPECT_EQ(test, *(u64 *)(kt->data + sz), 1ULL);

	/* The consumer gets the same span. */
	r = lfq_spsc_peek(&kt->c, n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)r, (const void *)w);
	KUNIT_EXPECT_EQ(test, r[0], 0xa1);
	KUNIT_EXPECT_EQ(test, r[2 * sz - 1], 0xb2);
	lfq_spsc_release(&kt->c, got);

	/*
	 * A whole-ring span from slot 1 of the first copy to slot 0 of the
	 * second: write it at once, check every slot through the first copy.
	 */
	w = lfq_spsc_reserve(&kt->p, n, &got);
	KUNIT_ASSERT_EQ(test, got, n);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(kt->data + sz));
	for (i = 0; i < n; i++)
		memset(w + (size_t)i * sz, (u8)(i + 1), sz);
	lfq_spsc_commit(&kt->p, got);
	for (i = 0; i < n; i++) {
		u32 slot = (1 + i) & (n - 1);

		KUNIT_ASSERT_EQ_MSG(test, kt->data[(size_t)slot * sz],
				    (u8)(i + 1), "slot %u", slot);
		KUNIT_ASSERT_EQ(test, kt->data[(size_t)slot * sz + sz - 1],
				(u8)(i + 1));
	}
	r = lfq_spsc_peek(&kt->c, n, &got);
	KUNIT_ASSERT_EQ(test, got, n);
	KUNIT_EXPECT_EQ(test, memcmp(r, w, (size_t)n * sz), 0);
	lfq_spsc_release(&kt->c, got);
}

static void lfq_queue_commit_clamp_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u32 got;

	/* Commit more than reserved: only the reservation is published. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 3, &got));
	KUNIT_ASSERT_EQ(test, got, 3U);
	lfq_spsc_commit(&kt->p, 10);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 3ULL);
	KUNIT_EXPECT_EQ(test, kt->p.head, 3ULL);

	/* A second commit without a reservation publishes nothing. */
	lfq_spsc_commit(&kt->p, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 3ULL);
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, U32_MAX));
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 3ULL);

	/* A new reserve replaces the old reservation. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 5, &got));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	lfq_spsc_commit(&kt->p, 5);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 4ULL);

	/* A short grant (ring nearly full) bounds the commit. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, kt->n - 6, &got));
	lfq_spsc_commit(&kt->p, got);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 10, &got));
	KUNIT_EXPECT_EQ(test, got, 2U);
	lfq_spsc_commit(&kt->p, 10);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), (u64)kt->n);
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(kt->q->prod, kt->q->cons,
						kt->n), kt->n);

	/* Commit of fewer than reserved publishes exactly that many. */
	lfq_spsc_release(&kt->c, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 8, &got));
	lfq_spsc_release(&kt->c, got);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 8, &got));
	KUNIT_ASSERT_EQ(test, got, 8U);
	lfq_spsc_commit(&kt->p, 3);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), (u64)kt->n + 3);
}

static void lfq_queue_release_clamp_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u32 i, got;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));

	/* Release more than peeked: only the peek is given back. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 2, &got));
	KUNIT_ASSERT_EQ(test, got, 2U);
	lfq_spsc_release(&kt->c, 10);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 2ULL);

	/* Nothing peeked: nothing released. */
	lfq_spsc_release(&kt->c, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 2ULL);
	KUNIT_EXPECT_FALSE(test, lfq_spsc_release_check(&kt->c, U32_MAX));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 2ULL);

	/* A peek asking for more than there is grants what there is. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, kt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 3U);
	lfq_spsc_release(&kt->c, kt->n);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 5ULL);
	/* Never past what was committed. */
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(kt->q->prod, kt->q->cons,
						kt->n), 0U);

	/* A new peek replaces the old one. */
	KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, 5));
	KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, 6));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 2, &got));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	lfq_spsc_release(&kt->c, 2);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 6ULL);
}

/* xorshift64: deterministic "random" hostile values. */
static u64 lfq_kt_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void lfq_queue_hostile_tail_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	const u64 n = kt->n;
	u64 head, rnd = 0x9e3779b97f4a7c15ULL;
	u64 bad[6];
	unsigned char *w;
	u32 i, got;

	for (i = 0; i < 10; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	head = lfq_shared_head(kt->q);

	/* Impossible tails: the ring reads full, nothing is handed out. */
	bad[0] = head + 5;
	bad[1] = head + 1;
	bad[2] = head - 2 * n;
	bad[3] = head - n - 1;
	bad[4] = head - U64_MAX / 2;
	bad[5] = head + (1ULL << 63);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		WRITE_ONCE(kt->q->cons->tail, bad[i]);
		lfq_spsc_prod_init(&kt->p, kt->q->base, &kt->q->hdr);
		got = 77;
		w = lfq_spsc_reserve(&kt->p, 1, &got);
		KUNIT_EXPECT_NULL_MSG(test, w, "tail %llu head %llu", bad[i],
				      head);
		KUNIT_EXPECT_EQ(test, got, 0U);
		/* Also when a sane cached copy runs short and is reloaded. */
		kt->p.cached_tail = head - 1;
		got = 77;
		w = lfq_spsc_reserve(&kt->p, (u32)n, &got);
		KUNIT_EXPECT_NULL(test, w);
		KUNIT_EXPECT_EQ(test, got, 0U);
		lfq_spsc_commit(&kt->p, (u32)n);
		KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), head);
		KUNIT_EXPECT_EQ(test, lfq_spsc_arm_space_wait(kt->q->prod,
							      kt->q->cons,
							      kt->n), 0U);
		KUNIT_EXPECT_EQ(test, lfq_spsc_readable(kt->q->prod,
							kt->q->cons, kt->n),
				kt->n);
	}

	/*
	 * Any tail at all, near head or anywhere: a grant stays inside the
	 * slot area's double mapping, and writing all of it is safe (KASAN
	 * watches the vmap area).
	 */
	for (i = 0; i < 4000; i++) {
		u64 t = lfq_kt_rand(&rnd);
		u32 want = 1 + (u32)(t % (2 * n));
		u64 used, free;

		if (i & 1)
			t = kt->p.head - (t % (4 * n)) + 2 * n;
		used = kt->p.head - t;
		free = used > n ? 0 : n - used;
		WRITE_ONCE(kt->q->cons->tail, t);
		kt->p.cached_tail = kt->p.head - n;	/* force a reload */
		w = lfq_spsc_reserve(&kt->p, want, &got);
		KUNIT_ASSERT_TRUE_MSG(test, lfq_kt_span_ok(kt, w, got),
				      "tail %llu head %llu got %u", t,
				      kt->p.head, got);
		/* Exactly what head - tail allows, clamped to nothing. */
		KUNIT_ASSERT_EQ_MSG(test, (u64)got, min_t(u64, want, free),
				    "tail %llu head %llu", t, kt->p.head);
		if (w)
			memset(w, 0x5a, (size_t)got * kt->sz);
		lfq_spsc_commit(&kt->p, got);
	}
}

static void lfq_queue_hostile_head_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	const u64 n = kt->n;
	u64 rnd = 0x0123456789abcdefULL;
	const unsigned char *r;
	unsigned long sum = 0;
	u32 i, got;

	/*
	 * A hostile producer can only make the ring look full of garbage:
	 * at most N slots, inside the slot area, however far head is.
	 */
	for (i = 0; i < 4000; i++) {
		u64 h = lfq_kt_rand(&rnd);
		u32 want = 1 + (u32)(h % (2 * n));
		u64 used;

		if (i & 1)
			h = kt->c.tail + (h % (4 * n)) - 2 * n;
		used = h - kt->c.tail;
		WRITE_ONCE(kt->q->prod->head, h);
		kt->c.cached_head = kt->c.tail;		/* force a reload */
		r = lfq_spsc_peek(&kt->c, want, &got);
		KUNIT_ASSERT_TRUE_MSG(test, lfq_kt_span_ok(kt, r, got),
				      "head %llu tail %llu got %u", h,
				      kt->c.tail, got);
		KUNIT_ASSERT_EQ_MSG(test, (u64)got,
				    min_t(u64, want, used > n ? n : used),
				    "head %llu tail %llu", h, kt->c.tail);
		while (r && got--) {
			sum += r[0] + r[kt->sz - 1];
			r += kt->sz;
		}
		lfq_spsc_release(&kt->c, want);
	}
	KUNIT_EXPECT_EQ(test, sum, 0UL);	/* zeroed pages, never written */
}

static void lfq_queue_wakeup_flags_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	struct lfq_queue *q = kt->q;
	u32 got, i;

	/* No sleeper announced: commit_check reports none. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, 1));

	/* Arming returns the readable count and sets need_data. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	lfq_spsc_release(&kt->c, 1);
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_data_wait(q->prod, q->cons, kt->n),
			0U);
	KUNIT_EXPECT_NE(test, lfq_shared_need_data(q), 0U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 3, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 3));
	/* Still set (the waker clears it): reported again. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 1));
	WRITE_ONCE(q->cons->need_data, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, 1));
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_data_wait(q->prod, q->cons, kt->n),
			5U);

	/* The space side: arm returns free slots, release_check sees it. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_release_check(&kt->c, 1));
	for (i = 4; i < kt->n; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_space_wait(q->prod, q->cons,
						      kt->n), 0U);
	KUNIT_EXPECT_NE(test, lfq_shared_need_space(q), 0U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 2, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_release_check(&kt->c, 2));
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_space_wait(q->prod, q->cons,
						      kt->n), 2U);
	WRITE_ONCE(q->prod->need_space, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_release_check(&kt->c, 1));
	/* Only the waker clears a flag: the last arm's need_data stands. */
	KUNIT_EXPECT_NE(test, lfq_shared_need_data(q), 0U);
}

static void lfq_queue_create_rejects_test(struct kunit *test)
{
	static const struct lfq_queue_params bad[] = {
		{ .type = LFQ_TYPE_SPSC, .flags = 2, .slot_size = 64,
		  .slot_count = 64 },
		{ .type = LFQ_TYPE_SPSC, .flags = 0x80000000, .slot_size = 64,
		  .slot_count = 64 },
		{ .type = 0, .slot_size = 64, .slot_count = 64 },
		{ .type = 3, .slot_size = 64, .slot_count = 64 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 0, .slot_count = 512 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 7, .slot_count = 4096 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 65544,
		  .slot_count = 512 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 4096, .slot_count = 1 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 4096, .slot_count = 3 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 8,
		  .slot_count = 1U << 25 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 8, .slot_count = 2 },
		{ .type = LFQ_TYPE_SPSC, .slot_size = 65536,
		  .slot_count = 8192 },
	};
	struct lfq_queue *q;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		q = lfq_queue_create(&bad[i]);
		KUNIT_EXPECT_TRUE_MSG(test, IS_ERR(q), "params #%u", i);
		if (!IS_ERR(q)) {
			lfq_queue_put(q);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(q), (long)-EINVAL,
				    "params #%u", i);
	}
}

static void lfq_queue_lifetime_test(struct kunit *test)
{
	struct lfq_queue_params params = {
		.type = LFQ_TYPE_SPSC,
		.slot_size = 64,
		.slot_count = 256,
	};
	struct lfq_queue *a, *b, *g;
	u32 id_a, id_b;

	a = lfq_queue_create(&params);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	b = lfq_queue_create(&params);
	if (IS_ERR(b))
		lfq_queue_put(a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	id_a = a->id;
	id_b = b->id;
	KUNIT_EXPECT_NE(test, id_a, id_b);

	/* Lookup by id finds the right queue and takes a reference. */
	g = lfq_queue_get(id_a);
	KUNIT_EXPECT_PTR_EQ(test, g, a);
	KUNIT_EXPECT_EQ(test, kref_read(&a->ref), 2U);
	if (g)
		lfq_queue_put(g);
	KUNIT_EXPECT_EQ(test, kref_read(&a->ref), 1U);
	g = lfq_queue_get(id_b);
	KUNIT_EXPECT_PTR_EQ(test, g, b);

	/* The creator's put is not the last one while b is held by g. */
	lfq_queue_put(b);
	if (g) {
		KUNIT_EXPECT_EQ(test, kref_read(&g->ref), 1U);
		KUNIT_EXPECT_PTR_EQ(test, lfq_queue_get(id_b), b);
		lfq_queue_put(b);	/* the get just above */
		lfq_queue_put(g);	/* the last reference */
	}
	/* The last put unpublishes at once... */
	KUNIT_EXPECT_NULL(test, lfq_queue_get(id_b));
	/* ...while the other queue still resolves. */
	g = lfq_queue_get(id_a);
	KUNIT_EXPECT_PTR_EQ(test, g, a);
	if (g)
		lfq_queue_put(g);
	lfq_queue_put(a);
	KUNIT_EXPECT_NULL(test, lfq_queue_get(id_a));

	/*
	 * After the grace period the frees have been queued (they run on
	 * lfq.ko's own workqueue, drained at its exit; kmemleak checks the
	 * rest); the ids still do not resolve.
	 */
	rcu_barrier();
	KUNIT_EXPECT_NULL(test, lfq_queue_get(id_a));
	KUNIT_EXPECT_NULL(test, lfq_queue_get(id_b));
	/* Bogus ids never resolve. */
	KUNIT_EXPECT_NULL(test, lfq_queue_get(U32_MAX));
	KUNIT_EXPECT_NULL(test, lfq_queue_get(1U << 31));
}

/* ---------------------------------------------------------------------- */
/* Producer kthread vs consumer test thread                                */
/* ---------------------------------------------------------------------- */

#define LFQ_KT_RACE_RECORDS	100000ULL
/* A sleep this long with the peer alive means a lost wakeup. */
#define LFQ_KT_WAIT		(10 * HZ)
#define LFQ_KT_DEADLINE		(60 * HZ)

struct lfq_kt_race {
	struct lfq_queue *q;
	u64 records;
	u64 sleeps;
	struct completion done;
};

/* 16-byte records: the sequence number and its complement. */
static int lfq_kt_producer(void *arg)
{
	struct lfq_kt_race *r = arg;
	struct lfq_queue *q = r->q;
	const u32 n = q->hdr.slot_count;
	struct lfq_spsc_prod p;
	u64 seq = 0;
	int err = 0;

	lfq_spsc_prod_init(&p, q->base, &q->hdr);
	while (seq < r->records) {
		u32 want = 1 + (u32)(seq % 13), got, i;
		u64 *s;

		if (want > r->records - seq)
			want = r->records - seq;
		s = lfq_spsc_reserve(&p, want, &got);
		if (!s) {
			long left;

			r->sleeps++;
			left = wait_event_timeout(q->space_wq,
						  kthread_should_stop() ||
						  lfq_spsc_arm_space_wait(q->prod,
									  q->cons,
									  n),
						  LFQ_KT_WAIT);
			if (kthread_should_stop()) {
				err = -EINTR;
				break;
			}
			if (!left) {
				err = -ETIMEDOUT;
				break;
			}
			continue;
		}
		for (i = 0; i < got; i++, seq++) {
			s[2 * i] = seq;
			s[2 * i + 1] = ~seq;
		}
		if (lfq_spsc_commit_check(&p, got)) {
			WRITE_ONCE(q->cons->need_data, 0);
			wake_up(&q->data_wq);
		}
	}
	complete(&r->done);
	return err;
}

static void lfq_queue_kthread_race_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 16, 256);
	struct lfq_queue *q = kt->q;
	unsigned long deadline = jiffies + LFQ_KT_DEADLINE;
	struct lfq_kt_race *r;
	struct task_struct *task;
	u64 expect = 0, bad_seq = 0, sleeps = 0;
	bool lost = false, late = false, bad = false;
	unsigned int round = 0;
	int err;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->q = q;
	r->records = LFQ_KT_RACE_RECORDS;
	init_completion(&r->done);

	task = kthread_run(lfq_kt_producer, r, "lfq_kt_prod");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, task);
	get_task_struct(task);

	/* No KUNIT_ASSERT until the producer is stopped: it uses q. */
	while (expect < r->records) {
		const u64 *s;
		u32 got, i;

		s = lfq_spsc_peek(&kt->c, 1 + round++ % 29, &got);
		if (!s) {
			if (time_after(jiffies, deadline)) {
				late = true;
				break;
			}
			sleeps++;
			if (!wait_event_timeout(q->data_wq,
						lfq_spsc_arm_data_wait(q->prod,
								       q->cons,
								       kt->n),
						LFQ_KT_WAIT)) {
				lost = true;
				break;
			}
			continue;
		}
		for (i = 0; i < got; i++, expect++) {
			if (s[2 * i] != expect || s[2 * i + 1] != ~expect) {
				bad = true;
				bad_seq = s[2 * i];
				break;
			}
		}
		if (bad)
			break;
		if (lfq_spsc_release_check(&kt->c, got)) {
			WRITE_ONCE(q->prod->need_space, 0);
			wake_up(&q->space_wq);
		}
	}

	if (!bad && !lost && !late)
		KUNIT_EXPECT_GT(test,
				wait_for_completion_timeout(&r->done,
							    LFQ_KT_WAIT), 0UL);
	err = kthread_stop(task);
	put_task_struct(task);

	KUNIT_EXPECT_FALSE_MSG(test, bad, "record %llu read as %llu", expect,
			       bad_seq);
	KUNIT_EXPECT_FALSE_MSG(test, lost, "consumer slept %ds at record %llu",
			       LFQ_KT_WAIT / HZ, expect);
	KUNIT_EXPECT_FALSE_MSG(test, late, "deadline passed at record %llu",
			       expect);
	KUNIT_EXPECT_EQ(test, expect, r->records);
	KUNIT_EXPECT_EQ(test, err, 0);
	/* Nothing more than what was produced. */
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(q->prod, q->cons, kt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(q), r->records);
	kunit_info(test, "%llu records, consumer slept %llu, producer %llu\n",
		   expect, sleeps, r->sleeps);
}

static struct kunit_case lfq_queue_cases[] = {
	KUNIT_CASE(lfq_queue_pages_test),
	KUNIT_CASE(lfq_queue_empty_peek_test),
	KUNIT_CASE(lfq_queue_fill_test),
	KUNIT_CASE(lfq_queue_wrap_many_test),
	KUNIT_CASE(lfq_queue_u64_wrap_test),
	KUNIT_CASE(lfq_queue_double_map_test),
	KUNIT_CASE(lfq_queue_commit_clamp_test),
	KUNIT_CASE(lfq_queue_release_clamp_test),
	KUNIT_CASE(lfq_queue_hostile_tail_test),
	KUNIT_CASE(lfq_queue_hostile_head_test),
	KUNIT_CASE(lfq_queue_wakeup_flags_test),
	KUNIT_CASE(lfq_queue_create_rejects_test),
	KUNIT_CASE(lfq_queue_lifetime_test),
	KUNIT_CASE(lfq_queue_kthread_race_test),
	{}
};

static struct kunit_suite lfq_queue_suite = {
	.name = "lfq_queue",
	.init = lfq_kt_init,
	.exit = lfq_kt_exit,
	.test_cases = lfq_queue_cases,
};

kunit_test_suites(&lfq_proto_suite, &lfq_queue_suite);

MODULE_DESCRIPTION("KUnit tests for lfq");
MODULE_LICENSE("GPL");
