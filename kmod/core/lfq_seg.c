// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_seg.c - the segments of an elastic queue in the kernel, by the
 * protocol of proto/lfq_segment.h (modelled in tests/model/segments.pml).
 *
 * Memory. A segment is its commit words (MPSC slots) and its slots (a
 * record queue's: its bytes), vmapped as commit words, slots, slots
 * again, charged to the creator's memory cgroup and user. Its head and
 * tail words live in the queue's word arrays (one cache line each), its
 * table entry in the read-only segment table. It keeps one frame (its
 * place in every mapping of the queue) from allocation to free.
 *
 * The pool. Producers may run in NMI, so they never allocate: a producer
 * that must grow the queue takes a spare segment from a bitmap of frames
 * (lock-free), and a work item refills it from process context when it
 * falls below its low-water mark (LFQ_POOL_LOW spares, doubled up to
 * LFQ_POOL_LOW_MAX each time a producer found the pool empty, so that a
 * sustained stream of kernel records stops dropping after a few
 * refills), up to twice the mark. With no spare, or at
 * seg_max, the record is dropped and counted. After an idle period
 * (seg_idle_ms without growth) the mark returns to LFQ_POOL_LOW and the
 * spares above seg_min are freed: the queue returns to its minimum;
 * growth refills the pool again (the two levels and the idle period are
 * the hysteresis).
 *
 * Reading segments. Producers and in-kernel readers find segments through
 * the producers' hint (@pseg), the oldest live segment (@cseg) and the
 * links of the segment table, and use them inside RCU read-side sections
 * (a kernel producer from reservation to commit: lfq_kapi.c). The
 * in-kernel consumer's segment is never retired under it (@kcons).
 *
 * Retirement (lfq_seg_reclaim(), process context). The oldest segment is
 * retired when it is linked, its consumer's tail word stands at its end,
 * every reservation in it is published (MPSC), and neither the hint, nor
 * the in-kernel consumer, nor a process consumer (cons_ctl->seg, ORDERING
 * seg-cons) names it: it is then unreachable. After an RCU
 * grace period (ORDERING seg-grace) it is sealed again, marked free in
 * the table, and pooled for its next life, in the same frame.
 *
 * Mappings. A frame shows its segment's pages from the segment's
 * allocation to its free, whatever its state: a process producer has no
 * RCU read-side section the kernel can wait for, so one descheduled
 * between reading a segment's head word and its lap guard's commit word
 * may read a segment retired meanwhile; it must read this queue's own
 * words (its compare-and-swap on the head word then fails: heads only
 * grow from one life to the next), not fault. A frame without a
 * segment reads as zeros (the zero page, mapped read-only) and is SIGBUS
 * to write. Both changes of a frame's pages, allocation and free, zap it
 * from every mapping (unmap_mapping_range() on the queue's own
 * address_space) under @lock, which the fault handler also takes: no
 * page table entry outlives the page it maps, and no process ever sees
 * freed memory or another queue's pages.
 *
 * Hostile memory. The head and tail words are user-writable: the kernel
 * reads each once and uses an end only as an index base (HOSTILE MEMORY
 * H1, H3); the table and the links the kernel follows are its own
 * (read-only to processes). A consumer that lies about its tail can only
 * make its own segments retire early; producers' slots are protected by
 * the commit check and, for kernel producers, by RCU.
 */
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <kunit/visibility.h>

#include "lfq_limits.h"
#include "lfq_queue.h"
#include "lfq_seg.h"
#include "lfq_wait.h"
#include "proto/lfq_ready.h"

static unsigned int seg_idle_ms = 1000;
module_param(seg_idle_ms, uint, 0644);
MODULE_PARM_DESC(seg_idle_ms,
		 "idle time after which an elastic queue frees its spare segments down to seg_min");

/* Spare segments kept while a queue grows: the low-water mark's range. */
#define LFQ_POOL_LOW		2
#define LFQ_POOL_LOW_MAX	32
/* Attempts at following or making a link before a producer gives up. */
#define LFQ_SEG_TRIES		8
/* "lfqs": the pseudo filesystem of the queues' address spaces. */
#define LFQ_SEG_FS_MAGIC	0x7371666c

static struct vfsmount *lfq_seg_mnt;
static struct workqueue_struct *lfq_seg_wq;

static void lfq_seg_retire_work(struct work_struct *work);
static void lfq_seg_reclaim(struct lfq_elastic *el);

static u32 lfq_seg_npages(const struct lfq_elastic *el)
{
	return el->commit_pages + el->data_pages;
}

static u64 lfq_seg_bytes(const struct lfq_elastic *el)
{
	return (u64)lfq_seg_npages(el) << PAGE_SHIFT;
}

/*
 * Readers are in an RCU read-side section: rcu_read_lock(), or preemption
 * disabled (a kernel producer from reservation to commit), or hold @lock.
 */
static struct lfq_seg *lfq_seg_at(struct lfq_elastic *el, u32 frame)
{
	return rcu_dereference_check(el->frames[frame],
				     rcu_read_lock_any_held() ||
				     lockdep_is_held(&el->lock));
}

/* Take frame @f's pages out of every process mapping. Lock held. */
static void lfq_seg_zap(struct lfq_elastic *el, u32 f)
{
	const struct lfq_layout *l = &el->q->layout;

	lockdep_assert_held(&el->lock);
	unmap_mapping_range(el->inode->i_mapping,
			    l->frames_offset + (u64)f * l->frame_size,
			    l->frame_size, 1);
}

/* Free a segment nobody can reach or map any more. */
static void lfq_seg_free(struct lfq_elastic *el, struct lfq_seg *s)
{
	u32 i;

	if (s->vaddr)
		vunmap(s->vaddr);
	if (s->pages) {
		for (i = 0; i < lfq_seg_npages(el); i++)
			if (s->pages[i])
				__free_page(s->pages[i]);
		kvfree(s->pages);
	}
	lfq_user_uncharge(el->q->user, lfq_seg_bytes(el));
	kfree(s);
}

/* A segment's pages and its vmap: commit words, slots, slots again. */
static int lfq_seg_alloc_pages(struct lfq_elastic *el, struct lfq_seg *s)
{
	u32 n = lfq_seg_npages(el), c = el->commit_pages, i;
	struct page **map;

	s->pages = kvcalloc(n, sizeof(*s->pages), GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		return -ENOMEM;
	/* Zeroed: nothing stale from the kernel ever reaches a process. */
	for (i = 0; i < n; i++) {
		s->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!s->pages[i])
			return -ENOMEM;
	}
	map = kvmalloc_array(n + el->data_pages, sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	memcpy(map, s->pages, n * sizeof(*map));
	memcpy(map + n, s->pages + c, el->data_pages * sizeof(*map));
	s->vaddr = vmap(map, n + el->data_pages, VM_MAP, PAGE_KERNEL);
	kvfree(map);
	return s->vaddr ? 0 : -ENOMEM;
}

/*
 * Allocate a segment in a free frame, sealed (a spare). Lock held; process
 * context. Returns the segment or an ERR_PTR(): -ENOSPC (no free frame),
 * -EDQUOT (the user's limit), -ENOMEM.
 */
static struct lfq_seg *lfq_seg_alloc(struct lfq_elastic *el)
{
	struct mem_cgroup *old;
	struct lfq_seg *s;
	u32 f;
	int err;

	lockdep_assert_held(&el->lock);
	for (f = 0; f < el->seg_max && lfq_seg_at(el, f); f++)
		;
	if (f == el->seg_max)
		return ERR_PTR(-ENOSPC);
	err = lfq_user_charge(el->q->user, lfq_seg_bytes(el));
	if (err)
		return ERR_PTR(err);
	old = set_active_memcg(el->memcg);
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	err = s ? lfq_seg_alloc_pages(el, s) : -ENOMEM;
	set_active_memcg(old);
	if (err) {
		if (s)
			lfq_seg_free(el, s);
		else
			lfq_user_uncharge(el->q->user, lfq_seg_bytes(el));
		return ERR_PTR(err);
	}
	s->el = el;
	s->frame = f;
	INIT_RCU_WORK(&s->retire, lfq_seg_retire_work);
	s->ring = el->q->ring;
	s->ring.head = &el->heads[f].v;
	s->ring.tail = &el->tails[f].v;
	s->ring.commit = s->vaddr;
	s->ring.data = s->vaddr + ((size_t)el->commit_pages << PAGE_SHIFT);
	s->ring.base = 0;
	s->ring.segment = 1;
	/* A producer that still holds this frame from a past life stops. */
	WRITE_ONCE(*s->ring.head, LFQ_SEG_SEALED);
	/* Zero-page entries out: the next fault finds the segment. */
	lfq_seg_zap(el, f);
	rcu_assign_pointer(el->frames[f], s);
	atomic_inc(&el->allocated);
	return s;
}

/*
 * Empty @s's frame; the caller frees it once no RCU reader can hold it
 * (one synchronize_rcu() for a batch, outside @lock).
 */
static void lfq_seg_release(struct lfq_elastic *el, struct lfq_seg *s)
{
	lockdep_assert_held(&el->lock);
	RCU_INIT_POINTER(el->frames[s->frame], NULL);
	/* Faults take @lock and now find no segment: the zero page. */
	lfq_seg_zap(el, s->frame);
	atomic_dec(&el->allocated);
}

/* Put a spare in the pool. Process context. */
static void lfq_pool_push(struct lfq_elastic *el, struct lfq_seg *s)
{
	atomic_set(&el->nomem, 0);
	atomic_inc(&el->pooled);
	/* ORDERING seg-pool: the spare is complete before its bit is seen. */
	smp_mb__before_atomic();
	set_bit(s->frame, el->pool);
	/*
	 * A producer waiting for space may grow now (one that slept on
	 * @nomem, or at seg_max); wq_has_sleeper()'s barrier orders the bit
	 * before the check (ORDERING wake-queue).
	 */
	lfq_queue_wake_producers(el->q);
}

/* Take a spare. Any context, NMI included; in an RCU read-side section. */
static struct lfq_seg *lfq_pool_pop(struct lfq_elastic *el)
{
	unsigned long f;
	int tries;

	for (tries = 0; tries < LFQ_SEG_TRIES; tries++) {
		/*
		 * A hint read racing with set_bit()/clear_bit() of other
		 * CPUs: a stale word only makes us miss a spare or try a
		 * taken one; test_and_clear_bit() below decides.
		 */
		f = data_race(find_first_bit(el->pool, el->seg_max));
		if (f >= el->seg_max)
			return NULL;
		/* ORDERING seg-pool: a fully ordered RMW when it succeeds. */
		if (test_and_clear_bit(f, el->pool)) {
			atomic_dec(&el->pooled);
			return lfq_seg_at(el, f);
		}
	}
	return NULL;
}

/**
 * lfq_seg_kick() - have the queue's work reclaim drained segments and
 * refill the pool.
 * @el:		the queue's segments.
 *
 * Context: any, NMI included.
 */
void lfq_seg_kick(struct lfq_elastic *el)
{
	irq_work_queue(&el->kick);
}

/**
 * lfq_seg_producer() - the producers' segment, the newest.
 * @el:		the queue's segments.
 *
 * Context: any; in an RCU read-side section (ORDERING seg-grace).
 * Return: the segment.
 */
struct lfq_seg *lfq_seg_producer(struct lfq_elastic *el)
{
	return rcu_dereference_check(el->pseg, rcu_read_lock_any_held());
}
EXPORT_SYMBOL_IF_KUNIT(lfq_seg_producer);

/**
 * lfq_seg_newest() - the newest live segment: the producers' hint, then
 * the links after it.
 * @el:		the queue's segments.
 *
 * The hint lags when its swing lost to a later link (lfq_seg_swing()): a
 * producer preempted between its link and its swing.
 *
 * Context: any; in an RCU read-side section (ORDERING seg-grace).
 * Return: the segment.
 */
struct lfq_seg *lfq_seg_newest(struct lfq_elastic *el)
{
	struct lfq_seg *s = lfq_seg_producer(el), *n;
	u32 i;
	int next;

	for (i = 0; i < el->seg_max; i++) {
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		n = next < 0 ? NULL : lfq_seg_at(el, next);
		if (!n)
			break;
		s = n;
	}
	return s;
}

/* Record a new peak of live segments. */
static void lfq_seg_peak(struct lfq_elastic *el)
{
	int live = atomic_read(&el->live), peak = atomic_read(&el->peak);

	while (live > peak && !atomic_try_cmpxchg(&el->peak, &peak, live))
		;
}

/*
 * Move the producers' hint from @s to @n, unless it moved on already. RCU
 * or @lock held: every segment the hint names stays live meanwhile.
 */
static void lfq_seg_swing(struct lfq_elastic *el, struct lfq_seg *s,
			  struct lfq_seg *n)
{
	struct lfq_seg *now;

	/* The hint only moves forward: from @s, and only to its successor. */
	if (cmpxchg((struct lfq_seg __force **)&el->pseg, s, n) != s)
		return;
	/*
	 * The processes' copy follows, in a second store: a swing that came
	 * after ours may store its frame before we store ours. So whoever
	 * stores checks the hint again after its store and stores once more
	 * while it moved (lock-free: each pass follows another swing), and
	 * the last store names the hint, not an older segment that may be
	 * retired and freed (its frame then maps the zero page).
	 */
	do {
		now = rcu_dereference_check(el->pseg,
					    rcu_read_lock_any_held() ||
					    lockdep_is_held(&el->lock));
		/* ORDERING seg-link: after the link, for processes. */
		smp_store_release(&el->segtab->pseg, now->frame);
		/* ORDERING seg-hint: our store, then the re-read. */
		smp_mb();
	} while (rcu_access_pointer(el->pseg) != now);
}

/*
 * At seg_max: if a process consumer has drained the oldest segment and
 * moved on, have the work retire it (nothing else tells the kernel). Only
 * then: a queue whose consumer is away must not keep a worker busy. RCU
 * held.
 */
static void lfq_seg_kick_drained(struct lfq_elastic *el)
{
	struct lfq_seg *s = rcu_dereference_check(el->cseg,
						  rcu_read_lock_any_held());

	/* HOSTILE MEMORY: a lie costs a pass of the work (one at a time). */
	if (READ_ONCE(el->q->ring.cons->seg) != s->frame &&
	    lfq_seg_drained(&s->ring, READ_ONCE(*s->ring.tail)))
		lfq_seg_kick(el);
}

/**
 * lfq_seg_advance() - the segment after a sealed one: follow its link, or
 * make it with a spare from the pool.
 * @el:		the queue's segments.
 * @s:		a sealed segment.
 * @err:	set when NULL is returned: -EAGAIN (another producer is
 *		linking: try again), -ENOSPC (seg_max segments are live),
 *		-ENOMEM (no spare in the pool).
 *
 * Context: any, NMI included; in an RCU read-side section (rcu_read_lock()
 * or preemption disabled), and the segment returned may only be used
 * inside it (ORDERING seg-grace).
 * Return: the next segment, or NULL.
 */
struct lfq_seg *lfq_seg_advance(struct lfq_elastic *el, struct lfq_seg *s,
				int *err)
{
	struct lfq_seg_meta *m = &el->meta[s->frame];
	struct lfq_seg *n;
	int next;
	u64 end;

	next = lfq_seg_next(m, el->seg_max);
	if (next >= 0) {
		n = lfq_seg_at(el, next);
		if (!n) {
			*err = -EAGAIN;
			return NULL;
		}
		lfq_seg_swing(el, s, n);
		return n;
	}
	if (!lfq_seg_claim_link(m)) {
		*err = -EAGAIN;
		return NULL;
	}
	if (!atomic_add_unless(&el->live, 1, el->seg_max)) {
		lfq_seg_drop_link(m);
		lfq_seg_kick_drained(el);
		*err = -ENOSPC;
		return NULL;
	}
	n = lfq_pool_pop(el);
	if (!n) {
		atomic_dec(&el->live);
		lfq_seg_drop_link(m);
		atomic_set(&el->starved, 1);
		lfq_seg_kick(el);
		*err = -ENOMEM;
		return NULL;
	}
	/* HOSTILE MEMORY H1: the end is only ever an index in @n. */
	end = lfq_seg_end(READ_ONCE(*s->ring.head));
	lfq_seg_open(&n->ring, &el->meta[n->frame], end);
	/* ORDERING seg-link. */
	lfq_seg_publish_link(m, n->frame);
	lfq_seg_swing(el, s, n);
	/*
	 * A producer that counted no space (every segment live, the newest
	 * sealed) before this link may be asleep: ORDERING wake-space, the
	 * barrier pairs with the one after its arm (it sees the swing, or
	 * this sees its flag). An irq_work: this runs in any context.
	 */
	smp_mb();
	if (READ_ONCE(*el->q->ring.need_space))
		irq_work_queue(&el->q->space_work);
	atomic64_inc(&el->grows);
	WRITE_ONCE(el->last_grow, jiffies);
	lfq_seg_peak(el);
	if (atomic_read(&el->pooled) < READ_ONCE(el->pool_low))
		lfq_seg_kick(el);
	return n;
}

/**
 * lfq_seg_may_grow() - whether a segment after @s can be had now: one is
 * linked, or a spare is pooled below seg_max. At seg_max the work retires
 * what a process consumer drained; an empty pool has it refilled (a
 * producer found it empty).
 * @el:		the queue's segments.
 * @s:		the producers' segment.
 *
 * Context: any, NMI included; in an RCU read-side section.
 * Return: true if lfq_seg_advance() would likely succeed (it may still
 * lose a race for the spare).
 */
bool lfq_seg_may_grow(struct lfq_elastic *el, struct lfq_seg *s)
{
	if (lfq_seg_next(&el->meta[s->frame], el->seg_max) >= 0)
		return true;
	if (atomic_read(&el->live) >= el->seg_max) {
		/* As lfq_seg_advance() at seg_max: retire what was drained. */
		lfq_seg_kick_drained(el);
		return false;
	}
	if (atomic_read(&el->pooled) > 0)
		return true;
	atomic_set(&el->starved, 1);
	lfq_seg_kick(el);
	return false;
}

/*
 * Room for a producer in process context that could not grow (@why:
 * -ENOSPC, seg_max segments live; -ENOMEM, no spare). A process consumer's
 * progress is seen here: retire what it left. Then make a spare; with
 * every frame taken while segments wait for their grace period, wait (a
 * second at most) for one of them: it is the pool's once its retirement
 * has run. Returns 0 to try again, or why not.
 */
static int lfq_seg_make_room(struct lfq_elastic *el, int why)
{
	struct lfq_seg *s;
	bool retiring;

	mutex_lock(&el->lock);
	lfq_seg_reclaim(el);
	if (why == -ENOSPC && atomic_read(&el->live) >= el->seg_max) {
		mutex_unlock(&el->lock);
		return -ENOSPC;
	}
	s = atomic_read(&el->pooled) ? NULL : lfq_seg_alloc(el);
	/* No spare to be had: a waiter for space sleeps (ready_space). */
	if (PTR_ERR_OR_ZERO(s) == -EDQUOT || PTR_ERR_OR_ZERO(s) == -ENOMEM)
		atomic_set(&el->nomem, 1);
	else if (!IS_ERR_OR_NULL(s))
		lfq_pool_push(el, s);
	retiring = atomic_read(&el->allocated) > atomic_read(&el->live) +
						 atomic_read(&el->pooled);
	mutex_unlock(&el->lock);
	if (PTR_ERR_OR_ZERO(s) != -ENOSPC || !retiring)
		return PTR_ERR_OR_ZERO(s);
	/*
	 * This queue's own retirements only: not rcu_barrier() and the whole
	 * workqueue, which every queue's grace periods and work would make
	 * each call wait for. A fatal signal ends the wait; the retry finds
	 * the queue as it is.
	 */
	wait_event_killable_timeout(el->retired,
				    atomic_read(&el->pooled) > 0, HZ);
	return 0;
}

/*
 * One attempt of LFQ_IOC_GROW in the live segment @s: the frame to go on
 * in, or a negative errno (-EAGAIN: try again). RCU held.
 */
static int lfq_seg_grow_once(struct lfq_elastic *el, struct lfq_seg *s)
{
	struct lfq_seg *n;
	int err;
	u64 v;

	v = READ_ONCE(*s->ring.head);
	/*
	 * Not full (any more): the producer goes on here. A record producer
	 * seals its segment itself before it asks (only it knows the length
	 * that did not fit); unsealed, a record segment is full only with
	 * no byte free.
	 */
	if (!lfq_seg_sealed(v) && !lfq_seg_full(&s->ring, v))
		return s->frame;
	if (!lfq_seg_seal(&s->ring, v))
		return -EAGAIN;
	n = lfq_seg_advance(el, s, &err);
	return n ? n->frame : err;
}

/**
 * lfq_seg_grow_frame() - LFQ_IOC_GROW: a producer found the segment in
 * @frame full: seal it, link the next, tell the producer where to go on.
 * @q:		an elastic queue.
 * @frame:	the frame the producer was in.
 *
 * Context: process context; may sleep (allocates a spare when the pool is
 * empty).
 * Return: the frame to continue in, or -EINVAL (a fixed queue, a frame
 * out of range), -EAGAIN (seg_max segments live, or producers kept
 * linking), -EDQUOT or -ENOMEM (no memory for a spare).
 */
int lfq_seg_grow_frame(struct lfq_queue *q, u32 frame)
{
	struct lfq_elastic *el = q->el;
	struct lfq_seg *s;
	int tries, ret = -EAGAIN;

	if (!el || frame >= el->seg_max)
		return -EINVAL;
	for (tries = 0; tries < LFQ_SEG_TRIES; tries++) {
		rcu_read_lock();
		s = lfq_seg_at(el, frame);
		/* A frame of a past life: go on in the newest segment. */
		if (!s || READ_ONCE(el->meta[frame].state) != LFQ_SEG_LIVE)
			ret = lfq_seg_newest(el)->frame;
		else
			ret = lfq_seg_grow_once(el, s);
		rcu_read_unlock();
		if (ret == -ENOMEM || ret == -ENOSPC)
			ret = lfq_seg_make_room(el, ret) ?: -EAGAIN;
		if (ret == -ENOSPC)
			return -EAGAIN;
		if (ret != -EAGAIN)
			return ret;
	}
	return ret;
}

/**
 * lfq_seg_consumer_admit() - a consumer file was admitted: it starts in
 * the oldest live segment, which is not retired under it (ORDERING
 * seg-cons).
 * @el:		the queue's segments.
 *
 * Context: process context.
 */
void lfq_seg_consumer_admit(struct lfq_elastic *el)
{
	struct lfq_seg *s;

	mutex_lock(&el->lock);
	s = rcu_dereference_protected(el->cseg, lockdep_is_held(&el->lock));
	WRITE_ONCE(el->q->ring.cons->seg, s->frame);
	mutex_unlock(&el->lock);
}

/**
 * lfq_seg_consumer_start() - an in-kernel consumer starts: it reads the
 * oldest live segment, which from now on is not retired under it.
 * @el:		the queue's segments.
 *
 * Context: process context.
 * Return: the segment.
 */
struct lfq_seg *lfq_seg_consumer_start(struct lfq_elastic *el)
{
	struct lfq_seg *s;

	mutex_lock(&el->lock);
	s = rcu_dereference_protected(el->cseg, lockdep_is_held(&el->lock));
	WRITE_ONCE(el->kcons, s);
	WRITE_ONCE(el->q->ring.cons->seg, s->frame);	/* for the views */
	mutex_unlock(&el->lock);
	return s;
}

/**
 * lfq_seg_consumer_next() - the in-kernel consumer drained @s: the segment
 * after it, which it reads from now on; @s may be retired.
 * @el:		the queue's segments.
 * @s:		the consumer's segment, drained (lfq_seg_drained()).
 *
 * Context: any but NMI.
 * Return: the next segment, or NULL while none is linked.
 */
struct lfq_seg *lfq_seg_consumer_next(struct lfq_elastic *el,
				      struct lfq_seg *s)
{
	struct lfq_seg *n = NULL;
	int next;

	rcu_read_lock();
	next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
	if (next >= 0)
		n = lfq_seg_at(el, next);
	rcu_read_unlock();
	if (n) {
		/* Live and linked: not retired before @kcons moves past it. */
		WRITE_ONCE(el->kcons, n);
		/* ORDERING seg-cons: a process consumer's word, kept true. */
		WRITE_ONCE(el->q->ring.cons->seg, n->frame);
		lfq_seg_kick(el);
	}
	return n;
}

/**
 * lfq_seg_consumer_stop() - the in-kernel consumer is gone.
 * @el:		the queue's segments.
 */
void lfq_seg_consumer_stop(struct lfq_elastic *el)
{
	WRITE_ONCE(el->kcons, NULL);
	lfq_seg_kick(el);
}

/*
 * The segment the consumer reads: the first live one it has not drained,
 * from the in-kernel consumer's or the oldest. RCU held. *@tail is set to
 * the consumer's index there, as its tail word says.
 */
static struct lfq_seg *lfq_seg_reading(struct lfq_elastic *el, u64 *tail)
{
	struct lfq_seg *s = READ_ONCE(el->kcons), *n;
	int i, next;

	if (!s)
		s = rcu_dereference(el->cseg);
	for (i = 0; i < el->seg_max; i++) {
		*tail = READ_ONCE(*s->ring.tail);
		if (!lfq_seg_drained(&s->ring, *tail))
			break;
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		n = next >= 0 ? lfq_seg_at(el, next) : NULL;
		if (!n)
			break;
		s = n;
	}
	return s;
}

/**
 * lfq_seg_ready_data() - readable slots for a waiting consumer, in the
 * segment it reads (after the ones it drained), and, while all that is
 * left of that one up to its seal is ready, in the segments after it.
 * @el:		the queue's segments.
 * @max:	MPSC slots are counted up to @max.
 * @arm:	arm need_data first (ORDERING wake-data: the full barrier
 *		pairs with the producers' on a symmetric queue; on an
 *		asymmetric one the count after lfq_queue_ready()'s heavy
 *		fence decides, wake-asym; either way the loads see what
 *		was published before, links included).
 *
 * Return: readable slots.
 */
u32 lfq_seg_ready_data(struct lfq_elastic *el, u32 max, bool arm)
{
	u32 n, seg, hops;
	struct lfq_seg *s;
	u64 tail;
	int next;

	/* Any commit wakes: one segment's count is not the queue's. */
	if (arm)
		lfq_arm_flag(el->q->ring.need_data, 1);
	rcu_read_lock();
	s = lfq_seg_reading(el, &tail);
	n = lfq_ready_data(&s->ring, max, false);
	seg = n;
	/*
	 * What is left of a sealed segment, all ready, adds what the next
	 * one holds: a waiter for more than that must not sleep while the
	 * rest of the queue holds it.
	 */
	for (hops = 0; n < max && hops < el->seg_max; hops++) {
		if (!lfq_seg_ready_through(&s->ring, tail, seg))
			break;
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		s = next >= 0 ? lfq_seg_at(el, next) : NULL;
		if (!s)
			break;
		tail = READ_ONCE(*s->ring.tail);
		seg = lfq_ready_data(&s->ring, max - n, false);
		n += seg;
	}
	rcu_read_unlock();
	return n;
}

/**
 * lfq_seg_ready_space() - free slots for a waiting producer: in its
 * segment, or a segment's worth while the queue may grow (below seg_max,
 * and its last growth did not fail for memory since a spare was pooled).
 * @el:		the queue's segments.
 * @max:	MPSC slots are counted up to @max, and only those a producer
 *		could reserve (lfq_ready_space(): their previous lap in the
 *		segment is committed), so a consumer that forged its tail
 *		past records still being written makes the waiter sleep,
 *		not spin between "free" here and "full" in the reserve.
 * @arm:	arm need_space first (ORDERING wake-space; on an asymmetric
 *		queue wake-asym: the count after the heavy fence decides).
 *
 * Return: free slots.
 */
u32 lfq_seg_ready_space(struct lfq_elastic *el, u32 max, bool arm)
{
	struct lfq_seg *s;
	bool below;
	u32 n = 0;
	u64 v;

	/* Any release wakes, as above. */
	if (arm)
		lfq_arm_flag(el->q->ring.need_space, 1);
	/*
	 * Below seg_max the queue may grow, unless its last growth found no
	 * memory and nothing was pooled since: then, as at seg_max, the
	 * newest segment's space (a retirement's pooling wakes the waiter).
	 */
	below = atomic_read(&el->live) < el->seg_max;
	if (below && !atomic_read(&el->nomem))
		return el->q->hdr.slot_count;
	rcu_read_lock();
	/* Retire what a process consumer left, for the waiter. */
	lfq_seg_kick_drained(el);
	s = lfq_seg_newest(el);
	v = READ_ONCE(*s->ring.head);
	if (!lfq_seg_sealed(v))
		n = lfq_ready_space(&s->ring, max, false);
	/*
	 * No memory, and the newest segment sealed and drained: nothing is
	 * left to retire, so no pooling would ever wake the waiter; memory
	 * may come back from elsewhere (the user's other queues), and only
	 * a try can tell. HOSTILE MEMORY H1: the tail is only compared.
	 */
	else if (below && lfq_seg_end(v) == READ_ONCE(*s->ring.tail))
		n = el->q->hdr.slot_count;
	rcu_read_unlock();
	return n;
}

/**
 * lfq_seg_walk() - call @fn on every live segment, oldest first, with
 * where its producers stand (its head index, a sealed one's end).
 * @el:		the queue's segments.
 * @fn:		the callback.
 * @arg:	its argument.
 *
 * The segments stay live meanwhile: @lock is held.
 *
 * Context: process context.
 */
void lfq_seg_walk(struct lfq_elastic *el,
		  void (*fn)(const struct lfq_ring_loc *r, u64 head, void *arg),
		  void *arg)
{
	struct lfq_seg *s;
	u32 i;
	int next;

	mutex_lock(&el->lock);
	s = rcu_dereference_protected(el->cseg, lockdep_is_held(&el->lock));
	/* To the last link, not the producers' hint, which may lag. */
	for (i = 0; s && i < el->seg_max; i++) {
		fn(&s->ring, lfq_seg_end(READ_ONCE(*s->ring.head)), arg);
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		s = next >= 0 ? lfq_seg_at(el, next) : NULL;
	}
	mutex_unlock(&el->lock);
}

/*
 * Retire, oldest first, the segments the consumer is done with (see the
 * top of this file). Lock held.
 */
static void lfq_seg_reclaim(struct lfq_elastic *el)
{
	struct lfq_seg *s, *n;
	bool retired = false;
	int next;
	u64 end;

	lockdep_assert_held(&el->lock);
	/* No retirement may outlive lfq_seg_free_all(). */
	if (el->dying)
		return;
	s = rcu_dereference_protected(el->cseg, lockdep_is_held(&el->lock));
	/* The newest segment has no link yet: the loop stops there. */
	while (s != READ_ONCE(el->kcons)) {
		/* ORDERING seg-cons; HOSTILE MEMORY: only compared. */
		if (READ_ONCE(el->q->ring.cons->seg) == s->frame)
			break;
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		n = next >= 0 ? lfq_seg_at(el, next) : NULL;
		if (!n)
			break;
		end = n->ring.base;
		/* HOSTILE MEMORY H1: a lie only retires the liar's data. */
		if (READ_ONCE(*s->ring.tail) != end)
			break;
		/*
		 * Slots: every reservation published. A record segment has
		 * no commit words: the consumer passes only published
		 * records, and kernel producers are covered by the grace
		 * period; a consumer that lies about its tail can make a
		 * process producer's record land in the frame's next life
		 * (the consumer checks every header it reads).
		 */
		if (el->q->hdr.type == LFQ_TYPE_MPSC && !el->q->ring.records &&
		    !lfq_seg_committed(&s->ring, end))
			break;
		/*
		 * The producers' hint may lag on a segment that is sealed,
		 * linked and drained (lfq_seg_swing() lost to a later link):
		 * move it on before the segment retires, or no producer
		 * starting from it could ever find the queue again.
		 */
		if (s == rcu_access_pointer(el->pseg))
			lfq_seg_swing(el, s, n);
		rcu_assign_pointer(el->cseg, n);
		WRITE_ONCE(el->segtab->cseg, n->frame);
		/* Before the grace period: nobody grows it from now on. */
		WRITE_ONCE(el->meta[s->frame].state, LFQ_SEG_RETIRED);
		atomic_dec(&el->live);
		atomic64_inc(&el->shrinks);
		/* ORDERING seg-grace: unreachable now; reused after a GP. */
		queue_rcu_work(lfq_seg_wq, &s->retire);
		retired = true;
		s = n;
	}
	/* Producers that block at seg_max may grow again. */
	if (retired)
		lfq_queue_wake_producers(el->q);
}

/**
 * lfq_seg_reclaim_sync() - retire now what the consumer is done with (the
 * queue's work does it when kicked, and periodically above the minimum).
 * @el:		the queue's segments.
 *
 * Context: process context.
 */
void lfq_seg_reclaim_sync(struct lfq_elastic *el)
{
	mutex_lock(&el->lock);
	lfq_seg_reclaim(el);
	mutex_unlock(&el->lock);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_seg_reclaim_sync);

/*
 * A retired segment, a grace period later: pooled. Its frame keeps its
 * pages (a stale reader reads them; see "Mappings" above).
 */
static void lfq_seg_retire_work(struct work_struct *work)
{
	struct lfq_seg *s = container_of(to_rcu_work(work), struct lfq_seg,
					 retire);
	struct lfq_elastic *el = s->el;

	mutex_lock(&el->lock);
	WRITE_ONCE(*s->ring.head, LFQ_SEG_SEALED);
	/*
	 * A record segment's next life starts zeroed: no header kept from
	 * this one, however many laps on, can read as committed there
	 * (the bytes past a seal and a long-pooled frame are never
	 * refreshed otherwise). Nobody reaches the segment now (ORDERING
	 * seg-grace), and its sealed head stops a process producer that
	 * still holds the frame.
	 */
	if (el->q->ring.records)
		memset(s->ring.data, 0, (size_t)el->data_pages << PAGE_SHIFT);
	WRITE_ONCE(el->meta[s->frame].next, 0);
	WRITE_ONCE(el->meta[s->frame].state, LFQ_SEG_FREE);
	lfq_pool_push(el, s);
	mutex_unlock(&el->lock);
	wake_up_all(&el->retired);
	lfq_seg_kick(el);
}

/* Reclaim, then refill the pool to its mark while the queue may grow. */
static void lfq_seg_work(struct work_struct *work)
{
	struct lfq_elastic *el = container_of(work, struct lfq_elastic, work);
	struct lfq_seg *s;

	mutex_lock(&el->lock);
	if (el->dying) {
		mutex_unlock(&el->lock);
		return;
	}
	lfq_seg_reclaim(el);
	if (atomic_xchg(&el->starved, 0))
		WRITE_ONCE(el->pool_low, min3(el->pool_low * 2, el->seg_max,
					      LFQ_POOL_LOW_MAX));
	/* Below the mark: up to twice it, so a producer kicks once per few. */
	while (atomic_read(&el->pooled) < 2 * el->pool_low &&
	       atomic_read(&el->allocated) < el->seg_max) {
		s = lfq_seg_alloc(el);
		if (IS_ERR(s))
			break;
		lfq_pool_push(el, s);
	}
	mutex_unlock(&el->lock);
	queue_delayed_work(lfq_seg_wq, &el->idle,
			   msecs_to_jiffies(READ_ONCE(seg_idle_ms)));
}

/*
 * Periodically while the queue is above its minimum: reclaim, and once it
 * has not grown for seg_idle_ms, free the spares above seg_min.
 */
static void lfq_seg_idle_work(struct work_struct *work)
{
	struct lfq_elastic *el = container_of(to_delayed_work(work),
					      struct lfq_elastic, idle);
	unsigned long idle = msecs_to_jiffies(READ_ONCE(seg_idle_ms));
	struct lfq_seg *s, *batch = NULL;
	bool again;

	mutex_lock(&el->lock);
	lfq_seg_reclaim(el);
	if (time_after_eq(jiffies, READ_ONCE(el->last_grow) + idle)) {
		WRITE_ONCE(el->pool_low, LFQ_POOL_LOW);
		while (atomic_read(&el->allocated) >
		       max_t(int, el->seg_min, atomic_read(&el->live))) {
			rcu_read_lock();
			s = lfq_pool_pop(el);
			rcu_read_unlock();
			if (!s)
				break;
			lfq_seg_release(el, s);
			s->free_next = batch;
			batch = s;
		}
	}
	again = !el->dying && (atomic_read(&el->allocated) > el->seg_min ||
			       atomic_read(&el->live) > 1);
	mutex_unlock(&el->lock);
	/* ORDERING seg-grace: readers that found them in a frame are done. */
	if (batch)
		synchronize_rcu();
	while (batch) {
		s = batch;
		batch = s->free_next;
		lfq_seg_free(el, s);
	}
	if (again)
		queue_delayed_work(lfq_seg_wq, &el->idle, max(idle / 2, 1UL));
}

static void lfq_seg_kick_work(struct irq_work *work)
{
	struct lfq_elastic *el = container_of(work, struct lfq_elastic, kick);

	if (!READ_ONCE(el->dying))
		queue_work(lfq_seg_wq, &el->work);
}

/**
 * lfq_seg_rec_committed() - whether the record at @pos of an elastic
 * record queue is committed (or discarded): its header, in the live
 * segment that holds @pos, is of its lap.
 * @el:		the queue's segments.
 * @pos:	a byte index (from a claim: HOSTILE MEMORY, only an index).
 *
 * Context: any but NMI.
 * Return: true if it is; false if not, or if no live segment holds @pos.
 */
bool lfq_seg_rec_committed(struct lfq_elastic *el, u64 pos)
{
	u64 size = el->q->hdr.slot_count, end, h;
	struct lfq_seg *s;
	bool ret = false;
	int next;
	u32 i;

	rcu_read_lock();
	s = rcu_dereference(el->cseg);
	for (i = 0; s && i < el->seg_max; i++) {
		end = lfq_seg_end(READ_ONCE(*s->ring.head));
		if ((s64)(pos - s->ring.base) >= 0 && (s64)(end - pos) > 0) {
			/* ORDERING rec-commit: pairs with the header's store. */
			h = smp_load_acquire(lfq_rec_hdr_at(&s->ring, pos));
			ret = lfq_rec_hdr_state(h, pos, lfq_rec_order(size),
						lfq_rec_max_len(size)) > 0;
			break;
		}
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		s = next >= 0 ? lfq_seg_at(el, next) : NULL;
	}
	rcu_read_unlock();
	return ret;
}

/**
 * lfq_seg_consumed() - where the consumer stands: its index in the segment
 * it reads (after the ones it drained).
 * @el:		the queue's segments.
 *
 * HOSTILE MEMORY: a user-writable word, for comparing indices only.
 *
 * Context: any but NMI.
 * Return: the index.
 */
u64 lfq_seg_consumed(struct lfq_elastic *el)
{
	u64 tail;

	rcu_read_lock();
	lfq_seg_reading(el, &tail);
	rcu_read_unlock();
	return tail;
}

/**
 * lfq_seg_stats() - the segment counters of a queue's statistics.
 * @el:		the queue's segments.
 * @st:		produced, consumed and the segment counters are set.
 */
void lfq_seg_stats(struct lfq_elastic *el, struct lfq_stats *st)
{
	struct lfq_seg *s;

	rcu_read_lock();
	s = lfq_seg_newest(el);
	st->produced = lfq_seg_end(READ_ONCE(*s->ring.head));
	rcu_read_unlock();
	st->consumed = lfq_seg_consumed(el);
	st->segments = atomic_read(&el->live);
	st->segments_peak = atomic_read(&el->peak);
	st->grows = atomic64_read(&el->grows);
	st->shrinks = atomic64_read(&el->shrinks);
	st->pool = atomic_read(&el->pooled);
	st->bytes += (u64)atomic_read(&el->allocated) * lfq_seg_bytes(el);
}

/**
 * lfq_seg_mapping() - the address_space every mapping of the queue is in.
 * @el:		the queue's segments.
 *
 * Return: it; a /dev/lfq file bound to the queue takes it as f_mapping.
 */
struct address_space *lfq_seg_mapping(struct lfq_elastic *el)
{
	return el->inode->i_mapping;
}

/* The fault handler holds the lock across finding and inserting a page. */
void lfq_seg_lock(struct lfq_elastic *el)
{
	mutex_lock(&el->lock);
}

void lfq_seg_unlock(struct lfq_elastic *el)
{
	mutex_unlock(&el->lock);
}

/**
 * lfq_seg_frame_page() - the page at @pgoff pages into the frames.
 * @el:		the queue's segments; lfq_seg_lock() held.
 * @pgoff:	pages from frames_offset.
 *
 * Return: the page of the segment allocated in that frame (live, retiring
 * or a spare), or NULL if it has none.
 */
struct page *lfq_seg_frame_page(struct lfq_elastic *el, u64 pgoff)
{
	u64 frame_pages = el->commit_pages + 2ULL * el->data_pages;
	u64 f = div64_u64(pgoff, frame_pages), i = pgoff - f * frame_pages;
	struct lfq_seg *s;

	lockdep_assert_held(&el->lock);
	if (f >= el->seg_max)
		return NULL;
	s = lfq_seg_at(el, f);
	if (!s)
		return NULL;
	if (i >= el->commit_pages)
		i = el->commit_pages + (i - el->commit_pages) % el->data_pages;
	return s->pages[i];
}

/* Undo lfq_seg_init(): the queue is unreachable and unmapped. */
static void lfq_seg_free_all(struct lfq_elastic *el)
{
	struct lfq_seg *s;
	u32 f;

	/*
	 * From here on nothing retires a segment or kicks the work (a
	 * retirement queued after the barrier below would fire on freed
	 * memory). Then the retirements in flight (their grace periods,
	 * then their work), the kick, the work and the idle work.
	 */
	mutex_lock(&el->lock);
	WRITE_ONCE(el->dying, true);
	mutex_unlock(&el->lock);
	rcu_barrier();
	flush_workqueue(lfq_seg_wq);
	irq_work_sync(&el->kick);
	cancel_work_sync(&el->work);
	cancel_delayed_work_sync(&el->idle);
	for (f = 0; f < el->seg_max; f++) {
		s = rcu_dereference_protected(el->frames[f], true);
		if (s)
			lfq_seg_free(el, s);
	}
	if (el->inode)
		iput(el->inode);
	mem_cgroup_put(el->memcg);
	bitmap_free(el->pool);
	kfree(el->frames);
	mutex_destroy(&el->lock);
	kfree(el);
}

/* The first live segment, at index 0, and the spares up to seg_min. */
static int lfq_seg_populate(struct lfq_elastic *el)
{
	struct lfq_seg *s;
	u32 i;

	for (i = 0; i < el->seg_min; i++) {
		s = lfq_seg_alloc(el);
		if (IS_ERR(s))
			return PTR_ERR(s);
		if (i) {
			lfq_pool_push(el, s);
			continue;
		}
		lfq_seg_open(&s->ring, &el->meta[s->frame], 0);
		rcu_assign_pointer(el->pseg, s);
		rcu_assign_pointer(el->cseg, s);
		el->segtab->pseg = s->frame;
		el->segtab->cseg = s->frame;
		WRITE_ONCE(el->q->ring.cons->seg, s->frame);
		atomic_set(&el->live, 1);
		atomic_set(&el->peak, 1);
	}
	return 0;
}

/**
 * lfq_seg_init() - the segments of a new elastic queue: its first live
 * segment and seg_min - 1 spares, charged to the caller's memory cgroup.
 * @q:		the queue being created; its fixed pages are mapped.
 *
 * Context: process context (the creator's).
 * Return: 0, -EDQUOT or -ENOMEM.
 */
int lfq_seg_init(struct lfq_queue *q)
{
	const struct lfq_layout *l = &q->layout;
	struct lfq_elastic *el;
	int err;

	el = kzalloc(sizeof(*el), GFP_KERNEL_ACCOUNT);
	if (!el)
		return -ENOMEM;
	el->q = q;
	el->seg_min = q->hdr.seg_min;
	el->seg_max = q->hdr.seg_max;
	el->commit_pages = l->commit_size >> PAGE_SHIFT;
	el->data_pages = l->data_size >> PAGE_SHIFT;
	mutex_init(&el->lock);
	init_irq_work(&el->kick, lfq_seg_kick_work);
	INIT_WORK(&el->work, lfq_seg_work);
	INIT_DELAYED_WORK(&el->idle, lfq_seg_idle_work);
	init_waitqueue_head(&el->retired);
	el->segtab = q->base + l->segtab_offset;
	el->meta = (struct lfq_seg_meta *)(el->segtab + 1);
	el->heads = q->base + l->heads_offset;
	el->tails = q->base + l->tails_offset;
	el->last_grow = jiffies;
	el->pool_low = LFQ_POOL_LOW;
	el->memcg = get_mem_cgroup_from_mm(current->mm);
	el->frames = kcalloc(el->seg_max, sizeof(*el->frames),
			     GFP_KERNEL_ACCOUNT);
	el->pool = bitmap_zalloc(el->seg_max, GFP_KERNEL_ACCOUNT);
	el->inode = alloc_anon_inode(lfq_seg_mnt->mnt_sb);
	if (IS_ERR(el->inode))
		el->inode = NULL;
	err = el->frames && el->pool && el->inode ? 0 : -ENOMEM;
	if (!err) {
		mutex_lock(&el->lock);
		err = lfq_seg_populate(el);
		mutex_unlock(&el->lock);
	}
	if (err) {
		lfq_seg_free_all(el);
		return err;
	}
	q->el = el;
	return 0;
}

/**
 * lfq_seg_destroy() - free an elastic queue's segments.
 * @q:		the queue, no longer referenced or mapped.
 */
void lfq_seg_destroy(struct lfq_queue *q)
{
	if (q->el)
		lfq_seg_free_all(q->el);
	q->el = NULL;
}

static int lfq_seg_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, LFQ_SEG_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * Mounted at module init and unmounted at exit, after every queue (and its
 * inode) is freed: no .owner, or the mount would pin the module forever.
 */
static struct file_system_type lfq_seg_fs_type = {
	.name		= "lfq_segments",
	.init_fs_context = lfq_seg_init_fs_context,
	.kill_sb	= kill_anon_super,
};

int lfq_seg_module_init(void)
{
	lfq_seg_wq = alloc_workqueue("lfq_seg", WQ_UNBOUND, 0);
	if (!lfq_seg_wq)
		return -ENOMEM;
	lfq_seg_mnt = kern_mount(&lfq_seg_fs_type);
	if (IS_ERR(lfq_seg_mnt)) {
		destroy_workqueue(lfq_seg_wq);
		return PTR_ERR(lfq_seg_mnt);
	}
	return 0;
}

void lfq_seg_module_exit(void)
{
	kern_unmount(lfq_seg_mnt);
	destroy_workqueue(lfq_seg_wq);
}
