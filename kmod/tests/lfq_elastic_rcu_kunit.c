// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_elastic_rcu_kunit.c - KUnit suite lfq_elastic_rcu: how long the
 * segments of an elastic MPSC queue (kmod/core/lfq_seg.c) live for their
 * readers (ORDERING seg-grace in proto/lfq_rules.h). A reader in an RCU
 * read-side section, rcu_read_lock() or preemption disabled (a kernel
 * producer's, from reservation to commit), keeps a retired segment out of
 * the pool while it stays: a producer that needs a segment drops rather
 * than reopen it; a grace period after the reader leaves, the segment is
 * pooled and linked again. And the in-kernel consumer's segment is not
 * retired under it, whatever its tail word says.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "core/lfq_kapi.h"
#include "core/lfq_seg.h"
#include "lfq_kunit_util.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define EL_SZ		64	/* slot size */
#define EL_N		64	/* slots per segment: one page of slots */
#define EL_WANT	8	/* slots per reservation: 8 fill a segment */

/**
 * struct el_reader - a kthread in an RCU read-side section that holds
 * the producers' segment as it found it.
 * @q:		the queue.
 * @preempt:	the section is preempt_disable() (a kernel producer's,
 *		from reservation to commit), not rcu_read_lock().
 * @seg:	the segment it holds.
 * @rec:	that segment's first slot when taken.
 * @same:	the slot and the segment's base unchanged when let go.
 * @state:	the segment's table state just before letting go.
 * @held:	set once @seg is taken.
 * @release:	set to let go.
 * @done:	the section has ended.
 */
struct el_reader {
	struct lfq_queue *q;
	bool preempt;
	struct lfq_seg *seg;
	u8 rec[EL_SZ];
	bool same;
	u32 state;
	atomic_t held;
	atomic_t release;
	struct completion done;
};

/* The section's body: take the segment, hold it, look at it again. */
static void el_reader_hold(struct el_reader *rd)
{
	unsigned long end = jiffies + 10 * HZ;
	u64 base;

	rd->seg = lfq_seg_producer(rd->q->el);
	base = rd->seg->ring.base;
	memcpy(rd->rec, rd->seg->ring.data, EL_SZ);
	atomic_set_release(&rd->held, 1);
	while (!atomic_read_acquire(&rd->release) && time_before(jiffies, end))
		cpu_relax();
	rd->same = !memcmp(rd->rec, rd->seg->ring.data, EL_SZ) &&
		   READ_ONCE(rd->q->el->meta[rd->seg->frame].base) == base;
	rd->state = lfq_el_state(rd->q->el, rd->seg->frame);
}

static int el_reader_fn(void *arg)
{
	struct el_reader *rd = arg;

	if (rd->preempt) {
		preempt_disable();
		el_reader_hold(rd);
		preempt_enable();
	} else {
		rcu_read_lock();
		el_reader_hold(rd);
		rcu_read_unlock();
	}
	complete(&rd->done);
	return 0;
}

static const char * const el_reader_modes[] = {
	"rcu_read_lock", "preempt_disable",
};

static void el_reader_desc(const char * const *mode, char *desc)
{
	strscpy(desc, *mode, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(el_reader, el_reader_modes, el_reader_desc);

/* A burst from process context until the first drop: slots reserved. */
static u32 el_fill(struct lfq_queue *q)
{
	u32 n, slots = 0;

	while ((n = lfq_el_push(q, EL_WANT)) != 0)
		slots += n;
	return slots;
}

/*
 * seg-grace: a segment retired while a reader holds it stays RETIRED, out
 * of the pool, for as long as the reader stays: a producer that needs a
 * segment then drops rather than reopen it. After the reader leaves and
 * a grace period passes it is pooled (FREE) and linked again.
 */
static void lfq_elastic_rcu_reader_test(struct kunit *test)
{
	const char * const *mode = test->param_value;
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 4, 4);
	struct lfq_elastic *el = q->el;
	struct lfq_consumer c;
	struct lfq_mpsc_cons raw;
	struct task_struct *t;
	struct el_reader *rd;
	u64 dropped, next = 0;
	struct lfq_seg *s0;
	struct lfq_stats st;
	const u8 *in;
	int cpu, i;
	u32 f0, got;

	if (num_online_cpus() < 2)
		kunit_skip(test, "the reader spins: needs 2 CPUs");
	rd = kunit_kzalloc(test, sizeof(*rd), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rd);
	rd->q = q;
	rd->preempt = *mode == el_reader_modes[1];
	init_completion(&rd->done);
	s0 = lfq_el_pseg(el);
	f0 = s0->frame;
	for (i = 0; i < EL_N / EL_WANT; i++)
		KUNIT_ASSERT_EQ(test, lfq_el_push(q, EL_WANT), (u32)EL_WANT);

	/* This thread stays on its CPU; the reader spins on another one. */
	migrate_disable();
	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	t = kthread_create(el_reader_fn, rd, "lfq_el_reader");
	if (IS_ERR(t)) {
		migrate_enable();
		KUNIT_ASSERT_FAILURE(test, "no reader thread");
	}
	kthread_bind(t, cpu);
	wake_up_process(t);
	/* From here on nothing may end the test before the reader is done. */
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(atomic_read_acquire(&rd->held), 5000));
	KUNIT_EXPECT_PTR_EQ(test, rd->seg, s0);

	/* The producers move on; the consumer drains s0 as a process would. */
	KUNIT_EXPECT_EQ(test, lfq_el_push(q, EL_WANT), (u32)EL_WANT);
	lfq_mpsc_cons_init(&raw, &s0->ring);
	in = lfq_mpsc_peek(&raw, EL_N, &got);
	KUNIT_EXPECT_EQ(test, got, (u32)EL_N);
	for (i = 0; in && i < got; i++)
		KUNIT_EXPECT_TRUE(test, lfq_rec_ok(in + i * EL_SZ, EL_SZ, i));
	lfq_mpsc_release(&raw, got);
	/* ...and, moving on, names the next one its own (seg-cons). */
	WRITE_ONCE(q->ring.cons->seg,
		   lfq_seg_next(&el->meta[f0], el->seg_max));
	lfq_seg_reclaim_sync(el);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, f0), (u32)LFQ_SEG_RETIRED);
	KUNIT_EXPECT_EQ(test, st.shrinks, 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.pool, 2ULL);
	KUNIT_EXPECT_FALSE(test, test_bit(f0, el->pool));
	KUNIT_EXPECT_NE(test, READ_ONCE(el->segtab->cseg), f0);

	/* The two spares are linked; the retired segment is not. */
	KUNIT_EXPECT_EQ(test, el_fill(q), 3U * EL_N - EL_WANT);
	dropped = 1;
	for (i = 0; i < 5; i++) {
		msleep(20);
		KUNIT_EXPECT_EQ(test, lfq_el_state(el, f0),
				(u32)LFQ_SEG_RETIRED);
		KUNIT_EXPECT_FALSE(test, test_bit(f0, el->pool));
		KUNIT_EXPECT_EQ(test, lfq_el_push(q, 1), 0U);
		dropped++;
	}
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.pool, 0ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 3ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, dropped);

	atomic_set_release(&rd->release, 1);
	if (!wait_for_completion_timeout(&rd->done, 30 * HZ))
		KUNIT_FAIL(test, "the reader never finished");
	migrate_enable();
	KUNIT_EXPECT_TRUE(test, rd->same);
	KUNIT_EXPECT_EQ(test, rd->state, (u32)LFQ_SEG_RETIRED);

	/* A grace period on, the retirement runs: FREE, and pooled. */
	synchronize_rcu();
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(lfq_el_state(el, f0) == LFQ_SEG_FREE &&
				      test_bit(f0, el->pool), 5000));
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->pool, 1ULL);
	KUNIT_EXPECT_EQ(test, lfq_el_push(q, EL_WANT), (u32)EL_WANT);
	KUNIT_EXPECT_EQ(test, lfq_el_pseg(el)->frame, f0);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, f0), (u32)LFQ_SEG_LIVE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(el->meta[f0].base), 4ULL * EL_N);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->grows, 4ULL);

	/* Nothing lost: the rest comes out in order. */
	next = EL_N;
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_TRUE(test, lfq_el_drain(&c, &next));
	KUNIT_EXPECT_EQ(test, next, 4ULL * EL_N + EL_WANT);
	lfq_consumer_fini(&c);
}

/*
 * The in-kernel consumer's segment (@kcons) is not retired under it: a
 * process that writes the segment's tail word to its end, with every
 * record published, retires nothing while the consumer is still in it;
 * the consumer reads it whole, moves on, and then it retires.
 */
static void lfq_elastic_kcons_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 2, 4);
	struct lfq_elastic *el = q->el;
	struct lfq_consumer c;
	struct lfq_stats st;
	struct lfq_seg *s0;
	u64 next = 0;
	u32 i;

	s0 = lfq_el_pseg(el);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_PTR_EQ(test, c.seg, s0);
	for (i = 0; i < EL_N / EL_WANT + 1; i++)
		KUNIT_ASSERT_EQ(test, lfq_el_push(q, EL_WANT), (u32)EL_WANT);
	KUNIT_ASSERT_EQ(test, lfq_el_stats(q, &st)->grows, 1ULL);

	WRITE_ONCE(*s0->ring.tail, EL_N);
	lfq_seg_reclaim_sync(el);
	synchronize_rcu();
	flush_work(&el->work);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, s0->frame), (u32)LFQ_SEG_LIVE);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->shrinks, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->segments, 2ULL);

	/* Its records are intact; past them, the next segment's. */
	KUNIT_EXPECT_EQ(test, lfq_el_pop(&c, EL_N, 0), (u32)EL_N);
	next = EL_N;
	KUNIT_EXPECT_TRUE(test, lfq_el_drain(&c, &next));
	KUNIT_EXPECT_EQ(test, next, (u64)EL_N + EL_WANT);
	KUNIT_EXPECT_PTR_NE(test, c.seg, s0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), -EAGAIN);
	/* Moving on kicked the work: s0 retires, and is pooled. */
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(lfq_el_state(el, s0->frame) ==
				      LFQ_SEG_FREE, 5000));
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->shrinks, 1ULL);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->segments, 1ULL);
	lfq_consumer_fini(&c);
}

static struct kunit_case lfq_elastic_rcu_cases[] = {
	KUNIT_CASE_PARAM(lfq_elastic_rcu_reader_test, el_reader_gen_params),
	KUNIT_CASE(lfq_elastic_kcons_test),
	{}
};

static struct kunit_suite lfq_elastic_rcu_suite = {
	.name = "lfq_elastic_rcu",
	.test_cases = lfq_elastic_rcu_cases,
};

kunit_test_suite(lfq_elastic_rcu_suite);

MODULE_DESCRIPTION("KUnit tests for the lifetime of lfq's elastic segments");
MODULE_LICENSE("GPL");
