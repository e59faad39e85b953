/*
 * records.pml - SPIN model of the record ring (kmod/proto/lfq_rec.h):
 * variable-size records in a ring of words, each a header word and 1 or
 * 2 payload words; lock-free reservation by compare-and-swap of head
 * after reading tail; payload written, then the header stored (commit,
 * or discard), in any order relative to the other producer; an in-order
 * consumer that waits on the header at its tail, skips discarded
 * records, and zeroes every word of a record before it publishes the
 * tail past it. Two producers of two records each, a ring of 4 words, so
 * that later records' headers land on earlier records' payload words.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - a header the consumer reads is the header its producer committed
 *     for this lap, never a stale payload word (assert);
 *   - the consumer reads only payload its producer wrote for the record
 *     (assert); producers write only words the consumer zeroed (assert);
 *   - every committed record is consumed once, in per-producer order,
 *     every discarded one skipped (asserts); a consumer waiting for a
 *     header, or a producer for space, that nobody will give is an
 *     invalid end state (a producer waits for space, it does not spin).
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   NO_ZERO          the consumer does not zero what it consumed
 *   ZERO_AFTER_TAIL  it publishes tail before zeroing (the release order
 *                    lfq_rec_pass() keeps)
 *   HDR_BEFORE_DATA  a producer stores its header before its payload (a
 *                    missing release in lfq_rec_commit())
 *   NO_SPACE_CHECK   reserve does not compare with the consumer's tail
 */

#define CAP 4
#define MASK (CAP - 1)
#define PER_PRODUCER 2
#define TOTAL (2 * PER_PRODUCER)
#define DISCARD 4

byte head;		/* bytes (here: words) reserved */
byte tail;		/* consumed and zeroed */
byte val[CAP];		/* a word as a header read sees it: 0 = none */
byte kind[CAP];		/* what wrote it: 0 zeroed, 1 header, 2 payload */
byte owner[CAP];	/* which record: 1 + producer * 4 + seq */
byte consumed;		/* records consumed or skipped */
byte committed;		/* records committed (not discarded) */
byte delivered;

proctype producer(byte id)
{
	byte seq = 0, h, t, k, i, me;

	do
	:: seq == PER_PRODUCER -> break
	:: else ->
		/* A record of 1 or 2 payload words. */
		if
		:: k = 1
		:: k = 2
		fi;
		me = 1 + id * 4 + seq;
retry:
		h = head;
		t = tail;	/* acquire: the zeroing below it is visible */
		if
#ifdef NO_SPACE_CHECK
		:: atomic { head == h -> head = h + k + 1 }
#else
		:: atomic { head == h && h + k + 1 - t <= CAP ->
			    head = h + k + 1 }
		/*
		 * Full: wait for the consumer (not a spin, so that a consumer
		 * that never frees space is an invalid end state).
		 */
		:: atomic { head == h && h + k + 1 - t > CAP } ->
			(tail != t || head != h);
			goto retry
#endif
		:: atomic { head != h } -> goto retry	/* the CAS failed */
		fi;
#ifdef HDR_BEFORE_DATA
		assert(kind[h & MASK] == 0);
		if
		:: val[h & MASK] = k; kind[h & MASK] = 1; owner[h & MASK] = me;
		   committed++
		:: val[h & MASK] = k | DISCARD; kind[h & MASK] = 1;
		   owner[h & MASK] = me
		fi;
#endif
		i = 1;
		do
		:: i > k -> break
		:: else ->
			assert(kind[(h + i) & MASK] == 0);	/* zeroed */
			atomic {
				val[(h + i) & MASK] = 1 + (seq & 1);
				kind[(h + i) & MASK] = 2;
				owner[(h + i) & MASK] = me
			}
			i++
		od;
#ifndef HDR_BEFORE_DATA
		assert(kind[h & MASK] == 0);
		/* Commit or discard: the header, with release, last. */
		if
		:: atomic { val[h & MASK] = k; kind[h & MASK] = 1;
			    owner[h & MASK] = me; committed++ }
		:: atomic { val[h & MASK] = k | DISCARD; kind[h & MASK] = 1;
			    owner[h & MASK] = me }
		fi;
#endif
		seq++
	od
}

active proctype consumer()
{
	byte k, i, me, hv, last[2];

	last[0] = 255;
	last[1] = 255;
	do
	:: consumed == TOTAL -> break
	:: else ->
		/* Wait for a header at the tail (acquire). */
		(val[tail & MASK] != 0);
		hv = val[tail & MASK];
		assert(kind[tail & MASK] == 1);	/* a header, not stale */
		me = owner[tail & MASK];
		k = hv & 3;
		assert(k == 1 || k == 2);
		if
		:: (hv & DISCARD) == 0 ->
			i = 1;
			do
			:: i > k -> break
			:: else ->
				assert(kind[(tail + i) & MASK] == 2 &&
				       owner[(tail + i) & MASK] == me);
				i++
			od;
			/* Per producer in order, each once. */
			assert(last[(me - 1) / 4] == 255 ||
			       (me - 1) % 4 > last[(me - 1) / 4]);
			last[(me - 1) / 4] = (me - 1) % 4;
			delivered++
		:: else -> skip
		fi;
#ifdef ZERO_AFTER_TAIL
		tail = tail + k + 1;
		i = 0;
		do
		:: i > k -> break
		:: else ->
			atomic { val[(tail - k - 1 + i) & MASK] = 0;
				 kind[(tail - k - 1 + i) & MASK] = 0;
				 owner[(tail - k - 1 + i) & MASK] = 0 }
			i++
		od;
#else
#ifndef NO_ZERO
		i = 0;
		do
		:: i > k -> break
		:: else ->
			atomic { val[(tail + i) & MASK] = 0;
				 kind[(tail + i) & MASK] = 0;
				 owner[(tail + i) & MASK] = 0 }
			i++
		od;
#else
		/* Only the bookkeeping of the model forgets the words. */
		i = 0;
		do
		:: i > k -> break
		:: else ->
			atomic { kind[(tail + i) & MASK] = 0;
				 owner[(tail + i) & MASK] = 0 }
			i++
		od;
#endif
		/* Release: the zeroing before the tail that frees the words. */
		tail = tail + k + 1;
#endif
		consumed++
	od;
	assert(delivered == committed)
}

init {
	atomic {
		run producer(0);
		run producer(1)
	}
}
