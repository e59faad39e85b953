/*
 * rec_mpmc_recover.pml - SPIN model of the crash safety of MPMC record
 * queues (kmod/proto/lfq_rec_mpmc.h: lfq_rec_mpmc_take()'s claim record,
 * lfq_rec_mpmc_recover(); the kernel's run is lfq_cclaims_recover_rec()).
 * The ring of rec_mpmc.pml (records of 1 or 2 payload words behind a
 * header word, 4 words, one producer of 3 records so it wraps), a live
 * consumer L and a consumer D that may die at any step of a take and
 * release: after writing its claim record and before its compare-and-
 * swap of claim, holding its record, after zeroing it and before its
 * mark, or after its mark and before its advance. Once D is dead the
 * recovery reads claim, then copies L's claim record, then looks at the
 * record D's claim names: taken (claim past its end), a committed header
 * of its lap, not released, of the claim's length, not covered by L's
 * claim, tail not past it, the header unchanged since the copy: it zeroes
 * the payload and marks the header by compare-and-swap (lost, not
 * redelivered). Covered, it waits and tries again. Then it advances.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - every record is delivered (its consumer's mark) or lost (the
 *     recovery's), never both (assert and the end check);
 *   - L reads only the payload of the record it took; producers write
 *     only words that were zeroed or headers tail passed (assert): the
 *     recovery never zeroes or marks what L holds or a later lap wrote;
 *   - nobody waits forever: the producer and L finish, tail reaches head,
 *     and the recovery finishes after D's death (no invalid end state).
 *
 * Mutations, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs them):
 *   NO_RECOVERY        nobody releases a dead consumer's record
 *   IGNORE_LIVE        the recovery releases what L's claim covers
 *   NO_CLEAR           a consumer keeps its claim record while it waits
 *                      (a stale one covers D's record for good)
 *   CLAIM_AFTER_COPY   the recovery reads claim after copying L's claim
 *                      record (a record L took in between is in neither)
 *   NO_TAKEN_CHECK     the recovery releases a record claim has not
 *                      passed (D died before its compare-and-swap)
 */

#define CAP 4
#define MASK (CAP - 1)
#define TOTAL 3
#define RELEASED 8
#define LAPS 4
#define LAP(p) (((p) / CAP) % LAPS)
#define HDR(k, p) ((k) | (LAP(p) << 4))
#define HLAP(v) ((v) >> 4)
#define L 0
#define D 1
/* lfq_mpsc_claimed(): a non-empty range [s, e) covering @i */
#define COVERS(s, e, i)	((e) > (s) && (i) >= (s) && (i) < (e))

byte head;		/* words reserved */
byte claim;		/* words taken (consumers' CAS) */
byte tail;		/* words released and passed */
byte val[CAP];		/* a word as a read sees it: 0 = none */
byte kind[CAP];		/* 0 zeroed, 1 header, 2 payload, 3 a header tail
			 * passed (kept), 4 a RELEASED header not passed */
byte owner[CAP];	/* which record: 1 + seq */
byte at[CAP];		/* the index it was written for */
byte cs[2];		/* claim records: [cs, ce) */
byte ce[2];
byte claimed;		/* records taken */
bool delivered[TOTAL];	/* marked released by the consumer that read it */
bool lost[TOTAL];	/* marked released by the recovery */
bool dead;
byte fin;		/* producer and consumers finished */
bool recovered;

proctype producer()
{
	byte seq = 0, h, t, k, i;

	do
	:: seq == TOTAL -> break
	:: else ->
		if
		:: k = 1
		:: k = 2
		fi;
retry:
		h = head;
		t = tail;	/* acquire: the zeroing below it is visible */
		if
		:: atomic { h + k + 1 - t <= CAP -> head = h + k + 1 }
		:: atomic { h + k + 1 - t > CAP } ->
			(tail != t);	/* wait for space, no spin */
			goto retry
		fi;
		i = 1;
		do
		:: i > k -> break
		:: else ->
			assert(kind[(h + i) & MASK] == 0 ||
			       kind[(h + i) & MASK] == 3);
			atomic {
				/* The worst payload: a next lap's header. */
				val[(h + i) & MASK] = HDR(1, h + i + CAP);
				kind[(h + i) & MASK] = 2;
				owner[(h + i) & MASK] = 1 + seq;
				at[(h + i) & MASK] = h + i
			}
			i++
		od;
		assert(kind[h & MASK] == 0 || kind[h & MASK] == 3);
		atomic { val[h & MASK] = HDR(k, h); kind[h & MASK] = 1;
			 owner[h & MASK] = 1 + seq; at[h & MASK] = h }
		seq++
	od;
	fin++
}

/*
 * While the header at tail is a RELEASED header of tail's lap, CAS past,
 * no further than claim as read once on entry.
 */
inline advance(t, hv, cl)
{
	cl = claim;
	do
	:: t = tail;
	   hv = val[t & MASK];
	   if
	   :: (hv & RELEASED) && HLAP(hv) == LAP(t) &&
	      t + (hv & 3) + 1 <= cl -> skip
	   :: else -> break
	   fi;
	   atomic {
		if
		:: tail == t ->
			tail = t + (hv & 3) + 1;
			kind[t & MASK] = 3; owner[t & MASK] = 0;
			at[t & MASK] = 0
		:: else -> skip
		fi
	   }
	od
}

/* A committed header of @c's lap, not released, at @c. */
#define READY(c)	(val[(c) & MASK] != 0 && \
			 (val[(c) & MASK] & RELEASED) == 0 && \
			 HLAP(val[(c) & MASK]) == LAP(c))
#ifdef NO_CLEAR
#define CLEAR(id)	skip
#else
#define CLEAR(id)	ce[id] = cs[id]
#endif

/* D may die here (once), or go on. */
inline may_die(id)
{
	if
	:: id == D && !dead -> dead = true; goto gone
	:: true -> skip
	fi
}

proctype consumer(byte id)
{
	byte c, hv, k, i, me, t, av, acl;

	do
	:: true ->
		c = claim;
		/*
		 * A take that ends with nothing (lfq_rec_mpmc_none()) empties
		 * the claim record, before its caller waits or stops; one
		 * that finds a header writes a new one. A record left by a
		 * lost compare-and-swap lasts until one of the two.
		 */
		if
		:: atomic { claimed == TOTAL -> CLEAR(id) } -> break
		:: atomic { READY(c) -> hv = val[c & MASK] }
		:: atomic { claim != c } -> goto next
		:: atomic { claimed != TOTAL && claim == c && !READY(c) ->
			    CLEAR(id) } ->
			(claim != c || READY(c) || claimed == TOTAL);
			goto next
		fi;
		k = hv & 3;
		/* The claim record, before the compare-and-swap. */
		cs[id] = c;
		ce[id] = c + k + 1;
		may_die(id);
		if
		:: atomic { claim == c -> claim = c + k + 1; claimed++;
			    me = owner[c & MASK] }
		:: atomic { claim != c } -> goto next
		fi;
		may_die(id);	/* holding it */
		assert(kind[c & MASK] == 1 && at[c & MASK] == c &&
		       val[c & MASK] == hv);
		i = 1;
		do
		:: i > k -> break
		:: else ->
			assert(kind[(c + i) & MASK] == 2 &&
			       owner[(c + i) & MASK] == me &&
			       at[(c + i) & MASK] == c + i);
			i++
		od;
		/* Release: zero the payload, mark, advance. */
		i = 1;
		do
		:: i > k -> break
		:: else ->
			atomic {
				assert(owner[(c + i) & MASK] == me);
				val[(c + i) & MASK] = 0;
				kind[(c + i) & MASK] = 0;
				owner[(c + i) & MASK] = 0;
				at[(c + i) & MASK] = 0
			}
			i++
		od;
		may_die(id);	/* zeroed, not marked */
		atomic {
			assert(val[c & MASK] == hv && !lost[me - 1] &&
			       !delivered[me - 1]);
			val[c & MASK] = hv | RELEASED;
			kind[c & MASK] = 4;
			delivered[me - 1] = true
		}
		may_die(id);	/* marked, no advance */
		advance(t, av, acl);
next:		skip
	od;
gone:
	fin++
}

proctype recovery()
{
	byte t, tt, s, e, ls, le, h, i, me, covered, av, at2, acl;

end_alive:
	(dead);
#ifndef NO_RECOVERY
	/* The dead claim, as the kernel copies it when the file goes. */
	s = cs[D];
	e = ce[D];
	do
	::
#ifdef CLAIM_AFTER_COPY
		ls = cs[L];
		le = ce[L];
		t = claim;
#else
		t = claim;	/* acquire, then the live claims */
		ls = cs[L];
		le = ce[L];
#endif
		covered = 0;
		h = val[s & MASK];
		if
		:: e == s -> skip				/* empty */
#ifndef NO_TAKEN_CHECK
		:: e != s && e > t -> skip			/* not taken */
#endif
		:: h == 0 || (h & RELEASED) || HLAP(h) != LAP(s) ||
		   (h & 3) + 1 != e - s -> skip	/* released, or another lap */
		:: else ->
#ifndef IGNORE_LIVE
			if
			:: COVERS(ls, le, s) -> covered = 1
			:: else ->
#endif
				tt = tail;
				if
				:: tt > s -> skip		/* passed */
				:: val[s & MASK] != h -> skip	/* changed */
				:: else ->
					me = owner[s & MASK];
					i = 1;
					do
					:: i > (h & 3) -> break
					:: else ->
						atomic {
							/* Its payload, or zeroed by D. */
							assert(kind[(s + i) & MASK] == 0 ||
							       owner[(s + i) & MASK] == me);
							val[(s + i) & MASK] = 0;
							kind[(s + i) & MASK] = 0;
							owner[(s + i) & MASK] = 0;
							at[(s + i) & MASK] = 0
						}
						i++
					od;
					atomic {
						if
						:: val[s & MASK] == h ->
							assert(!delivered[me - 1] &&
							       !lost[me - 1]);
							val[s & MASK] = h | RELEASED;
							kind[s & MASK] = 4;
							lost[me - 1] = true
						:: else -> skip
						fi
					}
				fi
#ifndef IGNORE_LIVE
			fi
#endif
		fi;
		if
		:: covered == 0 -> break
		:: else ->	/* later: released, or no longer covered */
			(val[s & MASK] != h || !COVERS(cs[L], ce[L], s))
		fi
	od;
	/* A releaser that died between its mark and its advance. */
	advance(at2, av, acl);
#endif
	recovered = true
}

init {
	byte i;

	atomic {
		run producer();
		run consumer(L);
		run consumer(D);
		run recovery()
	}
	(fin == 3 && (recovered || !dead));
	assert(tail == head && claim == head);
	for (i : 0 .. TOTAL - 1) {
		assert(delivered[i] != lost[i])
	}
}
