// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_rec_nmi_kunit.c - KUnit suite lfq_rec_nmi: kernel producers of
 * record queues (LFQ_CREATE_RECORDS) in NMI context, plain and in
 * overwrite mode (LFQ_CREATE_OVERWRITE), read by the in-kernel consumer
 * (lfq_consumer_rec_peek(), _release(), _consume(), _wait()). It owns:
 *
 * - the race of NMI producers on every CPU, each CPU's hardirq timer
 *   (which reserves its own record, raises the NMI, then commits) and
 *   kernel threads bound to the CPUs the NMIs land on, records of every
 *   length up to the limit (some across the ring's end), against a
 *   consumer reading all the while: every record whole, in the context
 *   it says (measured in the producer: the NMI's really in_nmi()), in
 *   order per producer, and exactly once unless its producer counted it
 *   dropped, the drops adding up with lfq_stats.dropped;
 * - the same in overwrite mode: never a torn record, order per producer
 *   with gaps, delivered + overwritten + dropped = produced; then the NMI
 *   producers alone over laps of a ring nobody holds: no drop at all;
 * - an NMI that interrupts a producer of its own CPU between its reserve
 *   and its commit: the NMI's record commits, the consumer (and its
 *   readiness check) stops at the first uncommitted record and takes both
 *   in order once the thread commits; with the ring full behind that
 *   record, the NMI drops (in overwrite mode too: a record being written
 *   is never overwritten); and an NMI's commit wakes a consumer asleep in
 *   lfq_consumer_wait() (irq_work).
 *
 * The NMIs are this suite's own (lfq_kunit_nmi.h): a handler registered
 * on NMI_LOCAL for the test's duration, self-NMIs sent through the local
 * APIC with interrupts off, as kmod/sources/lfq_source_synth.c sends them
 * (its SYNTH records have one fixed size, and the producer side of SYNTH
 * is covered from userspace by tests/vm/rec_sources.c and
 * rec_ow_sources.c). A CPU whose self-NMI never comes makes the case
 * skip, saying so.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/smp.h>

#include "lfq_event.h"
#include "lfq_kunit_nmi.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_rec.h"
#include "sources/lfq_source.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* ---------------------------------------------------------------------- */
/* Records                                                                 */
/* ---------------------------------------------------------------------- */

/**
 * struct nrec - the start of every record of this suite; its payload
 * bytes after it follow from @who and @seq (nrec_byte()).
 * @who:	the producer.
 * @ctx:	LFQ_CONTEXT_*, measured by the producer as it wrote.
 * @seq:	the producer's sequence number.
 */
struct nrec {
	u32 who;
	u32 ctx;
	u64 seq;
};

#define NREC_MIN	((u32)sizeof(struct nrec))

static u8 nrec_byte(u32 who, u64 seq, u32 i)
{
	return (u8)(seq * 131 + i * 7 + who * 29 + (seq >> 8));
}

/*
 * The length of @who's record @seq: mostly short, one in 16 anything up
 * to @max (the ring's limit); any length, not only multiples of 8.
 */
static u32 nrec_len(u32 who, u64 seq, u32 max)
{
	u32 h = (u32)(seq + 1) * 2654435761u ^ who * 40503u;

	if (!(h & 15))
		return NREC_MIN + (h >> 4) % (max - NREC_MIN + 1);
	return NREC_MIN + (h >> 4) % 97;
}

static void nrec_write(void *rec, u32 len, u32 who, u64 seq)
{
	struct nrec *n = rec;
	u8 *b = rec;
	u32 i;

	n->who = who;
	n->ctx = lfq_src_context();	/* measured, not assumed */
	n->seq = seq;
	for (i = NREC_MIN; i < len; i++)
		b[i] = nrec_byte(who, seq, i);
}

/* A record's payload bytes are those of its producer and number. */
static bool nrec_whole(const void *rec, u32 len)
{
	const struct nrec *n = rec;
	const u8 *b = rec;
	u32 i;

	if (len < NREC_MIN)
		return false;
	for (i = NREC_MIN; i < len; i++)
		if (b[i] != nrec_byte(n->who, n->seq, i))
			return false;
	return true;
}

/*
 * A record queue of @bytes (MPSC, the kernel producers' type), in
 * overwrite mode if @ow; put when the test ends.
 */
static struct lfq_queue *nrec_queue(struct kunit *test, u32 bytes, bool ow)
{
	struct lfq_geometry g = {
		.type = LFQ_TYPE_MPSC,
		.flags = LFQ_CREATE_RECORDS | (ow ? LFQ_CREATE_OVERWRITE : 0),
		.slot_size = 1, .slot_count = bytes,
	};

	return lfq_kunit_queue_geo(test, &g);
}

/* The record of @len bytes at byte index @pos crosses the ring's end. */
static bool nrec_wraps(const struct lfq_queue *q, u64 pos, u32 len)
{
	u64 size = q->ring.slot_count;

	return (pos & (size - 1)) + lfq_rec_size(len) > size;
}

/* ---------------------------------------------------------------------- */
/* Self-NMIs                                                               */
/* ---------------------------------------------------------------------- */

/* How long a sender waits for its NMI before it takes the request back. */
#define RN_WAIT_NS	(50 * NSEC_PER_MSEC)

/* The CPUs the NMI cases use: the first RN_CPUS online ones. */
#define RN_CPUS	4

/*
 * Register the handler for the test's duration (unregistered when it
 * ends), then send each CPU the test uses (@cpus, @n of them) a self-NMI:
 * the test is skipped, saying why, if this kernel cannot.
 */
static void rn_setup(struct kunit *test, u32 *cpus, u32 *n)
{
	struct lfq_kunit_nmi_probe p;
	int err, cpu;

	*n = 0;
	err = lfq_kunit_nmi_register(test);
	if (err == -ENOMEM)
		KUNIT_ASSERT_FAILURE(test, "no memory to track the handler");
	if (err)
		kunit_skip(test, "no NMI handler (%d): no local APIC?", err);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (*n == RN_CPUS)
			break;
		if (!lfq_kunit_nmi_probe(cpu, RN_WAIT_NS, &p)) {
			cpus_read_unlock();
			kunit_skip(test, "CPU %d: a self-NMI never came (%d/%d)",
				   cpu, p.raised, p.nmi);
		}
		cpus[(*n)++] = cpu;
	}
	cpus_read_unlock();
}

/* ---------------------------------------------------------------------- */
/* The race: NMI, hardirq and thread producers, a concurrent consumer      */
/* ---------------------------------------------------------------------- */

#define RUN_THREADS	2
#define RUN_PRODS	(RUN_THREADS + 2 * RN_CPUS)
/* Timer expiries per CPU; each raises one NMI. */
#define RUN_FIRES	6000u
#define RUN_PERIOD_NS	200000
/* A thread produces until the timers are done, this many at least... */
#define RUN_THREAD_MIN	1000u
/* ...and this many at most. */
#define RUN_THREAD_MAX	200000u
/* The consumer pauses after this many records: the ring fills, drops. */
#define RUN_PAUSE_EVERY	2048u
#define RUN_DEADLINE_S	60

/**
 * struct nprod - one producer's count.
 * @seq:	its next record's number; a dropped record takes one too.
 * @drops:	its reservations that failed (each counted in
 *		lfq_stats.dropped).
 */
struct nprod {
	u64 seq;
	u64 drops;
};

struct nrun;

/**
 * struct ncpu - one CPU's timer and the NMIs it raises.
 * @req:	the NMI's work: 1 to 3 records of @nmi.
 * @run:	the race.
 * @timer:	the hardirq timer, pinned to the CPU.
 * @nmi:	producer number of the NMI's records.
 * @irq:	producer number of the timer's own records.
 * @fires:	expiries so far.
 * @lost:	NMIs that never came.
 * @not_nmi:	times the NMI's work ran outside NMI context.
 */
struct ncpu {
	struct lfq_kunit_nmi_req req;
	struct nrun *run;
	struct hrtimer timer;
	u32 nmi;
	u32 irq;
	u32 fires;
	u64 lost;
	u64 not_nmi;
};

/**
 * struct nthread - a producer thread, bound to one of the CPUs.
 * @run:	the race.
 * @who:	its producer number.
 */
struct nthread {
	struct nrun *run;
	u32 who;
};

/**
 * struct ntally - what the consumer found.
 * @next:	per producer, the number after its last record seen.
 * @gaps:	per producer, numbers it skipped (dropped or overwritten).
 * @ctx:	per producer, the context its records must say.
 * @nprod:	producers.
 * @max:	the ring's limit.
 * @q:		the queue (where records are, for @wrapped).
 * @got:	records delivered.
 * @by_ctx:	records delivered per LFQ_CONTEXT_*.
 * @bad:	records not whole, of a length not theirs, or of an unknown
 *		producer.
 * @order:	records at or before their producer's previous one: a
 *		duplicate or one out of order.
 * @wrong_ctx:	records whose context is not their producer's.
 * @wrapped:	records that crossed the ring's end.
 */
struct ntally {
	u64 next[RUN_PRODS];
	u64 gaps[RUN_PRODS];
	u32 ctx[RUN_PRODS];
	u32 nprod;
	u32 max;
	const struct lfq_queue *q;
	u64 got;
	u64 by_ctx[LFQ_CONTEXT_NMI + 1];
	u64 bad;
	u64 order;
	u64 wrong_ctx;
	u64 wrapped;
};

/**
 * struct nrun - the race (on the heap: KUnit frames stay small).
 * @q:		the queue.
 * @ow:		overwrite mode.
 * @max:	the ring's limit.
 * @ncpu:	CPUs in use.
 * @cpus:	each one's timer and NMIs.
 * @th:		the threads.
 * @task:	their tasks (a reference held), NULL if not created.
 * @prod:	every producer's count: threads first, then per CPU the
 *		NMI's and the timer's.
 * @timers_done: timers that made their RUN_FIRES.
 * @done:	producers finished (threads and timers).
 * @stop:	end now (a failure).
 * @c:		the in-kernel consumer.
 * @t:		what it found.
 * @st:		the queue's counters.
 */
struct nrun {
	struct lfq_queue *q;
	bool ow;
	u32 max;
	u32 ncpu;
	struct ncpu cpus[RN_CPUS];
	struct nthread th[RUN_THREADS];
	struct task_struct *task[RUN_THREADS];
	struct nprod prod[RUN_PRODS];
	atomic_t timers_done;
	atomic_t done;
	atomic_t stop;
	struct lfq_consumer c;
	struct ntally t;
	struct lfq_stats st;
};

/* Reserve and write @who's next record; NULL (a drop, counted) if full. */
static void *nrun_reserve(struct nrun *run, u32 who, struct lfq_rec_kresv *r)
{
	struct nprod *p = &run->prod[who];
	u32 len = nrec_len(who, p->seq, run->max);
	void *rec = lfq_queue_rec_reserve(run->q, len, r);

	if (rec)
		nrec_write(rec, len, who, p->seq);
	else
		p->drops++;
	p->seq++;
	return rec;
}

static bool nrun_put(struct nrun *run, u32 who)
{
	struct lfq_rec_kresv r;

	if (!nrun_reserve(run, who, &r))
		return false;
	lfq_queue_rec_commit(run->q, &r);
	return true;
}

/* In the NMI: 1 to 3 records of the CPU's NMI producer. */
static void nrun_nmi(struct lfq_kunit_nmi_req *req)
{
	struct ncpu *nc = container_of(req, struct ncpu, req);
	struct nrun *run = nc->run;
	u32 i, n = 1 + (u32)(run->prod[nc->nmi].seq % 3);

	if (!in_nmi())
		nc->not_nmi++;
	for (i = 0; i < n; i++)
		nrun_put(run, nc->nmi);
}

/* A producer is done: its commits before the count (pairs with nrun_fin()). */
static void nrun_done(struct nrun *run)
{
	/* ORDERING: release, pairs with the consumer's acquire of @done. */
	atomic_fetch_inc_release(&run->done);
}

static bool nrun_fin(struct nrun *run)
{
	/* ORDERING: acquire, pairs with nrun_done(): every commit seen. */
	return atomic_read_acquire(&run->done) == RUN_THREADS + run->ncpu;
}

/*
 * The timer, in hardirq context: its own record reserved, the NMI raised
 * while it is in flight (the NMI's records land after it; the consumer
 * waits at it), then committed.
 */
static enum hrtimer_restart nrun_timer(struct hrtimer *timer)
{
	struct ncpu *nc = container_of(timer, struct ncpu, timer);
	struct nrun *run = nc->run;
	struct lfq_rec_kresv r;
	void *rec = nrun_reserve(run, nc->irq, &r);

	if (!lfq_kunit_nmi_raise(&nc->req, RN_WAIT_NS))
		nc->lost++;
	if (rec)
		lfq_queue_rec_commit(run->q, &r);
	if (++nc->fires >= RUN_FIRES) {
		atomic_inc(&run->timers_done);
		nrun_done(run);
		return HRTIMER_NORESTART;
	}
	if (atomic_read(&run->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(RUN_PERIOD_NS));
	return HRTIMER_RESTART;
}

/* On the timer's CPU (smp_call_function_single()): pinned there. */
static void nrun_timer_start(void *arg)
{
	struct ncpu *nc = arg;

	hrtimer_start(&nc->timer, ns_to_ktime(RUN_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/*
 * A thread producer, on a CPU whose timer and NMIs interrupt it at any
 * point of its reservations: it produces while the timers run, pausing
 * now and then, and while the ring is three quarters full (so that the
 * NMIs find room but when the consumer pauses). Done, it waits for
 * kthread_stop() (the test holds the task).
 */
static int nrun_thread(void *arg)
{
	struct nthread *th = arg;
	struct nrun *run = th->run;
	struct nprod *p = &run->prod[th->who];
	u64 size = run->q->ring.slot_count;

	while (!kthread_should_stop() && !atomic_read(&run->stop) &&
	       p->seq < RUN_THREAD_MAX &&
	       (p->seq < RUN_THREAD_MIN ||
		atomic_read(&run->timers_done) < run->ncpu)) {
		/* A heuristic: the words as a process would read them. */
		if (!nrun_put(run, th->who) || !(p->seq & 7) ||
		    (!run->ow && READ_ONCE(*run->q->ring.head) -
		     READ_ONCE(*run->q->ring.tail) > size / 4 * 3))
			usleep_range(50, 100);
	}
	nrun_done(run);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/* Stop every producer: timers cancelled, threads stopped. */
static void nrun_stop(struct nrun *run)
{
	u32 i;

	atomic_set(&run->stop, 1);
	for (i = 0; i < run->ncpu; i++)
		hrtimer_cancel(&run->cpus[i].timer);
	for (i = 0; i < RUN_THREADS; i++) {
		if (!run->task[i])
			continue;
		/* A thread stopped before it ran never counts itself done. */
		kthread_stop(run->task[i]);
		put_task_struct(run->task[i]);
		run->task[i] = NULL;
	}
}

/* The consumer's check of one record (lfq_consumer_rec_consume()'s too). */
static int nrun_check(void *ctx, const void *rec, u32 len)
{
	struct ntally *t = ctx;
	const struct nrec *n = rec;
	const u8 *data = t->q->ring.data;
	u32 who;
	u64 seq;

	t->got++;
	if (len < NREC_MIN || n->who >= t->nprod) {
		t->bad++;
		return 0;
	}
	who = n->who;
	seq = n->seq;
	if (len != nrec_len(who, seq, t->max) || !nrec_whole(rec, len))
		t->bad++;
	if (n->ctx != t->ctx[who])
		t->wrong_ctx++;
	if (n->ctx <= LFQ_CONTEXT_NMI)
		t->by_ctx[n->ctx]++;
	/* The header is 8 bytes before the payload, in the first copy. */
	if (nrec_wraps(t->q, (u64)((const u8 *)rec - data) - LFQ_REC_HDR_SIZE,
		       len))
		t->wrapped++;
	if (seq < t->next[who]) {
		t->order++;
		return 0;
	}
	t->gaps[who] += seq - t->next[who];
	t->next[who] = seq + 1;
	return 0;
}

/* One step of the consumer (lfq_kunit_rec_take()): records taken. */
static int nrun_take(struct nrun *run, u64 step)
{
	return lfq_kunit_rec_take(&run->c, step, nrun_check, &run->t,
				  &run->t.bad);
}

/*
 * Take records until the producers are done and the ring is empty; pause
 * now and then, so that the ring fills (plain mode: producers drop) or is
 * lapped (overwrite mode: producers overwrite).
 */
static bool nrun_consume(struct nrun *run)
{
	unsigned long deadline = jiffies + RUN_DEADLINE_S * HZ;
	u64 step = 0, pause = RUN_PAUSE_EVERY;
	bool fin;

	for (;;) {
		/* Each time round: a consumer running away stops too. */
		if (time_after(jiffies, deadline))
			return false;
		fin = nrun_fin(run);
		if (nrun_take(run, step++)) {
			if (run->t.got >= pause) {
				pause = run->t.got + RUN_PAUSE_EVERY;
				usleep_range(3000, 4000);
			} else if (run->ow && !(step % 4)) {
				usleep_range(100, 200);
			}
			continue;
		}
		if (fin)
			return true;
		/* Asleep until a commit wakes it (irq_work from the NMI). */
		if (lfq_consumer_wait(&run->c, 1, 20 * NSEC_PER_MSEC) == -EINTR)
			return false;
	}
}

/* Set the race up on the CPUs of @cpus and start every producer. */
static struct nrun *nrun_start(struct kunit *test, bool ow, u32 bytes,
			       const u32 *cpus, u32 ncpu)
{
	struct nrun *run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	struct task_struct *task;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, run);
	run->q = nrec_queue(test, bytes, ow);
	run->ow = ow;
	run->max = lfq_rec_max_len(bytes);
	run->ncpu = ncpu;
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&run->c, run->q), 0);
	/* Its waits sleep until an NMI's irq_work wakes them: no spin. */
	lfq_consumer_set_spin(&run->c, 0);
	run->t.q = run->q;
	run->t.max = run->max;
	run->t.nprod = RUN_THREADS + 2 * ncpu;
	for (i = 0; i < RUN_THREADS; i++)
		run->t.ctx[i] = LFQ_CONTEXT_THREAD;
	for (i = 0; i < ncpu; i++) {
		struct ncpu *nc = &run->cpus[i];

		nc->run = run;
		nc->req.fn = nrun_nmi;
		nc->nmi = RUN_THREADS + 2 * i;
		nc->irq = nc->nmi + 1;
		run->t.ctx[nc->nmi] = LFQ_CONTEXT_NMI;
		run->t.ctx[nc->irq] = LFQ_CONTEXT_HARDIRQ;
		hrtimer_init(&nc->timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		nc->timer.function = nrun_timer;
	}
	for (i = 0; i < RUN_THREADS; i++) {
		run->th[i] = (struct nthread){ .run = run, .who = i };
		task = kthread_create(nrun_thread, &run->th[i], "lfq-nmi-p%u",
				      i);
		if (IS_ERR(task)) {
			nrun_stop(run);
			KUNIT_ASSERT_FAILURE(test, "no producer thread");
		}
		kthread_bind(task, cpus[i % ncpu]);
		get_task_struct(task);
		run->task[i] = task;
		wake_up_process(task);
	}
	for (i = 0; i < ncpu; i++)
		smp_call_function_single(cpus[i], nrun_timer_start,
					 &run->cpus[i], 1);
	return run;
}

/*
 * Stop, then the checks common to both modes. Return: the records the
 * producers numbered (delivered, dropped or overwritten), *@drops the ones
 * they dropped.
 */
static u64 nrun_end(struct kunit *test, struct nrun *run, bool finished,
		    u64 *drops)
{
	u64 lost = 0, not_nmi = 0, produced = 0;
	struct ntally *t = &run->t;
	u32 i;

	nrun_stop(run);
	lfq_queue_stats(run->q, &run->st);
	*drops = 0;
	for (i = 0; i < t->nprod; i++) {
		produced += run->prod[i].seq;
		*drops += run->prod[i].drops;
	}
	for (i = 0; i < run->ncpu; i++) {
		lost += run->cpus[i].lost;
		not_nmi += run->cpus[i].not_nmi;
	}
	KUNIT_EXPECT_TRUE_MSG(test, finished, "the race did not end in %d s",
			      RUN_DEADLINE_S);
	KUNIT_EXPECT_EQ(test, t->bad, 0);
	KUNIT_EXPECT_EQ(test, t->order, 0);
	KUNIT_EXPECT_EQ(test, t->wrong_ctx, 0);
	KUNIT_EXPECT_EQ(test, run->c.rec.corrupt, 0);
	KUNIT_EXPECT_EQ(test, lost, 0);
	KUNIT_EXPECT_EQ(test, not_nmi, 0);
	/* Every producer drop is a drop of the queue's, and only those. */
	KUNIT_EXPECT_EQ(test, run->st.dropped, *drops);
	KUNIT_EXPECT_GT(test, t->by_ctx[LFQ_CONTEXT_NMI], 0);
	KUNIT_EXPECT_GT(test, t->by_ctx[LFQ_CONTEXT_HARDIRQ], 0);
	KUNIT_EXPECT_GT(test, t->by_ctx[LFQ_CONTEXT_THREAD], 0);
	KUNIT_EXPECT_GT(test, t->wrapped, 0);
	return produced;
}

/* Numbers a producer gave after its last record delivered. */
static u64 nrun_trailing(const struct nrun *run, u32 who)
{
	return run->prod[who].seq - run->t.next[who];
}

static void lfq_rec_nmi_race_test(struct kunit *test)
{
	u64 produced, drops, missed = 0, unexplained = 0;
	struct nrun *run;
	u32 cpus[RN_CPUS], ncpu, i;
	bool finished;

	rn_setup(test, cpus, &ncpu);
	run = nrun_start(test, false, 16384, cpus, ncpu);
	finished = nrun_consume(run);
	produced = nrun_end(test, run, finished, &drops);
	/*
	 * Exactly once: each producer's numbers that never arrived are the
	 * ones it dropped, no more, no fewer.
	 */
	for (i = 0; i < run->t.nprod; i++) {
		u64 gone = run->t.gaps[i] + nrun_trailing(run, i);

		missed += gone;
		unexplained += gone != run->prod[i].drops;
	}
	KUNIT_EXPECT_EQ(test, unexplained, 0);
	KUNIT_EXPECT_EQ(test, missed, drops);
	KUNIT_EXPECT_EQ(test, run->t.got + drops, produced);
	KUNIT_EXPECT_GT(test, drops, 0);
	KUNIT_EXPECT_EQ(test, run->st.overwritten, 0);
	kunit_info(test, "%u CPUs: %llu records (%llu NMI, %llu hardirq, %llu thread), %llu wrapped, %llu dropped",
		   ncpu, run->t.got, run->t.by_ctx[LFQ_CONTEXT_NMI],
		   run->t.by_ctx[LFQ_CONTEXT_HARDIRQ],
		   run->t.by_ctx[LFQ_CONTEXT_THREAD], run->t.wrapped, drops);
	lfq_consumer_fini(&run->c);
}

/* The quiet phase: one NMI's records, on the CPU it runs on (IRQs off). */
#define OW_QUIET_NMIS	64u

static void nrun_quiet_on(void *arg)
{
	struct ncpu *nc = arg;

	if (!lfq_kunit_nmi_raise(&nc->req, RN_WAIT_NS))
		nc->lost++;
}

static void lfq_rec_nmi_ow_test(struct kunit *test)
{
	u64 produced, drops, missed = 0, quiet_drops = 0, ow_before, got;
	struct nrun *run;
	u32 cpus[RN_CPUS], ncpu, i;
	bool finished;

	rn_setup(test, cpus, &ncpu);
	run = nrun_start(test, true, 4096, cpus, ncpu);
	finished = nrun_consume(run);
	produced = nrun_end(test, run, finished, &drops);
	got = run->t.got;
	for (i = 0; i < run->t.nprod; i++)
		missed += run->t.gaps[i] + nrun_trailing(run, i);
	/* Never both, never neither: delivered, dropped or overwritten. */
	KUNIT_EXPECT_EQ(test, missed, drops + run->st.overwritten);
	KUNIT_EXPECT_EQ(test, got + drops + run->st.overwritten, produced);
	KUNIT_EXPECT_GT(test, run->st.overwritten, 0);
	kunit_info(test, "%u CPUs: %llu records delivered (%llu NMI, %llu hardirq, %llu thread), %llu wrapped, %llu overwritten, %llu dropped",
		   ncpu, got, run->t.by_ctx[LFQ_CONTEXT_NMI],
		   run->t.by_ctx[LFQ_CONTEXT_HARDIRQ],
		   run->t.by_ctx[LFQ_CONTEXT_THREAD], run->t.wrapped,
		   run->st.overwritten, drops);

	/*
	 * The NMI producers alone, laps of the ring nobody holds or writes:
	 * they overwrite, and never fail.
	 */
	ow_before = run->st.overwritten;
	for (i = 0; i < ncpu; i++) {
		u32 who = run->cpus[i].nmi;
		u64 d = run->prod[who].drops;
		u32 k;

		for (k = 0; k < OW_QUIET_NMIS; k++)
			smp_call_function_single(cpus[i], nrun_quiet_on,
						 &run->cpus[i], 1);
		quiet_drops += run->prod[who].drops - d;
		KUNIT_EXPECT_EQ(test, run->cpus[i].lost, 0);
	}
	lfq_queue_stats(run->q, &run->st);
	KUNIT_EXPECT_EQ(test, quiet_drops, 0);
	KUNIT_EXPECT_EQ(test, run->st.dropped, drops);
	KUNIT_EXPECT_GT(test, run->st.overwritten, ow_before);
	/* What is left is whole and in order, and everything adds up. */
	for (i = 0; i < 1024 && nrun_take(run, 0); i++)
		;
	KUNIT_EXPECT_LT(test, i, 1024);
	produced = 0;
	missed = 0;
	for (i = 0; i < run->t.nprod; i++) {
		produced += run->prod[i].seq;
		missed += run->t.gaps[i] + nrun_trailing(run, i);
	}
	KUNIT_EXPECT_GT(test, run->t.got, got);
	KUNIT_EXPECT_EQ(test, run->t.bad, 0);
	KUNIT_EXPECT_EQ(test, run->t.order, 0);
	KUNIT_EXPECT_EQ(test, run->t.wrong_ctx, 0);
	KUNIT_EXPECT_EQ(test, missed, drops + run->st.overwritten);
	KUNIT_EXPECT_EQ(test, run->t.got + drops + run->st.overwritten,
			produced);
	kunit_info(test, "then NMIs alone: %llu records, %llu overwritten, %llu dropped",
		   run->t.got - got, run->st.overwritten - ow_before,
		   quiet_drops);
	lfq_consumer_fini(&run->c);
}

/* ---------------------------------------------------------------------- */
/* An NMI in the middle of a record                                        */
/* ---------------------------------------------------------------------- */

#define MID_RING	4096u
#define MID_ROUNDS	40u
/* Producer numbers of the records: the thread's, its NMI's, the fillers. */
#define MID_THREAD	0u
#define MID_NMI		1u
#define MID_FILL	2u

/* The handshake, test and thread taking turns (struct nmid.phase). */
enum {
	MID_IDLE,
	MID_GO,		/* test: reserve A */
	MID_RESERVED,	/* thread: A reserved */
	MID_RAISE,	/* test: raise the NMI */
	MID_HELD,	/* thread: the NMI ran, A still reserved */
	MID_COMMIT,	/* test: commit A */
	MID_DONE,	/* thread: A committed */
	MID_WAKE,	/* test: raise the NMI once I sleep */
};

/**
 * struct nmid - a thread, its NMI and the test (the consumer).
 * @q:		the queue.
 * @req:	the NMI's work: reserve, write and commit B.
 * @phase:	whose turn (MID_*).
 * @round:	the round: A's and B's number.
 * @len_a:	A's length.
 * @len_b:	B's length.
 * @max:	the ring's limit.
 * @ra:		A's reservation.
 * @got_a:	A was reserved.
 * @pos_a:	its byte index.
 * @got_b:	the NMI reserved B.
 * @pos_b:	its byte index.
 * @nmi:	the NMI's work ran in NMI context.
 * @raised:	lfq_kunit_nmi_raise() said it ran.
 */
struct nmid {
	struct lfq_queue *q;
	struct lfq_kunit_nmi_req req;
	atomic_t phase;
	u64 round;
	u32 len_a;
	u32 len_b;
	u32 max;
	struct lfq_rec_kresv ra;
	bool got_a;
	u64 pos_a;
	bool got_b;
	u64 pos_b;
	bool nmi;
	bool raised;
};

/* In the NMI, the thread interrupted with A reserved: B, committed. */
static void nmid_nmi(struct lfq_kunit_nmi_req *req)
{
	struct nmid *m = container_of(req, struct nmid, req);
	struct lfq_rec_kresv r;
	void *rec;

	m->nmi = in_nmi();
	rec = lfq_queue_rec_reserve(m->q, m->len_b, &r);
	m->got_b = rec;
	if (!rec)
		return;
	m->pos_b = r.resv.pos;
	nrec_write(rec, m->len_b, MID_NMI, m->round);
	lfq_queue_rec_commit(m->q, &r);
}

/* The thread waits for its turn; false when it is to stop. */
static bool nmid_turn(struct nmid *m, int want)
{
	/* ORDERING: acquire, pairs with the test's release (nmid_pass()). */
	while (atomic_read_acquire(&m->phase) != want) {
		if (kthread_should_stop())
			return false;
		usleep_range(20, 50);
	}
	return true;
}

/* Hand the turn over: what we wrote before it (acquire in nmid_turn/_await). */
static void nmid_pass(struct nmid *m, int phase)
{
	/* ORDERING: release, pairs with the other side's acquire. */
	atomic_set_release(&m->phase, phase);
}

/* Raise the NMI with interrupts off (struct lfq_kunit_nmi_slot). */
static void nmid_raise(struct nmid *m)
{
	unsigned long flags;

	m->nmi = false;
	m->got_b = false;
	local_irq_save(flags);
	m->raised = lfq_kunit_nmi_raise(&m->req, RN_WAIT_NS);
	local_irq_restore(flags);
}

/*
 * The thread, bound to one CPU: each round reserves A, raises its CPU's
 * NMI while A is reserved and commits A only when the test says so. A
 * wake round raises the NMI once the consumer sleeps. Done, it waits for
 * kthread_stop() (the test holds the task).
 */
static int nmid_thread(void *arg)
{
	struct nmid *m = arg;
	unsigned long end;
	void *rec;

	for (;;) {
		/* ORDERING: acquire, pairs with the test's release. */
		while (atomic_read_acquire(&m->phase) != MID_GO &&
		       atomic_read_acquire(&m->phase) != MID_WAKE) {
			if (kthread_should_stop())
				return 0;
			usleep_range(20, 50);
		}
		if (atomic_read(&m->phase) == MID_WAKE) {
			/* The consumer arms need_data before it sleeps. */
			end = jiffies + 10 * HZ;
			while (!READ_ONCE(*m->q->ring.need_data) &&
			       time_before(jiffies, end) &&
			       !kthread_should_stop())
				usleep_range(20, 50);
			nmid_raise(m);
			nmid_pass(m, MID_HELD);
			continue;
		}
		rec = lfq_queue_rec_reserve(m->q, m->len_a, &m->ra);
		m->got_a = rec;
		if (rec) {
			m->pos_a = m->ra.resv.pos;
			nrec_write(rec, m->len_a, MID_THREAD, m->round);
		}
		nmid_pass(m, MID_RESERVED);
		if (nmid_turn(m, MID_RAISE)) {
			nmid_raise(m);
			nmid_pass(m, MID_HELD);
			nmid_turn(m, MID_COMMIT);
		}
		if (rec)
			lfq_queue_rec_commit(m->q, &m->ra);
		nmid_pass(m, MID_DONE);
	}
}

/* The test waits for the thread's turn @want (10 s at most). */
static bool nmid_await(struct nmid *m, int want)
{
	unsigned long end = jiffies + 10 * HZ;

	/* ORDERING: acquire, pairs with the thread's release (nmid_pass()). */
	while (atomic_read_acquire(&m->phase) != want) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(20, 50);
	}
	return true;
}

/* The consumer's next record: whole, of @who's round, of @len bytes. */
static bool nmid_get(struct lfq_consumer *c, u32 who, u32 ctx, u64 seq,
		     u32 len)
{
	const struct nrec *n;
	u32 got;
	bool ok;

	n = lfq_consumer_rec_peek(c, &got);
	if (!n)
		return false;
	ok = got == len && nrec_whole(n, got) && n->who == who &&
	     n->ctx == ctx && n->seq == seq;
	lfq_consumer_rec_release(c);
	return ok;
}

/* A run's callback that must not be called (the run is empty). */
static int nmid_none(void *ctx, const void *rec, u32 len)
{
	(*(u32 *)ctx)++;
	return 0;
}

/* A header's state at @pos (lfq_rec_hdr_state(): 1 committed, 0 not). */
static int nmid_hdr(const struct nmid *m, u64 pos)
{
	u64 size = m->q->ring.slot_count;

	return lfq_rec_hdr_state(READ_ONCE(*lfq_rec_hdr_at(&m->q->ring, pos)),
				 pos, lfq_rec_order(size), m->max);
}

/*
 * One round: A reserved by the thread, B by its NMI, checked while A is
 * in flight, then both taken in order. With @full, the test fills the
 * ring behind A first: the NMI's reservation must fail, and A comes
 * whole before the fillers. Expectations only (the thread runs); false
 * if the handshake broke off.
 */
static bool nmid_round(struct kunit *test, struct nmid *m,
		       struct lfq_consumer *c, bool full, u32 *wrapped)
{
	struct lfq_rec_kresv r;
	struct lfq_stats st;
	u64 drops, fills = 0, i;
	u32 len, calls = 0;
	void *rec;

	lfq_queue_stats(m->q, &st);
	drops = st.dropped;
	nmid_pass(m, MID_GO);
	if (!nmid_await(m, MID_RESERVED)) {
		KUNIT_FAIL(test, "round %llu: the thread did not reserve",
			   m->round);
		return false;
	}
	KUNIT_EXPECT_TRUE(test, m->got_a);
	/*
	 * Small records until one fails: in overwrite mode, at A (a ring
	 * holds fewer than MID_RING / 24 of them: the bound is for mutants).
	 */
	while (full && fills < MID_RING / 8 &&
	       (rec = lfq_queue_rec_reserve(m->q, NREC_MIN, &r))) {
		nrec_write(rec, NREC_MIN, MID_FILL, fills++);
		lfq_queue_rec_commit(m->q, &r);
	}
	if (full) {
		KUNIT_EXPECT_GT(test, fills, MID_RING / 64);
		KUNIT_EXPECT_LT(test, fills, MID_RING / 24);
	}
	nmid_pass(m, MID_RAISE);
	if (!nmid_await(m, MID_HELD)) {
		KUNIT_FAIL(test, "round %llu: the NMI was not raised",
			   m->round);
		return false;
	}
	KUNIT_EXPECT_TRUE(test, m->raised);
	KUNIT_EXPECT_TRUE(test, m->nmi);
	KUNIT_EXPECT_EQ(test, nmid_hdr(m, m->pos_a), 0);
	if (full) {
		KUNIT_EXPECT_FALSE(test, m->got_b);
	} else {
		/* B right after A, and committed. */
		KUNIT_EXPECT_TRUE(test, m->got_b);
		KUNIT_EXPECT_EQ(test, m->pos_b,
				m->pos_a + lfq_rec_size(m->len_a));
		KUNIT_EXPECT_EQ(test, nmid_hdr(m, m->pos_b), 1);
		*wrapped += nrec_wraps(m->q, m->pos_a, m->len_a) ||
			    nrec_wraps(m->q, m->pos_b, m->len_b);
	}
	/* The consumer stops at A: peek, run and readiness alike. */
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(c, &len));
	KUNIT_EXPECT_EQ(test, lfq_consumer_rec_consume(c, 16, nmid_none,
						       &calls), 0);
	KUNIT_EXPECT_EQ(test, calls, 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(c, 1, 0), -EAGAIN);
	nmid_pass(m, MID_COMMIT);
	if (!nmid_await(m, MID_DONE)) {
		KUNIT_FAIL(test, "round %llu: the thread did not commit",
			   m->round);
		return false;
	}
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(c, 1, 0), 0);
	KUNIT_EXPECT_TRUE(test, nmid_get(c, MID_THREAD, LFQ_CONTEXT_THREAD,
					 m->round, m->len_a));
	if (!full)
		KUNIT_EXPECT_TRUE(test, nmid_get(c, MID_NMI, LFQ_CONTEXT_NMI,
						 m->round, m->len_b));
	for (i = 0; i < fills; i++)
		KUNIT_EXPECT_TRUE(test, nmid_get(c, MID_FILL,
						 LFQ_CONTEXT_THREAD, i,
						 NREC_MIN));
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(c, &len));
	lfq_queue_stats(m->q, &st);
	/* A full round: the filler that found no room, and the NMI's. */
	KUNIT_EXPECT_EQ(test, st.dropped - drops, full ? 2 : 0);
	KUNIT_EXPECT_EQ(test, st.overwritten, 0);
	nmid_pass(m, MID_IDLE);
	return true;
}

/*
 * The wake round: the consumer sleeps on an empty ring; the thread's NMI
 * commits B, and its irq_work wakes the consumer (long before the
 * timeout: a lost wakeup would sleep through it).
 */
static bool nmid_wake_round(struct kunit *test, struct nmid *m,
			    struct lfq_consumer *c)
{
	u64 t0;
	int ret;

	nmid_pass(m, MID_WAKE);
	t0 = ktime_get_ns();
	ret = lfq_consumer_wait(c, 1, 10 * NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_LT(test, ktime_get_ns() - t0, 5 * NSEC_PER_SEC);
	if (!nmid_await(m, MID_HELD)) {
		KUNIT_FAIL(test, "wake round: the NMI was not raised");
		return false;
	}
	KUNIT_EXPECT_TRUE(test, m->nmi);
	KUNIT_EXPECT_TRUE(test, m->got_b);
	KUNIT_EXPECT_TRUE(test, nmid_get(c, MID_NMI, LFQ_CONTEXT_NMI,
					 m->round, m->len_b));
	nmid_pass(m, MID_IDLE);
	return true;
}

/*
 * On each CPU in turn, a thread bound there: MID_ROUNDS rounds, a full
 * one, a wake one. From the thread's start to its kthread_stop() nothing
 * ends the test (expectations only).
 */
static void nmid_test(struct kunit *test, bool ow)
{
	struct nmid *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct lfq_consumer *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	u32 cpus[RN_CPUS], ncpu, i, k, wrapped = 0, span;
	struct task_struct *task;
	u64 h, round = 0;
	bool ok = true;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, c);
	rn_setup(test, cpus, &ncpu);
	m->q = nrec_queue(test, MID_RING, ow);
	m->max = lfq_rec_max_len(MID_RING);
	m->req.fn = nmid_nmi;
	span = m->max - NREC_MIN + 1;
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, m->q), 0);
	/* The wake round must sleep, not find B in a spin. */
	lfq_consumer_set_spin(c, 0);
	for (i = 0; i < ncpu && ok; i++) {
		task = kthread_create(nmid_thread, m, "lfq-nmi-mid%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		kthread_bind(task, cpus[i]);
		get_task_struct(task);
		wake_up_process(task);
		for (k = 0; k < MID_ROUNDS + 2 && ok; k++) {
			h = (round + 1) * 2654435761u;
			m->round = round++;
			m->len_a = NREC_MIN + (u32)(h % span);
			m->len_b = NREC_MIN + (u32)((h >> 20) % span);
			if (k == MID_ROUNDS + 1)
				ok = nmid_wake_round(test, m, c);
			else
				ok = nmid_round(test, m, c, k == MID_ROUNDS,
						&wrapped);
		}
		/* A thread stopped before it ran never runs: nothing waits. */
		kthread_stop(task);
		put_task_struct(task);
	}
	KUNIT_EXPECT_GT(test, wrapped, 0);
	KUNIT_EXPECT_EQ(test, c->rec.corrupt, 0);
	kunit_info(test, "%u CPUs, %llu rounds, %u with a record across the ring's end",
		   ncpu, round, wrapped);
	lfq_consumer_fini(c);
}

static void lfq_rec_nmi_mid_test(struct kunit *test)
{
	nmid_test(test, false);
}

static void lfq_rec_nmi_mid_ow_test(struct kunit *test)
{
	nmid_test(test, true);
}

static struct kunit_case lfq_rec_nmi_cases[] = {
	KUNIT_CASE(lfq_rec_nmi_race_test),
	KUNIT_CASE(lfq_rec_nmi_ow_test),
	KUNIT_CASE(lfq_rec_nmi_mid_test),
	KUNIT_CASE(lfq_rec_nmi_mid_ow_test),
	{}
};

static struct kunit_suite lfq_rec_nmi_suite = {
	.name = "lfq_rec_nmi",
	.test_cases = lfq_rec_nmi_cases,
};

kunit_test_suite(lfq_rec_nmi_suite);

MODULE_DESCRIPTION("KUnit tests for lfq record queues with NMI producers");
MODULE_LICENSE("GPL");
