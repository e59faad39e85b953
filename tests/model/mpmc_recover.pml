/*
 * mpmc_recover.pml - SPIN model of MPMC crash safety (kmod/proto/lfq_mpmc.h,
 * lfq_mpmc_claim() and lfq_mpmc_recover()): a producer, a live consumer
 * L, and a consumer D that may die at any step: after writing its claim
 * record and before its compare-and-swap, or after the compare-and-swap
 * and before reading its slot. Once D is dead, recovery releases the
 * slots D claimed but did not release, unless L's claim record covers
 * them (then it tries again: L's record is stale, written before a
 * compare-and-swap that failed, and L empties it before it waits).
 * Recovery reads as the module's does (lfq_cclaims_recover()): the claim
 * index, then a copy of the live records, then the release words.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - every message is delivered to L exactly once or lost with D, never
 *     both (the end check),
 *   - L reads a slot that holds the record it claimed, and no producer
 *     writes a slot L reads (assert),
 *   - nobody waits forever: the producer and L finish, and recovery
 *     finishes after D's death (no invalid end state).
 *
 * Mutations, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs them):
 *   NO_RECOVERY   nobody releases a dead consumer's slots
 *   IGNORE_LIVE   recovery releases what a live claim covers
 *   NO_CLEAR      a consumer keeps a stale record while it waits
 *   SNAPSHOT_BEFORE_TAIL  the live records are copied before the claim
 *                 index is read
 */

#define CAP 2
#define MASK (CAP - 1)
#define TOTAL 4
#define L 0
#define D 1

byte head;		/* next index the producer writes */
byte chead;		/* next index to claim */
byte commit[CAP];	/* index + 1 of the last record committed there */
byte release[CAP];	/* index + 1 of the last record released there */
byte owner[CAP];	/* index of the record the slot's bytes hold */
byte writing[CAP];
byte reading[CAP];
byte cs[2];		/* claim records: [cs, ce) */
byte ce[2];
bool seen[TOTAL];	/* delivered to L */
bool lost[TOTAL];	/* released by recovery */
byte taken;		/* successful claims */
bool dead;
byte fin;		/* producer and consumers finished */
bool recovered;		/* recovery finished */

#define LAPS(v, i)	(((i) - ((v) - 1)) & 255)
#define DONE(v, i)	(LAPS(v, i) == 0 || LAPS(v, i) >= 128)
/* lfq_mpsc_claimed(): a non-empty forward range covering @i */
#define COVERS(s, e, i)	((((e) - (s)) & 255) > 0 && (((e) - (s)) & 255) < 128 && \
			 (((i) - (s)) & 255) < (((e) - (s)) & 255))

proctype producer()
{
	byte h, slot;

	do
	:: head == TOTAL -> break
	:: else ->
		h = head;
		slot = h & MASK;
		/* lfq_mpsc_lap_free(): the previous lap committed and released */
		(DONE(commit[slot], h - CAP) && DONE(release[slot], h - CAP));
		writing[slot]++;
		assert(reading[slot] == 0);
		owner[slot] = h;
		writing[slot]--;
		commit[slot] = h + 1;
		head = h + 1
	od;
	fin++
}

proctype consumer(byte id)
{
	byte c, v, slot;
	bool got;

	do
	:: taken == TOTAL -> break
	:: else ->
		/* wait for a committed slot at the claim index, or the end */
		(commit[chead & MASK] == chead + 1 || taken == TOTAL);
		c = chead;
		v = commit[c & MASK];
		if
		:: v == c + 1 ->
			cs[id] = c;
			ce[id] = c + 1;
			if	/* D may die here, or go on */
			:: id == D && !dead -> dead = true; goto gone
			:: true -> skip
			fi;
			atomic {
				if
				:: chead == c -> chead = c + 1; taken++; got = true
				:: else -> got = false
				fi
			}
			if	/* ... or here, holding its slot */
			:: got && id == D && !dead -> dead = true; goto gone
			:: got ->
				slot = c & MASK;
				reading[slot]++;
				assert(writing[slot] == 0);
				assert(owner[slot] == c);
				seen[c] = true;
				reading[slot]--;
				release[slot] = c + 1
			:: else -> skip	/* lost the race */
			fi
		:: else -> got = false
		fi;
		/*
		 * Nothing taken: lfq_mpmc_claim() tries again, and comes
		 * back with nothing unless a slot is ready: either way the
		 * record no longer covers what another consumer took.
		 */
#ifndef NO_CLEAR
		if
		:: !got -> ce[id] = cs[id]
		:: else -> skip
		fi
#endif
	od;
gone:
	fin++
}

proctype recovery()
{
	byte t, s, e, i, v, covered, ci, ls, le;

end_alive:
	(dead);
#ifndef NO_RECOVERY
	do
	::
#ifdef SNAPSHOT_BEFORE_TAIL
		ls = cs[L];
		le = ce[L];
		t = chead;
#else
		t = chead;
		/* after the claim index: every claim below it is visible */
		ls = cs[L];
		le = ce[L];
#endif
		s = cs[D];
		e = ce[D];
		covered = 0;
		i = s;
		do
		:: ((e - i) & 255) == 0 || ((e - i) & 255) >= 128 -> break
		:: ((t - i) & 255) == 0 || ((t - i) & 255) >= 128 -> break
		:: else ->
#ifndef IGNORE_LIVE
			if
			:: DONE(release[i & MASK], i) -> skip	/* released */
			:: !DONE(release[i & MASK], i) && COVERS(ls, le, i) ->
				covered++;
				ci = i
			:: else ->
#endif
				v = release[i & MASK];
				atomic {
					if
					:: !DONE(v, i) && release[i & MASK] == v ->
						release[i & MASK] = i + 1;
						lost[i] = true
					:: else -> skip
					fi
				}
#ifndef IGNORE_LIVE
			fi;
#endif
			i++
		od;
		if
		:: covered == 0 -> break
		:: else ->	/* later: once it is released or not covered */
			(DONE(release[ci & MASK], ci) || !COVERS(cs[L], ce[L], ci))
		fi
	od;
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
	/* all done; recovery still waits only if D never died */
	(fin == 3 && (recovered || !dead));
	for (i : 0 .. TOTAL - 1) {
		assert(seen[i] != lost[i])
	}
}
