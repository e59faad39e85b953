/*
 * mpmc.pml - SPIN model of the MPMC ring (kmod/proto/lfq_mpmc.h): two
 * producers and two consumers on a ring of CAP slots, for two laps.
 *
 * Producers reserve by CAS on head, as MPSC producers do, after reading
 * the release word of the slot's previous lap (index - CAP) to check that
 * a consumer is done with it; they write the slot and store its commit
 * word (index + 1). Consumers claim the slot at the shared claim index by
 * CAS, after reading its commit word to check it is committed; they read
 * the slot and store its release word (index + 1), in any order relative
 * to the other consumer. Words are never reset: their value names a lap.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - every message is delivered exactly once (assert, and the end check),
 *   - a consumer reads a slot that holds the record it claimed, and no
 *     producer writes a slot while a consumer reads it (assert),
 *   - no two producers are ever inside the same slot (assert).
 *
 * Mutations, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs them):
 *   CLAIM_INDEX_ONLY  producers trust the claim index for space (as an
 *                     MPSC producer trusts tail), not the release words
 *   NO_COMMIT_CHECK   consumers claim without reading the commit word
 *   RELEASE_BEFORE_READ consumers store the release word, then read
 *   CLAIM_NO_CAS      consumers take the claim index with a plain store
 */

#define CAP 2
#define MASK (CAP - 1)
#define PER 2			/* messages per producer */
#define TOTAL 4			/* 2 producers * PER */

byte head;		/* next index to reserve (producers' CAS) */
byte chead;		/* next index to claim (consumers' CAS) */
byte commit[CAP];	/* index + 1 of the last record committed there */
byte release[CAP];	/* index + 1 of the last record released there */
byte owner[CAP];	/* index of the record the slot's bytes hold */
byte writing[CAP];	/* producers inside the slot */
byte reading[CAP];	/* consumers inside the slot */
bool seen[TOTAL];	/* delivered */
byte taken;		/* claims made, for the consumers to stop */

/* As in lap.pml: is index @i done going by word @v (0 names index 255)? */
#define LAPS(v, i)	(((i) - ((v) - 1)) & 255)
#define DONE(v, i)	(LAPS(v, i) == 0 || LAPS(v, i) >= 128)

proctype producer()
{
	byte n = 0, h, v, slot;
	bool got;

	do
	:: n == PER -> break
	:: else ->
		h = head;
#ifdef CLAIM_INDEX_ONLY
		v = chead;
		got = ((h - v) & 255) < CAP;
#else
		v = release[h & MASK];	/* acquire: lfq_mpmc_lap_free() */
		got = DONE(v, h - CAP);
#endif
		if
		:: got ->
			atomic {	/* CAS on head */
				if
				:: head == h -> head = h + 1
				:: else -> got = false
				fi
			}
		:: else -> skip		/* full: try again */
		fi;
		if
		:: got ->
			slot = h & MASK;
			writing[slot]++;
			assert(writing[slot] == 1);
			assert(reading[slot] == 0);
			owner[slot] = h;
			writing[slot]--;
			commit[slot] = h + 1;	/* release */
			n++
		:: else -> skip
		fi
	od
}

proctype consumer()
{
	byte c, v, slot;
	bool got;

	do
	:: taken == TOTAL -> break
	:: else ->
		c = chead;
		v = commit[c & MASK];	/* acquire */
#ifdef NO_COMMIT_CHECK
		got = (c < TOTAL);
#else
		got = (v == c + 1);
#endif
		if
		:: got ->
#ifdef CLAIM_NO_CAS
			chead = c + 1;
			taken++;
#else
			atomic {	/* CAS on the claim index */
				if
				:: chead == c -> chead = c + 1; taken++
				:: else -> got = false
				fi
			}
#endif
		:: else -> skip		/* nothing ready: try again */
		fi;
		if
		:: got ->
			slot = c & MASK;
#ifdef RELEASE_BEFORE_READ
			release[slot] = c + 1;
#endif
			reading[slot]++;
			assert(writing[slot] == 0);
			assert(owner[slot] == c);
			assert(!seen[c]);
			seen[c] = true;
			reading[slot]--;
#ifndef RELEASE_BEFORE_READ
			release[slot] = c + 1;	/* release */
#endif
		:: else -> skip
		fi
	od
}

init {
	byte i;

	atomic {
		run producer();
		run producer();
		run consumer();
		run consumer()
	}
	_nr_pr == 1;
	for (i : 0 .. TOTAL - 1) {
		assert(seen[i])
	}
}
