/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_source.h - event sources: kernel code the module runs on a queue's
 * behalf. Each type (synthetic producers, tracepoint probes, the echo
 * consumer) lives in its own lfq_source_*.c, takes its own arguments and
 * plugs in through struct lfq_src_type; lfq_source.c keeps the sources
 * attached to each queue. Sources use only the core layer's in-kernel API
 * (kmod/core); who asked for them (a file, in kmod/dev) is an opaque
 * owner to them.
 */
#ifndef _LFQ_SOURCES_SOURCE_H
#define _LFQ_SOURCES_SOURCE_H

#include <linux/pid_namespace.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <linux/types.h>

#include "lfq.h"
#include "lfq_event.h"
#include "core/lfq_kapi.h"
#include "core/lfq_queue.h"

/**
 * struct lfq_src_synth_args - LFQ_SOURCE_SYNTH's arguments.
 * @threads:	kernel threads, each a producer.
 * @hardirq_timers: hrtimers firing in hardirq context.
 * @softirq_timers: hrtimers firing in softirq context.
 * @count:	records per producer; 0 for no end.
 * @thread_period_ns: a thread's interval; 0 for flat out.
 * @timer_period_ns: a timer's interval.
 * @nmi:	the hardirq timers produce from an NMI they raise.
 */
struct lfq_src_synth_args {
	u32 threads;
	u32 hardirq_timers;
	u32 softirq_timers;
	u64 count;
	u64 thread_period_ns;
	u64 timer_period_ns;
	bool nmi;
};

/**
 * struct lfq_src_syscall_args - LFQ_SOURCE_SYSCALL's arguments.
 * @nr:		the system call recorded.
 * @record_size: bytes per record, 0 for the natural size; with @data
 *		the largest record, 0 for LFQ_EVENT_SYSCALL_DATA_DEFAULT.
 * @data:	records carry the call's user buffer (LFQ_SOURCE_SYSCALL_DATA).
 */
struct lfq_src_syscall_args {
	s32 nr;
	u32 record_size;
	bool data;
};

/**
 * struct lfq_src_proc_args - LFQ_SOURCE_PROC's arguments.
 * @record_size: the largest record, 0 for the default (lfq_source.h).
 */
struct lfq_src_proc_args {
	u32 record_size;
};

/**
 * struct lfq_src_echo_args - LFQ_SOURCE_ECHO's arguments.
 * @target:	the queue the copies go to, already found and checked for
 *		the caller's producer role (the caller keeps its reference;
 *		the source takes its own).
 */
struct lfq_src_echo_args {
	struct lfq_queue *target;
};

/**
 * struct lfq_src_args - what a source is attached with: the common part,
 * then the arguments of its type only (LFQ_SOURCE_PROC takes none).
 * @type:	LFQ_SOURCE_*.
 * @role:	the attaching owner's LFQ_ROLE_* bits: a source acts within
 *		them (producers need the producer role, ECHO the consumer's).
 * @synth:	LFQ_SOURCE_SYNTH.
 * @syscall:	LFQ_SOURCE_SYSCALL.
 * @echo:	LFQ_SOURCE_ECHO.
 */
struct lfq_src_args {
	u32 type;
	u32 role;
	union {
		struct lfq_src_synth_args synth;
		struct lfq_src_syscall_args syscall;
		struct lfq_src_proc_args proc;
		struct lfq_src_echo_args echo;
	};
};

/**
 * struct lfq_src - what every attached source has; embedded first in the
 * type's own struct.
 * @q:		the queue it produces into (or consumes, for ECHO).
 * @owner:	who attached it; lfq_src_release(@q, @owner) detaches it.
 * @type:	its type's operations.
 * @pid_ns:	the attacher's pid namespace: pids in records are as seen
 *		from there.
 * @user_ns:	the attacher's user namespace, for uids in records.
 */
struct lfq_src {
	struct lfq_queue *q;
	const void *owner;
	const struct lfq_src_type *type;
	struct pid_namespace *pid_ns;
	struct user_namespace *user_ns;
};

/**
 * struct lfq_src_type - one kind of source.
 * @attach:	validate @args (the type, queue type, role and record size
 *		are already checked), allocate the source, copy @tmpl into
 *		its struct lfq_src and start it. Returns it or an ERR_PTR().
 *		Called under the sources lock.
 * @detach:	stop it so that nothing of it runs any more, and free it.
 * @rec_size:	bytes of its smallest record; the queue's slots must hold
 *		one (0: the type checks for itself).
 * @producer:	it produces into @q, which must then be MPSC; otherwise
 *		it consumes @q.
 * @sized:	it honours a record size (lfq_src_record_size()).
 */
struct lfq_src_type {
	struct lfq_src *(*attach)(const struct lfq_src *tmpl,
				  const struct lfq_src_args *args);
	void (*detach)(struct lfq_src *src);
	size_t rec_size;
	bool producer;
	bool sized;
};

extern const struct lfq_src_type lfq_src_synth;
extern const struct lfq_src_type lfq_src_proc;
extern const struct lfq_src_type lfq_src_syscall;
extern const struct lfq_src_type lfq_src_echo;

int lfq_src_check(struct lfq_queue *q, const struct lfq_src_args *args);
int lfq_src_attach(struct lfq_queue *q, const void *owner,
		   const struct lfq_src_args *args);
int lfq_src_detach(struct lfq_queue *q, const void *owner, unsigned long id);
void lfq_src_release(struct lfq_queue *q, const void *owner);

void lfq_synth_module_exit(void);

/*
 * How many ECHO sources consume @q; each counts itself in and out. Sources
 * lock held.
 */
unsigned int lfq_src_consumed(struct lfq_queue *q);
void lfq_src_set_consumed(struct lfq_queue *q, bool consumed);

/*
 * @t's pid as the source's attacher sees it (its pid namespace). In the
 * initial namespace that is the task's own global number (task_pid_nr()),
 * which task_pid_nr_ns() would find again through its struct pid under
 * rcu_read_lock() while the pid is attached: @t must be current, or a
 * task that cannot pass release_task() meanwhile (a child at its fork
 * tracepoint, a task at its exit tracepoint). A released task would give
 * its old number here where task_pid_nr_ns() gives 0. Any context.
 */
static inline pid_t lfq_src_pid(const struct lfq_src *src,
				struct task_struct *t)
{
	if (likely(src->pid_ns == &init_pid_ns))
		return task_pid_nr(t);
	return task_pid_nr_ns(t, src->pid_ns);
}

/* @t's thread-group id, as lfq_src_pid() its pid (the same rule on @t). */
static inline pid_t lfq_src_tgid(const struct lfq_src *src,
				 struct task_struct *t)
{
	if (likely(src->pid_ns == &init_pid_ns))
		return task_tgid_nr(t);
	return task_tgid_nr_ns(t, src->pid_ns);
}

/**
 * struct lfq_src_resv - a source's reservation: one slot, or, in a record
 * queue (LFQ_CREATE_RECORDS), one record of the event's size.
 * @slot:	a slot queue's.
 * @rec:	a record queue's.
 */
struct lfq_src_resv {
	union {
		struct lfq_mpsc_resv slot;
		struct lfq_rec_kresv rec;
	};
};

/*
 * The largest record a source may write into @q: a slot, or a record
 * queue's limit.
 */
static inline u32 lfq_src_room(const struct lfq_queue *q)
{
	return q->ring.records ? lfq_rec_max_len(q->hdr.slot_count) :
				 q->hdr.slot_size;
}

/* Where the caller runs, as LFQ_CONTEXT_* (lfq_event.h): measured. */
static inline u32 lfq_src_context(void)
{
	if (in_nmi())
		return LFQ_CONTEXT_NMI;
	if (in_hardirq())
		return LFQ_CONTEXT_HARDIRQ;
	if (in_serving_softirq())
		return LFQ_CONTEXT_SOFTIRQ;
	return LFQ_CONTEXT_THREAD;
}

/*
 * Reserve a slot of @src's queue (a record queue: a record of @size
 * bytes) for an event of @size bytes of @type and fill in its header;
 * NULL (a drop counted) if the ring is full. Publish with
 * lfq_src_commit(). Any context, NMI included.
 */
static inline void *lfq_src_reserve(struct lfq_src *src, u16 type, u16 size,
				    struct lfq_src_resv *r)
{
	struct lfq_queue *q = src->q;
	struct lfq_event *ev;

	ev = q->ring.records ? lfq_queue_rec_reserve(q, size, &r->rec) :
			       lfq_queue_reserve(q, 1, &r->slot);
	if (unlikely(!ev))
		return NULL;
	ev->type = type;
	ev->size = size;
	ev->cpu = raw_smp_processor_id();
	ev->time_ns = ktime_get_mono_fast_ns();
	return ev;
}

/* Publish what lfq_src_reserve() reserved. Any context, NMI included. */
static inline void lfq_src_commit(struct lfq_src *src, struct lfq_src_resv *r)
{
	if (src->q->ring.records)
		lfq_queue_rec_commit(src->q, &r->rec);
	else
		lfq_queue_commit(src->q, &r->slot);
}

#endif /* _LFQ_SOURCES_SOURCE_H */
