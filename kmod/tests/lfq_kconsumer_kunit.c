// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kconsumer_kunit.c - KUnit suite lfq_kconsumer: the kernel as the
 * consumer of a queue (lfq_consumer_init(), _peek(), _release(), _wait()
 * of kmod/core/lfq_kconsumer.c), on real queues. Of an MPSC queue fed by
 * the in-kernel producer API, in order across many laps, with the wait's
 * argument checks; and of an SPSC queue fed by a (simulated) process,
 * whose head the process then forges: the kernel's peeks stay inside the
 * ring. And the wait's adaptive spin: down to the floor while nothing
 * comes, up again when a producer (a timer) commits during a spin.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include "core/lfq_kapi.h"
#include "lfq_kunit_util.h"

/* Kernel producer, kernel consumer: order kept across many laps. */
static void lfq_kconsumer_mpsc_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	struct lfq_consumer c;
	struct lfq_mpsc_resv r;
	u64 next = 0, seq = 0, bad = 0;
	const u64 *in;
	u32 got, i;
	u64 *out;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 257, 0), -EINVAL);
	while (next < 2000) {
		/* Up to 100 in, then up to 64 out: the ring wraps often. */
		for (i = 0; i < 100; i++) {
			out = lfq_queue_reserve(q, 1, &r);
			if (!out)
				break;
			out[0] = seq++;
			lfq_queue_commit(q, &r);
		}
		KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), 0);
		in = lfq_consumer_peek(&c, 64, &got);
		KUNIT_ASSERT_NOT_NULL(test, in);
		for (i = 0; i < got; i++)
			bad += in[i * 2] != next++;
		lfq_consumer_release(&c, got);
	}
	KUNIT_EXPECT_EQ(test, bad, 0ULL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.cons->tail), next);
	irq_work_sync(&q->wake_work);
}

/*
 * A process produces into an SPSC queue (simulated with the protocol's
 * producer on the same pages) and the kernel consumes; then the process
 * writes a wild head: the kernel's peek stays within the ring.
 */
static void lfq_kconsumer_spsc_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_queue(test, LFQ_TYPE_SPSC, 16, 256);
	const u8 *data = (const u8 *)q->base + q->layout.data_offset;
	u64 next = 0, seq = 0, bad = 0;
	struct lfq_spsc_prod p;
	struct lfq_consumer c;
	const u64 *in;
	u32 got, i;
	u64 *out;

	lfq_spsc_prod_init(&p, &q->ring);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	while (next < 4000) {
		out = lfq_spsc_reserve(&p, 48, &got);
		for (i = 0; out && i < got; i++)
			out[i * 2] = seq++;
		if (out)
			lfq_spsc_commit(&p, got);
		in = lfq_consumer_peek(&c, 256, &got);
		for (i = 0; in && i < got; i++)
			bad += in[i * 2] != next++;
		if (in)
			lfq_consumer_release(&c, got);
	}
	KUNIT_EXPECT_EQ(test, bad, 0ULL);

	/* Hostile: head far ahead of the consumer, then behind it. */
	WRITE_ONCE(q->ring.prod->head, next + (1ULL << 40));
	in = lfq_consumer_peek(&c, 1000, &got);
	KUNIT_EXPECT_LE(test, got, 256U);
	KUNIT_EXPECT_TRUE(test, (const u8 *)in >= data &&
			  (const u8 *)in + (size_t)got * 16 <=
			  data + 2 * q->layout.data_size);
	KUNIT_EXPECT_TRUE(test, lfq_span_ok(q, in, got));
	lfq_consumer_release(&c, got);
	WRITE_ONCE(q->ring.prod->head, 3);
	in = lfq_consumer_peek(&c, 1000, &got);
	KUNIT_EXPECT_LE(test, got, 256U);
	KUNIT_EXPECT_TRUE(test, lfq_span_ok(q, in, got));
	lfq_consumer_release(&c, got);
}

/* A consumer and a timer that commits, off the stack (debug objects). */
struct lfq_kconsumer_late {
	struct hrtimer timer;
	struct lfq_queue *q;
	struct lfq_consumer c;
	int committed;
};

/* A kernel producer in hard interrupt context, some time into a spin. */
static enum hrtimer_restart lfq_kconsumer_late_commit(struct hrtimer *t)
{
	struct lfq_kconsumer_late *l =
		container_of(t, struct lfq_kconsumer_late, timer);
	struct lfq_mpsc_resv r;
	u64 *out = lfq_queue_reserve(l->q, 1, &r);

	if (out) {
		out[0] = 1;
		lfq_queue_commit(l->q, &r);
		WRITE_ONCE(l->committed, 1);
	}
	return HRTIMER_NORESTART;
}

static void lfq_kconsumer_spin_test(struct kunit *test)
{
	struct lfq_kconsumer_late *l = kunit_kzalloc(test, sizeof(*l),
						     GFP_KERNEL);
	const u32 big = LFQ_WAIT_SPINS_KMAX / 2;
	struct lfq_consumer *c;
	u32 got, i, now = 0;

	KUNIT_ASSERT_NOT_NULL(test, l);
	l->q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	c = &l->c;
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, l->q), 0);
	KUNIT_EXPECT_EQ(test, c->spin_now, LFQ_WAIT_SPINS_DEFAULT);
	/* Nobody produces: every wait spins, sleeps, times out. */
	for (i = 0; i < 12; i++)
		KUNIT_EXPECT_EQ(test, lfq_consumer_wait(c, 1, 20 * NSEC_PER_USEC),
				-ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, c->spin_now, LFQ_WAIT_SPINS_FLOOR);
	/* Ready at once: no spin, nothing learned. */
	lfq_kconsumer_late_commit(&l->timer);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(c, 1, NSEC_PER_SEC), 0);
	KUNIT_EXPECT_EQ(test, c->spin_now, LFQ_WAIT_SPINS_FLOOR);
	KUNIT_ASSERT_NOT_NULL(test, lfq_consumer_peek(c, 1, &got));
	lfq_consumer_release(c, got);
	/* The setting is capped, and a lower one applies at once. */
	lfq_consumer_set_spin(c, ~0u);
	KUNIT_EXPECT_EQ(test, c->spin_max, LFQ_WAIT_SPINS_KMAX);
	lfq_consumer_set_spin(c, 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(c, 1, 20 * NSEC_PER_USEC),
			-ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, c->spin_now, 0U);
	/*
	 * A commit 300 us into a long spin: found by the spin, which doubles.
	 * (A spin that gave the CPU up to the scheduler first, or a timer
	 * that fired before the first check, teaches otherwise: tries.)
	 */
	lfq_consumer_set_spin(c, LFQ_WAIT_SPINS_KMAX);
	hrtimer_init(&l->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	l->timer.function = lfq_kconsumer_late_commit;
	for (i = 0; i < 20 && now != 2 * big; i++) {
		c->spin_now = big;
		WRITE_ONCE(l->committed, 0);
		hrtimer_start(&l->timer, ns_to_ktime(300 * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_HARD);
		KUNIT_EXPECT_EQ(test, lfq_consumer_wait(c, 1, NSEC_PER_SEC), 0);
		hrtimer_cancel(&l->timer);
		now = c->spin_now;
		KUNIT_EXPECT_EQ(test, READ_ONCE(l->committed), 1);
		if (lfq_consumer_peek(c, 1, &got))
			lfq_consumer_release(c, got);
	}
	KUNIT_EXPECT_EQ(test, now, 2 * big);
	irq_work_sync(&l->q->wake_work);
}

static struct kunit_case lfq_kconsumer_cases[] = {
	KUNIT_CASE(lfq_kconsumer_mpsc_test),
	KUNIT_CASE(lfq_kconsumer_spsc_test),
	KUNIT_CASE(lfq_kconsumer_spin_test),
	{}
};

static struct kunit_suite lfq_kconsumer_suite = {
	.name = "lfq_kconsumer",
	.test_cases = lfq_kconsumer_cases,
};

kunit_test_suite(lfq_kconsumer_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's in-kernel consumer API");
MODULE_LICENSE("GPL");
