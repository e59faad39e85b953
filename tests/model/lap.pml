/*
 * lap.pml - SPIN model of the MPSC ring against a consumer that forges
 * its tail (kmod/proto/lfq_mpsc.h, lfq_mpsc_lap_free()): the
 * CVE-2024-41009 class. The consumer writes tail = head at any moment,
 * claiming records that producers are still writing; producers reserve
 * by CAS on head as in mpsc.pml and, before the CAS, read the commit
 * word of the slot to check that its previous lap (index - CAP) is done.
 * A reservation that fails counts as a drop, as a kernel producer's does.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - no two producers are ever inside the same slot (assert),
 *   - a record is intact when its producer publishes it (assert).
 *
 * Mutation, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs it):
 *   NO_LAP_GUARD    reserve trusts the consumer's tail alone
 */

#define CAP 2
#define MASK (CAP - 1)
#define TRIES 3			/* reservations each producer attempts */
#define LIES 2			/* times the consumer forges its tail */

byte head;		/* next index to reserve */
byte tail;		/* the consumer's index, forged */
byte commit[CAP];	/* index + 1 of the last record published there */
byte inside[CAP];	/* producers writing the slot */
byte owner[CAP];	/* index of the record the slot's bytes hold */

/*
 * Is index @i done (published) going by commit word @v? The word names
 * the last index published in the slot: @i or a later lap means done.
 * Initially every word is 0: index 255, the lap before index 0..CAP-1.
 */
#define LAPS(v, i)	(((i) - ((v) - 1)) & 255)	/* i - index(v) */
#define DONE(v, i)	(LAPS(v, i) == 0 || LAPS(v, i) >= 128)

proctype producer()
{
	byte n = 0, h, t, v, slot;
	bool got, lap_done;

	do
	:: n == TRIES -> break
	:: else ->
		h = head;
		t = tail;		/* acquire */
		v = commit[h & MASK];	/* acquire: lfq_mpsc_lap_free() */
#ifdef NO_LAP_GUARD
		lap_done = true;
#else
		lap_done = DONE(v, h - CAP);
#endif
		atomic {		/* CAS on head */
			if
			:: head == h && ((h - t) & 255) < CAP && lap_done ->
				head = h + 1; got = true
			:: else -> got = false
			fi
		}
		if
		:: got ->
			slot = h & MASK;
			inside[slot]++;
			owner[slot] = h;
			assert(inside[slot] == 1);
			assert(owner[slot] == h);
			inside[slot]--;
			commit[slot] = h + 1	/* release */
		:: else -> skip		/* a drop */
		fi;
		n++
	od
}

proctype liar()
{
	byte k;

	for (k : 1 .. LIES) {
		tail = head
	}
}

init {
	atomic {
		run producer();
		run producer();
		run liar()
	}
}
