// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_queue_kunit.c - KUnit suite lfq_queue: the queue object of
 * kmod/core/lfq_queue.c on its own. What lfq_queue_create() builds (the
 * header page holding the kernel's copy, the control pages, the commit
 * words of an MPSC queue, the slot area vmap'd twice back to back, all
 * zeroed, and where q->ring locates each of them), the parameters it
 * rejects, and a queue's lifetime: references, lookup by id, and
 * unpublishing on the last put.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "lfq_kunit_util.h"

/* Every page of @q's layout is vmap'd where q->map_pages says. */
static void lfq_queue_expect_mapped(struct kunit *test, struct lfq_queue *q)
{
	unsigned long i, n = q->layout.map_size >> PAGE_SHIFT;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test,
					vmalloc_to_page(q->base +
							i * PAGE_SIZE),
					q->map_pages[i], "page %lu", i);
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
	/* Header, producer and consumer pages, one copy of the slots. */
	KUNIT_EXPECT_EQ(test, q->nr_pages, 3 + (64UL * 128 >> PAGE_SHIFT));
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->ring.prod, q->base + PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->ring.cons,
			    q->base + 2 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->ring.data,
			    q->base + q->layout.data_offset);
	KUNIT_EXPECT_PTR_EQ(test, q->ring.need_data, &q->ring.cons->need_data);
	KUNIT_EXPECT_PTR_EQ(test, q->ring.need_space,
			    &q->ring.prod->need_space);
	KUNIT_EXPECT_EQ(test, q->ring.slot_size, 64U);
	KUNIT_EXPECT_EQ(test, q->ring.slot_count, 128U);
	KUNIT_EXPECT_EQ(test, q->ring.type, (u32)LFQ_TYPE_SPSC);
	/* SPSC: no commit words, no claims. */
	KUNIT_EXPECT_EQ(test, q->layout.commit_size, 0ULL);
	KUNIT_EXPECT_NULL(test, q->claims);
	lfq_queue_expect_mapped(test, q);
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

static void lfq_queue_mpsc_pages_test(struct kunit *test)
{
	/* 128 slots of 64 bytes: two pages, mapped as four. */
	struct lfq_mt *mt = lfq_mt_open(test, 64, 128, 0);
	struct lfq_queue *q = mt->q;
	unsigned long first = q->layout.data_offset >> PAGE_SHIFT;
	unsigned long nr = mt->data_size >> PAGE_SHIFT;
	unsigned int i;
	u64 j;

	KUNIT_ASSERT_EQ(test, nr, 2UL);
	/* Header, producer, consumer, one page of commit words, the slots. */
	KUNIT_EXPECT_EQ(test, q->nr_pages, 4 + nr);
	KUNIT_EXPECT_EQ(test, q->layout.commit_size, (u64)PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->ring.commit,
			    q->base + q->layout.commit_offset);
	KUNIT_EXPECT_PTR_EQ(test, (void *)q->ring.data,
			    q->base + q->layout.data_offset);
	KUNIT_EXPECT_EQ(test, q->ring.type, (u32)LFQ_TYPE_MPSC);
	KUNIT_EXPECT_NOT_NULL(test, q->claims);
	lfq_queue_expect_mapped(test, q);
	for (i = 0; i < 2 * nr; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test,
					vmalloc_to_page(mt->data +
							i * PAGE_SIZE),
					q->map_pages[first + i % nr],
					"mapped page %u", i);
	/* Everything starts zeroed: slots, commit words, flags. */
	for (j = 0; j < 2 * mt->data_size; j++)
		if (mt->data[j])
			break;
	KUNIT_EXPECT_EQ(test, j, 2 * mt->data_size);
	for (i = 0; i < mt->n; i++)
		KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, i), 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_data(q), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_space(q), 0U);

	/* A byte written through one copy reads back through the other. */
	for (j = 0; j < mt->data_size; j++)
		mt->data[j] = (u8)(j * 7 + 1);
	for (j = 0; j < mt->data_size; j++)
		if (mt->data[mt->data_size + j] != (u8)(j * 7 + 1))
			break;
	KUNIT_EXPECT_EQ(test, j, mt->data_size);
	for (j = 0; j < mt->data_size; j++)
		mt->data[mt->data_size + j] = (u8)(j * 3);
	for (j = 0; j < mt->data_size; j++)
		if (mt->data[j] != (u8)(j * 3))
			break;
	KUNIT_EXPECT_EQ(test, j, mt->data_size);
}

static void lfq_queue_create_rejects_test(struct kunit *test)
{
	static const struct lfq_geometry bad[] = {
		{ .type = LFQ_TYPE_SPSC, .flags = 2, .slot_size = 64,
		  .slot_count = 64 },
		{ .type = LFQ_TYPE_SPSC, .flags = 0x80000000, .slot_size = 64,
		  .slot_count = 64 },
		{ .type = 0, .slot_size = 64, .slot_count = 64 },
		{ .type = LFQ_TYPE_MPMC + 1, .slot_size = 64, .slot_count = 64 },
		{ .type = LFQ_TYPE_MPMC, .flags = LFQ_CREATE_ELASTIC,
		  .slot_size = 4096, .slot_count = 64, .seg_min = 1,
		  .seg_max = 2 },
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
	struct lfq_geometry params = {
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

static struct kunit_case lfq_queue_cases[] = {
	KUNIT_CASE(lfq_queue_pages_test),
	KUNIT_CASE(lfq_queue_mpsc_pages_test),
	KUNIT_CASE(lfq_queue_create_rejects_test),
	KUNIT_CASE(lfq_queue_lifetime_test),
	{}
};

static struct kunit_suite lfq_queue_suite = {
	.name = "lfq_queue",
	.test_cases = lfq_queue_cases,
};

kunit_test_suite(lfq_queue_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's queue object");
MODULE_LICENSE("GPL");
