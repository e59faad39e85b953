// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_source_synth.c - LFQ_SOURCE_SYNTH: sequenced records from kernel
 * threads (process context) and hrtimers (hardirq or softirq context),
 * for tests and benchmarks. Each producer numbers its records 0, 1, 2...
 * and counts a record it could not place (a full ring) as used, so a
 * consumer sees drops as gaps, and they add up with lfq_stats.dropped.
 * With LFQ_SOURCE_SYNTH_NMI the hardirq timers produce from NMI context:
 * each raises an NMI on its own CPU and the NMI handler commits.
 */
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#ifdef CONFIG_X86_LOCAL_APIC
#include <asm/apic.h>
#include <asm/nmi.h>
#endif

#include "lfq_source.h"

/* Longest interval between records: anything longer is a mistake. */
#define LFQ_SYNTH_PERIOD_MAX_NS	(3600ull * NSEC_PER_SEC)

struct lfq_synth;

/**
 * struct lfq_synth_prod - one producer.
 * @synth:	the source it belongs to.
 * @id:		its number in the records.
 * @seq:	the next record's sequence number.
 * @task:	its kernel thread, or NULL for a timer.
 * @timer:	its hrtimer, for a timer producer.
 * @nmi:	it produces from the NMI its timer raises.
 * @nmi_lost:	an NMI of it never came: it produces in hardirq context.
 * @raised:	NMIs raised (its timer's count of records).
 */
struct lfq_synth_prod {
	struct lfq_synth *synth;
	u32 id;
	u64 seq;
	struct task_struct *task;
	struct hrtimer timer;
	bool nmi;
	bool nmi_lost;
	u64 raised;
};

/**
 * struct lfq_synth - an LFQ_SOURCE_SYNTH source.
 * @src:	the common part.
 * @count:	records per producer; 0 for no end.
 * @thread_period: a thread's interval; 0 for flat out.
 * @timer_period: a timer's interval.
 * @threads:	producers 0..@threads - 1 are threads.
 * @hardirq:	the next @hardirq producers are hardirq timers, the rest
 *		softirq timers.
 * @nr:		producers in @prod.
 * @prod:	the producers.
 */
struct lfq_synth {
	struct lfq_src src;
	u64 count;
	ktime_t thread_period;
	ktime_t timer_period;
	u32 threads;
	u32 hardirq;
	u32 nr;
	struct lfq_synth_prod prod[];
};

/* Produce @p's next record; true when @p has produced its count. */
static bool lfq_synth_emit(struct lfq_synth_prod *p)
{
	struct lfq_synth *s = p->synth;
	struct lfq_event_synth *ev;
	struct lfq_src_resv r;

	ev = lfq_src_reserve(&s->src, LFQ_EVENT_SYNTH, sizeof(*ev), &r);
	if (ev) {
		ev->producer = p->id;
		ev->context = lfq_src_context();
		ev->seq = p->seq;
		lfq_src_commit(&s->src, &r);
	}
	/* A dropped record still takes its number: the consumer sees a gap. */
	p->seq++;
	return s->count && p->seq >= s->count;
}

#ifdef CONFIG_X86_LOCAL_APIC
/*
 * NMI producers. A producer's hardirq timer puts itself in its CPU's
 * lfq_synth_nmi_wait and sends that CPU an NMI through the local APIC's
 * ICR (as hw_nmi.c does: the x2APIC self-IPI register cannot deliver
 * one); lfq_synth_nmi() takes the producer out of the slot and commits
 * its record. The timer waits until the slot is empty, so once
 * hrtimer_cancel() has returned no NMI handler holds the producer: the
 * handler runs on the timer's CPU and the timer only sees the slot empty
 * after it. The handler is registered with the first NMI source and stays
 * until the module goes (unregistering costs a grace period).
 *
 * An NMI carries no sign of who sent it. Another NMI (perf, the watchdog)
 * that comes between the timer's store and its own NMI takes the record,
 * and the timer's NMI then finds the slot empty: for LFQ_SYNTH_NMI_STRAY_NS
 * after taking a record, the handler claims one empty-handed NMI as ours,
 * as perf's AMD driver does with its NMI window, rather than let x86
 * report it as unknown. An unknown NMI in that window is swallowed.
 */
struct lfq_synth_nmi_cpu {
	struct lfq_synth_prod *prod;
	u64 stray_until;
};

static DEFINE_PER_CPU(struct lfq_synth_nmi_cpu, lfq_synth_nmi_wait);
static DEFINE_MUTEX(lfq_synth_nmi_lock);
static bool lfq_synth_nmi_registered;

/* How long a timer waits for its NMI before producing the record itself. */
#define LFQ_SYNTH_NMI_WAIT_NS	(10 * NSEC_PER_MSEC)
/* How long after a record the handler claims one empty-handed NMI. */
#define LFQ_SYNTH_NMI_STRAY_NS	(1 * NSEC_PER_MSEC)

static int lfq_synth_nmi(unsigned int type, struct pt_regs *regs)
{
	struct lfq_synth_prod *p = this_cpu_xchg(lfq_synth_nmi_wait.prod, NULL);
	u64 now = local_clock();

	if (p) {
		lfq_synth_emit(p);
		this_cpu_write(lfq_synth_nmi_wait.stray_until,
			       now + LFQ_SYNTH_NMI_STRAY_NS);
		return NMI_HANDLED;
	}
	if (now < this_cpu_read(lfq_synth_nmi_wait.stray_until)) {
		this_cpu_write(lfq_synth_nmi_wait.stray_until, 0);
		return NMI_HANDLED;	/* ours, late: its record was taken */
	}
	return NMI_DONE;
}

/* Raise @p's NMI and wait for it; true when @p has produced its count. */
static bool lfq_synth_nmi_raise(struct lfq_synth_prod *p)
{
	u64 start = local_clock();

	if (unlikely(p->nmi_lost)) {
		/* Its NMIs never came: produce here, in hardirq context. */
		lfq_synth_emit(p);
	} else {
		/*
		 * The handler runs on this CPU (IRQs are off here, NMIs are
		 * not): program order orders the slot's store and loads
		 * against it; nothing pairs across CPUs.
		 */
		this_cpu_write(lfq_synth_nmi_wait.prod, p);
		apic->send_IPI_mask(cpumask_of(smp_processor_id()),
				    NMI_VECTOR);
		while (this_cpu_read(lfq_synth_nmi_wait.prod)) {
			if (local_clock() - start < LFQ_SYNTH_NMI_WAIT_NS) {
				cpu_relax();
				continue;
			}
			/*
			 * No NMI came (an APIC that cannot send one, a
			 * hypervisor that drops them): take the slot back,
			 * unless the NMI takes it first (the exchange is
			 * atomic against it), produce here, and stop
			 * raising NMIs for this producer. Its records then
			 * say hardirq context.
			 */
			if (this_cpu_xchg(lfq_synth_nmi_wait.prod, NULL)) {
				p->nmi_lost = true;
				lfq_synth_emit(p);
				/* Should it come after all: not unknown. */
				this_cpu_write(lfq_synth_nmi_wait.stray_until,
					       local_clock() +
					       LFQ_SYNTH_NMI_STRAY_NS);
			}
			break;
		}
	}
	return p->synth->count && ++p->raised >= p->synth->count;
}

/* Register the NMI handler, the first time; -EOPNOTSUPP without an APIC. */
static int lfq_synth_nmi_register(void)
{
	int err = 0;

	if (!boot_cpu_has(X86_FEATURE_APIC))
		return -EOPNOTSUPP;
	mutex_lock(&lfq_synth_nmi_lock);
	if (!lfq_synth_nmi_registered) {
		err = register_nmi_handler(NMI_LOCAL, lfq_synth_nmi, 0,
					   "lfq_synth");
		lfq_synth_nmi_registered = !err;
	}
	mutex_unlock(&lfq_synth_nmi_lock);
	return err;
}

/**
 * lfq_synth_module_exit() - unregister the NMI handler, if it was.
 *
 * Called at module exit, when no source is left.
 */
void lfq_synth_module_exit(void)
{
	if (lfq_synth_nmi_registered)
		unregister_nmi_handler(NMI_LOCAL, "lfq_synth");
}
#else
static bool lfq_synth_nmi_raise(struct lfq_synth_prod *p)
{
	return true;
}

static int lfq_synth_nmi_register(void)
{
	return -EOPNOTSUPP;
}

void lfq_synth_module_exit(void)
{
}
#endif

static int lfq_synth_thread(void *data)
{
	struct lfq_synth_prod *p = data;
	ktime_t period = p->synth->thread_period;
	ktime_t next = ktime_get();
	bool done = false;

	while (!kthread_should_stop()) {
		if (done) {
			/* Counted out: wait for kthread_stop(). */
			set_current_state(TASK_INTERRUPTIBLE);
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		done = lfq_synth_emit(p);
		if (!period) {
			cond_resched();
			continue;
		}
		next = ktime_add(next, period);
		set_current_state(TASK_INTERRUPTIBLE);
		/* kthread_stop() wakes us; recheck before sleeping. */
		if (!kthread_should_stop())
			schedule_hrtimeout(&next, HRTIMER_MODE_ABS);
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static enum hrtimer_restart lfq_synth_timer(struct hrtimer *timer)
{
	struct lfq_synth_prod *p = container_of(timer, struct lfq_synth_prod,
						timer);

	if (p->nmi ? lfq_synth_nmi_raise(p) : lfq_synth_emit(p))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, p->synth->timer_period);
	return HRTIMER_RESTART;
}

static void lfq_synth_stop(struct lfq_synth *s)
{
	u32 i;

	for (i = 0; i < s->nr; i++) {
		struct lfq_synth_prod *p = &s->prod[i];

		if (i < s->threads) {
			if (p->task)
				kthread_stop(p->task);
		} else {
			/* Waits for a running callback; stops re-arming. */
			hrtimer_cancel(&p->timer);
		}
	}
}

static void lfq_synth_detach(struct lfq_src *src)
{
	struct lfq_synth *s = container_of(src, struct lfq_synth, src);

	lfq_synth_stop(s);
	kfree(s);
}

static int lfq_synth_check(const struct lfq_src_synth_args *a)
{
	u64 timers = (u64)a->hardirq_timers + a->softirq_timers;
	u64 nr = timers + a->threads;

	if (!nr || nr > LFQ_SYNTH_PRODUCERS_MAX ||
	    (a->nmi && !a->hardirq_timers))
		return -EINVAL;
	if (a->thread_period_ns > LFQ_SYNTH_PERIOD_MAX_NS ||
	    (!a->threads && a->thread_period_ns))
		return -EINVAL;
	if (!timers)
		return a->timer_period_ns ? -EINVAL : 0;
	if (a->timer_period_ns < LFQ_SYNTH_TIMER_PERIOD_MIN_NS ||
	    a->timer_period_ns > LFQ_SYNTH_PERIOD_MAX_NS)
		return -EINVAL;
	return 0;
}

static struct lfq_src *lfq_synth_attach(const struct lfq_src *tmpl,
					const struct lfq_src_args *args)
{
	const struct lfq_src_synth_args *a = &args->synth;
	struct lfq_synth *s;
	u32 i;
	int err;

	err = lfq_synth_check(a);
	if (!err && a->nmi)
		err = lfq_synth_nmi_register();
	if (err)
		return ERR_PTR(err);
	s = kzalloc(struct_size(s, prod, a->threads + a->hardirq_timers +
				a->softirq_timers), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->src = *tmpl;
	s->count = a->count;
	s->thread_period = ns_to_ktime(a->thread_period_ns);
	s->timer_period = ns_to_ktime(a->timer_period_ns);
	s->threads = a->threads;
	s->hardirq = a->hardirq_timers;
	s->nr = a->threads + a->hardirq_timers + a->softirq_timers;
	for (i = s->threads; a->nmi && i < s->threads + s->hardirq; i++)
		s->prod[i].nmi = true;

	for (i = 0; i < s->nr; i++) {
		struct lfq_synth_prod *p = &s->prod[i];

		p->synth = s;
		p->id = i;
		if (i < s->threads) {
			p->task = kthread_run(lfq_synth_thread, p,
					      "lfq-synth/%u:%u", tmpl->q->id, i);
			if (IS_ERR(p->task)) {
				err = PTR_ERR(p->task);
				p->task = NULL;
				s->nr = i;
				goto fail;
			}
		} else {
			enum hrtimer_mode mode = i < s->threads + s->hardirq ?
				HRTIMER_MODE_REL_HARD : HRTIMER_MODE_REL_SOFT;

			hrtimer_init(&p->timer, CLOCK_MONOTONIC, mode);
			p->timer.function = lfq_synth_timer;
			hrtimer_start(&p->timer, s->timer_period, mode);
		}
	}
	return &s->src;

fail:
	lfq_synth_detach(&s->src);
	return ERR_PTR(err);
}

const struct lfq_src_type lfq_src_synth = {
	.attach		= lfq_synth_attach,
	.detach		= lfq_synth_detach,
	.rec_size	= sizeof(struct lfq_event_synth),
	.producer	= true,
};
