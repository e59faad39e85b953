/*
 * overwrite.pml - SPIN model of the record ring's overwrite mode, the
 * flight recorder (kmod/proto/lfq_rec.h: the overwrite branch of
 * lfq_rec_reserve(), lfq_rec_reclaim(), lfq_rec_own()/_disown(),
 * lfq_rec_peek_batch()/_release_batch(), lfq_rec_snap_*()).
 * A ring of 4 words, free-running head and tail; records of a header and
 * 1 or 2 payload words, as in records.pml; header = len | RELEASED 4 |
 * LAP(pos) << 4 (heads reach 9 words: laps 0-2, LAPS 4, no alias). The
 * shared tail carries an owner: tbits 1 (RECLAIM, a producer) or 2
 * (HELD, the consumer), taken by compare-and-swap of tail from its plain
 * value t to t|bit; only the owner reads the header at tail.
 *
 * Two MPSC producers (2 records and 1): with room, a CAS of head, the
 * payload, then the header (release: statement order). With none, it
 * reclaims at the tail t it read: owned by another producer: it waits
 * for tail to change, or gives up (a drop); held: a drop; else CAS t ->
 * t|RECLAIM, header at t: not committed for lap(t): tail = t, a drop;
 * committed: payload zeroed, tail = t + size (release, ownership ends),
 * and it tries again. One consumer: CAS t -> t|HELD, a run of 1 or 2
 * committed records from t; none: tail = t, and it waits for tail or
 * that header to change; else records read, RELEASED set in their
 * headers, payloads zeroed, tail = t + run. One snapshot walk from tail
 * to the head read at its start (lfq_rec_snap_next()/_check()): header,
 * then tail (jump to it if past), stop at a header not committed, skip
 * a record RELEASED or at an owned tail, copy, then header and tail again:
 * kept if the header is unchanged and tail neither passed nor owns it.
 *
 * Payload is the worst arbitrary data: each payload word holds the
 * header a record at that word one lap earlier would carry (lap 0: one
 * lap later), so a stale position's word passes the lap check (the bug
 * of the previous design: a header read at a tail read earlier).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - the consumer returns only a committed header of its position's lap
 *     and the payload its producer wrote for that record (assert);
 *   - a copy the snapshot keeps is whole: that header, that payload,
 *     nothing zeroed nor of another record (assert);
 *   - a reclaimer takes only a committed record; a producer writes over
 *     zeroed words or kept headers only, and its payload is intact at its
 *     commit; only tail's owner stores tail (assert);
 *   - a record is consumed or overwritten, once, never both; at the end
 *     each committed record was one or the other (fate[], assert);
 *   - no invalid end state (nobody waits for what never comes).
 *
 * Abstracted: a record's payload words are written, zeroed, read or
 * copied in one step, a run's marks in one step (what is checked is a
 * writer between a reader's steps); weak memory beyond statement order
 * (sequential consistency); discarded records, forged words, claims and
 * the recovery of a dead owner (LFQ_REC_TAIL_RECOVER); the spin bounds (a
 * waiter waits, a give-up is a nondeterministic choice).
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   SNAP_NO_TAIL_RECHECK the snapshot keeps a copy without reading tail
 *                        again (misses a producer's overwrite)
 *   SNAP_NO_HDR_RECHECK  it keeps a copy without reading the header again
 *                        (misses a release in a held run beyond tail)
 *   SNAP_CHECK_NO_OWNER  its check after the copy ignores an owner at the
 *                        record (a reclaimer zeroing it before its tail)
 *   NO_RELEASE_MARK      the consumer zeroes without marking RELEASED
 *   TAIL_BEFORE_ZERO     the reclaimer stores the new tail before zeroing
 *   RECLAIM_UNCOMMITTED  it zeroes the record at tail committed or not
 *   CONSUMER_NO_OWN      the consumer reads from tail without owning it
 * Not a mutation: HEADER_BEFORE_OWN (the reclaimer reads the header at
 * the tail it read, then owns tail) verifies: the CAS from that same t
 * fails if tail moved, and while tail stays at t only the commit of the
 * record at t writes that word (a newer record reaches it only once tail
 * passed t; the consumer marks it only as it moves tail on). A stale
 * header then is only "not committed yet": a needless drop, which is
 * no error (the model's assertions hold).
 */

#define CAP 4
#define MASK (CAP - 1)
#define W(p) ((p) & MASK)
#define LAPS 4
#define LAP(p) (((p) / CAP) % LAPS)
#define RELEASED 4
#define HDR(k, p) ((k) | (LAP(p) << 4))	/* committed at p, k words */
#define SIZE(v) (((v) & 3) + 1)
/* lfq_rec_hdr_state() > 0: a header of p's lap, whatever its flags */
#define COMMITTED(v, p) (((v) & 3) != 0 && ((v) >> 4) == LAP(p))
/* arbitrary data at its worst: a header of the lap before (lap 0: after) */
#define PAYLOAD(me, w) ((w) >= CAP -> HDR(1 + ((me) & 1), (w) - CAP) : \
				      HDR(1 + ((me) & 1), (w) + CAP))
#define ME (1 + id * 2 + seq)	/* record id: 1, 2 (producer 0), 3 */
#define RECLAIM 1
#define HELD 2

byte head;		/* words reserved */
byte tail;		/* words taken and zeroed (the plain value) */
byte tbits;		/* tail's owner bits: 0, RECLAIM or HELD */
byte val[CAP];		/* the ring's words */
byte kind[CAP];		/* ghost: 0 zeroed, 1 committed header, 2 payload,
			 * 3 header of a record taken (kept) */
byte own[CAP];		/* ghost: the record id that wrote the word */
byte at[CAP];		/* ghost: the index it was written for */
byte fate[4];		/* ghost, per record: 1 committed, 2 consumed,
			 * 3 overwritten */
byte done;		/* producers finished */

#define FREE(w) (kind[W(w)] == 0 || kind[W(w)] == 3)
#define MINE(w, me) (kind[W(w)] == 2 && own[W(w)] == (me) && at[W(w)] == (w))
/* the record at p, header v: its payload, its producer's */
#define WHOLE(p, v, me) (MINE((p) + 1, me) && \
			 (((v) & 3) == 1 || MINE((p) + 2, me)))

inline zero1(w)
{
	val[W(w)] = 0; kind[W(w)] = 0; own[W(w)] = 0; at[W(w)] = 0
}

/* lfq_rec_zero(): the payload words of the record with header v at p */
inline zero(p, v)
{
	zero1(p + 1);
	if
	:: (v & 3) >= 2 -> zero1(p + 2)
	:: else -> skip
	fi
}

inline write1(w, me)
{
	assert(FREE(w));
	val[W(w)] = PAYLOAD(me, w); kind[W(w)] = 2; own[W(w)] = me; at[W(w)] = w
}

proctype producer(byte id; byte nrec)
{
	byte seq, h, t, b, k, hv;

	do
	:: seq == nrec -> break
	:: else ->
		if
		:: k = 1
		:: k = 2
		fi;
retry:
		h = head;
		atomic { t = tail; b = tbits };	/* acquire: the raw tail */
		if
		:: h + k + 1 - t <= CAP ->
			if
			:: atomic { head == h -> head = h + k + 1; t = 0; b = 0 }
			:: atomic { head != h -> skip }; goto retry
			fi
		:: else ->
			/* lfq_rec_reclaim() */
#ifdef HEADER_BEFORE_OWN
			hv = val[W(t)];	/* the old order: header, then tail */
#endif
			do
			:: b == RECLAIM ->	/* another's overwrite */
				if
				:: atomic { tail != t -> b = 0 }; goto retry
				:: atomic { tail == t && tbits != RECLAIM ->
					    b = tbits }
				:: goto next	/* spins out: a drop */
				fi
			:: else -> break
			od;
			if
			:: b != 0 -> goto next	/* the consumer holds it */
			:: else -> skip
			fi;
			if
			:: atomic { tail == t && tbits == 0 -> tbits = RECLAIM }
			:: atomic { !(tail == t && tbits == 0) -> b = 0 };
				goto retry
			fi;
			atomic {
#ifndef HEADER_BEFORE_OWN
				hv = val[W(t)];	/* acquire, tail owned */
#endif
				if
#ifdef RECLAIM_UNCOMMITTED
				:: true ->
#else
				:: COMMITTED(hv, t) ->
#endif
					assert(kind[W(t)] == 1 && at[W(t)] == t);
					assert(fate[own[W(t)]] == 1);
					fate[own[W(t)]] = 3;
					kind[W(t)] = 3
				:: else ->	/* being written: give tail back */
					assert(tail == t && tbits == RECLAIM);
					tbits = 0;
					goto next
				fi
			};
#ifdef TAIL_BEFORE_ZERO
			atomic {
				assert(tail == t && tbits == RECLAIM);
				tail = t + SIZE(hv); tbits = 0
			};
#endif
			atomic { zero(t, hv) };
#ifndef TAIL_BEFORE_ZERO
			atomic {	/* release: ends the ownership */
				assert(tail == t && tbits == RECLAIM);
				tail = t + SIZE(hv); tbits = 0
			};
#endif
			hv = 0;
			goto retry
		fi;
		atomic {
			write1(h + 1, ME);
			if
			:: k == 2 -> write1(h + 2, ME)
			:: else -> skip
			fi
		};
		/* Commit: its payload still its own, the header last. */
		atomic {
			assert(WHOLE(h, k, ME));
			assert(FREE(h));
			val[W(h)] = HDR(k, h); kind[W(h)] = 1;
			own[W(h)] = ME; at[W(h)] = h;
			fate[ME] = 1
		};
next:
		atomic { seq++; h = 0; t = 0; b = 0; k = 0; hv = 0 }
	od;
	done++
}

#define END (done == 2 && tail == head)

/* the consumer reads the header at p (part of lfq_rec_peek_batch()) */
inline hdr(p, v, m)
{
	atomic { v = val[W(p)]; m = own[W(p)] }	/* acquire */
}

/* the record it returns (lfq_rec_batch_next()): committed, whole */
inline deliver(p, v, m)
{
	atomic {
		assert(kind[W(p)] == 1 && at[W(p)] == p);
		assert(WHOLE(p, v, m));
		assert(fate[m] == 1);
		fate[m] = 2
	}
}

/* lfq_rec_mark_released(): a header kept, marked (ghost: kind 3) */
inline mark(p)
{
#ifndef NO_RELEASE_MARK
	val[W(p)] = val[W(p)] | RELEASED;
#endif
	kind[W(p)] = 3
}

active proctype consumer()
{
	byte t, h1, m1, h2, m2;

	do
	:: END -> break
#ifdef CONSUMER_NO_OWN
	:: atomic { !END -> t = tail };
#else
	/* lfq_rec_own(): CAS t -> t|HELD (it waits while tail is owned) */
	:: atomic { !END && tbits == 0 -> tbits = HELD; t = tail };
#endif
		hdr(t, h1, m1);
		if
		:: !COMMITTED(h1, t) ->	/* lfq_rec_disown(), then a wait */
#ifndef CONSUMER_NO_OWN
			atomic { assert(tail == t && tbits == HELD); tbits = 0 };
#endif
			(tail != t || val[W(t)] != h1 || END)
		:: else ->
			deliver(t, h1, m1);
			if
			:: SIZE(h1) == 2 ->	/* room in the run for a second */
				hdr(t + 2, h2, m2);
				if
				:: COMMITTED(h2, t + 2) && SIZE(h2) == 2 ->
					deliver(t + 2, h2, m2)
				:: else -> h2 = 0
				fi
			:: true -> skip	/* max 1 */
			fi;
			/* lfq_rec_release_batch(): marks, zeroing, tail */
			atomic {
				mark(t);
				if
				:: h2 != 0 -> mark(t + 2)
				:: else -> skip
				fi
			};
			atomic {
				zero(t, h1);
				if
				:: h2 != 0 -> zero(t + 2, h2)
				:: else -> skip
				fi
			};
			atomic {	/* release: ends the ownership */
#ifndef CONSUMER_NO_OWN
				assert(tail == t && tbits == HELD);
#endif
				tail = t + SIZE(h1) + (h2 != 0 -> SIZE(h2) : 0);
				tbits = 0
			}
		fi;
		atomic { t = 0; h1 = 0; m1 = 0; h2 = 0; m2 = 0 }
	od;
	assert(fate[1] != 1 && fate[2] != 1 && fate[3] != 1)
}

active proctype snapshot()
{
	byte pos, end, p, hv, me, t, b;
	bool whole;

	pos = tail;	/* acquire, masked */
	atomic {
		end = head;
		if
		:: end > pos + CAP -> end = pos + CAP
		:: else -> skip
		fi
	};
	do
	:: pos >= end -> break
	:: else ->
		atomic {	/* the header (acquire) */
			hv = val[W(pos)];
			whole = (kind[W(pos)] == 1 && at[W(pos)] == pos);
			me = own[W(pos)]
		};
		atomic { t = tail; b = tbits };	/* then tail (acquire) */
		if
		:: t > pos -> pos = t	/* overwritten: jump */
		:: t <= pos && !COMMITTED(hv, pos) -> break
		:: t <= pos && COMMITTED(hv, pos) ->
			p = pos;
			pos = pos + SIZE(hv);
			if
			:: (t == p && b != 0) || (hv & RELEASED) -> skip
			:: else ->
				/* lfq_rec_snap_copy() */
				whole = whole && WHOLE(p, hv, me);
				/* lfq_rec_snap_check() */
#ifndef SNAP_NO_HDR_RECHECK
				if
				:: val[W(p)] != hv -> goto torn
				:: else -> skip
				fi;
#endif
#ifndef SNAP_NO_TAIL_RECHECK
				atomic { t = tail; b = tbits };
				if
#ifdef SNAP_CHECK_NO_OWNER
				:: t > p -> goto torn
#else
				:: t > p || (t == p && b != 0) -> goto torn
#endif
				:: else -> skip
				fi;
#endif
				assert(whole);	/* kept */
torn:
				skip
			fi
		fi;
		atomic { p = 0; hv = 0; me = 0; t = 0; b = 0; whole = 0 }
	od
}

init {
	atomic {
		run producer(0, 2);
		run producer(1, 1)
	}
}
