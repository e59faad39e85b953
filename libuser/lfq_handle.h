/* SPDX-License-Identifier: MIT */
/*
 * lfq_handle.h - liblfq's private definition of struct lfq and what the
 * library's files share: the per-protocol fast-path operations chosen
 * once when a handle is opened (lfq_handle.c), and the backend that keeps
 * the queue (/dev/lfq in lfq_kernel.c, a memfd in lfq_memfd.c).
 */
#ifndef LFQ_HANDLE_H
#define LFQ_HANDLE_H

#include <stddef.h>
#include <sys/types.h>

#include "liblfq.h"
#include "lfq_common.h"
#include "lfq_inline.h"
#include "lfq_layout.h"
#include "lfq_mpmc.h"
#include "lfq_mpsc.h"
#include "lfq_rec.h"
#include "lfq_rec_mpmc.h"
#include "lfq_segment.h"
#include "lfq_spsc.h"

struct lfq;

/**
 * struct lfq_prod_ops - a producer side's fast path, by protocol and role
 * (a handle without the producer role gets ops that answer -EPERM).
 * @reserve:	lfq_reserve().
 * @commit:	lfq_commit().
 * @discard:	lfq_discard().
 */
struct lfq_prod_ops {
	int (*reserve)(struct lfq *q, uint32_t want, void **span);
	int (*commit)(struct lfq *q, uint32_t n);
	int (*discard)(struct lfq *q);
};

/**
 * struct lfq_cons_ops - a consumer side's fast path.
 * @peek:	lfq_peek().
 * @release:	lfq_release().
 */
struct lfq_cons_ops {
	int (*peek)(struct lfq *q, uint32_t want, const void **span);
	int (*release)(struct lfq *q, uint32_t n);
};

/**
 * struct lfq_backend_ops - what differs between where queues live.
 * @sleep:	arm the waiter's flag, re-check and sleep until @min_count
 *		slots are ready (data: readable, else free) or the timeout.
 * @wake:	wake the peer that armed its flag (LFQ_WAKE_CONSUMER or
 *		LFQ_WAKE_PRODUCER).
 * @stats:	fill the counters.
 * @unbind:	undo what binding the handle did (claims), before unmapping.
 * @grow:	elastic queues: a producer found the segment in @frame full
 *		and sealed it: link the next segment (or find the one
 *		linked); returns the frame to go on in, or a negative errno.
 * @retire:	elastic queues, if the backend reclaims segments itself
 *		(in-process ones): the consumer left the segment in @frame.
 * @read_lock:	elastic queues, if segments are reclaimed through RCU in
 *		this process: enter a read-side section (a producer, from
 *		reservation to commit: ORDERING seg-grace).
 * @read_unlock: leave it.
 */
struct lfq_backend_ops {
	int (*sleep)(struct lfq *q, int data, uint32_t min_count,
		     int64_t timeout_ns);
	void (*wake)(struct lfq *q, uint32_t which);
	int (*stats)(struct lfq *q, struct lfq_stats *st);
	void (*unbind)(struct lfq *q);
	int (*grow)(struct lfq *q, uint32_t frame);
	/*
	 * Elastic queues whose newest segment is sealed: free slots as the
	 * owner of the segment count sees them (a segment's worth while the
	 * queue may grow; at seg_max, what the newest frees). Every backend
	 * that holds elastic queues has it (kernel, local).
	 */
	uint32_t (*sealed_space)(struct lfq *q, uint32_t min_count);
	/*
	 * Elastic queues, if the backend can tell from memory whether a
	 * segment can be had now (in-process ones: their frames and pool
	 * are this process's): a producer then seals a full segment only
	 * when one can. NULL: seal, then ask @grow (the module retires a
	 * drained segment when a grow asks for room).
	 */
	int (*may_grow)(struct lfq *q);
	void (*retire)(struct lfq *q, uint32_t frame);
	void (*read_lock)(void);
	void (*read_unlock)(void);
};

/*
 * Ops that refuse every call with @err: NAME_prod_ops and NAME_cons_ops,
 * for a side a handle may not use (its role lacks it: -EPERM), or that
 * its queue does not have (slot calls on a record queue: -EOPNOTSUPP).
 */
#define LFQ_REFUSING_OPS(NAME, err)					\
static int NAME##_reserve(struct lfq *q, uint32_t want, void **span)	\
{									\
	(void)q;							\
	(void)want;							\
	*span = NULL;							\
	return err;							\
}									\
static int NAME##_commit(struct lfq *q, uint32_t n)			\
{									\
	(void)q;							\
	(void)n;							\
	return err;							\
}									\
static int NAME##_discard(struct lfq *q)				\
{									\
	(void)q;							\
	return err;							\
}									\
static int NAME##_peek(struct lfq *q, uint32_t want, const void **span) \
{									\
	(void)q;							\
	(void)want;							\
	*span = NULL;							\
	return err;							\
}									\
static int NAME##_release(struct lfq *q, uint32_t n)			\
{									\
	(void)q;							\
	(void)n;							\
	return err;							\
}									\
const struct lfq_prod_ops NAME##_prod_ops = {				\
	.reserve	= NAME##_reserve,				\
	.commit		= NAME##_commit,				\
	.discard	= NAME##_discard,				\
};									\
const struct lfq_cons_ops NAME##_cons_ops = {				\
	.peek		= NAME##_peek,					\
	.release	= NAME##_release,				\
}

extern const struct lfq_prod_ops lfq_spsc_prod_ops;
extern const struct lfq_prod_ops lfq_mpsc_prod_ops;
extern const struct lfq_prod_ops lfq_elastic_prod_ops;
extern const struct lfq_prod_ops lfq_denied_prod_ops;
extern const struct lfq_prod_ops lfq_rec_slot_prod_ops;
extern const struct lfq_cons_ops lfq_rec_slot_cons_ops;
extern const struct lfq_cons_ops lfq_spsc_cons_ops;
extern const struct lfq_cons_ops lfq_mpsc_cons_ops;
extern const struct lfq_cons_ops lfq_mpmc_cons_ops;
extern const struct lfq_cons_ops lfq_elastic_cons_ops;
extern const struct lfq_cons_ops lfq_denied_cons_ops;
extern const struct lfq_backend_ops lfq_kernel_backend;
extern const struct lfq_backend_ops lfq_memfd_backend;
/* Clear a need-wakeup flag and wake its futex sleepers if it was armed. */
void lfq_futex_wake_flag(uint32_t *flag);
extern const struct lfq_backend_ops lfq_local_backend;

struct lfq_local;

/* An MPMC consumer: its protocol view and the claim it holds. */
struct lfq_mpmc_view {
	struct lfq_mpmc_cons view;
	struct lfq_mpmc_hold hold;
};

/*
 * A handle. The producer and consumer sides sit on their own cache lines:
 * two threads use them at once. Each side holds the view of its queue's
 * protocol only (the ops say which).
 */
struct lfq {
	const struct lfq_prod_ops *pops __attribute__((aligned(64)));
	union {
		struct lfq_spsc_prod spsc;
		struct {
			struct lfq_mpsc_prod view;
			struct lfq_mpsc_resv resv;
		} mpsc;
		struct {
			struct lfq_rec_prod view;
			struct lfq_rec_resv resv;
		} rec;
	} prod;
	struct lfq_ring_loc ploc;	/* elastic: the producer's segment */
	uint32_t pframe;		/* elastic: its frame */
	int plocked;			/* elastic: in a read-side section */
	int psealed;			/* elastic SPSC: its segment is sealed */
	unsigned int pspin;		/* lfq_wait_space()'s next spin */
	const struct lfq_cons_ops *cops __attribute__((aligned(64)));
	union {
		struct lfq_spsc_cons spsc;
		struct lfq_mpsc_cons mpsc;
		struct lfq_mpmc_view mpmc;
		struct lfq_rec_cons rec;
		struct lfq_rec_mcons rmpmc;	/* an MPMC record queue's */
	} cons;
	struct lfq_ring_loc cloc;	/* elastic: the consumer's segment */
	uint32_t cframe;		/* elastic: its frame */
	unsigned int cspin;		/* lfq_wait_data()'s next spin */
	/* Cold: set when the handle is opened. */
	const struct lfq_backend_ops *backend __attribute__((aligned(64)));
	struct lfq_ring_hdr hdr;
	struct lfq_layout layout;
	struct lfq_ring_loc ring;
	struct lfq_segtab *segtab;	/* elastic: in the mapping */
	struct lfq_seg_meta *meta;	/* elastic: in the mapping */
	struct lfq_local *local;	/* in-process elastic queues */
	unsigned char *map;
	int fd;
	uint32_t id;
	uint32_t role;		/* LFQ_ROLE_*: what this handle may write */
	int claim;		/* LFQ_IOC_CLAIM index, or -1 */
	int cclaim;		/* MPMC consumer: its claim's index, or -1 */
	pid_t claim_pid;	/* the process that registered them */
	pid_t owner;		/* the process that made the handle */
	int wakeups;
	unsigned int wait_spins;	/* lfq_set_wait_spin(): the most */
};

/* lfq_handle.c */
struct lfq *lfq_alloc(int fd, const struct lfq_backend_ops *backend);
void lfq_bind_views(struct lfq *q);
int lfq_opts_copy(void *dst, size_t dst_size, const void *opts);

/* lfq_names.c */
int lfq_name_put(char dst[LFQ_NAME_MAX], const char *name);

/* lfq_map.c */
long lfq_page_size(void);
int lfq_map_layout(struct lfq *q, int double_in_file);

/* lfq_kernel.c: handles on /dev/lfq queues. */
int lfq_kernel_bind(unsigned long cmd, void *arg, struct lfq **out);
int lfq_kernel_open_fd(int fd, struct lfq **out);
int lfq_kernel_ioctl_unbound(unsigned long cmd, void *arg);

/* lfq_memfd.c: handles on memfd queues. */
int lfq_memfd_create(const struct lfq_create_opts *o, struct lfq **out);
int lfq_memfd_open_fd(int fd, struct lfq **out);

/* lfq_fence.c: the heavy fence of asymmetric memfd queues. */
int lfq_fence_register(void);
int lfq_fence_heavy(void);

/*
 * lfq_wait.c. How a readiness count may look (@how of lfq_ready_count()):
 * LFQ_READY_ARM arms the waiter's flag first; LFQ_READY_ASK may ask the
 * backend (a system call) what memory cannot tell: whether an elastic
 * queue whose newest segment is sealed may grow. Without it the count is
 * memory only, as a spinning waiter's must be.
 */
#define LFQ_READY_ARM	1u
#define LFQ_READY_ASK	2u
uint32_t lfq_ready_count(struct lfq *q, int data, unsigned int how,
			 uint32_t min_count);
uint32_t lfq_arm_count(const struct lfq *q, uint32_t min_count);

/* lfq_rec_ops.c: record queues' handles. */
void lfq_rec_bind(struct lfq *q);
int lfq_rec_push(struct lfq *q, const void *msg, size_t len);
int lfq_rec_pop(struct lfq *q, void *buf, size_t len);

/* lfq_elastic_ops.c: elastic queues' handles (records too). */
void lfq_elastic_bind(struct lfq *q);
int lfq_elastic_reserve(struct lfq *q, uint32_t want, void **span);
void lfq_elastic_unlock(struct lfq *q);
int lfq_elastic_cons_next(struct lfq *q, int *lost);
uint32_t lfq_elastic_ready(struct lfq *q, int data, unsigned int how,
			   uint32_t min_count);

/* lfq_local.c: in-process elastic queues (liburcu). */
struct stat;
int lfq_local_create(const struct lfq_geometry *g, struct lfq **out);
int lfq_local_open_fd(const struct stat *st, struct lfq **out);

/*
 * The inline views (lfq_inline.h) of a fixed SPSC handle's two sides: the
 * out-of-line ops (lfq_spsc_ops.c) and lfq_inline_producer()/consumer()
 * (lfq_inline.c) use the same ones. A view's flag is the peer's sleep
 * flag where the light half may be used, else lfq_flag_set (lfq_inline.c),
 * a word that always reads set: every publish then takes
 * lfq_inline_wake_check(), which (wakeups on) fences before it reads the
 * real flag.
 */
extern const __u32 lfq_flag_set;

static inline const __u32 *lfq_view_flag(const __u32 *sleeps, __u32 light)
{
	return light ? sleeps : &lfq_flag_set;
}

static inline struct lfq_inline_prod lfq_prod_view(struct lfq *q)
{
	struct lfq_spsc_prod *p = &q->prod.spsc;

	return (struct lfq_inline_prod){
		p, &q->wakeups, q, lfq_view_flag(p->sleeps, p->light)
	};
}

static inline struct lfq_inline_cons lfq_cons_view(struct lfq *q)
{
	struct lfq_spsc_cons *c = &q->cons.spsc;

	return (struct lfq_inline_cons){
		c, &q->wakeups, q, lfq_view_flag(c->sleeps, c->light)
	};
}

/*
 * MPSC (fixed and elastic): commit the first @n slots of the handle's
 * reservation, discard the rest; nonzero if the consumer must be woken.
 */
static inline int lfq_mpsc_commit_n(struct lfq *q, uint32_t n)
{
	struct lfq_mpsc_resv done = q->prod.mpsc.resv, rest;
	struct lfq_mpsc_prod *p = &q->prod.mpsc.view;
	int wake = 0;

	if (n < done.count) {
		rest = done;
		rest.index += n;
		rest.count -= n;
		done.count = n;
		wake = lfq_mpsc_discard(p, &rest);
	}
	if (done.count)
		wake |= lfq_mpsc_commit(p, &done);
	q->prod.mpsc.resv.count = 0;
	return wake;
}

/*
 * The handle's consumer found the ring (every segment, for an elastic
 * queue) empty: count it in lfq_stats.empty_events. For queues with one
 * consumer (SPSC, MPSC, their record queues): only it writes the
 * counter, so a plain increment; MPMC consumers add atomically.
 */
static inline void lfq_count_empty(struct lfq *q)
{
	lfq_store_relaxed(&q->ring.cons->empty_events,
			  q->ring.cons->empty_events + 1);
}

#endif /* LFQ_HANDLE_H */
