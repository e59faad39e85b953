// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpsc_race_kunit.c - KUnit suite lfq_mpsc_race: four producer
 * kthreads, each with its own view, reserve, write and commit into one
 * real MPSC queue (kmod/proto/lfq_mpsc.h) while the test thread consumes,
 * without and with random discards, from start indices that cross 2^32
 * and 2^40. Every record arrives exactly once, intact, in each producer's
 * order, at the index it was written for; discards are all skipped and
 * counted, and the ring ends empty with head == tail.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>

#include "lfq_kunit_util.h"

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
		    !(lfq_kunit_rand(&pp->rnd) % mr->discard_one_in)) {
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
		lfq_mpsc_prod_init(&pp->p, &mt->q->ring);
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
	KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), start + reserved);
	KUNIT_EXPECT_EQ(test, mt->c.tail, start + reserved);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), start + reserved);
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

static struct kunit_case lfq_mpsc_race_cases[] = {
	KUNIT_CASE(lfq_mpsc_kthread_race_test),
	KUNIT_CASE(lfq_mpsc_discard_race_test),
	{}
};

static struct kunit_suite lfq_mpsc_race_suite = {
	.name = "lfq_mpsc_race",
	.test_cases = lfq_mpsc_race_cases,
};

kunit_test_suite(lfq_mpsc_race_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's MPSC ring under concurrency");
MODULE_LICENSE("GPL");
