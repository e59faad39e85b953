// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_source.c - attaching and detaching event sources
 * (LFQ_IOC_SOURCE_ATTACH/DETACH): argument checks common to every type,
 * the per-queue table of attached sources, and detaching what a file
 * attached when the file is released. The types are in lfq_source_*.c.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/pid_namespace.h>
#include <linux/user_namespace.h>

#include "lfq_dev.h"
#include "lfq_source.h"

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

/*
 * The record size @a asks for, against the type and @q's slots: 0 (the
 * type's natural size) or a multiple of 8 from the type's smallest record
 * up to LFQ_SOURCE_RECORD_SIZE_MAX, for types that honour it; it must fit
 * a slot.
 */
static int lfq_source_check_size(const struct lfq_src_type *type,
				 const struct lfq_source *a,
				 const struct lfq_queue *q)
{
	u32 size = a->record_size;

	if (size && (!type->sized || size % 8 || size < type->rec_size ||
		     size > LFQ_SOURCE_RECORD_SIZE_MAX))
		return -EINVAL;
	if (q->hdr.slot_size < max_t(size_t, size, type->rec_size))
		return -EMSGSIZE;
	return 0;
}

static void lfq_source_free(struct lfq_src *src)
{
	struct pid_namespace *pid_ns = src->pid_ns;
	struct user_namespace *user_ns = src->user_ns;

	src->type->detach(src);
	put_pid_ns(pid_ns);
	put_user_ns(user_ns);
}

/**
 * lfq_source_attach() - LFQ_IOC_SOURCE_ATTACH.
 * @file:	the file attaching; the source lives until it is released.
 * @q:		the file's queue.
 * @uarg:	struct lfq_source.
 *
 * Return: the source id, or a negative errno (see struct lfq_source).
 */
int lfq_source_attach(struct file *file, struct lfq_queue *q,
		      void __user *uarg)
{
	const struct lfq_src_type *type;
	struct lfq_source arg;
	struct lfq_src *src, tmpl;
	int id, err;

	/* Sources run kernel code for the caller; PROC sees every process. */
	if (!perfmon_capable())
		return -EPERM;
	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_SOURCE_SIZE_VER0, uarg);
	if (err)
		return err;
	type = lfq_src_type_of(arg.type);
	if (!type || arg.flags & ~LFQ_SOURCE_FLAGS_ALL || arg.__reserved)
		return -EINVAL;
	if (type->producer && q->hdr.type != LFQ_TYPE_MPSC)
		return -EINVAL;
	/* A source acts in the role the file holds: it may not exceed it. */
	if (!(lfq_file_role(file) &
	      (type->producer ? LFQ_ROLE_PRODUCER : LFQ_ROLE_CONSUMER)))
		return -EPERM;
	err = lfq_source_check_size(type, &arg, q);
	if (err)
		return err;

	mutex_lock(&q->sources_lock);
	for (id = 0; id < LFQ_SOURCES_MAX && q->sources[id]; id++)
		;
	if (id == LFQ_SOURCES_MAX) {
		err = -ENOSPC;
		goto out;
	}
	tmpl = (struct lfq_src){
		.q		= q,
		.owner		= file,
		.type		= type,
		.pid_ns		= get_pid_ns(task_active_pid_ns(current)),
		.user_ns	= get_user_ns(current_user_ns()),
	};
	src = type->attach(&tmpl, &arg);
	if (IS_ERR(src)) {
		put_pid_ns(tmpl.pid_ns);
		put_user_ns(tmpl.user_ns);
		err = PTR_ERR(src);
		goto out;
	}
	q->sources[id] = src;
	err = id;
out:
	mutex_unlock(&q->sources_lock);
	return err;
}

/**
 * lfq_source_detach() - LFQ_IOC_SOURCE_DETACH: stop and free one source.
 * @file:	the file that attached it.
 * @q:		the file's queue.
 * @id:		the id LFQ_IOC_SOURCE_ATTACH returned.
 *
 * When this returns, nothing of the source runs any more and the records
 * it committed are in the ring.
 *
 * Return: 0, -EINVAL for an id out of range, -ENOENT if this file has no
 * source with that id.
 */
int lfq_source_detach(struct file *file, struct lfq_queue *q,
		      unsigned long id)
{
	struct lfq_src *src;

	if (id >= LFQ_SOURCES_MAX)
		return -EINVAL;
	mutex_lock(&q->sources_lock);
	src = q->sources[id];
	if (!src || src->owner != file) {
		mutex_unlock(&q->sources_lock);
		return -ENOENT;
	}
	q->sources[id] = NULL;
	lfq_source_free(src);
	mutex_unlock(&q->sources_lock);
	return 0;
}

/**
 * lfq_source_release() - detach every source @file attached to @q.
 * @file:	a file being released.
 * @q:		its queue.
 */
void lfq_source_release(struct file *file, struct lfq_queue *q)
{
	int id;

	mutex_lock(&q->sources_lock);
	for (id = 0; id < LFQ_SOURCES_MAX; id++) {
		if (q->sources[id] && q->sources[id]->owner == file) {
			lfq_source_free(q->sources[id]);
			q->sources[id] = NULL;
		}
	}
	mutex_unlock(&q->sources_lock);
}
