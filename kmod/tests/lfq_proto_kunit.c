// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_proto_kunit.c - KUnit suite lfq_proto: the shared protocol headers
 * of kmod/proto on their own, no queue involved. The count of slots
 * between two indices (lfq_ring_count(), proto/lfq_common.h) with healthy,
 * impossible and wrapped u64 indices; the geometry rules, the mapping
 * layout and header validation (proto/lfq_layout.h); the uapi ring
 * structs' offsets, which are ABI (uapi/lfq_ring.h); and a waiter's
 * adaptive spin (lfq_spin_next(), proto/lfq_ready.h).
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "lfq.h"
#include "lfq_ring.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_common.h"
#include "proto/lfq_layout.h"
#include "proto/lfq_ready.h"

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
	{ "type-mpmc", LFQ_TYPE_MPMC, 64, 64, 4096, 0 },
	{ "type-4", 4, 64, 64, 4096, -EINVAL },
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
	struct lfq_geometry g = {
		.type = c->type,
		.slot_size = c->slot_size,
		.slot_count = c->slot_count,
	};

	KUNIT_EXPECT_EQ(test, lfq_geometry_check(&g, c->page_size), c->err);
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
	/* Elastic geometry, appended in layout 2: the fields above stay. */
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, seg_min), 72UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, segtab_offset),
			80UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, frame_size),
			112UL);
	/* The wakeup fencing, appended in layout 3: the fields above stay. */
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, wake_mode), 120UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct lfq_ring_hdr, __reserved),
			124UL);
	KUNIT_EXPECT_EQ(test, sizeof(struct lfq_ring_hdr), 128UL);
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

	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_SPSC, 64, 1024), 4096);
	KUNIT_EXPECT_EQ(test, l.hdr_offset, 0ULL);
	KUNIT_EXPECT_EQ(test, l.prod_offset, 4096ULL);
	KUNIT_EXPECT_EQ(test, l.cons_offset, 8192ULL);
	KUNIT_EXPECT_EQ(test, l.commit_size, 0ULL);
	KUNIT_EXPECT_EQ(test, l.data_offset, 12288ULL);
	KUNIT_EXPECT_EQ(test, l.data_size, 65536ULL);
	KUNIT_EXPECT_EQ(test, l.map_size, 12288ULL + 2 * 65536);

	/* MPSC: one commit word per slot, in whole pages, before the data. */
	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_MPSC, 64, 1024), 4096);
	KUNIT_EXPECT_EQ(test, l.commit_offset, 12288ULL);
	KUNIT_EXPECT_EQ(test, l.commit_size, 8192ULL);
	KUNIT_EXPECT_EQ(test, l.data_offset, 12288ULL + 8192);
	KUNIT_EXPECT_EQ(test, l.map_size, 20480ULL + 2 * 65536);
	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_MPSC, 4096, 2), 4096);
	KUNIT_EXPECT_EQ(test, l.commit_size, 4096ULL);

	/* The largest slot area: no 32-bit overflow in data_size. */
	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_SPSC, 16, 1U << 24), 4096);
	KUNIT_EXPECT_EQ(test, l.data_size, 256ULL << 20);
	KUNIT_EXPECT_EQ(test, l.map_size, 3 * 4096ULL + (512ULL << 20));

	/* Another page size moves every offset. */
	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_SPSC, 64, 1024), 65536);
	KUNIT_EXPECT_EQ(test, l.prod_offset, 65536ULL);
	KUNIT_EXPECT_EQ(test, l.cons_offset, 2 * 65536ULL);
	KUNIT_EXPECT_EQ(test, l.data_offset, 3 * 65536ULL);
	KUNIT_EXPECT_EQ(test, l.map_size, 3 * 65536ULL + 2 * 65536);
}

static void lfq_hdr_init_check_test(struct kunit *test)
{
	struct lfq_ring_hdr h = { };
	struct lfq_layout l, got;

	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_SPSC, 128, 256), 4096);
	lfq_ring_hdr_init(&h, LFQ_GEO(LFQ_TYPE_SPSC, 128, 256), &l);
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

/*
 * The wakeup fencing's layout versions: an asymmetric queue's header has
 * one that readers which predate it refuse (_ASYM, _ELASTIC_ASYM for an
 * elastic one), and a header whose version does not match its wake_mode
 * and geometry is -EPROTO.
 */
static void lfq_hdr_wake_versions_test(struct kunit *test)
{
	const struct lfq_geometry *fx = LFQ_GEO(LFQ_TYPE_SPSC, 64, 128);
	const struct lfq_geometry *el = LFQ_EL_GEO(LFQ_TYPE_MPSC, 64, 64,
						   LFQ_CREATE_ELASTIC, 1, 8);
	struct lfq_ring_hdr h = { }, bad;
	struct lfq_layout l;

	lfq_layout_init(&l, el, 4096);
	lfq_ring_hdr_init(&h, el, &l);
	KUNIT_EXPECT_EQ(test, h.layout_version, LFQ_RING_LAYOUT_ELASTIC);
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), 0);
	lfq_ring_hdr_set_wake(&h, LFQ_WAKE_ASYMMETRIC);
	KUNIT_EXPECT_EQ(test, h.wake_mode, (u32)LFQ_WAKE_ASYMMETRIC);
	KUNIT_EXPECT_EQ(test, h.layout_version, LFQ_RING_LAYOUT_ELASTIC_ASYM);
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), 0);
	bad = h;
	bad.layout_version = LFQ_RING_LAYOUT_ELASTIC;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&bad, 4096, &l), -EPROTO);
	bad.layout_version = LFQ_RING_LAYOUT_ASYM;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&bad, 4096, &l), -EPROTO);
	bad = h;
	bad.wake_mode = LFQ_WAKE_SYMMETRIC;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&bad, 4096, &l), -EPROTO);

	memset(&h, 0, sizeof(h));
	lfq_layout_init(&l, fx, 4096);
	lfq_ring_hdr_init(&h, fx, &l);
	lfq_ring_hdr_set_wake(&h, LFQ_WAKE_ASYMMETRIC);
	KUNIT_EXPECT_EQ(test, h.layout_version, LFQ_RING_LAYOUT_ASYM);
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&h, 4096, &l), 0);
	bad = h;
	bad.layout_version = LFQ_RING_LAYOUT_ELASTIC_ASYM;
	KUNIT_EXPECT_EQ(test, lfq_ring_hdr_check(&bad, 4096, &l), -EPROTO);
}

static void lfq_hdr_check_rejects_test(struct kunit *test)
{
	struct lfq_ring_hdr good = { }, h;
	struct lfq_layout l;

	lfq_layout_init(&l, LFQ_GEO(LFQ_TYPE_SPSC, 64, 128), 4096);
	lfq_ring_hdr_init(&good, LFQ_GEO(LFQ_TYPE_SPSC, 64, 128), &l);
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

/* The adaptive spin: doubles after a spin that found the ring ready, takes
 * a quarter off after a sleep, between the floor and the setting.
 */
static void lfq_spin_next_test(struct kunit *test)
{
	static const struct {
		u32 now, max;
		int slept;
		u32 next;
	} c[] = {
		{ 256, 256, 1, 192 },	/* a sleep: a quarter off */
		{ 192, 256, 1, 144 },
		{ 20, 256, 1, 16 },	/* not below the floor */
		{ 16, 256, 1, 16 },
		{ 16, 256, 0, 32 },	/* a spin that worked: doubled */
		{ 100, 256, 0, 200 },
		{ 128, 256, 0, 256 },	/* up to the setting */
		{ 256, 256, 0, 256 },
		{ 8, 8, 1, 8 },		/* a setting below the floor */
		{ 0, 0, 1, 0 },		/* never spins */
		{ 300, 256, 0, 256 },	/* the setting was lowered */
		{ 300, 256, 1, 256 },
		{ 1u << 31, ~0u, 0, ~0u },	/* no overflow */
	};
	u32 i, now, n;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		KUNIT_EXPECT_EQ_MSG(test, lfq_spin_next(c[i].now, c[i].max,
							c[i].slept),
				    c[i].next, "case %u", i);
	/* From the default, sleeps reach the floor within 10 waits. */
	now = LFQ_WAIT_SPINS_DEFAULT;
	for (n = 0; now > LFQ_WAIT_SPINS_FLOOR && n < 64; n++)
		now = lfq_spin_next(now, LFQ_WAIT_SPINS_DEFAULT, 1);
	KUNIT_EXPECT_EQ(test, now, LFQ_WAIT_SPINS_FLOOR);
	KUNIT_EXPECT_LE(test, n, 10U);
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
	KUNIT_CASE(lfq_hdr_wake_versions_test),
	KUNIT_CASE(lfq_spin_next_test),
	{}
};

static struct kunit_suite lfq_proto_suite = {
	.name = "lfq_proto",
	.test_cases = lfq_proto_cases,
};

kunit_test_suite(lfq_proto_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's ring protocol headers");
MODULE_LICENSE("GPL");
