// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_queue.c - queue objects: allocation of the shared pages and their
 * kernel mapping, reference counting, the id registry (ORDERING registry
 * in proto/lfq_rules.h), freeing after an RCU grace period so lockless
 * lookups (lfq_queue_get()) stay safe, role admission and counters.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include <kunit/visibility.h>

#include "lfq_cclaims.h"
#include "lfq_claims.h"
#include "lfq_limits.h"
#include "lfq_queue.h"
#include "lfq_seg.h"
#include "lfq_wait.h"
#include "proto/lfq_rec.h"

/* id -> struct lfq_queue; readers use RCU, writers take the irq-safe lock. */
static DEFINE_XARRAY_FLAGS(lfq_registry, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_IRQ);

/* Runs the deferred frees; destroyed (drained) at module exit. */
static struct workqueue_struct *lfq_free_wq;

static void lfq_queue_free_pages(struct lfq_queue *q)
{
	unsigned long i;

	/* The orphan scan first: it may queue a wakeup. */
	lfq_claims_destroy(q);
	lfq_cclaims_destroy(q);
	/* A kernel producer's last wakeups may still be pending. */
	irq_work_sync(&q->wake_work);
	irq_work_sync(&q->space_work);
	lfq_seg_destroy(q);
	if (q->base)
		vunmap(q->base);
	if (q->map_pages) {
		for (i = 0; i < q->nr_pages; i++)
			if (q->map_pages[i])
				__free_page(q->map_pages[i]);
		kvfree(q->map_pages);
	}
	if (q->user) {
		lfq_user_uncharge(q->user, (u64)q->nr_pages << PAGE_SHIFT);
		lfq_user_put(q->user);
	}
	kfree(q);
}

static void lfq_queue_free_work(struct work_struct *work)
{
	struct lfq_queue *q = container_of(to_rcu_work(work), struct lfq_queue,
					   free_work);

	lfq_queue_free_pages(q);
}

/*
 * The queue's own pages and their vmap; an elastic queue's frames are its
 * segments' (lfq_seg.c). Charged to the creator's user first.
 */
static int lfq_queue_alloc_pages(struct lfq_queue *q)
{
	unsigned long data_pages = q->layout.data_size >> PAGE_SHIFT;
	unsigned long map_count = q->layout.map_size >> PAGE_SHIFT;
	unsigned long i;
	int err;

	if (q->el || q->layout.seg_max) {
		map_count = q->layout.frames_offset >> PAGE_SHIFT;
		data_pages = 0;
	}
	err = lfq_user_charge(q->user, (u64)(map_count - data_pages)
				       << PAGE_SHIFT);
	if (err)
		return err;
	q->nr_pages = map_count - data_pages;
	q->map_pages = kvcalloc(map_count, sizeof(*q->map_pages),
				GFP_KERNEL_ACCOUNT);
	if (!q->map_pages)
		return -ENOMEM;
	/* Zeroed: nothing stale from the kernel ever reaches a process. */
	for (i = 0; i < q->nr_pages; i++) {
		q->map_pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!q->map_pages[i])
			return -ENOMEM;
	}
	/* The second copy of the slot area: the same pages again. */
	for (; i < map_count; i++)
		q->map_pages[i] = q->map_pages[i - data_pages];

	q->base = vmap(q->map_pages, map_count, VM_MAP, PAGE_KERNEL);
	if (!q->base)
		return -ENOMEM;
	return 0;
}

/**
 * lfq_queue_create() - create a queue and register it.
 * @g:		type, flags and geometry (an elastic queue's segments);
 *		validated here.
 *
 * The queue starts empty, with one reference owned by the caller. Its
 * pages are zeroed, charged to the caller's memory cgroup and counted
 * against the caller's user (lfq_limits.c); an elastic queue starts with
 * seg_min segments, one of them live.
 *
 * Context: process context; may sleep.
 * Return: the queue, or ERR_PTR(-EINVAL) for bad parameters,
 * ERR_PTR(-EDQUOT) past the user's limit, ERR_PTR(-ENOMEM) when memory or
 * registry ids run out.
 */
struct lfq_queue *lfq_queue_create(const struct lfq_geometry *g)
{
	struct lfq_queue *q;
	int err;

	might_sleep();
	err = lfq_geometry_check(g, PAGE_SIZE);
	if (err)
		return ERR_PTR(err);

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	kref_init(&q->ref);
	init_irq_work(&q->wake_work, lfq_queue_wake_work);
	init_irq_work(&q->space_work, lfq_queue_space_work);
	INIT_RCU_WORK(&q->free_work, lfq_queue_free_work);
	init_waitqueue_head(&q->data_wq);
	init_waitqueue_head(&q->space_wq);
	lfq_layout_init(&q->layout, g, PAGE_SIZE);
	lfq_ring_hdr_init(&q->hdr, g, &q->layout);
	lfq_ring_hdr_set_wake(&q->hdr, lfq_wake_mode_new(g));
	q->user = lfq_user_get(current_fsuid(), capable(CAP_SYS_RESOURCE));
	err = q->user ? lfq_claims_init(q) : -ENOMEM;
	if (!err)
		err = lfq_cclaims_init(q);
	if (!err)
		err = lfq_queue_alloc_pages(q);
	if (err)
		goto fail;
	memcpy(q->base + q->layout.hdr_offset, &q->hdr, sizeof(q->hdr));
	lfq_ring_loc_init(&q->ring, q->base, &q->hdr);
	/* Our IPIs reach every CPU: kernel producers may be light. */
	lfq_ring_loc_light(&q->ring, &q->hdr);
	if (g->flags & LFQ_CREATE_ELASTIC) {
		err = lfq_seg_init(q);
		if (err)
			goto fail;
	}

	/* ORDERING registry: publishes the initialised queue. */
	err = xa_alloc_irq(&lfq_registry, &q->id, q, xa_limit_31b,
			   GFP_KERNEL_ACCOUNT);
	if (err)
		goto fail;
	return q;

fail:
	lfq_queue_free_pages(q);
	return ERR_PTR(err == -EBUSY ? -ENOMEM : err);
}
EXPORT_SYMBOL_GPL(lfq_queue_create);

/**
 * lfq_queue_get() - find a queue by id and take a reference.
 * @id:		the id reported by LFQ_IOC_INFO.
 *
 * Context: any context but NMI; takes no lock.
 * Return: the queue, or NULL if no live queue has this id.
 */
struct lfq_queue *lfq_queue_get(u32 id)
{
	struct lfq_queue *q;

	rcu_read_lock();
	q = xa_load(&lfq_registry, id);
	/* A queue whose last reference is gone is dying: don't revive it. */
	if (q && !kref_get_unless_zero(&q->ref))
		q = NULL;
	rcu_read_unlock();
	return q;
}
EXPORT_SYMBOL_GPL(lfq_queue_get);

/**
 * lfq_queue_admit() - admit a file to @q in @role.
 * @q:		the queue.
 * @role:	LFQ_ROLE_* bits.
 *
 * A queue has one consumer (an MPMC queue: any number), and one producer
 * if it is SPSC (the others take any number). Kernel users of the
 * in-kernel API are not counted. A consumer of an elastic queue starts in
 * its oldest live segment (lfq_seg_consumer_admit()).
 *
 * Context: process context.
 * Return: 0, or -EBUSY when a role asked for is taken.
 */
int lfq_queue_admit(struct lfq_queue *q, u32 role)
{
	/* Counts only: the cmpxchg()es order nothing else, pair with nothing. */
	if ((role & LFQ_ROLE_CONSUMER) && q->hdr.type == LFQ_TYPE_MPMC)
		atomic_inc(&q->consumers);
	else if ((role & LFQ_ROLE_CONSUMER) &&
		 atomic_cmpxchg(&q->consumers, 0, 1) != 0)
		return -EBUSY;
	if ((role & LFQ_ROLE_CONSUMER) && q->el)
		lfq_seg_consumer_admit(q->el);
	if (!(role & LFQ_ROLE_PRODUCER))
		return 0;
	if (lfq_type_committed(q->hdr.type)) {
		atomic_inc(&q->producers);
	} else if (atomic_cmpxchg(&q->producers, 0, 1) != 0) {
		if (role & LFQ_ROLE_CONSUMER)
			atomic_dec(&q->consumers);
		return -EBUSY;
	}
	return 0;
}

/**
 * lfq_queue_leave() - give back the roles lfq_queue_admit() granted.
 * @q:		the queue.
 * @role:	the roles.
 */
void lfq_queue_leave(struct lfq_queue *q, u32 role)
{
	if (role & LFQ_ROLE_PRODUCER)
		atomic_dec(&q->producers);
	if (role & LFQ_ROLE_CONSUMER)
		atomic_dec(&q->consumers);
}

/**
 * lfq_queue_find() - the registered queue with the lowest id >= *@id.
 * @id:		in: where to start; out: the id found.
 *
 * No reference is taken: the caller holds rcu_read_lock() (ORDERING
 * registry) or a reference of its own.
 *
 * Return: the queue, or NULL when there is none.
 */
struct lfq_queue *lfq_queue_find(unsigned long *id)
{
	return xa_find(&lfq_registry, id, ULONG_MAX, XA_PRESENT);
}

/**
 * lfq_queue_head() - where a queue's producers stand: its head (an
 * elastic queue's: the newest segment's).
 * @q:		the queue.
 * @acquire:	read it with acquire ordering (ORDERING claim).
 *
 * HOSTILE MEMORY: a user-writable word, for comparing indices only.
 *
 * Return: the index.
 */
u64 lfq_queue_head(struct lfq_queue *q, bool acquire)
{
	const struct lfq_ring_loc *r = &q->ring;
	u64 v;

	if (q->el) {
		rcu_read_lock();
		r = &lfq_seg_newest(q->el)->ring;
		/* ORDERING claim: pairs with the producers' CAS of head. */
		v = acquire ? smp_load_acquire(r->head) : READ_ONCE(*r->head);
		rcu_read_unlock();
		return lfq_seg_end(v);
	}
	/* ORDERING claim: pairs with the producers' CAS of head. */
	return acquire ? smp_load_acquire(r->head) : READ_ONCE(*r->head);
}

/**
 * lfq_queue_stats() - a queue's counters.
 * @q:		the queue (referenced, or under RCU).
 * @st:		filled in; ->size and ->__reserved are zeroed.
 */
void lfq_queue_stats(struct lfq_queue *q, struct lfq_stats *st)
{
	/* HOSTILE MEMORY: the first four live in user-writable pages and
	 * are reported as found, never used.
	 */
	*st = (struct lfq_stats) {
		.produced	= READ_ONCE(q->ring.prod->head),
		/* Overwrite mode: without the owner bits (lfq_rec.h). */
		.consumed	= READ_ONCE(q->ring.cons->tail) &
				  (q->ring.overwrite ? ~LFQ_REC_TAIL_BITS : ~0ull),
		.full_events	= READ_ONCE(q->ring.prod->full_events),
		.empty_events	= READ_ONCE(q->ring.cons->empty_events),
		.wakeups	= atomic64_read(&q->wakeups),
		.wake_calls	= atomic64_read(&q->wake_calls),
		.waits		= atomic64_read(&q->waits),
		.dropped	= atomic64_read(&q->dropped),
		.orphaned	= atomic64_read(&q->orphaned),
		.lost		= atomic64_read(&q->lost),
		/* HOSTILE MEMORY: processes' share reported as found. */
		.overwritten	= atomic64_read(&q->overwritten) +
				  READ_ONCE(q->ring.prod->overwritten),
		.torn		= atomic64_read(&q->torn) +
				  READ_ONCE(q->ring.cons->torn),
		.segments	= 1,
		.segments_peak	= 1,
		.bytes		= (u64)q->nr_pages << PAGE_SHIFT,
	};
	if (q->el)
		lfq_seg_stats(q->el, st);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_queue_stats);

static void lfq_queue_release(struct kref *ref)
{
	struct lfq_queue *q = container_of(ref, struct lfq_queue, ref);
	unsigned long flags;

	xa_lock_irqsave(&lfq_registry, flags);
	__xa_erase(&lfq_registry, q->id);
	xa_unlock_irqrestore(&lfq_registry, flags);
	/*
	 * ORDERING registry: lookups that found q before the erase hold
	 * rcu_read_lock(); free after a grace period, from process context
	 * (vunmap may sleep).
	 */
	queue_rcu_work(lfq_free_wq, &q->free_work);
}

/**
 * lfq_queue_put() - drop a reference taken by lfq_queue_create() or
 * lfq_queue_get().
 * @q:		the queue.
 *
 * The last put removes the queue from the registry at once and frees it
 * after an RCU grace period. Mappings of its pages hold their own page
 * references and stay valid until unmapped.
 *
 * Context: any context but NMI.
 */
void lfq_queue_put(struct lfq_queue *q)
{
	kref_put(&q->ref, lfq_queue_release);
}
EXPORT_SYMBOL_GPL(lfq_queue_put);

int lfq_queue_module_init(void)
{
	int err;

	lfq_free_wq = alloc_workqueue("lfq_free", WQ_UNBOUND, 0);
	if (!lfq_free_wq)
		return -ENOMEM;
	err = lfq_seg_module_init();
	if (err)
		destroy_workqueue(lfq_free_wq);
	return err;
}

void lfq_queue_module_exit(void)
{
	/* Let queue_rcu_work()'s RCU callbacks queue their work, then drain. */
	rcu_barrier();
	destroy_workqueue(lfq_free_wq);
	lfq_seg_module_exit();
	lfq_limits_module_exit();
	WARN_ON(!xa_empty(&lfq_registry));
}
