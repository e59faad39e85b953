/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_kunit_nmi.h - the self-NMIs of the KUnit suites of kmod/tests that
 * produce in NMI context (lfq_rec_nmi, lfq_elastic_rec). It owns the
 * handler, registered on NMI_LOCAL as KBUILD_MODNAME for a test's duration
 * (lfq_kunit_nmi_register()), the per-CPU slot through which a CPU hands
 * its next NMI of ours a request (lfq_kunit_nmi_raise()), and the probe
 * that sees a CPU's self-NMI come (lfq_kunit_nmi_probe()). What a suite
 * does when NMIs do not come (skip, or race without them) is its own.
 *
 * The NMIs are sent through the local APIC with interrupts off, as
 * kmod/sources/lfq_source_synth.c sends them; without a local APIC
 * (!CONFIG_X86_LOCAL_APIC) registration fails with -EOPNOTSUPP and no
 * NMI ever comes.
 *
 * Every suite is a module of its own: the handler's name, the slot and
 * everything here are that module's, so two suites loaded together never
 * share a slot or register the same name.
 */
#ifndef _LFQ_TESTS_KUNIT_NMI_H
#define _LFQ_TESTS_KUNIT_NMI_H

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/processor.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
#include <linux/time64.h>
#include <linux/types.h>
#ifdef CONFIG_X86_LOCAL_APIC
#include <asm/apic.h>
#include <asm/nmi.h>
#endif

/**
 * struct lfq_kunit_nmi_req - work for the NMI a CPU sends itself.
 * @fn:		called by the NMI handler, in NMI context.
 */
struct lfq_kunit_nmi_req {
	void (*fn)(struct lfq_kunit_nmi_req *req);
};

#ifdef CONFIG_X86_LOCAL_APIC
/*
 * A CPU's slot: the request its next NMI of ours runs. The sender stores
 * it, sends the NMI to itself through the local APIC's ICR (as hw_nmi.c
 * and lfq_source_synth.c do) and waits with interrupts off until the
 * handler has taken it: one sender per CPU at a time (an interrupt cannot
 * come between), and once the slot reads empty, the handler that took it
 * has returned (it ran on this CPU, interrupting us). Another NMI (perf,
 * a watchdog) that comes between the store and ours runs the request; for
 * LFQ_KUNIT_NMI_STRAY_NS after one the handler then claims one
 * empty-handed NMI as ours, as lfq_source_synth.c does, rather than let
 * x86 call it unknown.
 */
struct lfq_kunit_nmi_slot {
	struct lfq_kunit_nmi_req *req;
	u64 stray_until;
};

static DEFINE_PER_CPU(struct lfq_kunit_nmi_slot, lfq_kunit_nmi_slot);

#define LFQ_KUNIT_NMI_STRAY_NS	(1 * NSEC_PER_MSEC)

static inline int lfq_kunit_nmi(unsigned int type, struct pt_regs *regs)
{
	struct lfq_kunit_nmi_req *req;
	u64 now;

	req = this_cpu_xchg(lfq_kunit_nmi_slot.req, NULL);
	now = local_clock();
	if (req) {
		req->fn(req);
		this_cpu_write(lfq_kunit_nmi_slot.stray_until,
			       now + LFQ_KUNIT_NMI_STRAY_NS);
		return NMI_HANDLED;
	}
	if (now < this_cpu_read(lfq_kunit_nmi_slot.stray_until)) {
		this_cpu_write(lfq_kunit_nmi_slot.stray_until, 0);
		return NMI_HANDLED;
	}
	return NMI_DONE;
}

/*
 * Run @req in an NMI of this CPU and wait for it, @wait_ns at most (then
 * the request is taken back). Interrupts off (see struct
 * lfq_kunit_nmi_slot). True if the NMI ran it; false if it never came
 * (the request taken back, not run).
 */
static inline bool lfq_kunit_nmi_raise(struct lfq_kunit_nmi_req *req,
				       u64 wait_ns)
{
	u64 start = local_clock();

	lockdep_assert_irqs_disabled();
	/*
	 * The handler runs on this CPU: program order orders the slot's
	 * store and loads against it; nothing pairs across CPUs.
	 */
	this_cpu_write(lfq_kunit_nmi_slot.req, req);
	apic->send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	while (this_cpu_read(lfq_kunit_nmi_slot.req)) {
		if (local_clock() - start < wait_ns) {
			cpu_relax();
			continue;
		}
		/* Take it back, unless the NMI takes it first (atomic). */
		if (this_cpu_xchg(lfq_kunit_nmi_slot.req, NULL)) {
			/* Should it come after all: not unknown. */
			this_cpu_write(lfq_kunit_nmi_slot.stray_until,
				       local_clock() + LFQ_KUNIT_NMI_STRAY_NS);
			return false;
		}
		break;
	}
	return true;
}

static inline void lfq_kunit_nmi_unregister(struct kunit_resource *res)
{
	/* Waits for a grace period: no handler of ours runs after it. */
	unregister_nmi_handler(NMI_LOCAL, KBUILD_MODNAME);
}

static inline int lfq_kunit_nmi_register_handler(void)
{
	if (!boot_cpu_has(X86_FEATURE_APIC))
		return -EOPNOTSUPP;
	return register_nmi_handler(NMI_LOCAL, lfq_kunit_nmi, 0,
				    KBUILD_MODNAME);
}
#else
static inline bool lfq_kunit_nmi_raise(struct lfq_kunit_nmi_req *req,
				       u64 wait_ns)
{
	return false;
}

static inline void lfq_kunit_nmi_unregister(struct kunit_resource *res)
{
}

static inline int lfq_kunit_nmi_register_handler(void)
{
	return -EOPNOTSUPP;
}
#endif

/*
 * Register the handler for @test's duration: it is unregistered when the
 * test ends. 0, or why not: -EOPNOTSUPP without a local APIC, what
 * register_nmi_handler() said, or -ENOMEM if it could not be tracked (it
 * is unregistered again then).
 */
static inline int lfq_kunit_nmi_register(struct kunit *test)
{
	int err = lfq_kunit_nmi_register_handler();

	if (err)
		return err;
	/* Its data is what it returns: anything but NULL. */
	if (!kunit_alloc_resource(test, NULL, lfq_kunit_nmi_unregister,
				  GFP_KERNEL, test)) {
		lfq_kunit_nmi_unregister(NULL);
		return -ENOMEM;
	}
	return 0;
}

/**
 * struct lfq_kunit_nmi_probe - one self-NMI on a CPU, to see that it comes.
 * @req:	the NMI's work.
 * @wait_ns:	how long the CPU waits for it.
 * @nmi:	the handler ran in NMI context.
 * @raised:	lfq_kunit_nmi_raise() said it ran.
 */
struct lfq_kunit_nmi_probe {
	struct lfq_kunit_nmi_req req;
	u64 wait_ns;
	bool nmi;
	bool raised;
};

static inline void lfq_kunit_nmi_probe_fn(struct lfq_kunit_nmi_req *req)
{
	container_of(req, struct lfq_kunit_nmi_probe, req)->nmi = in_nmi();
}

/* On the probed CPU, interrupts off (smp_call_function_single()). */
static inline void lfq_kunit_nmi_probe_on(void *arg)
{
	struct lfq_kunit_nmi_probe *p = arg;

	p->raised = lfq_kunit_nmi_raise(&p->req, p->wait_ns);
}

/*
 * Send online CPU @cpu one self-NMI, waiting @wait_ns at most for it
 * (the handler registered): true if it came and ran in NMI context.
 * @p says what was seen. The caller keeps @cpu online (cpus_read_lock()).
 */
static inline bool lfq_kunit_nmi_probe(int cpu, u64 wait_ns,
				       struct lfq_kunit_nmi_probe *p)
{
	*p = (struct lfq_kunit_nmi_probe){
		.req.fn = lfq_kunit_nmi_probe_fn,
		.wait_ns = wait_ns,
	};
	smp_call_function_single(cpu, lfq_kunit_nmi_probe_on, p, 1);
	return p->raised && p->nmi;
}

#endif /* _LFQ_TESTS_KUNIT_NMI_H */
