// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_source_echo.c - LFQ_SOURCE_ECHO, a kernel consumer service: a kernel
 * thread consumes the queue it is attached to (produced by processes)
 * and commits a copy of every slot into a target MPSC or MPMC queue, as a
 * kernel producer. It exercises the userspace-to-kernel direction end to
 * end: the in-kernel consumer API, its sleep and wakeup, and kernel
 * producing back to a process. An SPSC or MPSC queue has one ECHO at
 * most; an MPMC queue may have several, a pool of kernel workers sharing
 * its records with its process consumers.
 */
#include <linux/compiler.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "lfq_source.h"

/* Slots taken per peek: amortises the release and its wakeup check. */
#define LFQ_ECHO_BATCH	32

/**
 * struct lfq_echo - an LFQ_SOURCE_ECHO source.
 * @src:	the common part; @src.q is the queue consumed.
 * @target:	the queue written (a reference held).
 * @cons:	the kernel's consumer of @src.q.
 * @task:	the thread doing it.
 */
struct lfq_echo {
	struct lfq_src src;
	struct lfq_queue *target;
	struct lfq_consumer cons;
	struct task_struct *task;
};

/*
 * Copy @n slots at @span into the target; a full target drops (counted).
 * A slot overwritten while it was copied (an MPMC queue whose release
 * words another consumer forged) is not passed on: its copy is discarded,
 * and the release counts it torn.
 */
static void lfq_echo_copy(struct lfq_echo *e, const u8 *span, u32 n)
{
	u32 size = e->src.q->hdr.slot_size;
	struct lfq_mpsc_resv r;
	void *dst;
	u32 i;

	for (i = 0; i < n; i++) {
		dst = lfq_queue_reserve(e->target, 1, &r);
		if (!dst)
			continue;
		/*
		 * A producer let in by a forged release word may write the
		 * slot meanwhile: the copy is checked after, not trusted.
		 */
		data_race(memcpy(dst, span + (size_t)i * size, size));
		if (lfq_consumer_intact(&e->cons, i))
			lfq_queue_commit(e->target, &r);
		else
			lfq_queue_discard(e->target, &r);
	}
}

static int lfq_echo_thread(void *data)
{
	struct lfq_echo *e = data;
	const void *span;
	u32 got;

	while (!kthread_should_stop()) {
		/*
		 * Every round yields: the ring is user-writable, and a process
		 * faking commits (or rewriting the tail under the wait) only
		 * buys itself copies of garbage, never a CPU held in a loop.
		 */
		cond_resched();
		span = lfq_consumer_peek(&e->cons, LFQ_ECHO_BATCH, &got);
		if (!got) {
			/* -EINTR when kthread_stop() wakes us. */
			lfq_consumer_wait(&e->cons, 1, -1);
			continue;
		}
		lfq_echo_copy(e, span, got);
		lfq_consumer_release(&e->cons, got);
	}
	return 0;
}

/*
 * Check @t as the echo target of @q and take a reference on it. The
 * caller found it and checked its role (kmod/dev: target_fd).
 */
static int lfq_echo_target(struct lfq_queue *q, struct lfq_queue *t)
{
	if (t == q || !lfq_type_committed(t->hdr.type))
		return -EINVAL;
	/* ECHO copies slots: neither side may be a record queue. */
	if (t->ring.records || q->ring.records)
		return -EOPNOTSUPP;
	if (lfq_src_consumed(t))	/* echoed itself: chains could loop */
		return -ELOOP;
	if (t->hdr.slot_size < q->hdr.slot_size)
		return -EMSGSIZE;
	lfq_queue_ref(t);
	return 0;
}

static void lfq_echo_detach(struct lfq_src *src)
{
	struct lfq_echo *e = container_of(src, struct lfq_echo, src);

	kthread_stop(e->task);
	lfq_consumer_fini(&e->cons);
	lfq_queue_put(e->target);
	lfq_src_set_consumed(e->src.q, false);
	kfree(e);
}

static struct lfq_src *lfq_echo_attach(const struct lfq_src *tmpl,
				       const struct lfq_src_args *args)
{
	struct lfq_queue *q = tmpl->q;
	struct lfq_echo *e;
	int err;

	if (lfq_src_consumed(q) && q->hdr.type != LFQ_TYPE_MPMC)
		return ERR_PTR(-EBUSY);
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return ERR_PTR(-ENOMEM);
	e->src = *tmpl;
	err = lfq_echo_target(q, args->echo.target);
	if (err)
		goto fail;
	e->target = args->echo.target;
	err = lfq_consumer_init(&e->cons, q);
	if (err)
		goto put_target;
	e->task = kthread_run(lfq_echo_thread, e, "lfq-echo/%u", q->id);
	if (IS_ERR(e->task)) {
		err = PTR_ERR(e->task);
		lfq_consumer_fini(&e->cons);
		goto put_target;
	}
	lfq_src_set_consumed(q, true);
	return &e->src;

put_target:
	lfq_queue_put(e->target);
fail:
	kfree(e);
	return ERR_PTR(err);
}

const struct lfq_src_type lfq_src_echo = {
	.attach		= lfq_echo_attach,
	.detach		= lfq_echo_detach,
	.rec_size	= 0,
	.producer	= false,
};
