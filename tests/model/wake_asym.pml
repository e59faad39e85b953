/*
 * wake_asym.pml - SPIN model of the asymmetric wakeup handshake
 * (LFQ_WAKE_ASYMMETRIC; ORDERING wake-asym in kmod/proto/lfq_rules.h): a
 * publisher stores its index with a release store and reads the sleeper's
 * flag after a compiler barrier only (lfq_publish_index() with light set),
 * and a sleeper arms its flag, pays the heavy fence (an IPI to every CPU
 * in the kernel, membarrier(2) in liblfq), and re-checks.
 *
 * SPIN interleaves sequentially consistent steps, so the reordering the
 * light half allows is modelled explicitly: the publisher's store goes to
 * a store buffer (x86-TSO; the one reordering a release store followed by
 * a load allows on every architecture), which drains into memory at any
 * later step, and its load of the flag reads memory meanwhile. The heavy
 * fence drains that buffer wherever the publisher stands: the full
 * barrier the IPI or membarrier(2) runs on the publisher's CPU. The
 * waker's own full barrier (the exchange that clears the flag before
 * FUTEX_WAKE, or the kernel's wq_has_sleeper()) drains it too.
 *
 * Checked property (spin -a; pan, exhaustive): no lost wakeup. A sleeper
 * asleep while the last index is published and the publisher is done is
 * an invalid end state.
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   NO_HEAVY          the sleeper re-checks without the heavy fence (the
 *                     light half with a symmetric sleeper)
 *   LOAD_BEFORE_STORE the publisher's load of the flag is placed before
 *                     its store (the compiler barrier missing)
 */

#define N 3

byte X;			/* the published index, in memory */
byte buffered;		/* the publisher's store buffer: one store of X ... */
bool pending;		/* ... not yet in memory */
bool flag;		/* the sleeper's need-wakeup flag */
bool woken;		/* the wakeup itself (futex / wait queue) */

active proctype publisher()
{
	byte i = 0;
	bool saw;

	do
	:: i == N -> break
	:: else ->
		i++;
#ifdef LOAD_BEFORE_STORE
		saw = flag;
		atomic { !pending -> buffered = i; pending = true }
#else
		/* release store: buffered, in order after the last one */
		atomic { !pending -> buffered = i; pending = true };
		/* compiler barrier only: the load may pass the store */
		saw = flag;
#endif
		if
		:: saw ->
			/* the waker's full barrier, then clear and wake */
			atomic { !pending -> flag = false; woken = true }
		:: else -> skip
		fi
	od
}

/* The store buffer drains at any step. */
active proctype drain()
{
end:	do
	:: atomic { pending -> X = buffered; pending = false }
	od
}

active proctype sleeper()
{
	byte seen = 0;

	do
	:: seen == N -> break
	:: X > seen -> seen = X		/* consume what is published */
	:: seen < N && X == seen ->
		/* arm: the sleeper's own store, with its full barrier */
		flag = true;
#ifndef NO_HEAVY
		/* the heavy fence: the publisher's CPU runs a full barrier */
		atomic {
			if
			:: pending -> X = buffered; pending = false
			:: else -> skip
			fi
		}
#endif
		/* the re-check that decides */
		if
		:: X > seen -> skip
		:: else -> woken -> woken = false	/* asleep until woken */
		fi
	od
}
