/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_source.h - event sources: kernel code the module runs on a queue's
 * behalf, attached with LFQ_IOC_SOURCE_ATTACH. Each type (synthetic
 * producers, tracepoint probes, the echo consumer) lives in its own
 * lfq_source_*.c and plugs in through struct lfq_src_type.
 */
#ifndef _LFQ_SOURCE_H
#define _LFQ_SOURCE_H

#include <linux/fs.h>
#include <linux/types.h>

#include "lfq.h"
#include "lfq_event.h"
#include "lfq_kapi.h"
#include "lfq_queue.h"

/**
 * struct lfq_src - what every attached source has; embedded first in the
 * type's own struct.
 * @q:		the queue it produces into (or consumes, for ECHO).
 * @owner:	the file that attached it; its release detaches it.
 * @type:	its type's operations.
 * @pid_ns:	the attacher's pid namespace: pids in records are as seen
 *		from there.
 * @user_ns:	the attacher's user namespace, for uids in records.
 */
struct lfq_src {
	struct lfq_queue *q;
	const struct file *owner;
	const struct lfq_src_type *type;
	struct pid_namespace *pid_ns;
	struct user_namespace *user_ns;
};

/**
 * struct lfq_src_type - one kind of source.
 * @attach:	validate @arg (flags, type, queue type and slot size are
 *		already checked), allocate the source, copy @tmpl (queue,
 *		owner, namespaces) into its struct lfq_src and start it.
 *		Returns it or an ERR_PTR().
 * @detach:	stop it so that nothing of it runs any more, and free it.
 * @rec_size:	bytes of its smallest record; the queue's slots must hold
 *		one (0: the type checks for itself).
 * @producer:	it produces into @q, which must then be MPSC.
 * @sized:	it honours lfq_source.record_size (already checked against
 *		@rec_size and the slot size); for the others it must be 0.
 */
struct lfq_src_type {
	struct lfq_src *(*attach)(const struct lfq_src *tmpl,
				  const struct lfq_source *arg);
	void (*detach)(struct lfq_src *src);
	size_t rec_size;
	bool producer;
	bool sized;
};

extern const struct lfq_src_type lfq_src_synth;
extern const struct lfq_src_type lfq_src_proc;
extern const struct lfq_src_type lfq_src_syscall;
extern const struct lfq_src_type lfq_src_echo;

int lfq_source_attach(struct file *file, struct lfq_queue *q,
		      void __user *uarg);
int lfq_source_detach(struct file *file, struct lfq_queue *q,
		      unsigned long id);
void lfq_source_release(struct file *file, struct lfq_queue *q);

/*
 * Reserve one slot of @src's queue for a record of @size bytes of @type
 * and fill in its header; NULL (a drop counted) if the ring is full.
 * Commit with lfq_queue_commit(). Any context, NMI included.
 */
static inline void *lfq_src_reserve(struct lfq_src *src, u16 type, u16 size,
				    struct lfq_mpsc_resv *r)
{
	struct lfq_event *ev = lfq_queue_reserve(src->q, 1, r);

	if (unlikely(!ev))
		return NULL;
	ev->type = type;
	ev->size = size;
	ev->cpu = raw_smp_processor_id();
	ev->time_ns = ktime_get_mono_fast_ns();
	return ev;
}

#endif /* _LFQ_SOURCE_H */
