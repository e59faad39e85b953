// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpsc_preempt_kunit.c - KUnit suite lfq_mpsc_preempt: an MPSC
 * producer interrupted between its load of the shared head and its
 * compare-and-swap (lfq_mpsc_reserve() in kmod/proto/lfq_mpsc.h), on
 * real MPSC queues. A data breakpoint on head stops the producer there,
 * and its handler plays what the rest of the system does meanwhile: other
 * producers and the consumer move head and tail on (the reservation still
 * succeeds), or a hostile process rewrites head on every access (the
 * reservation gives up after its bounded number of tries, HOSTILE MEMORY
 * H5). Cases skip where the kernel offers no data breakpoint.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/hw_breakpoint.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/perf_event.h>
#include <linux/sched.h>

#include "lfq_kunit_util.h"

/*
 * A data breakpoint on every CPU that traps each access to @mt's shared
 * head and calls @fn with @ctx; an ERR_PTR where there is none.
 */
static struct perf_event * __percpu *
lfq_mpsc_watch_head(struct lfq_mt *mt, perf_overflow_handler_t fn, void *ctx)
{
	struct perf_event_attr attr;

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&mt->prod->head;
	attr.bp_len = HW_BREAKPOINT_LEN_8;
	attr.bp_type = HW_BREAKPOINT_RW;
	return register_wide_hw_breakpoint(&attr, fn, ctx);
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
 * then finds tail ahead of its stale H, which the clamp in
 * lfq_ring_count() (meant for hostile indices) reads as a full ring: a
 * reserve that went on with H would answer "full" on a ring that was never
 * full during the call. lfq_mpsc_reserve() reads head again after it
 * reloads tail, and so finds head >= tail and room.
 */
static void lfq_mpsc_stale_head_test(struct kunit *test)
{
	const u64 st = 1000;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, st);
	struct perf_event * __percpu *bp;
	struct lfq_mpsc_preempt *ip;
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
	lfq_mpsc_prod_init(&ip->other, &mt->q->ring);

	bp = lfq_mpsc_watch_head(mt, lfq_mpsc_preempt_hit, ip);
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
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), st + mt->n + 3);
	KUNIT_EXPECT_NOT_NULL_MSG(test, w,
				  "empty ring reported full (head %llu tail %llu)",
				  lfq_shared_head(mt->q),
				  lfq_shared_tail(mt->q));
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
	struct lfq_mpsc_resv r = { .count = 77 };
	void *w;

	h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	h->mt = mt;
	h->victim = current;
	lfq_mpsc_prod_set_max_tries(&mt->p, 8);

	bp = lfq_mpsc_watch_head(mt, lfq_mpsc_hostile_hit, h);
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

static struct kunit_case lfq_mpsc_preempt_cases[] = {
	KUNIT_CASE(lfq_mpsc_stale_head_test),
	KUNIT_CASE(lfq_mpsc_bounded_retry_test),
	{}
};

static struct kunit_suite lfq_mpsc_preempt_suite = {
	.name = "lfq_mpsc_preempt",
	.test_cases = lfq_mpsc_preempt_cases,
};

kunit_test_suite(lfq_mpsc_preempt_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's MPSC reservation when interrupted");
MODULE_LICENSE("GPL");
