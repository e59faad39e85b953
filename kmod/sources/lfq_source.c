// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_source.c - the event sources attached to each queue: starting one
 * (the checks every type shares), stopping one, stopping all that an
 * owner started when the owner goes, and which queues an ECHO source
 * consumes. The types are in lfq_source_*.c.
 *
 * Locking: lfq_src_lock (a mutex) guards every queue's table and is held
 * while a source starts or stops. Attaching and detaching are rare and may
 * sleep (kthread_stop(), tracepoint unregistration), so one lock for all
 * queues is enough, and it makes "is the ECHO target itself consumed"
 * stable across queues.
 */
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "lfq_source.h"

/**
 * struct lfq_src_table - the sources attached to one queue.
 * @src:	by source id.
 * @consumed:	ECHO sources consuming the queue (one at most unless it is
 *		MPMC).
 */
struct lfq_src_table {
	struct lfq_src *src[LFQ_SOURCES_MAX];
	unsigned int consumed;
};

static DEFINE_MUTEX(lfq_src_lock);
/* queue id -> struct lfq_src_table, for queues with a source; lfq_src_lock */
static DEFINE_XARRAY(lfq_src_tables);

static const struct lfq_src_type *lfq_src_type_of(u32 type)
{
	switch (type) {
	case LFQ_SOURCE_SYNTH:
		return &lfq_src_synth;
	case LFQ_SOURCE_PROC:
		return &lfq_src_proc;
	case LFQ_SOURCE_SYSCALL:
		return &lfq_src_syscall;
	case LFQ_SOURCE_ECHO:
		return &lfq_src_echo;
	default:
		return NULL;
	}
}

static struct lfq_src_table *lfq_src_table(struct lfq_queue *q)
{
	lockdep_assert_held(&lfq_src_lock);
	return xa_load(&lfq_src_tables, q->id);
}

unsigned int lfq_src_consumed(struct lfq_queue *q)
{
	struct lfq_src_table *t = lfq_src_table(q);

	return t ? t->consumed : 0;
}

void lfq_src_set_consumed(struct lfq_queue *q, bool consumed)
{
	struct lfq_src_table *t = lfq_src_table(q);

	/* Only a source attached to @q counts: its table exists. */
	if (WARN_ON_ONCE(!t))
		return;
	if (consumed)
		t->consumed++;
	else if (!WARN_ON_ONCE(!t->consumed))
		t->consumed--;
}

/* Free @q's table if nothing is attached any more. */
static void lfq_src_table_trim(struct lfq_queue *q, struct lfq_src_table *t)
{
	int id;

	for (id = 0; id < LFQ_SOURCES_MAX; id++)
		if (t->src[id])
			return;
	xa_erase(&lfq_src_tables, q->id);
	kfree(t);
}

/*
 * The record size @a asks for, against the type and @q's slots: 0 (the
 * type's natural size) or a multiple of 8 from the type's smallest record
 * up to LFQ_SOURCE_RECORD_SIZE_MAX, for types that honour it; it must fit
 * a slot (a record queue: its limit).
 */
static int lfq_src_check_size(const struct lfq_src_type *type,
			      const struct lfq_src_args *a,
			      const struct lfq_queue *q)
{
	u32 size = a->type == LFQ_SOURCE_SYSCALL ? a->syscall.record_size :
		   a->type == LFQ_SOURCE_PROC ? a->proc.record_size : 0;
	bool data = a->type == LFQ_SOURCE_SYSCALL && a->syscall.data;

	/* LFQ_SOURCE_SYSCALL_DATA: record queues, room for the buffer's size. */
	if (data && (!q->ring.records ||
		     (size && size < LFQ_EVENT_SYSCALL_DATA_MIN)))
		return -EINVAL;
	if (data && lfq_src_room(q) < LFQ_EVENT_SYSCALL_DATA_MIN)
		return -EMSGSIZE;
	if (size && (!type->sized || size % 8 || size < type->rec_size ||
		     size > LFQ_SOURCE_RECORD_SIZE_MAX))
		return -EINVAL;
	if (lfq_src_room(q) < max_t(size_t, size, type->rec_size))
		return -EMSGSIZE;
	return 0;
}

static void lfq_src_free(struct lfq_src *src)
{
	struct pid_namespace *pid_ns = src->pid_ns;
	struct user_namespace *user_ns = src->user_ns;

	src->type->detach(src);
	put_pid_ns(pid_ns);
	put_user_ns(user_ns);
}

/* Start a source of @type in a free slot of @q's table. */
static int lfq_src_start(struct lfq_queue *q, const void *owner,
			 const struct lfq_src_type *type,
			 const struct lfq_src_args *a)
{
	struct lfq_src_table *t = lfq_src_table(q);
	struct lfq_src *src, tmpl;
	int id, err;

	if (!t) {
		t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
		if (!t)
			return -ENOMEM;
		err = xa_err(xa_store(&lfq_src_tables, q->id, t,
				      GFP_KERNEL_ACCOUNT));
		if (err) {
			kfree(t);
			return err;
		}
	}
	for (id = 0; id < LFQ_SOURCES_MAX && t->src[id]; id++)
		;
	if (id == LFQ_SOURCES_MAX)
		return -ENOSPC;
	tmpl = (struct lfq_src){
		.q		= q,
		.owner		= owner,
		.type		= type,
		.pid_ns		= get_pid_ns(task_active_pid_ns(current)),
		.user_ns	= get_user_ns(current_user_ns()),
	};
	src = type->attach(&tmpl, a);
	if (IS_ERR(src)) {
		put_pid_ns(tmpl.pid_ns);
		put_user_ns(tmpl.user_ns);
		lfq_src_table_trim(q, t);
		return PTR_ERR(src);
	}
	t->src[id] = src;
	return id;
}

/**
 * lfq_src_check() - the checks every source type shares, without side
 * effects (lfq_src_attach() makes them again).
 * @q:		the queue.
 * @args:	the type and its arguments.
 *
 * Return: 0, or -EINVAL for an unknown type or a producer type on a queue
 * that is neither MPSC nor MPMC, -EPERM when @args->role
 * lacks the role the source acts in, -EINVAL or -EMSGSIZE for a record
 * size that is bad or does not fit a slot.
 */
int lfq_src_check(struct lfq_queue *q, const struct lfq_src_args *args)
{
	const struct lfq_src_type *type = lfq_src_type_of(args->type);

	if (!type)
		return -EINVAL;
	/* Kernel producers are MPSC producers (into MPMC queues too). */
	if (type->producer && !lfq_type_committed(q->hdr.type))
		return -EINVAL;
	/* A source acts in the role its owner holds: it may not exceed it. */
	if (!(args->role &
	      (type->producer ? LFQ_ROLE_PRODUCER : LFQ_ROLE_CONSUMER)))
		return -EPERM;
	return lfq_src_check_size(type, args, q);
}

/**
 * lfq_src_attach() - start an event source on a queue.
 * @q:		the queue (the caller holds a reference until the source is
 *		detached).
 * @owner:	who attaches it: lfq_src_release(@q, @owner) detaches it.
 * @args:	the type and its arguments.
 *
 * Return: the source's id (0..LFQ_SOURCES_MAX - 1), an error of
 * lfq_src_check(), -ENOSPC when LFQ_SOURCES_MAX are attached, or the
 * type's own errors (see struct lfq_source in lfq.h).
 */
int lfq_src_attach(struct lfq_queue *q, const void *owner,
		   const struct lfq_src_args *args)
{
	const struct lfq_src_type *type = lfq_src_type_of(args->type);
	int err;

	err = lfq_src_check(q, args);
	if (err)
		return err;
	mutex_lock(&lfq_src_lock);
	err = lfq_src_start(q, owner, type, args);
	mutex_unlock(&lfq_src_lock);
	return err;
}

/**
 * lfq_src_detach() - stop and free one source.
 * @q:		its queue.
 * @owner:	who attached it.
 * @id:		the id lfq_src_attach() returned.
 *
 * When this returns, nothing of the source runs any more and the records
 * it committed are in the ring.
 *
 * Return: 0, -EINVAL for an id out of range, -ENOENT if @owner has no
 * source with that id on @q.
 */
int lfq_src_detach(struct lfq_queue *q, const void *owner, unsigned long id)
{
	struct lfq_src_table *t;
	struct lfq_src *src;
	int err = -ENOENT;

	if (id >= LFQ_SOURCES_MAX)
		return -EINVAL;
	mutex_lock(&lfq_src_lock);
	t = lfq_src_table(q);
	src = t ? t->src[id] : NULL;
	if (src && src->owner == owner) {
		t->src[id] = NULL;
		lfq_src_free(src);
		lfq_src_table_trim(q, t);
		err = 0;
	}
	mutex_unlock(&lfq_src_lock);
	return err;
}

/**
 * lfq_src_release() - stop every source @owner attached to @q.
 * @q:		the queue.
 * @owner:	the owner going away.
 */
void lfq_src_release(struct lfq_queue *q, const void *owner)
{
	struct lfq_src_table *t;
	int id;

	mutex_lock(&lfq_src_lock);
	t = lfq_src_table(q);
	if (t) {
		for (id = 0; id < LFQ_SOURCES_MAX; id++) {
			if (t->src[id] && t->src[id]->owner == owner) {
				lfq_src_free(t->src[id]);
				t->src[id] = NULL;
			}
		}
		lfq_src_table_trim(q, t);
	}
	mutex_unlock(&lfq_src_lock);
}
