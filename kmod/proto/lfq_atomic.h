/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_atomic.h - the atomics shim that lets the ring protocols in this
 * directory compile unchanged in the kernel (LKMM primitives) and in
 * userspace (GCC/Clang __atomic builtins, C11 memory model).
 *
 * Every macro takes a pointer. The pairs that matter:
 *  - lfq_store_release() publishes what was written before it to a reader
 *    that lfq_load_acquire()s the same word.
 *  - lfq_store_release_mb() + lfq_load_after_mb() on two different words,
 *    one pair on each side, is the Dekker handshake of the wakeup protocol
 *    (store mine; full barrier; load theirs): at least one side sees the
 *    other's store. In the kernel that is smp_store_release() + smp_mb();
 *    in C11 it is a seq_cst exchange followed by a seq_cst load, which are
 *    ordered by the single total order of seq_cst operations.
 *  - lfq_compiler_barrier() is the light half of the asymmetric handshake
 *    (LFQ_WAKE_ASYMMETRIC): it keeps the publisher's load after its store
 *    in program order only; the sleeper's heavy fence (an IPI or
 *    membarrier(2) making every CPU run a full barrier) does the rest.
 */
#ifndef _LFQ_PROTO_ATOMIC_H
#define _LFQ_PROTO_ATOMIC_H

#ifdef __KERNEL__

#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <linux/atomic.h>

#define lfq_load_relaxed(p)		READ_ONCE(*(p))
#define lfq_store_relaxed(p, v)		WRITE_ONCE(*(p), (v))
/* Pairs: documented at each use in the protocol headers. */
#define lfq_load_acquire(p)		smp_load_acquire(p)
/* Pairs: documented at each use in the protocol headers. */
#define lfq_store_release(p, v)		smp_store_release((p), (v))
/* Dekker half: the full barrier pairs with the other side's one. */
#define lfq_store_release_mb(p, v)	\
	/* Pairs with the other side's lfq_store_release_mb(). */ \
	do { smp_store_release((p), (v)); smp_mb(); } while (0)
#define lfq_load_after_mb(p)		READ_ONCE(*(p))
/*
 * An acquire that stays after the full barrier before it (smp_mb() or a
 * fully ordered RMW): the kernel's barriers already order it; C11 needs a
 * seq_cst load for that after a seq_cst RMW. Pairs: at each use.
 */
#define lfq_load_acquire_after_mb(p)	smp_load_acquire(p)
/* Asymmetric half: pairs with the sleeper's heavy fence (lfq_wait.c). */
#define lfq_compiler_barrier()		barrier()
/* Dekker half after several stores: pairs with the other side's barrier. */
#define lfq_smp_mb()			smp_mb()
/* Seqlock read side: the reads before the re-check (ORDERING names whose). */
#define lfq_smp_rmb()			smp_rmb()
/* Seqlock write side: the marks before the stores they announce. */
#define lfq_smp_wmb()			smp_wmb()
#define lfq_xchg(p, v)			xchg((p), (v))
/* Reservation CAS: ordering comes from the acquire of tail before it. */
#define lfq_try_cmpxchg_relaxed(p, oldp, v)	try_cmpxchg_relaxed((p), (oldp), (v))
/* Fully ordered CAS: what precedes it is seen by whoever sees its value. */
#define lfq_try_cmpxchg_full(p, oldp, v)	try_cmpxchg((p), (oldp), (v))
#define lfq_likely(x)			likely(x)
#define lfq_unlikely(x)			unlikely(x)
/*
 * A fact the compiler may build on (a mapped ring is not at NULL). Not the
 * kernel's unreachable(): its objtool annotation would mark a dead end.
 */
#define lfq_assume(x)	do { if (!(x)) __builtin_unreachable(); } while (0)

#else /* userspace */

#include <linux/types.h>

#define lfq_load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define lfq_store_relaxed(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define lfq_load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define lfq_store_release(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define lfq_store_release_mb(p, v)	\
	((void)__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST))
#define lfq_load_after_mb(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define lfq_load_acquire_after_mb(p)	__atomic_load_n((p), __ATOMIC_SEQ_CST)
/* Asymmetric half: pairs with the sleeper's membarrier(2) (liblfq). */
#define lfq_compiler_barrier()		__atomic_signal_fence(__ATOMIC_SEQ_CST)
/*
 * A seq_cst fence after plain release stores: a seq_cst load sequenced
 * after it sees the other side's seq_cst store or the other side's
 * seq_cst load sees ours (C11 7.17.4).
 */
#if defined(__SANITIZE_THREAD__)
/*
 * ThreadSanitizer does not model fences: give it a seq_cst read-modify-
 * write instead (TSan checks data races, not the Dekker handshake; the
 * SPIN model in tests/model does that).
 */
static inline void lfq_tsan_mb(void)
{
	static int word;

	__atomic_fetch_add(&word, 0, __ATOMIC_SEQ_CST);
}

#define lfq_smp_mb()			lfq_tsan_mb()
#define lfq_smp_rmb()			lfq_tsan_mb()
#define lfq_smp_wmb()			lfq_tsan_mb()
#else
#define lfq_smp_mb()			__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define lfq_smp_rmb()			__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define lfq_smp_wmb()			__atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#define lfq_xchg(p, v)			__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define lfq_try_cmpxchg_relaxed(p, oldp, v)				\
	__atomic_compare_exchange_n((p), (oldp), (v), 0, __ATOMIC_RELAXED, \
				    __ATOMIC_RELAXED)
#define lfq_try_cmpxchg_full(p, oldp, v)				\
	__atomic_compare_exchange_n((p), (oldp), (v), 0, __ATOMIC_SEQ_CST, \
				    __ATOMIC_RELAXED)
#define lfq_likely(x)			__builtin_expect(!!(x), 1)
#define lfq_unlikely(x)			__builtin_expect(!!(x), 0)
/* A fact the compiler may build on (a mapped ring is not at NULL). */
#define lfq_assume(x)	do { if (!(x)) __builtin_unreachable(); } while (0)

#endif /* __KERNEL__ */

#endif /* _LFQ_PROTO_ATOMIC_H */
