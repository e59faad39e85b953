// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_source_echo.c - LFQ_SOURCE_ECHO, a kernel consumer service: a kernel
 * thread consumes the queue it is attached to (produced by processes)
 * and commits a copy of every slot into a target MPSC queue, as a kernel
 * producer. It exercises the userspace-to-kernel direction end to end:
 * the in-kernel consumer API, its sleep and wakeup, and kernel producing
 * back to a process.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "lfq_dev.h"
#include "lfq_source.h"

/* Slots taken per peek: amortises the release and its wakeup check. */
#define LFQ_ECHO_BATCH	32

/*
 * Serialises every echo attach and detach, so that "is the target itself
 * consumed by the kernel" is stable while we decide (each queue's
 * kconsumer flag is also under its own sources_lock, taken outside this).
 */
static DEFINE_MUTEX(lfq_echo_lock);

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

/* Copy @n slots at @span into the target; a full target drops (counted). */
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
		memcpy(dst, span + (size_t)i * size, size);
		lfq_queue_commit(e->target, &r);
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
 * The queue behind @fd, referenced, checked as an echo target of @q.
 * Called under lfq_echo_lock.
 */
static struct lfq_queue *lfq_echo_target(struct lfq_queue *q, int fd)
{
	struct lfq_queue *t;
	struct fd f;

	f = fdget(fd);
	if (!f.file)
		return ERR_PTR(-EBADF);
	if (!lfq_file_is_lfq(f.file)) {
		t = ERR_PTR(-EINVAL);
		goto out;
	}
	t = lfq_file_queue(f.file);
	if (!t)
		t = ERR_PTR(-EBADFD);
	/* We produce into the target: its file must be a producer. */
	else if (!(lfq_file_role(f.file) & LFQ_ROLE_PRODUCER))
		t = ERR_PTR(-EPERM);
	else if (t == q || t->hdr.type != LFQ_TYPE_MPSC)
		t = ERR_PTR(-EINVAL);
	else if (t->kconsumer)	/* echoed itself: chains could loop */
		t = ERR_PTR(-ELOOP);
	else if (t->hdr.slot_size < q->hdr.slot_size)
		t = ERR_PTR(-EMSGSIZE);
	else
		kref_get(&t->ref);	/* the file holds one: not the last */
out:
	fdput(f);
	return t;
}

static void lfq_echo_detach(struct lfq_src *src)
{
	struct lfq_echo *e = container_of(src, struct lfq_echo, src);

	kthread_stop(e->task);
	lfq_queue_put(e->target);
	mutex_lock(&lfq_echo_lock);
	e->src.q->kconsumer = false;
	mutex_unlock(&lfq_echo_lock);
	kfree(e);
}

static struct lfq_src *lfq_echo_attach(const struct lfq_src *tmpl,
				       const struct lfq_source *a)
{
	struct lfq_queue *q = tmpl->q;
	struct lfq_echo *e;
	int err;

	if (a->threads || a->hardirq_timers || a->softirq_timers ||
	    a->count || a->thread_period_ns || a->timer_period_ns ||
	    a->syscall_nr)
		return ERR_PTR(-EINVAL);
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return ERR_PTR(-ENOMEM);
	e->src = *tmpl;
	mutex_lock(&lfq_echo_lock);
	if (q->kconsumer) {
		err = -EBUSY;
		goto fail;
	}
	e->target = lfq_echo_target(q, a->target_fd);
	if (IS_ERR(e->target)) {
		err = PTR_ERR(e->target);
		goto fail;
	}
	lfq_consumer_init(&e->cons, q);
	e->task = kthread_run(lfq_echo_thread, e, "lfq-echo/%u", q->id);
	if (IS_ERR(e->task)) {
		err = PTR_ERR(e->task);
		lfq_queue_put(e->target);
		goto fail;
	}
	q->kconsumer = true;
	mutex_unlock(&lfq_echo_lock);
	return &e->src;

fail:
	mutex_unlock(&lfq_echo_lock);
	kfree(e);
	return ERR_PTR(err);
}

const struct lfq_src_type lfq_src_echo = {
	.attach		= lfq_echo_attach,
	.detach		= lfq_echo_detach,
	.rec_size	= 0,
	.producer	= false,
};
