/*
 * records.pml - SPIN model of the record ring (kmod/proto/lfq_rec.h):
 * variable-size records in a ring of words, each a header word and 1 or
 * 2 payload words; lock-free reservation by compare-and-swap of head
 * after reading tail; payload written, then the header stored (commit,
 * or discard) with the record's lap in it, in any order relative to the
 * other producer; an in-order consumer that waits at its tail for a
 * header of its tail's lap (0, or a header of an earlier lap, is "not
 * committed yet": lfq_rec_hdr_state()), skips discarded records, and
 * zeroes the payload words of a record, leaving its header word as it
 * is, before it publishes the tail past it. Two producers of two records
 * each, a ring of 4 words, so that later records' headers land on
 * earlier records' payload words and on their kept headers.
 *
 * The lap: a header is HDR(len, pos) = len | discard | LAP(pos) << 3,
 * with LAP(pos) = (pos / CAP) % LAPS, the kernel's index >> order
 * truncated to 31 bits. The model reserves 4 records of 3 words at most,
 * 12 words: a record starts in lap 0, 1 or 2 (a payload word's alias
 * below names lap 3 at most), and LAPS = 4 tells them all apart, so no
 * lap aliases another within the model's bound, as in the kernel, where
 * 31 bits of laps do not wrap in a ring's life. (LAPS = 2 verifies too:
 * a stale word at the tail is 0 or a header of the previous lap; LAPS =
 * 1, no lap at all, fails as NO_LAP_CHECK does.) Payload is
 * arbitrary data: the model takes the worst of it, each payload word
 * holding the header a record of the next lap would carry at that word,
 * so a stale payload word passes the lap check (its values matter only
 * where a header is read).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - a header the consumer reads is the header its producer committed
 *     for this lap, never a stale payload word nor a kept header of an
 *     earlier lap (assert);
 *   - the consumer reads only payload its producer wrote for the record
 *     (assert); producers write only words the consumer zeroed or
 *     headers it passed (assert);
 *   - every committed record is consumed once, in per-producer order,
 *     every discarded one skipped (asserts); a consumer waiting for a
 *     header, or a producer for space, that nobody will give is an
 *     invalid end state (a producer waits for space, it does not spin).
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   NO_ZERO          the consumer does not zero the payload it consumed
 *   ZERO_AFTER_TAIL  it publishes tail before zeroing (the release order
 *                    lfq_rec_tail() keeps)
 *   HDR_BEFORE_DATA  a producer stores its header before its payload (a
 *                    missing release in lfq_rec_publish())
 *   NO_SPACE_CHECK   reserve does not compare with the consumer's tail
 *   NO_LAP_CHECK     the consumer takes any nonzero header word for a
 *                    committed one, whatever its lap (a header kept from
 *                    the previous lap reads as committed)
 */

#define CAP 4
#define MASK (CAP - 1)
#define PER_PRODUCER 2
#define TOTAL (2 * PER_PRODUCER)
#define DISCARD 4
#define LAPS 4
#define LAP(p) (((p) / CAP) % LAPS)
#define HDR(k, p) ((k) | (LAP(p) << 3))	/* a committed header at p */

byte head;		/* bytes (here: words) reserved */
byte tail;		/* consumed, payload zeroed */
byte val[CAP];		/* a word as a header read sees it: 0 = none */
byte kind[CAP];		/* what wrote it: 0 zeroed, 1 header, 2 payload,
			 * 3 a header the consumer passed (kept) */
byte owner[CAP];	/* which record: 1 + producer * 4 + seq */
byte at[CAP];		/* the index it was written for */
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
		assert(kind[h & MASK] == 0 || kind[h & MASK] == 3);
		if
		:: val[h & MASK] = HDR(k, h); kind[h & MASK] = 1;
		   owner[h & MASK] = me; at[h & MASK] = h; committed++
		:: val[h & MASK] = HDR(k, h) | DISCARD; kind[h & MASK] = 1;
		   owner[h & MASK] = me; at[h & MASK] = h
		fi;
#endif
		i = 1;
		do
		:: i > k -> break
		:: else ->
			/* Zeroed, or a header of an earlier lap. */
			assert(kind[(h + i) & MASK] == 0 ||
			       kind[(h + i) & MASK] == 3);
			atomic {
				/* The worst payload: a next lap's header. */
				val[(h + i) & MASK] =
					HDR(1 + (seq & 1), h + i + CAP);
				kind[(h + i) & MASK] = 2;
				owner[(h + i) & MASK] = me;
				at[(h + i) & MASK] = h + i
			}
			i++
		od;
#ifndef HDR_BEFORE_DATA
		assert(kind[h & MASK] == 0 || kind[h & MASK] == 3);
		/* Commit or discard: the header, with release, last. */
		if
		:: atomic { val[h & MASK] = HDR(k, h); kind[h & MASK] = 1;
			    owner[h & MASK] = me; at[h & MASK] = h;
			    committed++ }
		:: atomic { val[h & MASK] = HDR(k, h) | DISCARD;
			    kind[h & MASK] = 1; owner[h & MASK] = me;
			    at[h & MASK] = h }
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
		/*
		 * Wait for a header of this lap at the tail (acquire), and
		 * check the word read in the same step.
		 */
		atomic {
#ifdef NO_LAP_CHECK
			(val[tail & MASK] != 0);
#else
			(val[tail & MASK] != 0 &&
			 val[tail & MASK] >> 3 == LAP(tail));
#endif
			hv = val[tail & MASK];
			/* The header committed for this lap, not a stale word. */
			assert(kind[tail & MASK] == 1 &&
			       at[tail & MASK] == tail);
			me = owner[tail & MASK]
		}
		k = hv & 3;
		assert(k == 1 || k == 2);
		if
		:: (hv & DISCARD) == 0 ->
			i = 1;
			do
			:: i > k -> break
			:: else ->
				assert(kind[(tail + i) & MASK] == 2 &&
				       owner[(tail + i) & MASK] == me &&
				       at[(tail + i) & MASK] == tail + i);
				i++
			od;
			/* Per producer in order, each once. */
			assert(last[(me - 1) / 4] == 255 ||
			       (me - 1) % 4 > last[(me - 1) / 4]);
			last[(me - 1) / 4] = (me - 1) % 4;
			delivered++
		:: else -> skip
		fi;
		/* The header word stays as it is (only the model marks it). */
		atomic { kind[tail & MASK] = 3; owner[tail & MASK] = 0;
			 at[tail & MASK] = 0 }
#ifdef ZERO_AFTER_TAIL
		tail = tail + k + 1;
		i = 1;
		do
		:: i > k -> break
		:: else ->
			atomic { val[(tail - k - 1 + i) & MASK] = 0;
				 kind[(tail - k - 1 + i) & MASK] = 0;
				 owner[(tail - k - 1 + i) & MASK] = 0;
				 at[(tail - k - 1 + i) & MASK] = 0 }
			i++
		od;
#else
		/* The payload words, from the word after the header. */
		i = 1;
		do
		:: i > k -> break
		:: else ->
			atomic {
#ifndef NO_ZERO
				val[(tail + i) & MASK] = 0;
#endif
				/* NO_ZERO: only the model forgets the word. */
				kind[(tail + i) & MASK] = 0;
				owner[(tail + i) & MASK] = 0;
				at[(tail + i) & MASK] = 0
			}
			i++
		od;
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
