/*
 * rec_mpmc_wake.pml - SPIN model of a consumer's sleep on an MPMC record
 * queue (kmod/proto/lfq_ready.h, lfq_rec_ready_data() for a ring with a
 * claim index): the waiter arms need_data, then reads claim and the
 * header there, and sleeps if nothing is to take. Other consumers move
 * claim and release records, and wake nobody: only commits wake. So a
 * waiter that read claim just before another consumer took and released
 * the record there reads a RELEASED header at a stale claim, while a
 * record committed behind it (its commit saw no sleeper yet) waits at
 * the new claim. The check re-reads claim after the header and calls the
 * ring ready if it moved (a spurious wakeup at worst).
 *
 * A producer commits 2 records (each a header word, the payload left
 * out) and wakes a sleeper it sees armed; consumer M takes one record
 * and stops; consumer C takes records until both are taken, sleeping
 * when the check says nothing is there. Sequentially consistent: the
 * store-buffering pair of arm and commit is wake_asym.pml's; this model
 * is about the stale claim.
 *
 * Checked properties (spin -a; pan, exhaustive): every record is taken
 * once (assert), and C never sleeps for good while a record waits
 * (invalid end state).
 *
 * Mutation, selected with -D and required to FAIL the check
 * (tests/model/check.sh runs it):
 *   NO_CLAIM_RECHECK   the check trusts the claim it read first
 */

#define N 2
#define RELEASED 2

byte hdr[N];		/* 0 none, 1 committed, 1 | RELEASED released */
byte claim;
bool armed;		/* need_data */
bool woken;
byte taken;
bool got[N];

proctype producer()
{
	byte i;

	for (i : 0 .. N - 1) {
		hdr[i] = 1;		/* commit, then the barrier, then: */
		atomic {
			if
			:: armed -> armed = false; woken = true
			:: else -> skip
			fi
		}
	}
}

/* Take the record at claim if it is committed and not released. */
inline take(c, ok)
{
	atomic {
		c = claim;
		if
		:: c < N && hdr[c] == 1 ->
			claim = c + 1;
			assert(!got[c]);
			got[c] = true;
			taken++;
			ok = true
		:: else -> ok = false
		fi
	}
}

proctype consumer_m()
{
	byte c;
	bool ok;

	do
	:: take(c, ok);
	   if
	   :: ok -> hdr[c] = 1 | RELEASED; break	/* released; M stops */
	   :: else -> skip
	   fi
	:: taken == N -> break
	od
}

proctype consumer_c()
{
	byte c, t, h;
	bool ok, ready;

	do
	:: taken == N -> break
	:: else ->
		take(c, ok);
		if
		:: ok -> hdr[c] = 1 | RELEASED
		:: else ->
			/* lfq_rec_ready_data() with arm, then the sleep. */
			armed = true;
			t = claim;
			h = (t < N -> hdr[t] : 0);
#ifdef NO_CLAIM_RECHECK
			ready = (h == 1);
#else
			ready = (h == 1) || claim != t;
#endif
			if
			:: ready -> armed = false
			:: else ->
				(woken || taken == N);
				woken = false
			fi
		fi
	od
}

init {
	atomic {
		run producer();
		run consumer_m();
		run consumer_c()
	}
	(_nr_pr == 1);
	assert(taken == N)
}
