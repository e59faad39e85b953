// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpsc_kunit.c - KUnit suite lfq_mpsc: the multi-producer ring protocol
 * of kmod/proto/lfq_mpsc.h, on its own.
 *
 * Owns this file, its line in kmod/tests/Kbuild and its lines in
 * tests/vm/kunit.sh. The MPSC ring is not wired into lfq_queue.c yet, so
 * every case builds its ring in test-owned memory: kzalloc'd control
 * structs, a kcalloc'd array of slot_count commit words, and a slot area
 * whose pages are vmap()ed twice back to back (a span of up to slot_count
 * slots is contiguous across the wrap; lfq_mpsc_double_map_test checks it).
 *
 * Covered: empty and full rings, out-of-order commit, spans across the
 * wrap, many laps from high start indices against a model, discards at
 * the front, in the middle and everywhere, release clamping, hostile
 * commit words and hostile indices, a forged tail while a record is being
 * written, lfq_mpsc_ready(), the need_data and
 * need_space flags, and four producer kthreads racing the test thread,
 * without and with discards.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/hw_breakpoint.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "lfq_mpsc.h"
#include "lfq_ring.h"

/* ---------------------------------------------------------------------- */
/* Fixture: a ring in test-owned memory                                    */
/* ---------------------------------------------------------------------- */

/**
 * struct lfq_mt - per-test fixture, freed by lfq_mt_exit().
 * @pages:	the slot area's pages.
 * @nr_pages:	pages in @pages.
 * @data:	the slot area, mapped twice back to back.
 * @data_size:	bytes of one copy.
 * @prod:	the shared producer control struct.
 * @cons:	the shared consumer control struct.
 * @commit:	the shared commit words, one per slot.
 * @p:		a producer view of the ring.
 * @c:		the consumer handle.
 * @n:		slot_count.
 * @sz:		slot_size.
 */
struct lfq_mt {
	struct page **pages;
	unsigned int nr_pages;
	unsigned char *data;
	u64 data_size;
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	u64 *commit;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_cons c;
	u32 n;
	u32 sz;
};

static int lfq_mt_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct lfq_mt), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static void lfq_mt_exit(struct kunit *test)
{
	struct lfq_mt *mt = test->priv;
	unsigned int i;

	if (!mt)
		return;
	if (mt->data)
		vunmap(mt->data);
	if (mt->pages) {
		for (i = 0; i < mt->nr_pages; i++)
			if (mt->pages[i])
				__free_page(mt->pages[i]);
		kfree(mt->pages);
	}
	kfree(mt->commit);
	kfree(mt->prod);
	kfree(mt->cons);
}

/* A producer view: each producing thread has its own (it caches tail). */
static void lfq_mt_prod_view(struct lfq_mt *mt, struct lfq_mpsc_prod *p)
{
	p->ctl = mt->prod;
	p->peer = mt->cons;
	p->commit = mt->commit;
	p->data = mt->data;
	p->cached_tail = READ_ONCE(mt->cons->tail);
	p->slot_size = mt->sz;
	p->mask = mt->n - 1;
	p->max_tries = 0;
	p->claim = NULL;
}

static void lfq_mt_cons_view(struct lfq_mt *mt, struct lfq_mpsc_cons *c)
{
	c->ctl = mt->cons;
	c->peer = mt->prod;
	c->commit = mt->commit;
	c->data = mt->data;
	c->tail = READ_ONCE(mt->cons->tail);
	c->peeked = 0;
	c->discarded = 0;
	c->slot_size = mt->sz;
	c->mask = mt->n - 1;
}

/* Publish the lap before index @at: commit words of @at - n .. @at - 1. */
static void lfq_mt_lap_done(struct lfq_mt *mt, u64 at)
{
	u64 i;

	for (i = at - mt->n; i != at; i++)
		WRITE_ONCE(mt->commit[i & (mt->n - 1)], i + 1);
}

/* A ring of @slot_count slots whose indices all stand at @start. */
static struct lfq_mt *lfq_mt_open(struct kunit *test, u32 slot_size,
				  u32 slot_count, u64 start)
{
	struct lfq_mt *mt = test->priv;
	struct page **map;
	unsigned int i;

	mt->n = slot_count;
	mt->sz = slot_size;
	mt->data_size = (u64)slot_size * slot_count;
	KUNIT_ASSERT_EQ(test, mt->data_size % PAGE_SIZE, 0ULL);
	mt->nr_pages = mt->data_size >> PAGE_SHIFT;

	mt->pages = kcalloc(mt->nr_pages, sizeof(*mt->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mt->pages);
	for (i = 0; i < mt->nr_pages; i++) {
		mt->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		KUNIT_ASSERT_NOT_NULL(test, mt->pages[i]);
	}
	map = kcalloc(2 * mt->nr_pages, sizeof(*map), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map);
	for (i = 0; i < 2 * mt->nr_pages; i++)
		map[i] = mt->pages[i % mt->nr_pages];
	mt->data = vmap(map, 2 * mt->nr_pages, VM_MAP, PAGE_KERNEL);
	kfree(map);
	KUNIT_ASSERT_NOT_NULL(test, mt->data);

	mt->prod = kzalloc(sizeof(*mt->prod), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mt->prod);
	mt->cons = kzalloc(sizeof(*mt->cons), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mt->cons);
	mt->commit = kcalloc(slot_count, sizeof(*mt->commit), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mt->commit);

	/*
	 * The lap before @start is published, as in a ring that ran there.
	 * At 0 the zeroed words already say so, as in a new queue.
	 */
	if (start)
		lfq_mt_lap_done(mt, start);
	WRITE_ONCE(mt->prod->head, start);
	WRITE_ONCE(mt->cons->tail, start);
	lfq_mt_prod_view(mt, &mt->p);
	lfq_mt_cons_view(mt, &mt->c);
	return mt;
}

/* The shared words, as a peer would read them. */
static u64 lfq_mt_head(const struct lfq_mt *mt)
{
	return READ_ONCE(mt->prod->head);
}

static u64 lfq_mt_tail(const struct lfq_mt *mt)
{
	return READ_ONCE(mt->cons->tail);
}

static u64 lfq_mt_word(const struct lfq_mt *mt, u64 index)
{
	return READ_ONCE(mt->commit[index & (mt->n - 1)]);
}

static void lfq_mt_set_word(struct lfq_mt *mt, u64 index, u64 v)
{
	WRITE_ONCE(mt->commit[index & (mt->n - 1)], v);
}

/* Slot @index in the first copy of the slot area. */
static unsigned char *lfq_mt_slot(const struct lfq_mt *mt, u64 index)
{
	return mt->data + (index & (mt->n - 1)) * mt->sz;
}

static u32 lfq_mt_ready(const struct lfq_mt *mt, u64 tail, u32 max)
{
	return lfq_mpsc_ready(mt->commit, mt->n - 1, tail, max);
}

/* A span handed out by reserve/peek lies inside the double mapping. */
static bool lfq_mt_span_ok(const struct lfq_mt *mt, const void *ptr, u32 got)
{
	const unsigned char *s = ptr;
	u64 off;

	if (!got)
		return !ptr;
	if (!ptr || got > mt->n || s < mt->data)
		return false;
	off = s - mt->data;
	return off < mt->data_size && off % mt->sz == 0 &&
	       off + (u64)got * mt->sz <= 2 * mt->data_size;
}

/* Fill @count slots from @span with the records of indices @index... */
static void lfq_mt_fill(const struct lfq_mt *mt, void *span, u64 index,
			u32 count)
{
	unsigned char *s = span;
	u32 i;

	for (i = 0; i < count; i++, index++, s += mt->sz) {
		u64 *w = (u64 *)s;

		memset(s, (u8)index, mt->sz);
		w[0] = index;
		w[mt->sz / 8 - 1] = ~index;
	}
}

/* The record of @index: first word, last word and a byte in between. */
static bool lfq_mt_rec_ok(const struct lfq_mt *mt, const void *slot,
			  u64 index)
{
	const u64 *w = slot;

	return w[0] == index && w[mt->sz / 8 - 1] == ~index &&
	       ((const u8 *)slot)[8] == (u8)index;
}

/* Reserve up to @want slots through @p, fill them; NULL when full. */
static void *lfq_mt_reserve(struct lfq_mt *mt, struct lfq_mpsc_prod *p,
			    u32 want, struct lfq_mpsc_resv *r)
{
	void *w = lfq_mpsc_reserve(p, want, r);

	if (w)
		lfq_mt_fill(mt, w, r->index, r->count);
	return w;
}

/* Reserve, fill and commit up to @want slots; returns the count. */
static u32 lfq_mt_push(struct lfq_mt *mt, u32 want)
{
	struct lfq_mpsc_resv r;

	if (!lfq_mt_reserve(mt, &mt->p, want, &r))
		return 0;
	lfq_mpsc_commit(&mt->p, &r);
	return r.count;
}

/*
 * Peek up to @want slots, check they hold the records of their indices,
 * release them. Returns the count, or U32_MAX on a bad record.
 */
static u32 lfq_mt_pop(struct lfq_mt *mt, u32 want)
{
	const unsigned char *s;
	u32 got, i;

	s = lfq_mpsc_peek(&mt->c, want, &got);
	if (!lfq_mt_span_ok(mt, s, got))
		return U32_MAX;
	for (i = 0; i < got; i++)
		if (!lfq_mt_rec_ok(mt, s + (size_t)i * mt->sz, mt->c.tail + i))
			return U32_MAX;
	lfq_mpsc_release(&mt->c, got);
	return got;
}

/* xorshift64: deterministic "random" values. */
static u64 lfq_mt_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---------------------------------------------------------------------- */
/* Single-threaded cases                                                   */
/* ---------------------------------------------------------------------- */

static void lfq_mpsc_double_map_test(struct kunit *test)
{
	/* 128 slots of 64 bytes: two pages, mapped as four. */
	struct lfq_mt *mt = lfq_mt_open(test, 64, 128, 0);
	unsigned int i;
	u64 j;

	KUNIT_ASSERT_EQ(test, mt->nr_pages, 2U);
	for (i = 0; i < 2 * mt->nr_pages; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test,
					vmalloc_to_page(mt->data +
							i * PAGE_SIZE),
					mt->pages[i % mt->nr_pages],
					"mapped page %u", i);
	/* Everything starts zeroed: slots, commit words, flags. */
	for (j = 0; j < 2 * mt->data_size; j++)
		if (mt->data[j])
			break;
	KUNIT_EXPECT_EQ(test, j, 2 * mt->data_size);
	for (i = 0; i < mt->n; i++)
		KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, i), 0ULL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mt->cons->need_data), 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mt->prod->need_space), 0U);

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

static void lfq_mpsc_empty_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_resv r;
	u32 got = 123;

	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 123;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 123;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, U32_MAX, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 0, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);

	/* Releasing after an empty peek moves nothing. */
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, 5));
	KUNIT_EXPECT_EQ(test, mt->c.tail, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 0ULL);

	/* Reserved, written but uncommitted slots are invisible. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 4, &r));
	KUNIT_ASSERT_EQ(test, r.count, 4U);
	KUNIT_EXPECT_EQ(test, r.index, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), 4ULL);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 4, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 0, mt->n), 0U);

	/* The commit makes all four visible, then the ring is empty again. */
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, 3), 4ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 4U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 4ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 4, mt->n), 0U);
}

static void lfq_mpsc_fill_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_prod q;
	struct lfq_mpsc_resv r;
	const unsigned char *s;
	u32 total = 0, want = 1, got, i;
	void *w;

	/* All N slots are usable, reserved in mixed batches by two views. */
	lfq_mt_prod_view(mt, &q);
	while (total < mt->n) {
		struct lfq_mpsc_prod *v = (total & 1) ? &q : &mt->p;

		w = lfq_mt_reserve(mt, v, want, &r);
		KUNIT_ASSERT_NOT_NULL_MSG(test, w, "at %u", total);
		KUNIT_ASSERT_EQ(test, r.count, min(want, mt->n - total));
		KUNIT_ASSERT_EQ(test, r.index, (u64)total);
		lfq_mpsc_commit(v, &r);
		total += r.count;
		want = want % 7 + 1;
	}
	KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), (u64)mt->n);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 0, U32_MAX), mt->n);

	/* Then the ring is full, for any request, through either view. */
	r.count = 99;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mt->p, 1, &r));
	KUNIT_EXPECT_EQ(test, r.count, 0U);
	r.count = 99;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&q, mt->n, &r));
	KUNIT_EXPECT_EQ(test, r.count, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), (u64)mt->n);

	/* One release frees exactly one slot: the old slot 0. */
	KUNIT_ASSERT_EQ(test, lfq_mt_pop(mt, 1), 1U);
	w = lfq_mt_reserve(mt, &q, mt->n, &r);
	KUNIT_ASSERT_EQ(test, r.count, 1U);
	KUNIT_EXPECT_PTR_EQ(test, w, (void *)mt->data);
	KUNIT_EXPECT_EQ(test, r.index, (u64)mt->n);
	lfq_mpsc_commit(&q, &r);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mt->p, 1, &r));

	/* The consumer takes all N at once, the last through the 2nd copy. */
	s = lfq_mpsc_peek(&mt->c, U32_MAX, &got);
	KUNIT_ASSERT_EQ(test, got, mt->n);
	KUNIT_ASSERT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, 1));
	for (i = 0; i < got; i++)
		KUNIT_ASSERT_TRUE_MSG(test,
				      lfq_mt_rec_ok(mt, s + (size_t)i * mt->sz,
						    1 + i), "record %u", i);
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, 1), 0U);

	/* An empty ring grants at most N. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, 2 * mt->n, &r));
	KUNIT_EXPECT_EQ(test, r.count, mt->n);
}

static void lfq_mpsc_commit_order_test(struct kunit *test)
{
	const u64 start = (1ULL << 32) - 2;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, start);
	struct lfq_mpsc_prod pa, pb;
	struct lfq_mpsc_resv a, b, c;
	const unsigned char *s;
	u32 got;

	lfq_mt_prod_view(mt, &pa);
	lfq_mt_prod_view(mt, &pb);

	/* Reserve A then B, commit B first: the consumer sees nothing. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pa, 1, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pb, 1, &b));
	KUNIT_EXPECT_EQ(test, a.index, start);
	KUNIT_EXPECT_EQ(test, b.index, start + 1);
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&pb, &b));
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, start, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, mt->c.tail, start);

	/* Commit A: both, in index order. */
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&pa, &a));
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, start));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, start));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s + mt->sz, start + 1));
	lfq_mpsc_release(&mt->c, got);

	/* Batches: A(3) B(2) C(1); C then A committed: only A is seen. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pa, 3, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pb, 2, &b));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &c));
	KUNIT_EXPECT_EQ(test, b.index, a.index + 3);
	KUNIT_EXPECT_EQ(test, c.index, b.index + 2);
	lfq_mpsc_commit(&mt->p, &c);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	lfq_mpsc_commit(&pa, &a);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, a.index, mt->n), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);

	/* B completes the run: B and C come out together. */
	lfq_mpsc_commit(&pb, &b);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, 1), 1U);
	KUNIT_EXPECT_EQ(test, mt->c.tail, b.index + 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 2U);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), c.index + 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), c.index + 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);
}

static void lfq_mpsc_batch_wrap_test(struct kunit *test)
{
	/* 128 slots of 64 bytes (two pages); indices start at slot N-3. */
	const u64 start = 5 * 128 - 3;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 128, start);
	const u32 n = mt->n, sz = mt->sz;
	const unsigned char *s;
	struct lfq_mpsc_resv r;
	unsigned char *w;
	u32 i, got;

	/* Eight slots, N-3..N-1 and 0..4, as one contiguous span. */
	w = lfq_mpsc_reserve(&mt->p, 8, &r);
	KUNIT_ASSERT_EQ(test, r.count, 8U);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(mt->data + (n - 3) * sz));
	KUNIT_EXPECT_TRUE(test, lfq_mt_span_ok(mt, w, r.count));
	KUNIT_EXPECT_GT(test, (u64)(w + 8 * sz - mt->data), mt->data_size);
	for (i = 0; i < 8; i++)
		memset(w + (size_t)i * sz, 0x10 + i, sz);
	lfq_mpsc_commit(&mt->p, &r);

	/* Through the first copy: the bytes are in slots N-3..N-1, 0..4. */
	for (i = 0; i < 8; i++) {
		const unsigned char *slot = lfq_mt_slot(mt, start + i);

		KUNIT_EXPECT_EQ_MSG(test, slot[0], 0x10 + i, "slot %u", i);
		KUNIT_EXPECT_EQ(test, slot[sz - 1], 0x10 + i);
	}
	KUNIT_EXPECT_EQ(test, mt->data[5 * sz], 0);	/* slot 5 untouched */

	/* The consumer gets the same span and all eight commit words. */
	s = lfq_mpsc_peek(&mt->c, n, &got);
	KUNIT_ASSERT_EQ(test, got, 8U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s, (const void *)w);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, s[(size_t)i * sz + 1], 0x10 + i);
	lfq_mpsc_release(&mt->c, got);

	/* A whole-ring span from slot 5 of the first copy to slot 4 of the
	 * second: records written through it read back slot by slot.
	 */
	w = lfq_mt_reserve(mt, &mt->p, n, &r);
	KUNIT_ASSERT_EQ(test, r.count, n);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(mt->data + 5 * sz));
	KUNIT_EXPECT_TRUE(test, lfq_mt_span_ok(mt, w, r.count));
	lfq_mpsc_commit(&mt->p, &r);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_TRUE_MSG(test,
				      lfq_mt_rec_ok(mt,
						    lfq_mt_slot(mt, r.index + i),
						    r.index + i),
				      "record %u", i);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, n), n);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), start + 8 + n);
}

struct lfq_mpsc_start {
	const char *name;
	u64 start;
};

static const struct lfq_mpsc_start lfq_mpsc_starts[] = {
	{ "start-0", 0 },
	{ "start-2^32-5", (1ULL << 32) - 5 },
	{ "start-2^40-5", (1ULL << 40) - 5 },
	/* The highest lap this run can use below the discard bit. */
	{ "start-2^63-2^20", (1ULL << 63) - (1ULL << 20) },
};

static void lfq_mpsc_start_desc(const struct lfq_mpsc_start *s, char *desc)
{
	strscpy(desc, s->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(lfq_mpsc_start, lfq_mpsc_starts, lfq_mpsc_start_desc);

enum { LFQ_MT_FREE, LFQ_MT_HELD, LFQ_MT_COMMITTED, LFQ_MT_DISCARDED };

#define LFQ_MT_VIEWS	3

/*
 * Three producer views and the consumer, many laps of an 8-slot ring, with
 * reservations finished in random order (some discarded) and peeks of
 * random size: every peek is checked against a model of the slot states.
 */
static void lfq_mpsc_laps_test(struct kunit *test)
{
	const struct lfq_mpsc_start *st = test->param_value;
	struct lfq_mt *mt = lfq_mt_open(test, 512, 8, st->start);
	struct lfq_mpsc_prod views[LFQ_MT_VIEWS];
	struct lfq_mpsc_resv held[LFQ_MT_VIEWS];
	u64 head = st->start, out = st->start, discarded = 0, finished = 0;
	u64 rnd = 0x2545f4914f6cdd1dULL;
	const u32 n = mt->n;
	u8 state[8];
	unsigned int round, k;
	u32 i;

	KUNIT_ASSERT_EQ(test, n, (u32)ARRAY_SIZE(state));
	memset(state, LFQ_MT_FREE, sizeof(state));
	for (k = 0; k < LFQ_MT_VIEWS; k++) {
		lfq_mt_prod_view(mt, &views[k]);
		held[k].count = 0;
	}

	for (round = 0; round < 3000; round++) {
		const unsigned char *s;
		u32 want, expect, got, rel, finish;

		/* Every idle view reserves; the grant is what is free. */
		for (k = 0; k < LFQ_MT_VIEWS; k++) {
			if (held[k].count)
				continue;
			want = 1 + (round + k) % 4;
			expect = min_t(u64, want, n - (head - out));
			if (!lfq_mt_reserve(mt, &views[k], want, &held[k])) {
				KUNIT_ASSERT_EQ(test, expect, 0U);
				KUNIT_ASSERT_EQ(test, held[k].count, 0U);
				continue;
			}
			KUNIT_ASSERT_EQ(test, held[k].count, expect);
			KUNIT_ASSERT_EQ(test, held[k].index, head);
			for (i = 0; i < held[k].count; i++) {
				KUNIT_ASSERT_EQ(test, state[(head + i) % n],
						LFQ_MT_FREE);
				state[(head + i) % n] = LFQ_MT_HELD;
			}
			head += held[k].count;
		}
		KUNIT_ASSERT_EQ(test, lfq_mt_head(mt), head);

		/* Finish 0, 1 or 2 reservations, in any order. */
		for (finish = lfq_mt_rand(&rnd) % 3; finish; finish--) {
			k = lfq_mt_rand(&rnd) % LFQ_MT_VIEWS;
			if (!held[k].count)
				continue;
			if (++finished % 5 == 0) {
				lfq_mpsc_discard(&views[k], &held[k]);
				for (i = 0; i < held[k].count; i++)
					state[(held[k].index + i) % n] =
						LFQ_MT_DISCARDED;
			} else {
				lfq_mpsc_commit(&views[k], &held[k]);
				for (i = 0; i < held[k].count; i++)
					state[(held[k].index + i) % n] =
						LFQ_MT_COMMITTED;
			}
			held[k].count = 0;
		}

		/* The model's answer: skip discards, count the run. */
		while (out != head && state[out % n] == LFQ_MT_DISCARDED) {
			state[out % n] = LFQ_MT_FREE;
			out++;
			discarded++;
		}
		want = 1 + (round * 7) % (n + 2);
		for (expect = 0; expect < min(want, n) && out + expect != head;
		     expect++)
			if (state[(out + expect) % n] != LFQ_MT_COMMITTED)
				break;

		s = lfq_mpsc_peek(&mt->c, want, &got);
		KUNIT_ASSERT_EQ_MSG(test, got, expect, "round %u", round);
		KUNIT_ASSERT_EQ(test, mt->c.tail, out);
		KUNIT_ASSERT_EQ(test, lfq_mt_tail(mt), out);
		KUNIT_ASSERT_EQ(test, mt->c.discarded, discarded);
		KUNIT_ASSERT_TRUE(test, lfq_mt_span_ok(mt, s, got));
		if (got)
			KUNIT_ASSERT_PTR_EQ(test, (const void *)s,
					    (const void *)lfq_mt_slot(mt, out));
		for (i = 0; i < got; i++)
			KUNIT_ASSERT_TRUE_MSG(test,
					      lfq_mt_rec_ok(mt,
							    s + (size_t)i * mt->sz,
							    out + i),
					      "round %u index %llu", round,
					      out + i);
		/* Sometimes give one back for the next peek. */
		rel = (got && round % 4 == 0) ? got - 1 : got;
		lfq_mpsc_release(&mt->c, rel);
		for (i = 0; i < rel; i++)
			state[(out + i) % n] = LFQ_MT_FREE;
		out += rel;
		KUNIT_ASSERT_EQ(test, lfq_mt_tail(mt), out);
	}

	/* Finish everything: the ring drains to exactly the head. */
	for (k = 0; k < LFQ_MT_VIEWS; k++)
		if (held[k].count)
			lfq_mpsc_commit(&views[k], &held[k]);
	for (round = 0; round < 2 * n; round++) {
		u32 got = lfq_mt_pop(mt, n);

		KUNIT_ASSERT_NE(test, got, U32_MAX);
		if (!got)
			break;
	}
	KUNIT_EXPECT_EQ(test, mt->c.tail, head);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), head);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, head, n), 0U);
	KUNIT_EXPECT_GT(test, head - st->start, 100ULL * n);
	KUNIT_EXPECT_GT(test, discarded, 0ULL);
	KUNIT_EXPECT_LT(test, head, 1ULL << 63);
}

static void lfq_mpsc_discard_front_test(struct kunit *test)
{
	const u64 start = (1ULL << 40) - 5;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, start);
	struct lfq_mpsc_resv a, b;
	const unsigned char *s;
	u32 got;

	/* Discard A (2 slots), commit B (3): B is the first thing seen. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 3, &b));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_discard(&mt->p, &a));
	KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, start),
			(start + 1) | LFQ_MPSC_DISCARDED);
	KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, start + 1),
			(start + 2) | LFQ_MPSC_DISCARDED);
	/* Discarded slots are ready (a waiter must wake to skip them)... */
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, start, mt->n), 2U);
	/* ...but never handed out. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 2ULL);
	/* Skipped slots are freed at once. */
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), start + 2);

	lfq_mpsc_commit(&mt->p, &b);
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 3U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, start + 2));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, start + 2));
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), start + 5);

	/* Skips do not count against want: discard 3, commit 1, peek 1. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 3, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &b));
	lfq_mpsc_commit(&mt->p, &b);
	lfq_mpsc_discard(&mt->p, &a);
	s = lfq_mpsc_peek(&mt->c, 1, &got);
	KUNIT_ASSERT_EQ(test, got, 1U);
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, b.index));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 5ULL);
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);

	/* All slots are free again. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, mt->n, &a));
	KUNIT_EXPECT_EQ(test, a.count, mt->n);
}

static void lfq_mpsc_discard_middle_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 1000);
	struct lfq_mpsc_resv a, b, c, d;
	const unsigned char *s;
	u32 got;

	/* A(2) committed, B(1) discarded, C(2) committed, D(1) discarded. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &b));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &c));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &d));
	lfq_mpsc_discard(&mt->p, &d);
	lfq_mpsc_commit(&mt->p, &c);
	lfq_mpsc_discard(&mt->p, &b);
	lfq_mpsc_commit(&mt->p, &a);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 1000, mt->n), 6U);

	/* B ends A's span; nothing is skipped yet. */
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, 1000));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);
	/* Part of A only: the rest is seen again, still stopping at B. */
	lfq_mpsc_release(&mt->c, 1);
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 1U);
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, 1001));
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 1002ULL);

	/* The next peek skips B and gives C. */
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, c.index));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, c.index));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s + mt->sz, c.index + 1));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 1ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 1003ULL);
	lfq_mpsc_release(&mt->c, got);

	/* Then D is skipped and the ring is empty. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 2ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), lfq_mt_head(mt));
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 1006ULL);
}

static void lfq_mpsc_discard_all_test(struct kunit *test)
{
	static const u32 chunks[] = { 5, 7, 1, 19, 32 };
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 77);
	struct lfq_mpsc_resv r[ARRAY_SIZE(chunks)], full;
	unsigned int lap, i;
	u32 got;

	for (lap = 1; lap <= 2; lap++) {
		u64 head = lfq_mt_head(mt);

		/* The whole ring, reserved in chunks, discarded backwards. */
		for (i = 0; i < ARRAY_SIZE(chunks); i++) {
			KUNIT_ASSERT_NOT_NULL(test,
					      lfq_mt_reserve(mt, &mt->p,
							     chunks[i], &r[i]));
			KUNIT_ASSERT_EQ(test, r[i].count, chunks[i]);
		}
		KUNIT_ASSERT_NULL(test, lfq_mpsc_reserve(&mt->p, 1, &full));
		KUNIT_ASSERT_EQ(test, full.count, 0U);
		i = ARRAY_SIZE(chunks);
		while (i--)
			lfq_mpsc_discard(&mt->p, &r[i]);
		KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, head, U32_MAX), mt->n);

		/* One peek skips them all: empty, all counted, all free. */
		got = 123;
		KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
		KUNIT_EXPECT_EQ(test, got, 0U);
		KUNIT_EXPECT_EQ(test, mt->c.discarded, (u64)lap * mt->n);
		KUNIT_EXPECT_EQ(test, mt->c.tail, head + mt->n);
		KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), head + mt->n);
		KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, head + mt->n, mt->n),
				0U);
		KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
		KUNIT_EXPECT_EQ(test, mt->c.discarded, (u64)lap * mt->n);
	}

	/* The drained ring works: a full-ring grant, then one record. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, mt->n, &r[0]));
	KUNIT_EXPECT_EQ(test, r[0].count, mt->n);
	KUNIT_EXPECT_EQ(test, r[0].index, 77ULL + 2 * mt->n);
	lfq_mpsc_discard(&mt->p, &r[0]);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, lfq_mt_push(mt, 1), 1U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 1U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 3ULL * mt->n);
}

static void lfq_mpsc_release_clamp_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_resv r;
	u32 i, got;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 1), 1U);

	/* Release more than peeked: only the peek is given back. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 2, &got));
	KUNIT_ASSERT_EQ(test, got, 2U);
	lfq_mpsc_release(&mt->c, 10);
	KUNIT_EXPECT_EQ(test, mt->c.tail, 2ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 2ULL);

	/* Nothing peeked: nothing released. */
	lfq_mpsc_release(&mt->c, 1);
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, U32_MAX));
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 2ULL);

	/* A peek asking for more than there is grants what there is. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 3U);
	lfq_mpsc_release(&mt->c, mt->n);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 5ULL);
	/* Never past what was committed. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	lfq_mpsc_release(&mt->c, 3);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 5ULL);

	/* A new peek replaces the old one. */
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 2), 2U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 2, &got));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
	lfq_mpsc_release(&mt->c, 2);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 6ULL);
	lfq_mpsc_release(&mt->c, 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 6ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, 1), 1U);

	/* A peek that only skips discards leaves nothing to release. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, 2, &r));
	lfq_mpsc_discard(&mt->p, &r);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 4, &got));
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 9ULL);
	lfq_mpsc_release(&mt->c, 4);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), 9ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), lfq_mt_head(mt));
}

/* No value but @index + 1 (or it with the discard bit) lets a slot go. */
static void lfq_mpsc_hostile_expect_none(struct kunit *test, struct lfq_mt *mt,
					 u64 t, u64 v)
{
	const void *s;
	u32 got = 77;

	lfq_mt_set_word(mt, t, v);
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_EXPECT_NULL_MSG(test, s, "word %llx at index %llx", v, t);
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, mt->c.tail, t);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, t, mt->n), 0U);
}

static void lfq_mpsc_hostile_commit_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, (1ULL << 40) - 5);
	const u64 n = mt->n;
	u64 rnd = 0x0123456789abcdefULL, t, ok, v;
	const u64 *s;
	unsigned int i;
	u32 got;

	/* Two laps and a bit: every word holds a previous lap's index + 1. */
	for (i = 0; i < 2 * n + 3; i++) {
		KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 1), 1U);
		KUNIT_ASSERT_EQ(test, lfq_mt_pop(mt, 1), 1U);
	}
	t = mt->c.tail;
	ok = t + 1;
	KUNIT_ASSERT_EQ(test, lfq_mt_word(mt, t), ok - n);
	KUNIT_ASSERT_EQ(test, lfq_mt_word(mt, t - 1), ok - 1);

	/* Garbage, nearby and previous/next-lap values, wrong discards. */
	lfq_mpsc_hostile_expect_none(test, mt, t, 0);
	lfq_mpsc_hostile_expect_none(test, mt, t, 1);
	lfq_mpsc_hostile_expect_none(test, mt, t, t);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok + 1);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok - n);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok - 2 * n);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok + n);
	lfq_mpsc_hostile_expect_none(test, mt, t, (u32)ok);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok + (1ULL << 32));
	lfq_mpsc_hostile_expect_none(test, mt, t, ~ok);
	lfq_mpsc_hostile_expect_none(test, mt, t, U64_MAX);
	lfq_mpsc_hostile_expect_none(test, mt, t, LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t, t | LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t,
				     (ok + 1) | LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t,
				     (ok - n) | LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t,
				     (ok + n) | LFQ_MPSC_DISCARDED);
	/* Every single-bit error of both good values (bit 63 is the flag). */
	for (i = 0; i < 63; i++) {
		lfq_mpsc_hostile_expect_none(test, mt, t, ok ^ (1ULL << i));
		lfq_mpsc_hostile_expect_none(test, mt, t,
					     (ok | LFQ_MPSC_DISCARDED) ^
					     (1ULL << i));
	}
	for (i = 0; i < 10000; i++) {
		v = lfq_mt_rand(&rnd);
		if ((v & ~LFQ_MPSC_DISCARDED) == ok)
			continue;
		lfq_mpsc_hostile_expect_none(test, mt, t, v);
	}

	/* A good word then garbage: exactly one slot. */
	lfq_mt_set_word(mt, t, ok);
	lfq_mt_set_word(mt, t + 1, ok);
	s = lfq_mpsc_peek(&mt->c, n, &got);
	KUNIT_EXPECT_EQ(test, got, 1U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, t));
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, t, mt->n), 1U);
	/* The discard bit on the right index is a discard. */
	lfq_mt_set_word(mt, t, ok | LFQ_MPSC_DISCARDED);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, n, &got));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 1ULL);
	KUNIT_EXPECT_EQ(test, mt->c.tail, t + 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), t + 1);
}

/*
 * Hostile head and tail words: whatever they hold, a grant is exactly what
 * head - tail allows (nothing when that is impossible) and lies inside the
 * double mapping; the consumer's counts stay within the ring too.
 */
static void lfq_mpsc_hostile_indices_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	const u64 n = mt->n;
	static const u64 pairs[][2] = {
		{ 1000, 1001 }, { 1000, 1064 }, { 1000, 1000 - 65 },
		{ 1000, 0 }, { 1000, U64_MAX }, { U64_MAX, 0 },
		{ 1ULL << 63, 0 }, { 0, 1ULL << 63 }, { 1ULL << 40, 1 },
	};
	u64 rnd = 0x9e3779b97f4a7c15ULL, h, t, used, room;
	struct lfq_mpsc_resv r, last = { };
	const unsigned char *s;
	unsigned char *w;
	unsigned int i;
	u32 want, got, max;

	/* Impossible pairs read as a full ring, cached tail or reloaded. */
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		h = pairs[i][0];
		t = pairs[i][1];
		WRITE_ONCE(mt->prod->head, h);
		WRITE_ONCE(mt->cons->tail, t);
		lfq_mt_prod_view(mt, &mt->p);
		r.count = 77;
		KUNIT_EXPECT_NULL_MSG(test, lfq_mpsc_reserve(&mt->p, 1, &r),
				      "head %llu tail %llu", h, t);
		KUNIT_EXPECT_EQ(test, r.count, 0U);
		mt->p.cached_tail = h - n;
		KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mt->p, n, &r));
		KUNIT_EXPECT_EQ(test, r.count, 0U);
		KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), h);
	}

	for (i = 0; i < 4000; i++) {
		h = lfq_mt_rand(&rnd);
		t = (i & 1) ? h - (lfq_mt_rand(&rnd) % (4 * n)) + 2 * n :
			      lfq_mt_rand(&rnd);
		want = 1 + lfq_mt_rand(&rnd) % (2 * n);
		used = h - t;
		room = used > n ? 0 : n - used;
		WRITE_ONCE(mt->prod->head, h);
		WRITE_ONCE(mt->cons->tail, t);
		/* Published up to h, so the tail alone limits the grant. */
		lfq_mt_lap_done(mt, h);
		if (i % 4 == 3)
			/* A private cache as wrong as the shared word. */
			mt->p.cached_tail = lfq_mt_rand(&rnd);
		else
			mt->p.cached_tail = h - n;	/* force a reload */
		w = lfq_mpsc_reserve(&mt->p, want, &r);
		KUNIT_ASSERT_TRUE_MSG(test, lfq_mt_span_ok(mt, w, r.count),
				      "head %llu tail %llu count %u", h, t,
				      r.count);
		KUNIT_ASSERT_LE(test, r.count, want);
		if (i % 4 != 3)
			KUNIT_ASSERT_EQ_MSG(test, (u64)r.count,
					    min_t(u64, want, room),
					    "head %llu tail %llu", h, t);
		KUNIT_ASSERT_EQ(test, lfq_mt_head(mt), h + r.count);
		if (!w)
			continue;
		KUNIT_ASSERT_EQ(test, r.index, h);
		KUNIT_ASSERT_PTR_EQ(test, (void *)w,
				    (void *)lfq_mt_slot(mt, h));
		/* Writing all of it is safe (KASAN watches the vmap area). */
		memset(w, 0x5a, (size_t)r.count * mt->sz);
		lfq_mpsc_commit(&mt->p, &r);
		last = r;

		/* A consumer standing at that index sees exactly it. */
		lfq_mt_cons_view(mt, &mt->c);
		mt->c.tail = h;
		s = lfq_mpsc_peek(&mt->c, want, &got);
		KUNIT_ASSERT_EQ(test, got, r.count);
		KUNIT_ASSERT_PTR_EQ(test, (const void *)s, (const void *)w);
		lfq_mpsc_release(&mt->c, got);
	}

	/*
	 * A consumer anywhere, and a wait armed at any tail: bounded, and
	 * exact inside the last span granted above (published again: later
	 * rounds rewrote every word).
	 */
	KUNIT_ASSERT_GT(test, last.count, 0U);
	lfq_mpsc_commit(&mt->p, &last);
	for (i = 0; i < 4000; i++) {
		u32 off = lfq_mt_rand(&rnd) % last.count;
		u32 left = last.count - off;

		t = (i & 1) ? lfq_mt_rand(&rnd) : last.index + off;
		want = 1 + lfq_mt_rand(&rnd) % (4 * n);
		max = (i & 2) ? U32_MAX : want;
		lfq_mt_cons_view(mt, &mt->c);
		mt->c.tail = t;
		s = lfq_mpsc_peek(&mt->c, want, &got);
		KUNIT_ASSERT_TRUE(test, lfq_mt_span_ok(mt, s, got));
		KUNIT_ASSERT_LE(test, got, min_t(u32, want, n));
		if (!(i & 1)) {
			KUNIT_ASSERT_EQ(test, got, min(want, left));
			KUNIT_ASSERT_EQ(test, s[0], 0x5a);
			KUNIT_ASSERT_EQ(test, s[(size_t)got * mt->sz - 1], 0x5a);
		}
		lfq_mpsc_release(&mt->c, got);
		WRITE_ONCE(mt->cons->tail, t);
		got = lfq_mpsc_arm_data_wait(mt->cons, mt->commit, mt->n - 1,
					     max);
		KUNIT_ASSERT_LE(test, got, min_t(u32, max, n));
		if (!(i & 1))
			KUNIT_ASSERT_EQ(test, got, min(max, left));
		KUNIT_ASSERT_LE(test, lfq_mt_ready(mt, t, U32_MAX), (u32)n);
	}
}

/*
 * The CVE-2024-41009 class: a consumer forges its tail (tail = head, "all
 * consumed") while a record is still being written. Other reservations
 * lap the ring up to that record's slot and stop there, one slot at a
 * time or in a batch; the record stays intact. Once it is published the
 * slot is granted again (the forger loses it: its own doing).
 */
static void lfq_mpsc_forged_tail_test(struct kunit *test)
{
	const u64 start = (1ULL << 32) - 5;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, start);
	const u64 n = mt->n, at = start + 4;
	struct lfq_mpsc_resv held, r;
	struct lfq_mpsc_prod slow;
	unsigned int k;
	u64 i;

	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 4), 4U);
	lfq_mt_prod_view(mt, &slow);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &slow, 1, &held));
	KUNIT_ASSERT_EQ(test, held.index, at);

	for (i = at + 1; i != start + n; i++) {
		WRITE_ONCE(mt->cons->tail, lfq_mt_head(mt));
		KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
		KUNIT_ASSERT_EQ(test, r.index, i);
		lfq_mpsc_commit(&mt->p, &r);
	}
	/* A batch over the slots before it stops short of it. */
	WRITE_ONCE(mt->cons->tail, lfq_mt_head(mt));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, n, &r));
	KUNIT_EXPECT_EQ(test, r.index, start + n);
	KUNIT_EXPECT_EQ(test, r.count, 4U);
	lfq_mpsc_commit(&mt->p, &r);
	/* Nothing reaches it, through either view, whatever the size. */
	for (k = 0; k < 4; k++) {
		WRITE_ONCE(mt->cons->tail, lfq_mt_head(mt));
		r.count = 77;
		KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(k & 1 ? &slow : &mt->p,
							 k & 2 ? n : 1, &r));
		KUNIT_EXPECT_EQ(test, r.count, 0U);
	}
	KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), at + n);
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, lfq_mt_slot(mt, at), at));

	/* Published (discarded counts too): the slot is granted again. */
	lfq_mpsc_discard(&slow, &held);
	WRITE_ONCE(mt->cons->tail, lfq_mt_head(mt));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, n, &r));
	KUNIT_EXPECT_EQ(test, r.index, at + n);
	KUNIT_EXPECT_EQ(test, (u64)r.count, n);
}

static void lfq_mpsc_ready_test(struct kunit *test)
{
	const u64 st = (1ULL << 32) - 3;
	struct lfq_mt *mt = lfq_mt_open(test, 256, 16, st);
	struct lfq_mpsc_resv a, b, x, d;

	/* 3 committed, 2 discarded, 1 held, 2 committed. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 3, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &b));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &x));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &d));
	lfq_mpsc_commit(&mt->p, &a);
	lfq_mpsc_discard(&mt->p, &b);
	lfq_mpsc_commit(&mt->p, &d);

	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 0), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 1), 1U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 3), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 4), 4U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 5), 5U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, mt->n), 5U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, U32_MAX), 5U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, x.index, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, d.index, mt->n), 2U);
	/* The same words are not ready for another lap. */
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st + mt->n, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st - mt->n, mt->n), 0U);

	lfq_mpsc_commit(&mt->p, &x);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, mt->n), 8U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 7), 7U);

	/* A full ring is N ready, never more. */
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, mt->n), mt->n - 8);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, U32_MAX), mt->n);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st + 1, U32_MAX), mt->n - 1);

	/* Counting moves nothing. */
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), st);
	KUNIT_EXPECT_EQ(test, mt->c.tail, st);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);
}

static void lfq_mpsc_wakeup_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	const u32 mask = mt->n - 1;
	struct lfq_mpsc_resv r;
	u32 got;

	/* No sleeper announced: commit and discard report none. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&mt->p, &r));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_discard(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 1U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);

	/* Arming sets need_data and returns the ready count. */
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(mt->cons, mt->commit,
						     mask, 4), 0U);
	KUNIT_EXPECT_NE(test, READ_ONCE(mt->cons->need_data), 0U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_commit(&mt->p, &r));
	/* Still set (the waker clears it): reported again, discard too. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_discard(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(mt->cons, mt->commit,
						     mask, 4), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(mt->cons, mt->commit,
						     mask, 2), 2U);
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(mt->cons, mt->commit,
						     mask, 0), 0U);

	/* The waker's clear: no more reports. */
	WRITE_ONCE(mt->cons->need_data, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&mt->p, &r));
	/* Any non-zero flag counts. */
	WRITE_ONCE(mt->cons->need_data, 0x80000000U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_commit(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(mt->cons, mt->commit,
						     mask, mt->n), 5U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mt->cons->need_data), 1U);

	/* Release reports a producer that announced it sleeps for space. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 2, &got));
	WRITE_ONCE(mt->prod->need_space, 1);
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_release(&mt->c, got));
	WRITE_ONCE(mt->prod->need_space, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 2U);
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, got));
	/* The wait is armed from the shared tail: nothing is left. */
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(mt->cons, mt->commit,
						     mask, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 2ULL);
}

/*
 * An interleaving forced with a data breakpoint on prod_ctl->head: the
 * breakpoint traps right after the producer under test has loaded head,
 * and the handler plays what other CPUs may do while that producer is
 * preempted there (another producer reserves and commits, the consumer
 * takes it all), then the producer goes on with the head it loaded.
 */
struct lfq_mpsc_preempt {
	struct lfq_mt *mt;
	struct lfq_mpsc_prod other;
	struct task_struct *victim;
	unsigned int hits;
	u32 moved;
	bool acted;
};

static void lfq_mpsc_preempt_hit(struct perf_event *bp,
				 struct perf_sample_data *data,
				 struct pt_regs *regs)
{
	struct lfq_mpsc_preempt *ip = bp->overflow_handler_context;
	struct lfq_mt *mt = ip->mt;
	struct lfq_mpsc_resv r;
	u32 got;

	if (current != ip->victim)
		return;
	ip->hits++;
	if (ip->acted)
		return;
	ip->acted = true;
	/* Breakpoints are off while the handler runs: no recursion. */
	if (!lfq_mt_reserve(mt, &ip->other, 3, &r))
		return;
	lfq_mpsc_commit(&ip->other, &r);
	if (lfq_mpsc_peek(&mt->c, mt->n, &got))
		lfq_mpsc_release(&mt->c, got);
	ip->moved = got;
}

/*
 * A producer whose cached tail is a lap old loads head H, is preempted,
 * and meanwhile the others move head and tail past H. Its reload of tail
 * then finds tail ahead of its stale H, and the clamp in lfq_ring_count()
 * (meant for hostile indices) reads that as a full ring: reserve answers
 * "full" on a ring that was never full during the call. Reading head
 * again after the tail reload would see head >= tail.
 */
static void lfq_mpsc_stale_head_test(struct kunit *test)
{
	const u64 st = 1000;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, st);
	struct perf_event * __percpu *bp;
	struct lfq_mpsc_preempt *ip;
	struct perf_event_attr attr;
	struct lfq_mpsc_resv r = { .count = 77 };
	void *w;

	ip = kunit_kzalloc(test, sizeof(*ip), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ip);

	/* The producer under test filled the ring once; all was consumed. */
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, mt->n), mt->n);
	KUNIT_ASSERT_EQ(test, lfq_mt_pop(mt, mt->n), mt->n);
	KUNIT_ASSERT_EQ(test, mt->p.cached_tail, st);
	ip->mt = mt;
	ip->victim = current;
	lfq_mt_prod_view(mt, &ip->other);

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&mt->prod->head;
	attr.bp_len = HW_BREAKPOINT_LEN_8;
	attr.bp_type = HW_BREAKPOINT_RW;
	bp = register_wide_hw_breakpoint(&attr, lfq_mpsc_preempt_hit, ip);
	if (IS_ERR((void __force *)bp))
		kunit_skip(test, "no data breakpoint: %ld",
			   PTR_ERR((void __force *)bp));

	/* No KUNIT_ASSERT until the breakpoint is gone. */
	w = lfq_mpsc_reserve(&mt->p, 1, &r);
	unregister_wide_hw_breakpoint(bp);

	if (!ip->acted)
		kunit_skip(test, "the data breakpoint did not fire");
	KUNIT_ASSERT_EQ(test, ip->moved, 3U);
	/* The ring was empty at the call and all through it. */
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), st + mt->n + 3);
	KUNIT_EXPECT_NOT_NULL_MSG(test, w,
				  "empty ring reported full (head %llu tail %llu)",
				  lfq_mt_head(mt), lfq_mt_tail(mt));
	KUNIT_EXPECT_EQ(test, r.count, 1U);
	KUNIT_EXPECT_EQ(test, r.index, st + mt->n + 3);
	kunit_info(test, "breakpoint hits %u\n", ip->hits);
}

/*
 * A hostile writer of head: every access to it by the producer under test
 * moves it on, so every compare-and-swap fails. Gives up after
 * LFQ_MPSC_HOSTILE_HITS so that a reservation without a retry bound ends
 * too (and is caught by the hit count) instead of hanging the test.
 */
#define LFQ_MPSC_HOSTILE_HITS	10000

struct lfq_mpsc_hostile {
	struct lfq_mt *mt;
	struct task_struct *victim;
	unsigned int hits;
};

static void lfq_mpsc_hostile_hit(struct perf_event *bp,
				 struct perf_sample_data *data,
				 struct pt_regs *regs)
{
	struct lfq_mpsc_hostile *h = bp->overflow_handler_context;

	if (current != h->victim || h->hits >= LFQ_MPSC_HOSTILE_HITS)
		return;
	h->hits++;
	/*
	 * Breakpoints are off while the handler runs: no recursion. Move
	 * head on, and make the view's cached tail look full, so that the
	 * next attempt re-reads head with a plain load (a locked CAS does
	 * not trigger TCG's data watchpoints) and fails again.
	 */
	WRITE_ONCE(h->mt->prod->head, READ_ONCE(h->mt->prod->head) + 1);
	h->mt->p.cached_tail = READ_ONCE(h->mt->prod->head) + 1;
}

static void lfq_mpsc_bounded_retry_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct perf_event * __percpu *bp;
	struct lfq_mpsc_hostile *h;
	struct perf_event_attr attr;
	struct lfq_mpsc_resv r = { .count = 77 };
	void *w;

	h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	h->mt = mt;
	h->victim = current;
	mt->p.max_tries = 8;

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&mt->prod->head;
	attr.bp_len = HW_BREAKPOINT_LEN_8;
	attr.bp_type = HW_BREAKPOINT_RW;
	bp = register_wide_hw_breakpoint(&attr, lfq_mpsc_hostile_hit, h);
	if (IS_ERR((void __force *)bp))
		kunit_skip(test, "no data breakpoint: %ld",
			   PTR_ERR((void __force *)bp));
	w = lfq_mpsc_reserve(&mt->p, 1, &r);
	unregister_wide_hw_breakpoint(bp);

	if (!h->hits)
		kunit_skip(test, "the data breakpoint did not fire");
	KUNIT_EXPECT_NULL(test, w);
	KUNIT_EXPECT_EQ(test, r.count, 0U);
	/* One head load per try: the bound ended it, not the writer. */
	KUNIT_EXPECT_LE(test, h->hits, 2 * mt->p.max_tries + 2);
	kunit_info(test, "gave up after %u head accesses\n", h->hits);
}

/* ---------------------------------------------------------------------- */
/* Producer kthreads vs the consuming test thread                          */
/* ---------------------------------------------------------------------- */

#define LFQ_MR_PRODUCERS	4
#define LFQ_MR_RECORDS		50000ULL
#define LFQ_MR_SEQ_MASK		((1ULL << 48) - 1)
/* Everything finishes well inside KUnit's own 300 s limit. */
#define LFQ_MR_DEADLINE		(120 * HZ)
#define LFQ_MR_WAIT		(10 * HZ)

struct lfq_mr;

/**
 * struct lfq_mr_prod - one producer kthread.
 * @mr:		the race it belongs to.
 * @p:		its own producer view.
 * @task:	the kthread (a reference is held until kthread_stop()).
 * @done:	completed when it has produced all its records.
 * @rnd:	its random state (discard decisions).
 * @reserved:	slots reserved.
 * @discarded:	slots discarded.
 * @full:	times the ring was full.
 * @id:		producer number, in the records' top 16 bits.
 */
struct lfq_mr_prod {
	struct lfq_mr *mr;
	struct lfq_mpsc_prod p;
	struct task_struct *task;
	struct completion done;
	u64 rnd;
	u64 reserved;
	u64 discarded;
	u64 full;
	u32 id;
};

struct lfq_mr {
	struct lfq_mt *mt;
	u64 records;
	u32 discard_one_in;
	unsigned long deadline;
	struct lfq_mr_prod prod[LFQ_MR_PRODUCERS];
};

static u64 lfq_mr_check(u64 w)
{
	return (w * 0x9e3779b97f4a7c15ULL) ^ (w >> 29);
}

/*
 * 32-byte records: id << 48 | seq, its check word, the slot's index and
 * the complement of the first word. Discarded slots are poisoned first.
 */
static int lfq_mr_producer(void *arg)
{
	struct lfq_mr_prod *pp = arg;
	struct lfq_mr *mr = pp->mr;
	const u32 sz = mr->mt->sz;
	u64 seq = 0;
	int err = 0;

	while (seq < mr->records) {
		struct lfq_mpsc_resv r;
		u32 want = 1 + (u32)(seq % 7), i;
		unsigned char *s;

		if (kthread_should_stop()) {
			err = -EINTR;
			break;
		}
		if (want > mr->records - seq)
			want = mr->records - seq;
		s = lfq_mpsc_reserve(&pp->p, want, &r);
		if (!s) {
			pp->full++;
			if (time_after(jiffies, mr->deadline)) {
				err = -ETIMEDOUT;
				break;
			}
			usleep_range(10, 50);
			continue;
		}
		pp->reserved += r.count;
		if (mr->discard_one_in &&
		    !(lfq_mt_rand(&pp->rnd) % mr->discard_one_in)) {
			memset(s, 0x5a, (size_t)r.count * sz);
			lfq_mpsc_discard(&pp->p, &r);
			pp->discarded += r.count;
			continue;
		}
		for (i = 0; i < r.count; i++, seq++) {
			u64 *w = (u64 *)(s + (size_t)i * sz);
			u64 tag = ((u64)pp->id << 48) | seq;

			w[0] = tag;
			w[1] = lfq_mr_check(tag);
			w[2] = r.index + i;
			w[3] = ~tag;
		}
		lfq_mpsc_commit(&pp->p, &r);
		cond_resched();
	}
	complete(&pp->done);
	return err;
}

static bool lfq_mr_all_done(struct lfq_mr *mr)
{
	unsigned int k;

	for (k = 0; k < LFQ_MR_PRODUCERS; k++)
		if (!completion_done(&mr->prod[k].done))
			return false;
	return true;
}

static void lfq_mpsc_race(struct kunit *test, u32 discard_one_in, u64 start)
{
	struct lfq_mt *mt = lfq_mt_open(test, 32, 256, start);
	u64 next[LFQ_MR_PRODUCERS] = { };
	int err[LFQ_MR_PRODUCERS] = { };
	u64 consumed = 0, total, reserved = 0, discarded = 0, full = 0;
	u64 sleeps = 0, bad_tag = 0, bad_at = 0, bad_want = 0;
	bool bad = false, late = false, stuck = false, slow = false;
	unsigned int round = 0, k, started = 0;
	struct task_struct *task;
	struct lfq_mr *mr;
	u32 got;

	mr = kunit_kzalloc(test, sizeof(*mr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mr);
	mr->mt = mt;
	mr->records = LFQ_MR_RECORDS;
	mr->discard_one_in = discard_one_in;
	mr->deadline = jiffies + LFQ_MR_DEADLINE;
	total = LFQ_MR_PRODUCERS * mr->records;
	for (k = 0; k < LFQ_MR_PRODUCERS; k++) {
		struct lfq_mr_prod *pp = &mr->prod[k];

		pp->mr = mr;
		pp->id = k;
		pp->rnd = 0x9e3779b97f4a7c15ULL + k;
		init_completion(&pp->done);
		lfq_mt_prod_view(mt, &pp->p);
	}
	for (k = 0; k < LFQ_MR_PRODUCERS; k++) {
		task = kthread_run(lfq_mr_producer, &mr->prod[k],
				   "lfq_mpsc_p%u", k);
		if (IS_ERR(task))
			break;
		get_task_struct(task);
		mr->prod[k].task = task;
		started++;
	}

	/* No KUNIT_ASSERT until the producers are stopped: they use mt. */
	while (started == LFQ_MR_PRODUCERS && consumed < total) {
		const unsigned char *s;
		u32 i;

		s = lfq_mpsc_peek(&mt->c, 1 + round++ % 31, &got);
		if (!s) {
			if (time_after(jiffies, mr->deadline)) {
				late = true;
				break;
			}
			/* All committed and still nothing: records lost. */
			if (lfq_mr_all_done(mr) &&
			    !lfq_mpsc_peek(&mt->c, 1, &got)) {
				stuck = true;
				break;
			}
			sleeps++;
			usleep_range(10, 50);
			continue;
		}
		for (i = 0; i < got; i++) {
			const u64 *w = (const u64 *)(s + (size_t)i * mt->sz);
			u64 tag = w[0];
			u32 id = tag >> 48;

			if (id >= LFQ_MR_PRODUCERS ||
			    (tag & LFQ_MR_SEQ_MASK) != next[id] ||
			    w[1] != lfq_mr_check(tag) ||
			    w[2] != mt->c.tail + i || w[3] != ~tag) {
				bad = true;
				bad_tag = tag;
				bad_at = mt->c.tail + i;
				if (id < LFQ_MR_PRODUCERS)
					bad_want = next[id];
				break;
			}
			next[id]++;
		}
		if (bad)
			break;
		lfq_mpsc_release(&mt->c, got);
		consumed += got;
	}

	for (k = 0; k < started; k++) {
		struct lfq_mr_prod *pp = &mr->prod[k];

		if (!bad && !late && !stuck &&
		    !wait_for_completion_timeout(&pp->done, LFQ_MR_WAIT))
			slow = true;
		err[k] = kthread_stop(pp->task);
		put_task_struct(pp->task);
		reserved += pp->reserved;
		discarded += pp->discarded;
		full += pp->full;
	}
	KUNIT_ASSERT_EQ(test, started, (unsigned int)LFQ_MR_PRODUCERS);

	KUNIT_EXPECT_FALSE_MSG(test, bad,
			       "index %llu holds %llx (producer %llu seq %llu, expected seq %llu)",
			       bad_at, bad_tag, bad_tag >> 48,
			       bad_tag & LFQ_MR_SEQ_MASK, bad_want);
	KUNIT_EXPECT_FALSE_MSG(test, late, "deadline passed at %llu records",
			       consumed);
	KUNIT_EXPECT_FALSE_MSG(test, stuck,
			       "producers done, %llu of %llu records seen",
			       consumed, total);
	KUNIT_EXPECT_FALSE(test, slow);
	KUNIT_EXPECT_EQ(test, consumed, total);
	for (k = 0; k < LFQ_MR_PRODUCERS; k++) {
		KUNIT_EXPECT_EQ_MSG(test, next[k], mr->records, "producer %u",
				    k);
		KUNIT_EXPECT_EQ_MSG(test, err[k], 0, "producer %u", k);
	}
	/* Trailing discards go with one more peek: then the ring is empty. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, discarded);
	KUNIT_EXPECT_EQ(test, reserved, consumed + mt->c.discarded);
	KUNIT_EXPECT_EQ(test, lfq_mt_head(mt), start + reserved);
	KUNIT_EXPECT_EQ(test, mt->c.tail, start + reserved);
	KUNIT_EXPECT_EQ(test, lfq_mt_tail(mt), start + reserved);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, mt->c.tail, mt->n), 0U);
	if (discard_one_in)
		KUNIT_EXPECT_GT(test, discarded, 0ULL);
	else
		KUNIT_EXPECT_EQ(test, discarded, 0ULL);
	kunit_info(test,
		   "%llu records, %llu discarded; consumer slept %llu, ring full %llu\n",
		   consumed, discarded, sleeps, full);
}

static void lfq_mpsc_kthread_race_test(struct kunit *test)
{
	/* Crosses the 32-bit boundary of the indices on the way. */
	lfq_mpsc_race(test, 0, (1ULL << 32) - 1000);
}

static void lfq_mpsc_discard_race_test(struct kunit *test)
{
	lfq_mpsc_race(test, 100, (1ULL << 40) - 5);
}

static struct kunit_case lfq_mpsc_cases[] = {
	KUNIT_CASE(lfq_mpsc_double_map_test),
	KUNIT_CASE(lfq_mpsc_empty_test),
	KUNIT_CASE(lfq_mpsc_fill_test),
	KUNIT_CASE(lfq_mpsc_commit_order_test),
	KUNIT_CASE(lfq_mpsc_batch_wrap_test),
	KUNIT_CASE_PARAM(lfq_mpsc_laps_test, lfq_mpsc_start_gen_params),
	KUNIT_CASE(lfq_mpsc_discard_front_test),
	KUNIT_CASE(lfq_mpsc_discard_middle_test),
	KUNIT_CASE(lfq_mpsc_discard_all_test),
	KUNIT_CASE(lfq_mpsc_release_clamp_test),
	KUNIT_CASE(lfq_mpsc_hostile_commit_test),
	KUNIT_CASE(lfq_mpsc_hostile_indices_test),
	KUNIT_CASE(lfq_mpsc_forged_tail_test),
	KUNIT_CASE(lfq_mpsc_ready_test),
	KUNIT_CASE(lfq_mpsc_wakeup_test),
	KUNIT_CASE(lfq_mpsc_stale_head_test),
	KUNIT_CASE(lfq_mpsc_bounded_retry_test),
	KUNIT_CASE(lfq_mpsc_kthread_race_test),
	KUNIT_CASE(lfq_mpsc_discard_race_test),
	{}
};

static struct kunit_suite lfq_mpsc_suite = {
	.name = "lfq_mpsc",
	.init = lfq_mt_init,
	.exit = lfq_mt_exit,
	.test_cases = lfq_mpsc_cases,
};

kunit_test_suite(lfq_mpsc_suite);

MODULE_DESCRIPTION("KUnit tests for the lfq MPSC ring protocol");
MODULE_LICENSE("GPL");
