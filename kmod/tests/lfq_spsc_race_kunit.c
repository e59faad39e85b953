// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_spsc_race_kunit.c - KUnit suite lfq_spsc_race: both ends of an SPSC
 * queue at once. A producer kthread streams sequence-numbered records to
 * the consuming test thread; each side sleeps on the queue's wait queues
 * when the ring is full or empty, armed with the wakeup handshake of
 * kmod/proto/lfq_spsc.h and lfq_common.h (ORDERING wake-data, wake-space;
 * the queue is asymmetric, so wake-asym: the sleepers arm through
 * lfq_queue_ready(), which sends the heavy fence's IPIs).
 * Every record arrives once, in order, intact, and no wakeup is lost.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/wait.h>

#include "lfq_kunit_util.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

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

/* Arm, fence as the queue requires, and re-check: as LFQ_IOC_WAIT does. */
static bool lfq_kt_armed_ready(struct lfq_queue *q, u32 flags)
{
	u32 n;

	return lfq_queue_ready(q, flags, 1, true, &n);
}

/* 16-byte records: the sequence number and its complement. */
static int lfq_kt_producer(void *arg)
{
	struct lfq_kt_race *r = arg;
	struct lfq_queue *q = r->q;
	struct lfq_spsc_prod p;
	u64 seq = 0;
	int err = 0;

	lfq_spsc_prod_init(&p, &q->ring);
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
						  lfq_kt_armed_ready(q, LFQ_WAIT_SPACE),
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
			WRITE_ONCE(q->ring.cons->need_data, 0);
			wake_up(&q->data_wq);
		}
	}
	complete(&r->done);
	return err;
}

static void lfq_spsc_kthread_race_test(struct kunit *test)
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
						lfq_kt_armed_ready(q, LFQ_WAIT_DATA),
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
			WRITE_ONCE(q->ring.prod->need_space, 0);
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
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&q->ring), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(q), r->records);
	kunit_info(test, "%llu records, consumer slept %llu, producer %llu\n",
		   expect, sleeps, r->sleeps);
}

static struct kunit_case lfq_spsc_race_cases[] = {
	KUNIT_CASE(lfq_spsc_kthread_race_test),
	{}
};

static struct kunit_suite lfq_spsc_race_suite = {
	.name = "lfq_spsc_race",
	.test_cases = lfq_spsc_race_cases,
};

kunit_test_suite(lfq_spsc_race_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's SPSC ring under concurrency");
MODULE_LICENSE("GPL");
