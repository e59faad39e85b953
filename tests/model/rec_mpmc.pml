/*
 * rec_mpmc.pml - SPIN model of the record ring shared by many consumers
 * (kmod/proto/lfq_rec_mpmc.h; docs/RECORDS.md, "Many consumers": not in
 * the module or liblfq yet). Records of 1 or 2
 * payload words behind a header word in a ring of 4 words, reserved
 * and committed by their header as in records.pml, which checks
 * producers against each other; here one producer of 3 records (so the
 * ring wraps and later records land on earlier ones' words) and two
 * consumers, whom this protocol adds.
 *
 * Three indices instead of two:
 *   - head: producers reserve [head, head + size) by CAS, below
 *     tail + CAP;
 *   - claim: a consumer reads the header at claim, and if it is a header
 *     of claim's lap (committed or discarded) takes the record by CAS of
 *     claim past it: one taker per record;
 *   - tail: the boundary producers reserve below, moved past records
 *     that are released, in order, whoever released them.
 * A consumer releases its record out of order: it zeroes the payload
 * (records.pml says why producers need zeroed words), then marks the
 * header RELEASED (with release: the zeroing before the mark), then runs
 * the advance: while the header at tail is a RELEASED header of tail's
 * lap, CAS tail past its record. The mark and the advance's first load
 * of tail are separated by a full barrier, and every CAS of tail is one:
 * a releaser whose record is not at tail yet, and the advancer that
 * stops just before that record, cannot both miss each other (the
 * store-buffering shape, a full barrier on each side). Header words are
 * left as they are once tail passes, as in records.pml; they keep their
 * RELEASED mark, so a kept header never reads as one to claim.
 *
 * The claim needs the lap check although kept headers carry RELEASED:
 * claim may be a whole ring ahead of tail (claim <= head <= tail +
 * ring), and then the word at claim's index is the header of the record
 * at tail, which another consumer claimed and has not released: neither
 * 0 nor RELEASED. The CAS of claim succeeds all the same, and the
 * consumer takes that header for the next lap's (-D NO_CLAIM_LAP).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - a consumer takes only the header committed for its record in this
 *     lap, and reads only the payload its producer wrote for it (assert);
 *   - producers write only words that were zeroed or headers tail passed
 *     (assert): no record is overwritten while it is read or before it
 *     is released;
 *   - every committed record is delivered exactly once, and when all is
 *     done tail has reached head (end check): no release is lost;
 *   - a producer waiting for space, or a consumer for a record, that
 *     nobody will give is an invalid end state.
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   CLAIM_NO_CAS       a consumer takes claim with a plain store
 *   NO_CLAIM_LAP       a consumer takes any nonzero header at claim that
 *                      is not RELEASED, of whatever lap
 *   MARK_BEFORE_ZERO   the RELEASED mark is stored before the zeroing
 *   ADVANCE_BEFORE_MARK the advance's first loads (tail, its header) are
 *                      made before the mark is seen: no full barrier
 *   ADVANCE_NO_FLAG    the advance passes committed, unreleased records
 *   ADVANCE_NO_LAP     the advance passes any RELEASED header at tail,
 *                      of whatever lap (a kept header of the last lap)
 */

#define CAP 4
#define MASK (CAP - 1)
#define PER_PRODUCER 3
#define TOTAL PER_PRODUCER
#define DISCARD 4
#define RELEASED 8
#define LAPS 4
#define LAP(p) (((p) / CAP) % LAPS)
#define HDR(k, p) ((k) | (LAP(p) << 4))	/* a committed header at p */
#define HLAP(v) ((v) >> 4)

byte head;		/* words reserved (producers' CAS) */
byte claim;		/* words claimed (consumers' CAS) */
byte tail;		/* words released and passed (anyone's CAS) */
byte val[CAP];		/* a word as a read sees it: 0 = none */
byte kind[CAP];		/* 0 zeroed, 1 header, 2 payload, 3 a header tail
			 * passed (kept), 4 a RELEASED header not passed */
byte owner[CAP];	/* which record: 1 + producer * 4 + seq */
byte at[CAP];		/* the index it was written for */
byte claimed;		/* records claimed, for the consumers to stop */
byte committed;		/* records committed (not discarded) */
byte delivered;
bool seen[8];		/* delivered, by owner - 1 */

proctype producer(byte id)
{
	byte seq = 0, h, t, k, i, me;

	do
	:: seq == PER_PRODUCER -> break
	:: else ->
		if
		:: k = 1
		:: k = 2
		fi;
		me = 1 + id * 4 + seq;
retry:
		h = head;
		t = tail;	/* acquire: the zeroing below it is visible */
		if
		:: atomic { head == h && h + k + 1 - t <= CAP ->
			    head = h + k + 1 }
		:: atomic { head == h && h + k + 1 - t > CAP } ->
			(tail != t || head != h);	/* wait, no spin */
			goto retry
		:: atomic { head != h } -> goto retry	/* the CAS failed */
		fi;
		i = 1;
		do
		:: i > k -> break
		:: else ->
			/* Zeroed, or a header tail passed. */
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
		seq++
	od
}

/*
 * The advance: while the header at tail is a RELEASED header of tail's
 * lap, CAS tail past its record (the model's kind 3: passed, kept), no
 * further than claim as read once on entry (the code's bound against a
 * hostile claim: a record taken after it is carried by its releaser).
 */
inline advance(t, hv, cl)
{
	cl = claim;
	do
	:: t = tail;
	   hv = val[t & MASK];
#if defined(ADVANCE_NO_FLAG)
	   if
	   :: hv != 0 && HLAP(hv) == LAP(t) -> skip
	   :: else -> break
	   fi;
#elif defined(ADVANCE_NO_LAP)
	   if
	   :: hv & RELEASED -> skip
	   :: else -> break
	   fi;
#else
	   if
	   :: (hv & RELEASED) && HLAP(hv) == LAP(t) &&
	      t + (hv & 3) + 1 <= cl -> skip
	   :: else -> break
	   fi;
#endif
	   atomic {
		if
		:: tail == t ->
			tail = t + (hv & 3) + 1;
			kind[t & MASK] = 3; owner[t & MASK] = 0;
			at[t & MASK] = 0
		:: else -> skip	/* another advancer moved it */
		fi
	   }
	od
}

proctype consumer()
{
	byte c, hv, k, i, me, t, av, acl;
#ifdef ADVANCE_BEFORE_MARK
	byte t0, h0;
#endif

	do
	:: claimed == TOTAL -> break
	:: else ->
		c = claim;
		/* The header at claim (acquire), or stop: all is claimed. */
		if
		:: atomic { claimed == TOTAL } -> break
		:: atomic {
#ifdef NO_CLAIM_LAP
			val[c & MASK] != 0 &&
			(val[c & MASK] & RELEASED) == 0 ->
#else
			val[c & MASK] != 0 &&
			(val[c & MASK] & RELEASED) == 0 &&
			HLAP(val[c & MASK]) == LAP(c) ->
#endif
			hv = val[c & MASK] }
		:: atomic { claim != c } -> goto next	/* taken: again */
		fi;
		k = hv & 3;
		/* Take it: CAS claim from c past the record. */
#ifdef CLAIM_NO_CAS
		claim = c + k + 1;
		atomic { claimed++; me = owner[c & MASK] }
#else
		if
		:: atomic { claim == c -> claim = c + k + 1; claimed++;
			    me = owner[c & MASK] }
		:: atomic { claim != c } -> goto next
		fi;
#endif
		/* The header committed for this lap, not a stale word. */
		assert(kind[c & MASK] == 1 && at[c & MASK] == c &&
		       val[c & MASK] == hv);
		if
		:: (hv & DISCARD) == 0 ->
			i = 1;
			do
			:: i > k -> break
			:: else ->
				assert(kind[(c + i) & MASK] == 2 &&
				       owner[(c + i) & MASK] == me &&
				       at[(c + i) & MASK] == c + i);
				i++
			od;
			atomic {
				assert(!seen[me - 1]);
				seen[me - 1] = 1;
				delivered++
			}
		:: else -> skip
		fi;
#ifdef MARK_BEFORE_ZERO
		atomic { val[c & MASK] = hv | RELEASED; kind[c & MASK] = 4 }
#endif
		/* Release: zero the payload words. */
		i = 1;
		do
		:: i > k -> break
		:: else ->
			atomic {
				val[(c + i) & MASK] = 0;
				kind[(c + i) & MASK] = 0;
				owner[(c + i) & MASK] = 0;
				at[(c + i) & MASK] = 0
			}
			i++
		od;
#ifdef ADVANCE_BEFORE_MARK
		/*
		 * Without the full barrier the advance's first loads may
		 * be satisfied before the mark is visible to others.
		 */
		t0 = tail;
		/* Its own header it sees marked (store forwarding). */
		if
		:: t0 == c -> h0 = hv | RELEASED
		:: else -> h0 = val[t0 & MASK]
		fi;
#endif
#ifndef MARK_BEFORE_ZERO
		/* The mark, with release: the zeroing before it. */
		atomic { val[c & MASK] = hv | RELEASED; kind[c & MASK] = 4 }
#endif
#ifdef ADVANCE_BEFORE_MARK
		if
		:: (h0 & RELEASED) && HLAP(h0) == LAP(t0) -> advance(t, av, acl)
		:: else -> skip
		fi;
#else
		/* smp_mb(), then the advance. */
		advance(t, av, acl);
#endif
next:		skip
	od
}

init {
	atomic {
		run producer(0);
		run consumer();
		run consumer()
	}
	(_nr_pr == 1);
	/* Every record delivered once, every release passed. */
	assert(delivered == committed && tail == head && claim == head)
}
