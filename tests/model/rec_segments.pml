/*
 * rec_segments.pml - SPIN model of an elastic record queue: the record
 * ring of kmod/proto/lfq_rec.h run in segments by the protocol of
 * kmod/proto/lfq_segment.h (lfq_rec_seg_full(), lfq_seg_seal(), the link,
 * lfq_seg_drained(), retirement). Segments of CAP words in two frames, so
 * that the third segment is the first frame's second life: its words
 * still hold the kept headers (and zeroed payload) of the first life.
 * Two producers of two records each (1 or 2 payload words behind a
 * header): a producer whose record does not fit the rest of its segment
 * seals the segment at its head (a compare-and-swap that no reservation
 * can follow) and goes on in the next one, linking it (opened at the
 * sealed end) if nobody did; a frame is reused only once the consumer
 * drained and left its earlier life (retirement). The consumer reads
 * headers of its index's lap, as in records.pml, zeroes each record's
 * payload, and once its segment is sealed and drained to the seal it
 * moves to the next one and retires the one it left.
 *
 * Laps are of the global index (LAP(p) = p / CAP, as the kernel's index
 * >> order): indices only grow from one life of a frame to the next, so a
 * header kept from an earlier life reads as an earlier lap. LAPS = 8
 * tells apart every lap the model reaches (4 records and the rest of up
 * to 3 sealed segments: under 8 laps of CAP words).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - a header the consumer reads is the one committed for this index in
 *     this life of the frame, never a header kept from an earlier life or
 *     lap (assert); the payload it reads is its producer's (assert);
 *   - producers write only words the consumer zeroed, or headers it
 *     passed (assert): no record is written over before it is consumed,
 *     none straddles two segments;
 *   - every committed record is consumed once, in per-producer order,
 *     every discarded one skipped (asserts), and nobody waits forever
 *     (invalid end state): three segments always suffice.
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   LAP_IN_LIFE    laps counted from the segment's base instead of the
 *                  global index: a header kept from the frame's earlier
 *                  life reads as committed
 *   NO_SEAL_CHECK  a reservation does not fail on a sealed head (the
 *                  LFQ_SEG_SEALED check of lfq_rec_reserve()): a record
 *                  reserved past the seal is never read
 *   REUSE_UNDRAINED a frame's next life opens before the consumer left
 *                  its earlier one (no retirement wait)
 */

#define CAP 4
#define MASK (CAP - 1)
#define PER_PRODUCER 2
#define TOTAL (2 * PER_PRODUCER)
#define LIVES 4
#define DISCARD 4
#define LAPS 8
#ifdef LAP_IN_LIFE
#define LAP(p, s) ((((p) - base[s]) / CAP) % LAPS)
#else
#define LAP(p, s) (((p) / CAP) % LAPS)
#endif
#define HDR(k, p, s) ((k) | (LAP(p, s) << 3))
/* The word of index @p in segment @s: its frame's, at p mod CAP. */
#define W(s, p) (((s) % 2) * CAP + ((p) & MASK))

byte cur;			/* the producers' hint: the newest segment */
byte base[LIVES];		/* where each segment's life starts */
byte head[LIVES];
byte tail[LIVES];
bool sealed[LIVES];		/* LFQ_SEG_SEALED in its head word */
bool opened[LIVES];		/* linked after the one before it */
bool retired[LIVES];		/* the consumer left it */
byte val[2 * CAP];		/* a word as a header read sees it */
byte kind[2 * CAP];		/* 0 zeroed, 1 header, 2 payload, 3 kept */
byte owner[2 * CAP];		/* which record: 1 + producer * 4 + seq */
byte at[2 * CAP];		/* the index it was written for */
byte life[2 * CAP];		/* the segment it was written in */
byte consumed;
byte committed;
byte delivered;

proctype producer(byte id)
{
	byte seq = 0, h, t, k, i, me, s;

	do
	:: seq == PER_PRODUCER -> break
	:: else ->
		if
		:: k = 1
		:: k = 2
		fi;
		me = 1 + id * 4 + seq;
retry:
		s = cur;
		h = head[s];
		t = tail[s];	/* acquire: the zeroing below it is visible */
		if
#ifdef NO_SEAL_CHECK
		:: atomic { head[s] == h && h + k + 1 - t <= CAP ->
			    head[s] = h + k + 1 }
#else
		:: atomic { !sealed[s] && head[s] == h &&
			    h + k + 1 - t <= CAP -> head[s] = h + k + 1 }
#endif
		/* No room for it (lfq_rec_seg_full()): seal at this head. */
		:: atomic { !sealed[s] && head[s] == h &&
			    h + k + 1 - t > CAP -> sealed[s] = 1 } ->
			goto retry
		/* Sealed: the next segment, linked now if need be. */
		:: atomic { sealed[s] } ->
			assert(s + 1 < LIVES);
			if
#ifdef REUSE_UNDRAINED
			:: atomic { !opened[s + 1] ->
#else
			:: atomic { !opened[s + 1] &&
				    (s + 1 < 2 || retired[s - 1]) ->
#endif
				    base[s + 1] = head[s];
				    head[s + 1] = head[s];
				    tail[s + 1] = head[s];
				    opened[s + 1] = 1 }
			:: atomic { opened[s + 1] } -> skip
			fi;
			atomic {
				if
				:: cur == s -> cur = s + 1
				:: else -> skip
				fi
			}
			goto retry
		:: atomic { !sealed[s] && head[s] != h } -> goto retry
		fi;
		/* Reserved [h, h + k + 1) in segment s. */
		i = 1;
		do
		:: i > k -> break
		:: else ->
			assert(kind[W(s, h + i)] == 0 ||
			       kind[W(s, h + i)] == 3);
			atomic {
				/* The worst payload: a later lap's header. */
				val[W(s, h + i)] = HDR(1 + (seq & 1),
						       h + i + CAP, s);
				kind[W(s, h + i)] = 2;
				owner[W(s, h + i)] = me;
				at[W(s, h + i)] = h + i;
				life[W(s, h + i)] = s
			}
			i++
		od;
		assert(kind[W(s, h)] == 0 || kind[W(s, h)] == 3);
		/* Commit or discard: the header, with release, last. */
		if
		:: atomic { val[W(s, h)] = HDR(k, h, s); kind[W(s, h)] = 1;
			    owner[W(s, h)] = me; at[W(s, h)] = h;
			    life[W(s, h)] = s; committed++ }
		:: atomic { val[W(s, h)] = HDR(k, h, s) | DISCARD;
			    kind[W(s, h)] = 1; owner[W(s, h)] = me;
			    at[W(s, h)] = h; life[W(s, h)] = s }
		fi;
		seq++
	od
}

active proctype consumer()
{
	byte cs = 0, k, i, me, hv, last[2];

	last[0] = 255;
	last[1] = 255;
	do
	:: consumed == TOTAL -> break
	:: else ->
		if
		/* Drained to its seal (lfq_seg_drained()), linked: move on. */
		:: atomic { cs + 1 < LIVES && sealed[cs] &&
			    tail[cs] == head[cs] && opened[cs + 1] ->
			    retired[cs] = 1; cs++ }
		:: atomic {
			(val[W(cs, tail[cs])] != 0 &&
			 val[W(cs, tail[cs])] >> 3 == LAP(tail[cs], cs)) ->
			hv = val[W(cs, tail[cs])];
			/* This life's header for this index. */
			assert(kind[W(cs, tail[cs])] == 1 &&
			       at[W(cs, tail[cs])] == tail[cs] &&
			       life[W(cs, tail[cs])] == cs);
			me = owner[W(cs, tail[cs])]
		   }
			k = hv & 3;
			assert(k == 1 || k == 2);
			if
			:: (hv & DISCARD) == 0 ->
				i = 1;
				do
				:: i > k -> break
				:: else ->
					assert(kind[W(cs, tail[cs] + i)] == 2 &&
					       owner[W(cs, tail[cs] + i)] == me &&
					       at[W(cs, tail[cs] + i)] ==
					       tail[cs] + i &&
					       life[W(cs, tail[cs] + i)] == cs);
					i++
				od;
				assert(last[(me - 1) / 4] == 255 ||
				       (me - 1) % 4 > last[(me - 1) / 4]);
				last[(me - 1) / 4] = (me - 1) % 4;
				delivered++
			:: else -> skip
			fi;
			/* The header word is kept; the payload zeroed. */
			atomic { kind[W(cs, tail[cs])] = 3;
				 owner[W(cs, tail[cs])] = 0 }
			i = 1;
			do
			:: i > k -> break
			:: else ->
				atomic { val[W(cs, tail[cs] + i)] = 0;
					 kind[W(cs, tail[cs] + i)] = 0;
					 owner[W(cs, tail[cs] + i)] = 0 }
				i++
			od;
			/* Release: the zeroing before the tail. */
			tail[cs] = tail[cs] + k + 1;
			consumed++
		fi
	od;
	assert(delivered == committed)
}

init {
	atomic {
		opened[0] = 1;
		run producer(0);
		run producer(1)
	}
}
