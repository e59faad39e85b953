/*
 * rec_lap_guard.pml - SPIN model of the record lap guard's claim marks
 * (kmod/proto/lfq_rec.h: lfq_rec_reserve(), lfq_rec_claim_promote(),
 * lfq_rec_publish(); kmod/core/lfq_claims.c: lfq_kclaims_lap_guard()).
 *
 * A process producer P stores its claim marked pending (held, not won)
 * before its compare-and-swap of head, promotes the mark by a
 * compare-and-swap of the claim once the range is its own, writes the
 * record, takes the mark off and publishes. A kernel producer K, before
 * its compare-and-swap of head, refuses a range a lap ahead of a held
 * claim and drops (by compare-and-swap) the mark of a pending one a lap
 * behind. Records are one unit; the ring holds CAP. The consumer is
 * chosen honest (it consumes published records in order) or a liar (it
 * also forges tail = head, LIES times). P's writing ends where it takes
 * its mark off; the store of its header comes after (lfq_rec_publish()),
 * so a forged tail can still make K write over a record whose payload
 * is complete and whose header is not yet stored (docs/RECORDS.md).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - K never writes a unit while P writes an older record there: a
 *     forged tail never makes the kernel write over a record being
 *     written (assert, at either one's start). P writing over K's
 *     record a lap ahead is not checked: process producers run no guard.
 *   - With an honest consumer K never refuses and P's promotion never
 *     fails: nothing honest is refused (assert).
 *
 * Mutations, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs them):
 *   MARK_AFTER_CAS  the previous protocol: no pending mark, P stores its
 *                   held mark after its compare-and-swap (a window)
 *   PLAIN_PROMOTE   P promotes its mark by a plain store
 *   PENDING_HELD    K refuses on a pending mark as on a held one
 *   PLAIN_DROP      K drops a pending mark by a plain store
 *
 * K reads a claim GTRIES times at most, as the kernel's guard does
 * (LFQ_GUARD_TRIES), then refuses. SPIN interleaves sequentially
 * consistent steps: the barriers are ORDERING rec-lap-guard's to name.
 */

#define CAP	2
#define MASK	(CAP - 1)
#define PTRIES	2	/* reservations P attempts */
#define KTRIES	3	/* reservations K attempts */
#define LIES	2	/* times a liar forges its tail */
#define GTRIES	4	/* LFQ_GUARD_TRIES */
#define HELD	1	/* LFQ_REC_CLAIM_HELD */
#define WON	2	/* LFQ_REC_CLAIM_WON */

/* a < b, indices modulo 256 */
#define LT(a, b)	((((b) - (a)) & 255) != 0 && (((b) - (a)) & 255) < 128)

byte head;		/* next index to reserve */
byte tail;		/* the consumer's index, maybe forged */
byte cs;		/* P's claim: its start ... */
byte cf;		/* ... and its flags, one word in lfq_mpsc_claim */
byte commit[CAP];	/* index + 1 of the last record published there */
bool pin[CAP];		/* P writing the unit ... */
byte pidx[CAP];		/* ... the record of this index */
bool kin[CAP];		/* K writing the unit ... */
byte kidx[CAP];		/* ... the record of this index */
bool liar;

proctype process()
{
	byte n = 0, h, t, slot;
	bool won, ok;

	do
	:: n == PTRIES -> break
	:: else ->
		h = head;
		t = tail;		/* acquire */
		if
		:: ((h - t) & 255) >= CAP -> skip	/* full */
		:: else ->
#ifndef MARK_AFTER_CAS
			atomic { cs = h; cf = HELD };	/* pending */
#endif
			atomic {		/* the CAS of head */
				if
				:: head == h -> head = h + 1; won = true
				:: else -> won = false
				fi
			}
			if
			:: won ->
#ifdef MARK_AFTER_CAS
				atomic { cs = h; cf = HELD | WON };
				ok = true;
#else
#ifdef PLAIN_PROMOTE
				cf = HELD | WON;
				ok = true;
#else
				atomic {	/* lfq_rec_claim_promote() */
					if
					:: cs == h && cf == HELD ->
						cf = HELD | WON; ok = true
					:: else -> ok = false
					fi
				}
#endif
#endif
				if
				:: ok ->
					slot = h & MASK;
					atomic {
						assert(!kin[slot] ||
						       !LT(h, kidx[slot]));
						pin[slot] = true;
						pidx[slot] = h
					}
					pin[slot] = false;
					cf = WON;		/* unmark */
					commit[slot] = h + 1	/* publish */
				:: else ->
					/* the guard gave its bytes away */
					assert(liar);
					cf = 0
				fi
			:: else -> skip
			fi
		fi;
		n++
	od
}

proctype kernel()
{
	byte n = 0, h, t, s, f, floor, slot, verdict, reads;
	bool got;

	do
	:: n == KTRIES -> break
	:: else ->
		h = head;
		t = tail;		/* acquire */
		got = false;
		if
		:: ((h - t) & 255) >= CAP -> skip	/* full: a drop */
		:: else ->
			floor = h + 1 - CAP;
			verdict = 2;	/* 0 pass, 1 refuse, 2 read again */
			reads = 0;
			do
			:: verdict != 2 -> break
			:: verdict == 2 && reads == GTRIES -> verdict = 1
			:: verdict == 2 && reads < GTRIES ->
				reads++;
				atomic { s = cs; f = cf };
				if
				:: !(f & HELD) || !LT(s, floor) -> verdict = 0
				:: else ->
					if
					:: f & WON -> verdict = 1
					:: else ->
#ifdef PENDING_HELD
						verdict = 1
#elif defined(PLAIN_DROP)
						cf = f & ~HELD;
						verdict = 0
#else
						atomic {
							if
							:: cs == s && cf == f ->
								cf = f & ~HELD;
								verdict = 0
							:: else -> skip
							fi
						}
#endif
					fi
				fi
			od;
			if
			:: verdict == 1 -> assert(liar)	/* refused */
			:: else ->
				atomic {	/* the CAS of head */
					if
					:: head == h -> head = h + 1; got = true
					:: else -> skip
					fi
				}
			fi
		fi;
		if
		:: got ->
			slot = h & MASK;
			atomic {
				assert(!pin[slot] || !LT(pidx[slot], h));
				kin[slot] = true;
				kidx[slot] = h
			}
			kin[slot] = false;
			commit[slot] = h + 1	/* publish */
		:: else -> skip
		fi;
		n++
	od
}

proctype consumer()
{
	byte lies = 0;

end:	do
	:: commit[tail & MASK] == tail + 1 -> tail = tail + 1
	:: liar && lies < LIES -> tail = head; lies++
	od
}

init {
	atomic {
		if
		:: liar = true
		:: liar = false
		fi;
		run process();
		run kernel();
		run consumer()
	}
}
