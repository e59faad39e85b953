/*
 * mpmc_torn.pml - SPIN model of torn records on the MPMC ring
 * (kmod/proto/lfq_mpsc.h lfq_mpsc_mark(), lfq_mpmc.h lfq_mpmc_torn();
 * ORDERING mpmc-torn in kmod/proto/lfq_rules.h): slot 0 of a two-slot
 * ring, a record of two data words (index 1, in slot 1, plays no part).
 * Index 0 is committed and claimed by an honest consumer at the start. A
 * hostile consumer may forge the slot's release word (index 0 released)
 * at any moment, or never. The producer of index 2, the next lap in the
 * slot, passes its lap check (lfq_mpsc_lap_free(): commit word and
 * release word show index 0 done) only once that word says so, then
 * marks the commit word (with 2, the index being written: what index 1
 * would commit, which lives in the other slot), smp_wmb(), writes both
 * data words and store-releases the commit word (2 + 1). The
 * honest consumer reads both data words, smp_rmb(), and re-reads the
 * commit word: still 0 + 1, it accepts the record; else it drops it as
 * torn. Only then does it store the release word.
 *
 * SPIN interleaves sequentially consistent steps, so the reordering the
 * smp_wmb() forbids is modelled explicitly: the mark goes to a store
 * buffer that drains into memory at any later step; smp_wmb() waits for
 * it before the data stores, and the commit store, to the same word,
 * drains it first (coherence).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - a record the honest consumer accepts is the one committed for
 *     index 0: both words hold index 0's data, never a mix, never index
 *     2's (assert);
 *   - not vacuous: with no forged release word the producer waits for
 *     the honest release and the record is accepted (assert), and the
 *     producer always ends with index 2 committed (assert, at the end).
 *
 * Mutations, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs them):
 *   NO_MARK           the producer writes no mark
 *   NO_RECHECK        the consumer accepts without re-reading the word
 *   MARK_AFTER_DATA   the mark may drain after data stores (smp_wmb()
 *                     missing)
 *   CHECK_BEFORE_DATA the consumer re-reads the word before it reads the
 *                     data (smp_rmb() missing)
 */

#define MARK	2		/* index 2 being written (lfq_mpsc_mark()) */

byte commit = 1;	/* the slot's commit word: index 0 committed */
byte release;		/* its release word: 0 names index 255, released */
byte data[2];		/* the index whose producer wrote each word */
bool pending;		/* the mark in the producer's store buffer */
bool forged;		/* the hostile consumer forged the release word */
bool accepted;		/* the honest consumer accepted its record */
byte finished;		/* producer and honest consumer done */

/* As in lap.pml: is index @i done going by word @v (0 names index 255)? */
#define LAPS(v, i)	(((i) - ((v) - 1)) & 255)
#define DONE(v, i)	(LAPS(v, i) == 0 || LAPS(v, i) >= 128)

active proctype producer()
{
	byte v, r;

	do
	:: v = commit;		/* acquire: lfq_mpsc_lap_free() */
	   r = release;		/* acquire */
	   if
	   :: DONE(v, 0) && DONE(r, 0) -> break
	   :: else -> skip	/* full: try again */
	   fi
	od;
	/* the CAS on head: this producer's alone */
#ifndef NO_MARK
	pending = true;		/* the mark, into the store buffer */
#endif
#ifndef MARK_AFTER_DATA
	!pending;		/* smp_wmb(): the mark before any data */
#endif
	data[0] = 2;
	data[1] = 2;
	atomic { !pending -> commit = 2 + 1 };	/* release */
	finished++
}

/* The store buffer drains at any step. */
active proctype drain()
{
end:	do
	:: atomic { pending -> commit = MARK; pending = false }
	od
}

active proctype hostile()
{
	if
	:: atomic { release = 0 + 1; forged = true }
	:: skip
	fi
}

active proctype honest()
{
	byte d0, d1, v;

#ifdef CHECK_BEFORE_DATA
	v = commit;
#endif
	d0 = data[0];
	d1 = data[1];
#ifdef NO_RECHECK
	v = 0 + 1;
#elif !defined(CHECK_BEFORE_DATA)
	v = commit;		/* after smp_rmb(): lfq_mpmc_torn() */
#endif
	if
	:: v == 0 + 1 ->
		assert(d0 == 0 && d1 == 0);
		accepted = true
	:: else -> skip		/* torn: dropped and counted */
	fi;
	assert(accepted || forged);
	release = 0 + 1;	/* release */
	finished++
}

init {
	finished == 2;
	assert(commit == 2 + 1 && data[0] == 2 && data[1] == 2)
}
