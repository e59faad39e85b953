/*
 * claims.pml - SPIN model of MPSC crash safety (kmod/proto/lfq_mpsc.h,
 * kmod/lfq_claims.c): producers write the range they are about to reserve
 * into their claim record before the CAS that takes it; producer 1 may be
 * killed at any step; its release frees its claim and starts the kernel's
 * orphan scan, which discards every reserved slot below the horizon (head
 * at the death) that is neither committed nor covered by a live claim,
 * and rescans while a slot is uncommitted but covered.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - the scan never discards a slot a live producer holds (assert in the
 *     producer before it commits),
 *   - the consumer reads only fully written slots (assert),
 *   - the consumer never stalls for good: every reserved slot ends up
 *     committed or discarded, and a consumer blocked at a slot nobody
 *     will complete is an invalid end state (pan reports it).
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   CLAIM_AFTER_CAS the claim is written after the reservation's CAS
 *   NO_COVER_CHECK  the scan ignores live claims
 *   NO_RESCAN       the scan gives up on a covered uncommitted slot (a
 *                   live producer's stale claim can hide a dead one's
 *                   reservation: its CAS lost to the dead producer's)
 *   NO_LAP_CHECK    the scan takes a commit word from a later lap for an
 *                   uncommitted one (its tail was stale: the consumer
 *                   moved on and a producer reused the slot)
 */

#define CAP 2
#define PER_PRODUCER 2
#define MASK (CAP - 1)
#define DISC 64			/* LFQ_MPSC_DISCARDED in a byte */

byte head;		/* next index to reserve */
byte tail;		/* next index to consume */
byte commit[CAP];	/* index + 1 committed, (index + 1) | DISC discarded */
bool written[CAP];	/* payload fully written for the current lap */
byte cl_start[2];	/* claim records */
byte cl_end[2];
bool live[2];		/* the producer's file is not released */
bool killme;		/* set at any moment by init: producer 1 dies */
byte horizon;		/* head when the last producer died */
byte ndone;		/* producers finished or dead */
bool scanning;		/* the kernel's scan is queued or running */

/* Does the live claim of @p cover index @i (snapshot in @s, @e)? */
#define COVERS(s, e, i)	((i) - (s) < (e) - (s))
/*
 * Is index @i committed or discarded, going by its slot's commit word @v?
 * The word names the last index written there: @i itself, or a later lap
 * (@i was consumed and the slot reused). Only an earlier index means @i
 * is still outstanding.
 */
#ifdef NO_LAP_CHECK
#define DONE(v, i)	((v) == (i) + 1 || (v) == (((i) + 1) | DISC))
#else
#define LAPS(v, i)	(((i) - ((v) % DISC - 1)) & 255)	/* i - index(v) */
#define DONE(v, i)	(LAPS(v, i) == 0 || LAPS(v, i) >= 128)
#endif

proctype scan()
{
	byte H, T, s, v, cs[2], ce[2];
	bool lv[2], retry;

again:
	retry = false;
	H = head;		/* acquire: pairs with the producers' full CAS */
	lv[0] = live[0]; cs[0] = cl_start[0]; ce[0] = cl_end[0];
	lv[1] = live[1]; cs[1] = cl_start[1]; ce[1] = cl_end[1];
	T = tail;
	s = T;
	do
	:: s != H && (s < horizon) ->
		v = commit[s & MASK];	/* acquire, after the claims */
		if
		:: DONE(v, s) -> skip
#ifndef NO_COVER_CHECK
		:: !DONE(v, s) &&
		   ((lv[0] && COVERS(cs[0], ce[0], s)) ||
		    (lv[1] && COVERS(cs[1], ce[1], s))) ->
			retry = true
#endif
		:: else ->
			/* cmpxchg(v -> discarded) */
			atomic {
				if
				:: commit[s & MASK] == v ->
					commit[s & MASK] = (s + 1) | DISC
				:: else -> skip
				fi
			}
		fi;
		s++
	:: else -> break
	od;
#ifndef NO_RESCAN
	if
	:: retry -> goto again
	:: else -> skip
	fi;
#endif
	scanning = false
}

proctype producer(byte id)
{
	byte seq = 0, h, slot;
	bool got;

	{
		do
		:: seq == PER_PRODUCER -> break
		:: else ->
			h = head;
			if
			:: h - tail < CAP ->
#ifndef CLAIM_AFTER_CAS
				cl_start[id] = h;	/* release */
				cl_end[id] = h + 1;
#endif
				atomic {	/* fully ordered CAS */
					if
					:: head == h -> head = h + 1; got = true
					:: else -> got = false
					fi
				}
#ifdef CLAIM_AFTER_CAS
				if
				:: got -> cl_start[id] = h; cl_end[id] = h + 1
				:: else -> skip
				fi;
#endif
			:: else -> got = false
			fi;
			if
			:: got ->
				slot = h & MASK;
				written[slot] = true;
				/* nobody took our slot from us */
				assert(commit[slot] != ((h + 1) | DISC));
				commit[slot] = h + 1;	/* release */
				seq++
			:: else -> skip
			fi
		od;
		ndone++
	} unless {
		id == 1 && killme ->
		/* release: the claim dies, the scan starts (under a lock) */
		atomic {
			live[id] = false;
			horizon = head;
			scanning = true;
			run scan()
		};
		ndone++
	}
}

proctype consumer()
{
	byte slot;

	do
	:: ndone == 2 && !scanning && tail == head -> break
	:: commit[tail & MASK] == tail + 1 ->	/* acquire */
		slot = tail & MASK;
		assert(written[slot]);
		written[slot] = false;
		tail++
	:: commit[tail & MASK] == ((tail + 1) | DISC) ->
		written[tail & MASK] = false;
		tail++
	od
}

init {
	atomic {
		live[0] = true;
		live[1] = true;
		run producer(0);
		run producer(1);
		run consumer()
	}
	if
	:: killme = true
	:: skip
	fi
}
