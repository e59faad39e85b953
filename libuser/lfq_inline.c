// SPDX-License-Identifier: MIT
/*
 * lfq_inline.c - the out-of-line half of lfq_inline.h: handing out a
 * handle's SPSC views once their role and queue type are checked (and
 * the views of programs built before 0.7), and the slow path the inline
 * commit and release call when their flag reads set: the symmetric
 * queue's fence, the setting, the threshold, the wakeup; and the layout
 * programs built with lfq_inline.h depend on, pinned.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lfq_handle.h"

/*
 * What programs built with lfq_inline.h compiled in (LP64): the layout of
 * the views and of the protocol structs they point to. A change here
 * breaks them, and needs a new soname (liblfq.so.N) rather than an edit
 * of these lines.
 */
#if defined(__LP64__)
#define LFQ_ABI(s, f, off) \
	_Static_assert(offsetof(s, f) == (off), #s "." #f ": liblfq ABI")
_Static_assert(sizeof(struct lfq_spsc_prod) == 72, "lfq_spsc_prod: liblfq ABI");
LFQ_ABI(struct lfq_spsc_prod, head_w, 0);
LFQ_ABI(struct lfq_spsc_prod, tail_w, 8);
LFQ_ABI(struct lfq_spsc_prod, sleeps, 16);
LFQ_ABI(struct lfq_spsc_prod, full_events, 24);
LFQ_ABI(struct lfq_spsc_prod, data, 32);
LFQ_ABI(struct lfq_spsc_prod, head, 40);
LFQ_ABI(struct lfq_spsc_prod, cached_tail, 48);
LFQ_ABI(struct lfq_spsc_prod, reserved, 56);
LFQ_ABI(struct lfq_spsc_prod, slot_size, 60);
LFQ_ABI(struct lfq_spsc_prod, mask, 64);
LFQ_ABI(struct lfq_spsc_prod, light, 68);	/* was padding: 0 in 0.3 */
_Static_assert(sizeof(struct lfq_spsc_cons) == 80, "lfq_spsc_cons: liblfq ABI");
LFQ_ABI(struct lfq_spsc_cons, tail_w, 0);
LFQ_ABI(struct lfq_spsc_cons, head_w, 8);
LFQ_ABI(struct lfq_spsc_cons, sleeps, 16);
LFQ_ABI(struct lfq_spsc_cons, empty_events, 24);
LFQ_ABI(struct lfq_spsc_cons, data, 32);
LFQ_ABI(struct lfq_spsc_cons, index_mask, 40);
LFQ_ABI(struct lfq_spsc_cons, tail, 48);
LFQ_ABI(struct lfq_spsc_cons, cached_head, 56);
LFQ_ABI(struct lfq_spsc_cons, peeked, 64);
LFQ_ABI(struct lfq_spsc_cons, slot_size, 68);
LFQ_ABI(struct lfq_spsc_cons, mask, 72);
LFQ_ABI(struct lfq_spsc_cons, light, 76);	/* was padding: 0 in 0.3 */
/* 24 bytes up to 0.6 (LFQ_INLINE_VIEW_VER3), 32 since 0.7 (flag). */
_Static_assert(sizeof(struct lfq_inline_prod) == 32, "lfq_inline_prod: liblfq ABI");
LFQ_ABI(struct lfq_inline_prod, p, 0);
LFQ_ABI(struct lfq_inline_prod, wakeups, 8);
LFQ_ABI(struct lfq_inline_prod, q, 16);
LFQ_ABI(struct lfq_inline_prod, flag, 24);
_Static_assert(sizeof(struct lfq_inline_cons) == 32, "lfq_inline_cons: liblfq ABI");
LFQ_ABI(struct lfq_inline_cons, c, 0);
LFQ_ABI(struct lfq_inline_cons, wakeups, 8);
LFQ_ABI(struct lfq_inline_cons, q, 16);
LFQ_ABI(struct lfq_inline_cons, flag, 24);
#endif

/*
 * What the 32-bit slot offsets of lfq_spsc_reserve_one() and
 * lfq_spsc_peek_one() rely on: a validated geometry keeps slot_count *
 * slot_size within LFQ_DATA_BYTES_MAX.
 */
_Static_assert(LFQ_DATA_BYTES_MAX <= 0xffffffffull,
	       "lfq_spsc.h: one-slot offsets are 32-bit");

/* What a view's flag is on a symmetric queue (lfq_view_flag()). */
const __u32 lfq_flag_set = 1;

/* The size of the views programs built before 0.7 pass. */
#define LFQ_INLINE_VIEW_VER3	offsetof(struct lfq_inline_prod, flag)
_Static_assert(offsetof(struct lfq_inline_cons, flag) == LFQ_INLINE_VIEW_VER3,
	       "both views grew by the flag alone");

static int lfq_inline_prod_check(struct lfq *q)
{
	if (!(q->role & LFQ_ROLE_PRODUCER))
		return -EPERM;
	/* Fixed SPSC only: elastic SPSC handles have the elastic ops. */
	if (q->pops != &lfq_spsc_prod_ops)
		return -EOPNOTSUPP;
	return 0;
}

static int lfq_inline_cons_check(struct lfq *q)
{
	if (!(q->role & LFQ_ROLE_CONSUMER))
		return -EPERM;
	if (q->cops != &lfq_spsc_cons_ops)
		return -EOPNOTSUPP;
	return 0;
}

/*
 * The views grew in 0.7 and the caller passes no size: the @@LIBLFQ_0.7
 * symbols fill the whole struct, for programs built with this header;
 * programs built before bound to @LIBLFQ_0.3, which fill the 24 bytes
 * their struct has (and whose inline code reads the setting and the
 * light flag itself, and calls lfq_inline_wake()). All are local names
 * but the versioned lfq_inline_producer and lfq_inline_consumer.
 */
LFQ_API int lfq_inline_producer_v7(struct lfq *q, struct lfq_inline_prod *ip);
LFQ_API int lfq_inline_producer_v3(struct lfq *q, struct lfq_inline_prod *ip);
LFQ_API int lfq_inline_consumer_v7(struct lfq *q, struct lfq_inline_cons *ic);
LFQ_API int lfq_inline_consumer_v3(struct lfq *q, struct lfq_inline_cons *ic);

int lfq_inline_producer_v7(struct lfq *q, struct lfq_inline_prod *ip)
{
	int err = lfq_inline_prod_check(q);

	if (!err)
		*ip = lfq_prod_view(q);
	return err;
}
__asm__(".symver lfq_inline_producer_v7, lfq_inline_producer@@LIBLFQ_0.7");

int lfq_inline_producer_v3(struct lfq *q, struct lfq_inline_prod *ip)
{
	int err = lfq_inline_prod_check(q);

	if (!err) {
		struct lfq_inline_prod v = lfq_prod_view(q);

		memcpy(ip, &v, LFQ_INLINE_VIEW_VER3);
	}
	return err;
}
__asm__(".symver lfq_inline_producer_v3, lfq_inline_producer@LIBLFQ_0.3");

int lfq_inline_consumer_v7(struct lfq *q, struct lfq_inline_cons *ic)
{
	int err = lfq_inline_cons_check(q);

	if (!err)
		*ic = lfq_cons_view(q);
	return err;
}
__asm__(".symver lfq_inline_consumer_v7, lfq_inline_consumer@@LIBLFQ_0.7");

int lfq_inline_consumer_v3(struct lfq *q, struct lfq_inline_cons *ic)
{
	int err = lfq_inline_cons_check(q);

	if (!err) {
		struct lfq_inline_cons v = lfq_cons_view(q);

		memcpy(ic, &v, LFQ_INLINE_VIEW_VER3);
	}
	return err;
}
__asm__(".symver lfq_inline_consumer_v3, lfq_inline_consumer@LIBLFQ_0.3");

void lfq_inline_wake(struct lfq *q, uint32_t which)
{
	q->backend->wake(q, which);
}

void lfq_inline_wake_check(struct lfq *q, uint32_t which, uint32_t flag)
{
	int due;

	if (!q->wakeups)
		return;
	if (which == LFQ_WAKE_CONSUMER) {
		struct lfq_spsc_prod *p = &q->prod.spsc;

		/*
		 * A symmetric queue: the view's flag was lfq_flag_set; the
		 * full barrier between the caller's head store and the real
		 * flag (ORDERING wake-data, lfq_wake_flag()).
		 */
		if (!p->light)
			flag = lfq_wake_flag(p->sleeps, 0);
		due = flag && lfq_spsc_commit_due(p, flag);
	} else {
		struct lfq_spsc_cons *c = &q->cons.spsc;

		/* Likewise after the tail store (ORDERING wake-space). */
		if (!c->light)
			flag = lfq_wake_flag(c->sleeps, 0);
		due = flag && lfq_spsc_release_due(c, flag);
	}
	if (due)
		q->backend->wake(q, which);
}
