// SPDX-License-Identifier: MIT
/*
 * lfq_local.c - in-process elastic queues: the segment protocol of
 * kmod/proto/lfq_segment.h in this process's memory, its segments
 * reclaimed with liburcu.
 *
 * Memory. One memfd holds the queue: the header, control pages, segment
 * table and word arrays, then a frame per segment (its commit words and
 * one copy of its slots); the frames are mapped with the slots twice, as
 * the kernel maps its own. A frame's pages are allocated (populated) when
 * a segment first takes the frame, and given back to the system (a hole
 * punched in the memfd) when the queue shrinks: resident memory follows
 * the live segments.
 *
 * Growth. A producer that finds its segment full seals it and links the
 * next one (lfq_local_grow()): a spare from the pool (a bitmap of frames,
 * lock-free), or a free frame it populates itself (a system call on the
 * slow path). Nothing takes a lock. It seals only when a segment can be
 * had (lfq_local_may_grow()): with every frame live or waiting for its
 * grace period, the full segment stays a ring, and the producer goes on
 * in it as the consumer frees room; once a segment can be had, it seals
 * it and moves on.
 *
 * Reclamation (ORDERING seg-grace). Producers hold liburcu's read-side
 * lock (the "bulletproof" flavour, urcu-bp: threads need no registration)
 * from reservation to commit. The consumer that leaves a segment makes it
 * unreachable (the producers' hint moved past it, its state RETIRED) and
 * hands it to call_rcu(): only after a grace period is it sealed, freed in
 * the table and pooled, or, once the queue has not grown for
 * LFQ_LOCAL_IDLE_NS and holds more than seg_min segments, released.
 *
 * The queue is private to this process: every handle on it (lfq_create(),
 * then lfq_open() of its fd by other threads, one per producer) shares one
 * struct lfq_local and one mapping. RCU grace periods do not reach other
 * processes, so lfq_open() of the fd elsewhere, a forked child included,
 * is -EOPNOTSUPP (and a child must not use the handles it inherited).
 */
#define _GNU_SOURCE
#define _LGPL_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu-bp.h>

#include "lfq_handle.h"

/* A queue that has not grown for this long frees spares above seg_min. */
#define LFQ_LOCAL_IDLE_NS	200000000LL
/* Attempts at following or making a link. */
#define LFQ_LOCAL_TRIES		64
#define LFQ_LOCAL_WORDS		((LFQ_SEGS_MAX + 63) / 64)

/**
 * struct lfq_local_seg - one frame's reclamation record.
 * @rcu:	call_rcu()'s.
 * @local:	the queue.
 * @frame:	the frame.
 */
struct lfq_local_seg {
	struct rcu_head rcu;
	struct lfq_local *local;
	uint32_t frame;
};

/**
 * struct lfq_local - an in-process elastic queue, shared by its handles.
 * @next:	link in the process's list of queues.
 * @refs:	handles on it.
 * @dev:	the memfd's device ...
 * @ino:	... and inode: how lfq_open() by fd finds it.
 * @pid:	the process that made it: a child forked from it shares the
 *		memory but not the grace periods, and may not open it.
 * @fd:		the memfd.
 * @map:	the mapping every handle uses.
 * @hdr:	the header.
 * @layout:	the layout.
 * @file_frame: bytes of a frame in the memfd (commit words, slots once).
 * @allocated:	frames holding pages (bitmap).
 * @pool:	frames holding a spare segment (bitmap).
 * @live:	segments linked.
 * @nallocated:	frames holding pages.
 * @peak:	@live at most.
 * @grows:	segments linked.
 * @shrinks:	segments retired.
 * @last_grow:	CLOCK_MONOTONIC ns of the last link.
 * @pending:	retirements handed to call_rcu() and not yet done.
 * @segs:	reclamation records, one per frame.
 */
struct lfq_local {
	struct lfq_local *next;
	int refs;
	dev_t dev;
	ino_t ino;
	pid_t pid;
	int fd;
	unsigned char *map;
	struct lfq_ring_hdr hdr;
	struct lfq_layout layout;
	uint64_t file_frame;
	uint64_t allocated[LFQ_LOCAL_WORDS];
	uint64_t pool[LFQ_LOCAL_WORDS];
	int live;
	int nallocated;
	int peak;
	uint64_t grows;
	uint64_t shrinks;
	int64_t last_grow;
	int pending;
	struct lfq_local_seg segs[LFQ_SEGS_MAX];
};

static pthread_mutex_t lfq_locals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lfq_local *lfq_locals;	/* guarded by lfq_locals_lock */

static int64_t lfq_local_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Take a set bit of @words (one of @n): its index, or -1. Lock-free. */
static int lfq_bits_take(uint64_t *words, uint32_t n, int set)
{
	uint32_t w, b;
	uint64_t v;

	for (w = 0; w * 64 < n; w++) {
		v = __atomic_load_n(&words[w], __ATOMIC_ACQUIRE);
		while (set ? v : ~v) {
			b = (uint32_t)__builtin_ctzll(set ? v : ~v);
			if (w * 64 + b >= n)
				break;
			/* ORDERING seg-pool: acquire pairs with the release. */
			if (__atomic_compare_exchange_n(&words[w], &v,
							v ^ (1ull << b), 0,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return (int)(w * 64 + b);
		}
	}
	return -1;
}

/* Whether @words (@n bits) has a bit set (@set) or clear (!@set). */
static int lfq_bits_any(const uint64_t *words, uint32_t n, int set)
{
	uint32_t w;
	uint64_t v;

	for (w = 0; w * 64 < n; w++) {
		v = __atomic_load_n(&words[w], __ATOMIC_RELAXED);
		if (!set)
			v = ~v;
		if (n - w * 64 < 64)
			v &= (1ull << (n - w * 64)) - 1;
		if (v)
			return 1;
	}
	return 0;
}

/* Set or clear bit @i; release: what was done to the frame comes first. */
static void lfq_bit_put(uint64_t *words, uint32_t i, int set)
{
	if (set)
		__atomic_fetch_or(&words[i / 64], 1ull << (i % 64),
				  __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&words[i / 64], ~(1ull << (i % 64)),
				   __ATOMIC_RELEASE);
}

static unsigned char *lfq_local_frame(struct lfq_local *L, uint32_t f)
{
	return L->map + L->layout.frames_offset + (uint64_t)f *
	       L->layout.frame_size;
}

static void lfq_local_loc(struct lfq_local *L, uint32_t f,
			  struct lfq_ring_loc *r)
{
	lfq_seg_loc_init(r, L->map, &L->hdr, &L->layout, f, 0);
}

/*
 * Give frame @f pages (allocation happens here, on the slow path, not
 * when a producer first writes a slot), sealed: a spare.
 */
static int lfq_local_populate(struct lfq_local *L, uint32_t f)
{
	unsigned char *fr = lfq_local_frame(L, f);
	uint64_t len = L->layout.commit_size + L->layout.data_size;
	struct lfq_ring_loc r;

	if (madvise(fr, len, MADV_POPULATE_WRITE))
		memset(fr, 0, len);	/* kernels before 5.14 */
	lfq_local_loc(L, f, &r);
	lfq_store_release(r.head, LFQ_SEG_SEALED);
	__atomic_fetch_add(&L->nallocated, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Give frame @f's pages back to the system. */
static void lfq_local_depopulate(struct lfq_local *L, uint32_t f)
{
	off_t off = (off_t)(L->layout.frames_offset + f * L->file_frame);

	(void)fallocate(L->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			off, (off_t)L->file_frame);
	__atomic_fetch_sub(&L->nallocated, 1, __ATOMIC_RELAXED);
	lfq_bit_put(L->allocated, f, 0);
}

/* A spare segment's frame: from the pool, or a free frame populated now. */
static int lfq_local_spare(struct lfq_local *L)
{
	int f = lfq_bits_take(L->pool, L->hdr.seg_max, 1);

	if (f >= 0)
		return f;
	f = lfq_bits_take(L->allocated, L->hdr.seg_max, 0);
	if (f < 0)
		return -1;
	if (lfq_local_populate(L, (uint32_t)f)) {
		lfq_bit_put(L->allocated, (uint32_t)f, 0);
		return -1;
	}
	return f;
}

/*
 * A frame became ready for a new segment, or a segment was linked: wake
 * producers asleep at seg_max (lfq_local_sealed_space()) or on a full
 * segment left unsealed (lfq_elastic_ready(), through
 * lfq_local_may_grow()). ORDERING wake-space: the fence orders the
 * caller's pool or allocated bit, or link, before the flag's load, and
 * pairs with the one after the waiters' arm (lfq_arm_flag()) before
 * their reads of them: they see the change, or this sees their flag.
 */
static void lfq_local_wake_space(struct lfq_local *L)
{
	uint32_t *need_space = &((struct lfq_prod_ctl *)
				 (L->map + L->hdr.prod_offset))->need_space;

	lfq_smp_mb();
	if (lfq_load_relaxed(need_space))
		lfq_futex_wake_flag(need_space);
}

/* Free spares above seg_min once the queue has been idle long enough. */
static void lfq_local_trim(struct lfq_local *L)
{
	int f;

	while (__atomic_load_n(&L->nallocated, __ATOMIC_RELAXED) >
	       (int)L->hdr.seg_min &&
	       lfq_local_now() - __atomic_load_n(&L->last_grow,
						 __ATOMIC_RELAXED) >
	       LFQ_LOCAL_IDLE_NS) {
		f = lfq_bits_take(L->pool, L->hdr.seg_max, 1);
		if (f < 0)
			break;
		lfq_local_depopulate(L, (uint32_t)f);
		/* Out of the pool, then free again: a producer may need it. */
		lfq_local_wake_space(L);
	}
}

/* Move the producers' hint from @from to @to, unless it moved on. */
static void lfq_local_swing(struct lfq_local *L, uint32_t from, uint32_t to)
{
	struct lfq_segtab *t = (struct lfq_segtab *)(L->map +
						    L->layout.segtab_offset);

	/* ORDERING seg-link: the hint moves after the link is published. */
	__atomic_compare_exchange_n(&t->pseg, &from, to, 0, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

/*
 * The segment in @frame is sealed: the frame to go on in (the one linked,
 * or a spare linked now), or -EAGAIN at seg_max or with no spare (every
 * frame live or waiting for its grace period).
 * Called inside the producer's read-side section.
 */
static int lfq_local_grow(struct lfq *q, uint32_t frame)
{
	struct lfq_local *L = q->local;
	struct lfq_seg_meta *m = &q->meta[frame];
	struct lfq_ring_loc src, dst;
	int tries, next, live;

	for (tries = 0; tries < LFQ_LOCAL_TRIES; tries++) {
		/* Only a segment seen LIVE in this section is grown. */
		if (lfq_load_acquire(&m->state) != LFQ_SEG_LIVE)
			return (int)lfq_load_acquire(&q->segtab->pseg);
		next = lfq_seg_next(m, L->hdr.seg_max);
		if (next >= 0) {
			lfq_local_swing(L, frame, (uint32_t)next);
			return next;
		}
		if (!lfq_seg_claim_link(m))
			continue;		/* another producer links it */
		live = __atomic_add_fetch(&L->live, 1, __ATOMIC_RELAXED);
		next = live <= (int)L->hdr.seg_max ? lfq_local_spare(L) : -1;
		if (next < 0) {
			__atomic_sub_fetch(&L->live, 1, __ATOMIC_RELAXED);
			lfq_seg_drop_link(m);
			/*
			 * A waiter may have read live raised by us and gone
			 * to sleep while a frame is free (a trim took the
			 * spare we counted on): it must look again.
			 */
			lfq_local_wake_space(L);
			return -EAGAIN;
		}
		lfq_local_loc(L, frame, &src);
		lfq_local_loc(L, (uint32_t)next, &dst);
		lfq_seg_open(&dst, &q->meta[next],
			     lfq_seg_end(lfq_load_acquire(src.head)));
		/* ORDERING seg-link. */
		lfq_seg_publish_link(m, (uint32_t)next);
		lfq_local_swing(L, frame, (uint32_t)next);
		/* A producer that found no frame may go on in this one. */
		lfq_local_wake_space(L);
		__atomic_fetch_add(&L->grows, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&L->last_grow, lfq_local_now(),
				 __ATOMIC_RELAXED);
		if (live > __atomic_load_n(&L->peak, __ATOMIC_RELAXED))
			__atomic_store_n(&L->peak, live, __ATOMIC_RELAXED);
		return next;
	}
	return -EAGAIN;
}

/* A retired segment, a grace period later: free in the table, pooled. */
static void lfq_local_retired(struct rcu_head *head)
{
	struct lfq_local_seg *s = caa_container_of(head, struct lfq_local_seg,
						   rcu);
	/* Acquire: pairs with the release at creation (lfq_local_create()). */
	struct lfq_local *L = __atomic_load_n(&s->local, __ATOMIC_ACQUIRE);
	uint32_t f = s->frame;
	struct lfq_seg_meta *m = (struct lfq_seg_meta *)
		(L->map + L->layout.segtab_offset + sizeof(struct lfq_segtab));
	struct lfq_ring_loc r;

	/* Pairs with the consumer's release of RETIRED: what it did first. */
	if (lfq_load_acquire(&m[f].state) == LFQ_SEG_RETIRED) {
		lfq_local_loc(L, f, &r);
		lfq_store_release(r.head, LFQ_SEG_SEALED);
		/*
		 * A record segment's next life starts zeroed: no header kept
		 * from this one, however many laps on, reads as committed
		 * there (as the kernel's lfq_seg_retire_work()).
		 */
		if (r.records)
			memset(r.data, 0, r.slot_count);
		lfq_store_relaxed(&m[f].next, 0u);
		lfq_store_release(&m[f].state, (uint32_t)LFQ_SEG_FREE);
		lfq_bit_put(L->pool, f, 1);
		lfq_local_trim(L);
		lfq_local_wake_space(L);
	}
	/* Release: the last handle frees @L only after this (lfq_local_put()). */
	__atomic_sub_fetch(&L->pending, 1, __ATOMIC_RELEASE);
}

/*
 * The consumer left the segment in @old for q->cframe: retire it. It is
 * unreachable first (no hint names it), then call_rcu() (ORDERING
 * seg-grace).
 */
static void lfq_local_retire(struct lfq *q, uint32_t old)
{
	struct lfq_local *L = q->local;

	lfq_local_swing(L, old, q->cframe);
	lfq_store_release(&q->segtab->cseg, q->cframe);
	lfq_store_release(&q->meta[old].state, (uint32_t)LFQ_SEG_RETIRED);
	__atomic_sub_fetch(&L->live, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&L->shrinks, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&L->pending, 1, __ATOMIC_RELAXED);
	urcu_bp_call_rcu(&L->segs[old].rcu, lfq_local_retired);
}

static void lfq_local_read_lock(void)
{
	urcu_bp_read_lock();
}

static void lfq_local_read_unlock(void)
{
	urcu_bp_read_unlock();
}

/*
 * Threads of this process share the queue: waits and wakeups are the memfd
 * backend's, a futex on the flag itself. A consumer about to sleep first
 * gives back what an idle queue does not need.
 */
static int lfq_local_sleep(struct lfq *q, int data, uint32_t min_count,
			   int64_t timeout_ns)
{
	if (data)
		lfq_local_trim(q->local);
	return lfq_memfd_backend.sleep(q, data, min_count, timeout_ns);
}

static void lfq_local_wake(struct lfq *q, uint32_t which)
{
	lfq_memfd_backend.wake(q, which);
}

/*
 * Whether a segment can be had now: fewer than seg_max live, and a spare
 * pooled or a frame unpopulated (never, or given back by a trim): what
 * lfq_local_spare() takes. A retired frame counts once
 * lfq_local_retired() has pooled it, a grace period after the consumer
 * left it. Read after a waiter's arm and fence (ORDERING wake-space,
 * lfq_local_wake_space()).
 */
static int lfq_local_may_grow(struct lfq *q)
{
	struct lfq_local *L = q->local;

	if (__atomic_load_n(&L->live, __ATOMIC_RELAXED) >= (int)L->hdr.seg_max)
		return 0;
	return lfq_bits_any(L->pool, L->hdr.seg_max, 1) ||
	       lfq_bits_any(L->allocated, L->hdr.seg_max, 0);
}

/*
 * The producers' newest segment is sealed: the queue may grow once it has
 * fewer than seg_max segments and a frame for a new one
 * (lfq_local_may_grow()). A retired segment's frame is ready only a
 * grace period after the consumer left it: lfq_local_retired() then wakes
 * producers asleep here. Read after the waiter's arm and fence
 * (lfq_arm_flag()).
 */
static uint32_t lfq_local_sealed_space(struct lfq *q, uint32_t min_count)
{
	(void)min_count;
	return lfq_local_may_grow(q) ? q->local->hdr.slot_count : 0;
}

static int lfq_local_stats(struct lfq *q, struct lfq_stats *st)
{
	struct lfq_local *L = q->local;
	struct lfq_ring_loc newest;

	lfq_local_loc(L, lfq_load_acquire(&q->segtab->pseg) % L->hdr.seg_max,
		      &newest);
	st->produced = lfq_seg_end(lfq_load_relaxed(newest.head));
	st->consumed = lfq_load_relaxed(q->cloc.tail);
	st->full_events = lfq_load_relaxed(&q->ring.prod->full_events);
	st->empty_events = lfq_load_relaxed(&q->ring.cons->empty_events);
	st->segments = (uint64_t)__atomic_load_n(&L->live, __ATOMIC_RELAXED);
	st->segments_peak = (uint64_t)__atomic_load_n(&L->peak,
						      __ATOMIC_RELAXED);
	st->grows = __atomic_load_n(&L->grows, __ATOMIC_RELAXED);
	st->shrinks = __atomic_load_n(&L->shrinks, __ATOMIC_RELAXED);
	st->bytes = L->layout.frames_offset +
		    (uint64_t)__atomic_load_n(&L->nallocated, __ATOMIC_RELAXED) *
		    L->file_frame;
	return 0;
}

/* The last handle is gone: wait for retirements, unmap, close. */
static void lfq_local_put(struct lfq_local *L)
{
	struct lfq_local **pp;
	int last;

	pthread_mutex_lock(&lfq_locals_lock);
	last = !--L->refs;
	if (last)
		for (pp = &lfq_locals; *pp; pp = &(*pp)->next)
			if (*pp == L) {
				*pp = L->next;
				break;
			}
	pthread_mutex_unlock(&lfq_locals_lock);
	if (!last)
		return;
	/* Every retirement handed to call_rcu() has run (acquire: all of it). */
	urcu_bp_barrier();
	while (__atomic_load_n(&L->pending, __ATOMIC_ACQUIRE))
		sched_yield();
	munmap(L->map, L->layout.map_size);
	close(L->fd);
	free(L);
}

/* A handle goes: its mapping is the queue's, not its own. */
static void lfq_local_unbind(struct lfq *q)
{
	struct lfq_local *L = q->local;

	q->map = MAP_FAILED;
	q->local = NULL;
	if (L)
		lfq_local_put(L);
}

const struct lfq_backend_ops lfq_local_backend = {
	.sleep		= lfq_local_sleep,
	.wake		= lfq_local_wake,
	.stats		= lfq_local_stats,
	.unbind		= lfq_local_unbind,
	.grow		= lfq_local_grow,
	.sealed_space	= lfq_local_sealed_space,
	.may_grow	= lfq_local_may_grow,
	.retire		= lfq_local_retire,
	.read_lock	= lfq_local_read_lock,
	.read_unlock	= lfq_local_read_unlock,
};

/* Map the memfd: the fixed part once, each frame with its slots twice. */
static int lfq_local_map(struct lfq_local *L)
{
	uint64_t fixed = L->layout.frames_offset, c = L->layout.commit_size;
	uint64_t d = L->layout.data_size, f, off;
	unsigned char *base, *fr;

	base = mmap(NULL, L->layout.map_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	L->map = base;
	if (mmap(base, fixed, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 L->fd, 0) == MAP_FAILED)
		return -errno;
	for (f = 0; f < L->hdr.seg_max; f++) {
		fr = base + fixed + f * L->layout.frame_size;
		off = fixed + f * L->file_frame;
		if (mmap(fr, c + d, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, L->fd, (off_t)off) == MAP_FAILED ||
		    mmap(fr + c + d, d, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, L->fd, (off_t)(off + c)) ==
		    MAP_FAILED)
			return -errno;
	}
	return 0;
}

/* The first live segment at index 0, and seg_min - 1 spares. */
static int lfq_local_populate_min(struct lfq_local *L)
{
	struct lfq_seg_meta *m = (struct lfq_seg_meta *)
		(L->map + L->layout.segtab_offset + sizeof(struct lfq_segtab));
	struct lfq_ring_loc r;
	uint32_t f;

	for (f = 0; f < L->hdr.seg_min; f++) {
		lfq_bit_put(L->allocated, f, 1);
		if (lfq_local_populate(L, f))
			return -ENOMEM;
		if (f)
			lfq_bit_put(L->pool, f, 1);
	}
	lfq_local_loc(L, 0, &r);
	lfq_seg_open(&r, &m[0], 0);
	L->live = 1;
	L->peak = 1;
	L->last_grow = lfq_local_now();
	return 0;
}

/* A handle on @L (a reference taken by the caller). */
static int lfq_local_handle(struct lfq_local *L, struct lfq **out)
{
	int fd = fcntl(L->fd, F_DUPFD_CLOEXEC, 0);
	struct lfq *q;

	if (fd < 0) {
		lfq_local_put(L);
		return -errno;
	}
	q = lfq_alloc(fd, &lfq_local_backend);
	if (!q) {
		lfq_local_put(L);
		return -ENOMEM;
	}
	q->local = L;
	q->map = L->map;
	q->hdr = L->hdr;
	q->layout = L->layout;
	lfq_ring_loc_init(&q->ring, q->map, &q->hdr);
	/* Asymmetric only if registered: membarrier(2) reaches us. */
	lfq_ring_loc_light(&q->ring, &q->hdr);
	lfq_elastic_bind(q);
	*out = q;
	return 0;
}

/**
 * lfq_local_create() - a new in-process elastic queue and a handle on it.
 * @g:		a valid elastic geometry.
 * @out:	the handle.
 *
 * Return: 0, or a memfd/mmap error.
 */
int lfq_local_create(const struct lfq_geometry *g, struct lfq **out)
{
	struct lfq_local *L = calloc(1, sizeof(*L));
	struct stat st;
	uint32_t i;
	int err;

	if (!L)
		return -ENOMEM;
	L->refs = 1;
	lfq_layout_init(&L->layout, g, lfq_page_size());
	lfq_ring_hdr_init(&L->hdr, g, &L->layout);
	/* Asymmetric when every process can be reached (lfq_fence.c). */
	if (!(g->flags & LFQ_CREATE_WAKE_SYMMETRIC) && lfq_fence_register())
		lfq_ring_hdr_set_wake(&L->hdr, LFQ_WAKE_ASYMMETRIC);
	L->file_frame = L->layout.commit_size + L->layout.data_size;
	L->fd = memfd_create("lfq-elastic", MFD_CLOEXEC);
	err = L->fd < 0 ? -errno : 0;
	if (!err && (ftruncate(L->fd, (off_t)(L->layout.frames_offset +
					       g->seg_max * L->file_frame)) ||
		     pwrite(L->fd, &L->hdr, sizeof(L->hdr), 0) !=
		     sizeof(L->hdr) || fstat(L->fd, &st)))
		err = -errno;
	if (!err)
		err = lfq_local_map(L);
	if (!err)
		err = lfq_local_populate_min(L);
	if (err) {
		if (L->map)
			munmap(L->map, L->layout.map_size);
		if (L->fd >= 0)
			close(L->fd);
		free(L);
		return err;
	}
	L->dev = st.st_dev;
	L->ino = st.st_ino;
	L->pid = getpid();
	for (i = 0; i < g->seg_max; i++) {
		L->segs[i].frame = i;
		/* Release: the call_rcu() thread sees the queue whole. */
		__atomic_store_n(&L->segs[i].local, L, __ATOMIC_RELEASE);
	}
	pthread_mutex_lock(&lfq_locals_lock);
	L->next = lfq_locals;
	lfq_locals = L;
	pthread_mutex_unlock(&lfq_locals_lock);
	return lfq_local_handle(L, out);
}

/**
 * lfq_local_open_fd() - another handle on an in-process elastic queue.
 * @st:		fstat() of the fd given to lfq_open().
 * @out:	the handle.
 *
 * Return: 0, or -EOPNOTSUPP if no queue of this process has that memfd
 * (another process's: RCU does not reach across processes).
 */
int lfq_local_open_fd(const struct stat *st, struct lfq **out)
{
	struct lfq_local *L;

	pthread_mutex_lock(&lfq_locals_lock);
	for (L = lfq_locals; L; L = L->next)
		if (L->dev == st->st_dev && L->ino == st->st_ino &&
		    L->pid == getpid()) {
			L->refs++;
			break;
		}
	pthread_mutex_unlock(&lfq_locals_lock);
	return L ? lfq_local_handle(L, out) : -EOPNOTSUPP;
}
