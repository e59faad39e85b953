// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kapi_kunit.c - KUnit suite lfq_kapi: the in-kernel producer API
 * (lfq_queue_reserve(), lfq_queue_commit(), lfq_queue_discard() of
 * kmod/core/lfq_kapi.c) on real queues, consumed as a process would
 * (an MPSC consumer handle on the same pages). Type checks, commit and
 * discard as the consumer sees them, drops counted on a full ring,
 * producers in process and hardirq (hrtimer) context feeding one queue
 * at once, the irq_work wakeup of a sleeping consumer, and a producer in
 * NMI context (x86 with a local APIC). The kernel as a consumer is
 * lfq_kconsumer_kunit.c's.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/wait.h>

#ifdef CONFIG_X86_LOCAL_APIC
#include <asm/apic.h>
#include <asm/nmi.h>
#endif

#include "core/lfq_kapi.h"
#include "lfq_kunit_util.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* Sleep/wake rounds of the irq_work and NMI wakeup tests. */
#define KAPI_ROUNDS	1000

static void lfq_kapi_type_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_queue(test, LFQ_TYPE_SPSC, 16, 256);
	struct lfq_mpsc_resv r = { .count = 7 };

	/* An SPSC ring has one producer already: the kernel may not add one. */
	KUNIT_EXPECT_NULL(test, lfq_queue_reserve(q, 1, &r));
	KUNIT_EXPECT_EQ(test, r.count, 0U);

	q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	KUNIT_EXPECT_NULL(test, lfq_queue_reserve(q, 0, &r));
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->dropped), 0LL);
}

static void lfq_kapi_commit_discard_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	struct lfq_mpsc_resv a, b;
	struct lfq_mpsc_cons c;
	const u64 *in;
	u64 *out;
	u32 got;

	lfq_mpsc_cons_init(&c, &q->ring);
	out = lfq_queue_reserve(q, 3, &a);
	KUNIT_ASSERT_NOT_NULL(test, out);
	KUNIT_EXPECT_EQ(test, a.count, 3U);
	out[0] = 11;
	out[2] = 12;
	out[4] = 13;
	KUNIT_EXPECT_NOT_NULL(test, lfq_queue_reserve(q, 2, &b));
	lfq_queue_discard(q, &b);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&c, 8, &got));
	lfq_queue_commit(q, &a);
	in = lfq_mpsc_peek(&c, 8, &got);
	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_EXPECT_EQ(test, got, 3U);
	KUNIT_EXPECT_EQ(test, in[0], 11ULL);
	KUNIT_EXPECT_EQ(test, in[4], 13ULL);
	lfq_mpsc_release(&c, got);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&c, 8, &got));
	KUNIT_EXPECT_EQ(test, c.discarded, 2ULL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.cons->tail), 5ULL);
}

static void lfq_kapi_drop_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	struct lfq_mpsc_resv r;
	struct lfq_mpsc_cons c;
	u32 got, i;

	lfq_mpsc_cons_init(&c, &q->ring);
	for (i = 0; i < 256; i += r.count) {
		KUNIT_ASSERT_NOT_NULL(test, lfq_queue_reserve(q, 100, &r));
		lfq_queue_commit(q, &r);
	}
	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_NULL(test, lfq_queue_reserve(q, 1, &r));
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->dropped), 5LL);
	KUNIT_EXPECT_NOT_NULL(test, lfq_mpsc_peek(&c, 1, &got));
	lfq_mpsc_release(&c, got);
	KUNIT_EXPECT_NOT_NULL(test, lfq_queue_reserve(q, 4, &r));
	KUNIT_EXPECT_EQ(test, r.count, 1U);
	lfq_queue_commit(q, &r);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->dropped), 5LL);
}

/* Producers in process and hardirq context, one queue, one consumer. */
#define KAPI_PRODUCERS	3	/* ids 0, 1: kthreads; 2: an hrtimer */
#define KAPI_RECORDS	20000

struct kapi_race {
	struct lfq_queue *q;
	struct hrtimer timer;
	u64 sent[KAPI_PRODUCERS];
	u64 drops[KAPI_PRODUCERS];
	struct completion done[KAPI_PRODUCERS];
};

static bool kapi_send(struct kapi_race *k, unsigned int id)
{
	struct lfq_mpsc_resv r;
	u64 *m = lfq_queue_reserve(k->q, 1, &r);

	if (!m) {
		k->drops[id]++;
		return false;
	}
	m[0] = (u64)id << 48 | k->sent[id];
	m[1] = ~m[0];
	lfq_queue_commit(k->q, &r);
	k->sent[id]++;
	return true;
}

struct kapi_thread_arg {
	struct kapi_race *k;
	unsigned int id;
};

static int kapi_thread_fn(void *arg)
{
	struct kapi_thread_arg *a = arg;
	struct kapi_race *k = a->k;

	while (k->sent[a->id] < KAPI_RECORDS) {
		if (!kapi_send(k, a->id))
			usleep_range(50, 100);	/* full: let the consumer run */
	}
	complete(&k->done[a->id]);
	return 0;
}

static enum hrtimer_restart kapi_timer_fn(struct hrtimer *t)
{
	struct kapi_race *k = container_of(t, struct kapi_race, timer);
	int i;

	/* Hardirq context: a burst per tick. */
	for (i = 0; i < 64 && k->sent[2] < KAPI_RECORDS; i++)
		kapi_send(k, 2);
	if (k->sent[2] >= KAPI_RECORDS) {
		complete(&k->done[2]);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(t, ns_to_ktime(20000));
	return HRTIMER_RESTART;
}

static void lfq_kapi_contexts_race_test(struct kunit *test)
{
	struct kapi_thread_arg args[2];
	u64 next[KAPI_PRODUCERS] = { }, n = 0, bad = 0, drops = 0;
	unsigned long deadline = jiffies + 60 * HZ;
	struct task_struct *t[2];
	struct lfq_mpsc_cons c;
	struct kapi_race *k;
	int i;

	k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	k->q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 512);
	lfq_mpsc_cons_init(&c, &k->q->ring);
	for (i = 0; i < KAPI_PRODUCERS; i++)
		init_completion(&k->done[i]);
	hrtimer_init(&k->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	k->timer.function = kapi_timer_fn;
	for (i = 0; i < 2; i++) {
		args[i] = (struct kapi_thread_arg){ k, i };
		t[i] = kthread_run(kapi_thread_fn, &args[i], "lfq_kapi/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
	}
	hrtimer_start(&k->timer, ns_to_ktime(20000), HRTIMER_MODE_REL_HARD);

	while (n < KAPI_PRODUCERS * KAPI_RECORDS &&
	       time_before(jiffies, deadline)) {
		const u64 *m;
		u32 got, j;

		m = lfq_mpsc_peek(&c, 64, &got);
		if (!m) {
			usleep_range(20, 50);
			continue;
		}
		for (j = 0; j < got; j++, n++) {
			u64 w = m[2 * j], id = w >> 48;

			if (id >= KAPI_PRODUCERS || m[2 * j + 1] != ~w ||
			    (w & GENMASK_ULL(47, 0)) != next[id]++)
				bad++;
		}
		lfq_mpsc_release(&c, got);
	}
	for (i = 0; i < KAPI_PRODUCERS; i++)
		wait_for_completion(&k->done[i]);
	hrtimer_cancel(&k->timer);
	for (i = 0; i < KAPI_PRODUCERS; i++)
		drops += k->drops[i];
	kunit_info(test, "%llu records from 2 kthreads and an hrtimer, %llu dropped",
		   n, drops);
	KUNIT_EXPECT_EQ(test, bad, 0ULL);
	KUNIT_EXPECT_EQ(test, n, (u64)KAPI_PRODUCERS * KAPI_RECORDS);
	KUNIT_EXPECT_EQ(test, (u64)atomic64_read(&k->q->dropped), drops);
}

/* A sleeping consumer is woken by a commit from hardirq, via irq_work. */
struct kapi_wake {
	struct lfq_queue *q;
	struct hrtimer timer;
};

static enum hrtimer_restart kapi_wake_fn(struct hrtimer *t)
{
	struct kapi_wake *w = container_of(t, struct kapi_wake, timer);
	struct lfq_mpsc_resv r;
	u64 *m = lfq_queue_reserve(w->q, 1, &r);

	if (m) {
		m[0] = 42;
		lfq_queue_commit(w->q, &r);
	}
	return HRTIMER_NORESTART;
}

/* The consumer's arm-and-recheck: true once a record is ready. */
/*
 * Arm, fence as the queue requires (asymmetric: the IPIs of the heavy
 * fence, against the light commit of a producer in hardirq or NMI
 * context), and re-check: as LFQ_IOC_WAIT does.
 */
static bool kapi_armed_ready(struct lfq_queue *q)
{
	u32 n;

	return lfq_queue_ready(q, LFQ_WAIT_DATA, 1, true, &n);
}

static void lfq_kapi_irq_work_wake_test(struct kunit *test)
{
	struct kapi_wake *w;
	struct lfq_mpsc_cons c;
	unsigned int i, missed = 0;
	u32 got;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	lfq_mpsc_cons_init(&c, &w->q->ring);
	hrtimer_init(&w->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	w->timer.function = kapi_wake_fn;
	for (i = 0; i < KAPI_ROUNDS; i++) {
		long left;

		hrtimer_start(&w->timer, ns_to_ktime(200000),
			      HRTIMER_MODE_REL_HARD);
		/*
		 * Queued first, then armed and re-checked (wait_event), and
		 * interruptible as LFQ_IOC_WAIT's sleepers are: the wakeup
		 * is wake_up_interruptible_all().
		 */
		left = wait_event_interruptible_timeout(w->q->data_wq,
							kapi_armed_ready(w->q),
							HZ);
		if (left <= 0)
			missed++;
		hrtimer_cancel(&w->timer);
		if (lfq_mpsc_peek(&c, 1, &got))
			lfq_mpsc_release(&c, got);
		WRITE_ONCE(w->q->ring.cons->need_data, 0);
	}
	KUNIT_EXPECT_EQ(test, missed, 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(w->q->ring.cons->tail),
			(u64)KAPI_ROUNDS);
	/* Most rounds slept and were woken through irq_work. */
	KUNIT_EXPECT_GT(test, atomic64_read(&w->q->wakeups),
			(s64)KAPI_ROUNDS / 2);
	irq_work_sync(&w->q->wake_work);
}

#ifdef CONFIG_X86_LOCAL_APIC
/* The NMI test's state: one armed round at a time. */
static struct {
	struct lfq_queue *q;
	atomic_t armed;
	atomic_t handled;
	atomic_t not_nmi;
} kapi_nmi;

#define KAPI_NMI_MARK	0x4e4d49ULL	/* "NMI" */

static int kapi_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	struct lfq_mpsc_resv r;
	u64 *m;

	if (!atomic_xchg(&kapi_nmi.armed, 0))
		return NMI_DONE;	/* not ours */
	if (!in_nmi())
		atomic_inc(&kapi_nmi.not_nmi);
	m = lfq_queue_reserve(kapi_nmi.q, 1, &r);
	if (m) {
		m[0] = KAPI_NMI_MARK;
		lfq_queue_commit(kapi_nmi.q, &r);
	}
	atomic_inc(&kapi_nmi.handled);
	return NMI_HANDLED;
}

/*
 * A producer in NMI context (an NMI through the local APIC, sent to
 * another CPU when there is one, so that its commit races this thread's
 * arming and heavy fence): it reserves and commits lock-free and wakes
 * the sleeping consumer through irq_work, KAPI_ROUNDS times over.
 */
static void lfq_kapi_nmi_test(struct kunit *test)
{
	unsigned int i, missed = 0, wrong = 0;
	struct lfq_mpsc_cons c;
	const u64 *in;
	u32 got;
	int err;

	kapi_nmi.q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 16, 256);
	atomic_set(&kapi_nmi.armed, 0);
	atomic_set(&kapi_nmi.handled, 0);
	atomic_set(&kapi_nmi.not_nmi, 0);
	lfq_mpsc_cons_init(&c, &kapi_nmi.q->ring);
	err = register_nmi_handler(NMI_LOCAL, kapi_nmi_handler, 0,
				   "lfq_kapi_kunit");
	KUNIT_ASSERT_EQ(test, err, 0);
	for (i = 0; i < KAPI_ROUNDS; i++) {
		unsigned int cpu;

		atomic_set(&kapi_nmi.armed, 1);
		/* As hw_nmi.c does: the x2APIC self-IPI register cannot
		 * deliver an NMI, the ICR (through send_IPI_mask) can.
		 */
		preempt_disable();
		cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
		if (cpu >= nr_cpu_ids)
			cpu = smp_processor_id();
		apic->send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
		preempt_enable();
		if (wait_event_interruptible_timeout(kapi_nmi.q->data_wq,
						     kapi_armed_ready(kapi_nmi.q),
						     HZ) <= 0) {
			missed++;
			continue;
		}
		in = lfq_mpsc_peek(&c, 1, &got);
		wrong += !in || in[0] != KAPI_NMI_MARK;
		lfq_mpsc_release(&c, got);
		WRITE_ONCE(kapi_nmi.q->ring.cons->need_data, 0);
	}
	atomic_set(&kapi_nmi.armed, 0);
	unregister_nmi_handler(NMI_LOCAL, "lfq_kapi_kunit");
	KUNIT_EXPECT_EQ(test, missed, 0U);
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&kapi_nmi.handled), KAPI_ROUNDS);
	KUNIT_EXPECT_EQ(test, atomic_read(&kapi_nmi.not_nmi), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&kapi_nmi.q->dropped), 0LL);
	irq_work_sync(&kapi_nmi.q->wake_work);
}
#endif

static struct kunit_case lfq_kapi_cases[] = {
	KUNIT_CASE(lfq_kapi_type_test),
	KUNIT_CASE(lfq_kapi_commit_discard_test),
	KUNIT_CASE(lfq_kapi_drop_test),
	KUNIT_CASE(lfq_kapi_contexts_race_test),
	KUNIT_CASE(lfq_kapi_irq_work_wake_test),
#ifdef CONFIG_X86_LOCAL_APIC
	KUNIT_CASE(lfq_kapi_nmi_test),
#endif
	{}
};

static struct kunit_suite lfq_kapi_suite = {
	.name = "lfq_kapi",
	.test_cases = lfq_kapi_cases,
};

kunit_test_suite(lfq_kapi_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's in-kernel producer API");
MODULE_LICENSE("GPL");
