// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_elastic_ctx_kunit.c - KUnit suite lfq_elastic_ctx: elastic MPSC
 * queues (kmod/core/lfq_seg.c) fed from the contexts the in-kernel API
 * promises. Producers in hardirq (an hrtimer) and NMI context (a self-NMI
 * through the local APIC, x86) grow the queue with spares from the pool
 * and allocate nothing: with the pool empty they drop and count, and once
 * the work has refilled it from process context they grow again. Then
 * kthread and hrtimer producers race on the segment boundaries while the
 * in-kernel consumer follows the segments through many grow and shrink
 * cycles: every record once, in order. RCU readers are
 * lfq_elastic_rcu_kunit.c's.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/workqueue.h>

#ifdef CONFIG_X86_LOCAL_APIC
#include <asm/apic.h>
#include <asm/nmi.h>
#endif

#include "core/lfq_kapi.h"
#include "core/lfq_seg.h"
#include "lfq_kunit_util.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define CTX_SZ		64	/* slot size */
#define CTX_N		64	/* slots per segment: one page of slots */
#define CTX_WANT	32	/* slots per reservation: 2 fill a segment */
#define CTX_SEGS	8	/* seg_max */

/* ---------------------------------------------------------------------- */
/* Growth in hardirq and NMI context                                       */
/* ---------------------------------------------------------------------- */

/**
 * struct ctx_burst - reservations made in one go in the context under
 * test, and what they found.
 * @q:		the queue.
 * @tries:	reservations to attempt.
 * @slots:	slots reserved.
 * @drops:	reservations that failed.
 * @bad:	reservations not CTX_WANT slots at the next index.
 * @next:	the next index (one producer: they come in order).
 * @frames:	the frames reserved in, in order.
 * @nframes:	entries of @frames.
 * @allocated:	segments allocated before and after.
 * @pooled:	spares left after.
 * @ctx_ok:	the burst ran in the context under test.
 * @done:	set last, with release.
 */
struct ctx_burst {
	struct lfq_queue *q;
	u32 tries;
	u32 slots;
	u32 drops;
	u32 bad;
	u64 next;
	u32 frames[CTX_SEGS];
	u32 nframes;
	int allocated[2];
	int pooled;
	bool ctx_ok;
	atomic_t done;
};

static void ctx_burst_run(struct ctx_burst *b, bool ctx_ok)
{
	struct lfq_elastic *el = b->q->el;
	struct lfq_mpsc_resv r;
	struct lfq_seg *s;
	u32 i, j;
	u8 *m;

	b->ctx_ok = ctx_ok;
	b->allocated[0] = atomic_read(&el->allocated);
	for (i = 0; i < b->tries; i++) {
		m = lfq_queue_reserve(b->q, CTX_WANT, &r);
		if (!m) {
			b->drops++;
			continue;
		}
		s = r.seg;
		b->bad += r.index != b->next || r.count != CTX_WANT;
		if (!b->nframes || b->frames[b->nframes - 1] != s->frame) {
			if (b->nframes < CTX_SEGS)
				b->frames[b->nframes++] = s->frame;
			else
				b->bad++;
		}
		for (j = 0; j < r.count; j++)
			lfq_rec_fill(m + j * CTX_SZ, CTX_SZ, r.index + j);
		lfq_queue_commit(b->q, &r);
		b->next = r.index + r.count;
		b->slots += r.count;
	}
	b->allocated[1] = atomic_read(&el->allocated);
	b->pooled = atomic_read(&el->pooled);
	atomic_set_release(&b->done, 1);
}

/* Run a burst of @tries through @fire and wait for it; false if it never ran. */
static bool ctx_burst(struct ctx_burst *b, u32 tries,
		      void (*fire)(struct ctx_burst *b))
{
	b->tries = tries;
	b->slots = 0;
	b->drops = 0;
	b->nframes = 0;
	atomic_set(&b->done, 0);
	fire(b);
	return lfq_el_poll(atomic_read_acquire(&b->done), 5000);
}

/*
 * The rounds the hardirq and NMI tests share; @fire runs a burst in the
 * context under test. No assertion may end the test here (@fire's
 * context is torn down by the caller).
 */
static void ctx_grow_rounds(struct kunit *test, struct ctx_burst *b,
			    void (*fire)(struct ctx_burst *b))
{
	struct lfq_elastic *el = b->q->el;
	struct lfq_consumer c;
	unsigned long spares;
	struct lfq_stats st;
	u64 next = 0;
	u32 i, sp;

	lfq_el_stats(b->q, &st);
	KUNIT_EXPECT_EQ(test, st.pool, 0ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);

	/* No spare: the live segment fills, then every reservation drops. */
	if (!ctx_burst(b, CTX_N / CTX_WANT + 3, fire)) {
		KUNIT_FAIL(test, "the first burst did not run");
		return;
	}
	KUNIT_EXPECT_TRUE(test, b->ctx_ok);
	KUNIT_EXPECT_EQ(test, b->slots, (u32)CTX_N);
	KUNIT_EXPECT_EQ(test, b->drops, 3U);
	KUNIT_EXPECT_EQ(test, b->bad, 0U);
	KUNIT_EXPECT_EQ(test, b->nframes, 1U);
	KUNIT_EXPECT_EQ(test, b->allocated[1], b->allocated[0]);
	lfq_el_stats(b->q, &st);
	KUNIT_EXPECT_EQ(test, st.grows, 0ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, 3ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);

	/*
	 * The drops kicked the work: it refills the pool, in process
	 * context, to twice its mark, which the starvation doubled (4, so
	 * 8 spares, less the live segment: seg_max is 8). Wait for it to be
	 * idle, so that only the burst (which keeps its kicks pending until
	 * it returns) touches the pool.
	 */
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(lfq_el_stats(b->q, &st)->pool ==
				      CTX_SEGS - 1, 5000));
	irq_work_sync(&el->kick);
	flush_work(&el->work);
	KUNIT_EXPECT_EQ(test, READ_ONCE(el->pool_low), 4U);
	spares = READ_ONCE(el->pool[0]);
	sp = bitmap_weight(&spares, CTX_SEGS);
	KUNIT_EXPECT_EQ(test, sp, (u32)CTX_SEGS - 1);

	/* The spares linked, then drops again: nothing was allocated. */
	if (!ctx_burst(b, sp * CTX_N / CTX_WANT + 2, fire)) {
		KUNIT_FAIL(test, "the second burst did not run");
		return;
	}
	KUNIT_EXPECT_TRUE(test, b->ctx_ok);
	KUNIT_EXPECT_EQ(test, b->slots, sp * CTX_N);
	KUNIT_EXPECT_EQ(test, b->drops, 2U);
	KUNIT_EXPECT_EQ(test, b->bad, 0U);
	KUNIT_EXPECT_EQ(test, b->nframes, sp);
	KUNIT_EXPECT_EQ(test, b->allocated[1], b->allocated[0]);
	KUNIT_EXPECT_EQ(test, b->pooled, 0);
	/* Each a spare, each once: its bit taken off as it is linked. */
	for (i = 0; i < sp && i < b->nframes; i++)
		KUNIT_EXPECT_TRUE(test, __test_and_clear_bit(b->frames[i],
							     &spares));
	lfq_el_stats(b->q, &st);
	KUNIT_EXPECT_EQ(test, st.grows, (u64)sp);
	KUNIT_EXPECT_EQ(test, st.dropped, 5ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL + sp);
	KUNIT_EXPECT_EQ(test, st.produced, (1ULL + sp) * CTX_N);

	/* Every record, once, in order, across the segments. */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, b->q), 0);
	KUNIT_EXPECT_TRUE(test, lfq_el_drain(&c, &next));
	KUNIT_EXPECT_EQ(test, next, (1ULL + sp) * CTX_N);
	lfq_consumer_fini(&c);
}

struct ctx_hardirq {
	struct ctx_burst b;
	struct hrtimer timer;
};

static enum hrtimer_restart ctx_hardirq_fn(struct hrtimer *t)
{
	struct ctx_hardirq *h = container_of(t, struct ctx_hardirq, timer);

	ctx_burst_run(&h->b, in_hardirq() && !in_nmi());
	return HRTIMER_NORESTART;
}

static void ctx_hardirq_fire(struct ctx_burst *b)
{
	struct ctx_hardirq *h = container_of(b, struct ctx_hardirq, b);

	hrtimer_start(&h->timer, ns_to_ktime(10000), HRTIMER_MODE_REL_HARD);
}

static void lfq_elastic_hardirq_grow_test(struct kunit *test)
{
	struct ctx_hardirq *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	h->b.q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, CTX_SZ, CTX_N, 1,
				   CTX_SEGS);
	hrtimer_init(&h->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	h->timer.function = ctx_hardirq_fn;
	ctx_grow_rounds(test, &h->b, ctx_hardirq_fire);
	hrtimer_cancel(&h->timer);
}

#ifdef CONFIG_X86_LOCAL_APIC
static struct {
	struct ctx_burst *b;
	atomic_t armed;
} ctx_nmi;

static int ctx_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	if (!atomic_xchg(&ctx_nmi.armed, 0))
		return NMI_DONE;	/* not ours */
	ctx_burst_run(READ_ONCE(ctx_nmi.b), in_nmi());
	return NMI_HANDLED;
}

static void ctx_nmi_fire(struct ctx_burst *b)
{
	WRITE_ONCE(ctx_nmi.b, b);
	atomic_set_release(&ctx_nmi.armed, 1);
	/* As lfq_kapi_kunit.c: through the ICR, which can deliver an NMI. */
	preempt_disable();
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	preempt_enable();
}

static void lfq_elastic_nmi_grow_test(struct kunit *test)
{
	struct ctx_burst *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, CTX_SZ, CTX_N, 1,
				 CTX_SEGS);
	atomic_set(&ctx_nmi.armed, 0);
	err = register_nmi_handler(NMI_LOCAL, ctx_nmi_handler, 0,
				   "lfq_elastic_ctx_kunit");
	KUNIT_ASSERT_EQ(test, err, 0);
	ctx_grow_rounds(test, b, ctx_nmi_fire);
	atomic_set(&ctx_nmi.armed, 0);
	unregister_nmi_handler(NMI_LOCAL, "lfq_elastic_ctx_kunit");
}
#endif

/* ---------------------------------------------------------------------- */
/* Many grow and shrink cycles, in-kernel consumer                         */
/* ---------------------------------------------------------------------- */

#define CYC_PRODUCERS	3	/* ids 0, 1: kthreads; 2: an hrtimer */
#define CYC_RECORDS	10000	/* per producer */

/**
 * struct ctx_cycles - producers in process and hardirq context and their
 * counts (each written by its producer only).
 * @q:		the queue.
 * @timer:	the hardirq producer.
 * @sent:	records sent by each producer.
 * @drops:	reservations that failed.
 * @stop:	the consumer gave up: producers stop.
 * @done:	each producer is done.
 */
struct ctx_cycles {
	struct lfq_queue *q;
	struct hrtimer timer;
	u64 sent[CYC_PRODUCERS];
	u64 drops[CYC_PRODUCERS];
	bool stop;
	struct completion done[CYC_PRODUCERS];
};

/*
 * One reservation of up to @want slots for producer @id: each slot holds
 * the record of its index, and (id, seq) in its third word.
 */
static bool cyc_send(struct ctx_cycles *k, unsigned int id, u32 want)
{
	struct lfq_mpsc_resv r;
	u64 *w;
	u8 *m;
	u32 i;

	want = min_t(u64, want, CYC_RECORDS - k->sent[id]);
	m = lfq_queue_reserve(k->q, want, &r);
	if (!m) {
		k->drops[id]++;
		return false;
	}
	for (i = 0; i < r.count; i++) {
		w = (u64 *)(m + (size_t)i * CTX_SZ);
		lfq_rec_fill(w, CTX_SZ, r.index + i);
		w[2] = (u64)id << 48 | k->sent[id]++;
	}
	lfq_queue_commit(k->q, &r);
	return true;
}

struct cyc_arg {
	struct ctx_cycles *k;
	unsigned int id;
};

static int cyc_thread_fn(void *arg)
{
	struct cyc_arg *a = arg;
	struct ctx_cycles *k = a->k;
	u32 want = 1;

	while (k->sent[a->id] < CYC_RECORDS && !READ_ONCE(k->stop)) {
		if (!cyc_send(k, a->id, want))
			usleep_range(100, 200);	/* no spare, or at seg_max */
		want = want % 5 + 1;
	}
	complete(&k->done[a->id]);
	return 0;
}

static enum hrtimer_restart cyc_timer_fn(struct hrtimer *t)
{
	struct ctx_cycles *k = container_of(t, struct ctx_cycles, timer);
	int i;

	for (i = 0; i < 8 && k->sent[2] < CYC_RECORDS; i++)
		cyc_send(k, 2, 1 + i % 3);
	if (k->sent[2] >= CYC_RECORDS || READ_ONCE(k->stop)) {
		complete(&k->done[2]);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(t, ns_to_ktime(50000));
	return HRTIMER_RESTART;
}

static bool cyc_producing(struct ctx_cycles *k)
{
	int i;

	for (i = 0; i < CYC_PRODUCERS; i++)
		if (!completion_done(&k->done[i]))
			return true;
	return false;
}

/*
 * The consumer lets segments pile up (4 live) before it drains them, so
 * the queue grows and shrinks again and again while three producers race
 * on the segment boundaries; it follows the segments with
 * lfq_consumer_peek() and sleeps in lfq_consumer_wait() between.
 */
static void lfq_elastic_cycles_test(struct kunit *test)
{
	u64 next[CYC_PRODUCERS] = { }, idx = 0, n = 0, bad = 0, drops = 0;
	const u64 total = CYC_PRODUCERS * CYC_RECORDS;
	unsigned long deadline = jiffies + 120 * HZ;
	struct cyc_arg args[2];
	struct lfq_consumer c;
	struct task_struct *t;
	struct ctx_cycles *k;
	struct lfq_stats st;
	u64 seg_bytes;
	const u8 *in;
	u32 got, j;
	int i;

	k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	k->q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, CTX_SZ, CTX_N, 1,
				 CTX_SEGS);
	seg_bytes = k->q->layout.commit_size + k->q->layout.data_size;
	for (i = 0; i < CYC_PRODUCERS; i++)
		init_completion(&k->done[i]);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, k->q), 0);
	hrtimer_init(&k->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	k->timer.function = cyc_timer_fn;
	for (i = 0; i < 2; i++) {
		args[i] = (struct cyc_arg){ k, i };
		t = kthread_run(cyc_thread_fn, &args[i], "lfq_el_prod/%d", i);
		if (IS_ERR(t)) {
			KUNIT_FAIL(test, "no producer thread %d", i);
			complete(&k->done[i]);
		}
	}
	hrtimer_start(&k->timer, ns_to_ktime(50000), HRTIMER_MODE_REL_HARD);

	while (n < total && time_before(jiffies, deadline)) {
		while (lfq_el_stats(k->q, &st)->segments < 4 &&
		       cyc_producing(k) && time_before(jiffies, deadline))
			usleep_range(200, 400);
		while ((in = lfq_consumer_peek(&c, CTX_N, &got))) {
			for (j = 0; j < got; j++, n++, idx++) {
				const u64 *w = (const u64 *)(in + j * CTX_SZ);
				u64 id = w[2] >> 48;

				if (!lfq_rec_ok(w, CTX_SZ, idx) ||
				    id >= CYC_PRODUCERS ||
				    (w[2] & GENMASK_ULL(47, 0)) != next[id]++)
					bad++;
			}
			lfq_consumer_release(&c, got);
		}
		if (n < total)
			lfq_consumer_wait(&c, 1, 2 * NSEC_PER_MSEC);
	}
	WRITE_ONCE(k->stop, true);
	for (i = 0; i < CYC_PRODUCERS; i++)
		wait_for_completion(&k->done[i]);
	hrtimer_cancel(&k->timer);
	lfq_consumer_fini(&c);
	lfq_seg_reclaim_sync(k->q->el);

	for (i = 0; i < CYC_PRODUCERS; i++)
		drops += k->drops[i];
	lfq_el_stats(k->q, &st);
	kunit_info(test, "%llu records, %llu drops, %llu grows, %llu shrinks, peak %llu",
		   n, drops, st.grows, st.shrinks, st.segments_peak);
	KUNIT_EXPECT_EQ(test, bad, 0ULL);
	KUNIT_EXPECT_EQ(test, n, total);
	KUNIT_EXPECT_EQ(test, st.dropped, drops);
	KUNIT_EXPECT_EQ(test, st.produced, total);
	KUNIT_EXPECT_EQ(test, st.consumed, total);
	KUNIT_EXPECT_GE(test, st.grows, 10ULL);
	/* Drained: every segment but the producers' one retired. */
	KUNIT_EXPECT_EQ(test, st.shrinks, st.grows);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_GE(test, st.segments_peak, 4ULL);
	KUNIT_EXPECT_LE(test, st.segments_peak, (u64)CTX_SEGS);
	KUNIT_EXPECT_LE(test, st.bytes, ((u64)k->q->nr_pages << PAGE_SHIFT) +
			CTX_SEGS * seg_bytes);
	irq_work_sync(&k->q->wake_work);
}

static struct kunit_case lfq_elastic_ctx_cases[] = {
	KUNIT_CASE(lfq_elastic_hardirq_grow_test),
#ifdef CONFIG_X86_LOCAL_APIC
	KUNIT_CASE(lfq_elastic_nmi_grow_test),
#endif
	KUNIT_CASE(lfq_elastic_cycles_test),
	{}
};

static struct kunit_suite lfq_elastic_ctx_suite = {
	.name = "lfq_elastic_ctx",
	.test_cases = lfq_elastic_ctx_cases,
};

kunit_test_suite(lfq_elastic_ctx_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's elastic queues in every context");
MODULE_LICENSE("GPL");
