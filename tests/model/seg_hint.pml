/*
 * seg_hint.pml - SPIN model of the producers' hint of an elastic queue
 * (lfq_seg_swing() in kmod/core/lfq_seg.c): the kernel's pointer to the
 * newest segment moves forward by compare-and-swap, from a segment to its
 * successor only, and the processes' copy of it (the frame number in the
 * segment table, segtab->pseg) follows in a second store. A swing that
 * comes after another may store its frame first: the earlier swinger's
 * store then lands last, and the copy names an older segment, which may
 * be retired and freed meanwhile (its frame maps the zero page: a process
 * producer that starts from it faults on its compare-and-swap).
 *
 * So a swinger re-reads the hint after its store (a full barrier between:
 * the store must be visible before the re-read, ORDERING in
 * lfq_seg_swing()) and stores again while it moved. SPIN interleaves
 * sequentially consistent steps: the model checks the interleavings; the
 * barrier's part (the "R" shape: store, full barrier, load on one side;
 * fully ordered compare-and-swap, store on the other) is argued in the
 * code.
 *
 * Segments 0..N are linked in order; each of N swingers moves the hint
 * from segment i - 1 to segment i (a producer that linked segment i, or
 * one that followed the link: both swing), in any order; a swing whose
 * compare-and-swap finds the hint moved on already does nothing.
 *
 * Checked property (spin -a; pan, exhaustive): once every swinger is
 * done, the copy names the hint, which is the newest segment.
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   NO_RECHECK    the swinger stores once, after its compare-and-swap
 *                 (the code before this model)
 *   NO_LOOP       it stores the hint it reads (not its own segment), once,
 *                 without the re-read after the store
 */

#define N 3

byte hint;		/* el->pseg: segment number */
byte copy;		/* segtab->pseg */
byte done;

proctype swinger(byte to)
{
	byte now;

	/* Follows the link from to - 1 once it exists. */
	(hint >= to - 1);
	atomic {
		if
		:: hint == to - 1 -> hint = to
		:: else -> goto out
		fi
	}
#ifdef NO_RECHECK
	copy = to;
#else
again:
	now = hint;
	copy = now;
#ifndef NO_LOOP
	if
	:: hint != now -> goto again
	:: else -> skip
	fi;
#endif
#endif
out:
	atomic { done++ }
}

init {
	byte i;

	atomic {
		for (i : 1 .. N) {
			run swinger(i)
		}
	}
	(done == N);
	assert(hint == N);
	assert(copy == hint)
}
