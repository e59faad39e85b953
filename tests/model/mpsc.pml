/*
 * mpsc.pml - SPIN model of the MPSC ring (kmod/proto/lfq_mpsc.h): lock-free
 * reservation by CAS on the shared head, per-slot commit words written
 * out of order, an in-order consumer that stops at the first uncommitted
 * slot, and the need-wakeup handshake between producers and a sleeping
 * consumer. Two producers, one consumer, a ring of CAP slots.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - the consumer reads only fully written slots (assert),
 *   - every message is consumed exactly once, in per-producer order
 *     (asserts on sequence numbers),
 *   - no producer writes a slot the consumer has not released (assert),
 *   - no lost wakeup: a consumer asleep while a message is committed and
 *     every producer is done is an invalid end state (pan reports it).
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   NO_RECHECK      the consumer sleeps without re-reading after arming
 *   FLAG_BEFORE_PUB a producer reads need_data before publishing its
 *                   commit word (the store->load reordering the full
 *                   barrier in lfq_mpsc_commit_check() forbids)
 *   PUB_BEFORE_DATA the commit word is published before the payload
 *                   (a missing release)
 *   NO_SPACE_CHECK  reserve does not compare with the consumer's tail
 */

#ifndef CAP
#define CAP 2
#endif
#define PER_PRODUCER 2
#define TOTAL (2 * PER_PRODUCER)
#define MASK (CAP - 1)

byte head;		/* next index to reserve (prod_ctl->head) */
byte tail;		/* next index to consume (cons_ctl->tail) */
byte commit[CAP];	/* index + 1 once slot (index & MASK) is committed */
byte data_pid[CAP];	/* payload: producer id ... */
byte data_seq[CAP];	/* ... and its sequence number */
bool written[CAP];	/* payload fully written for the current lap */
bool need_data;		/* consumer announced sleep */
bool woken;		/* the wakeup itself (wait queue / futex) */
byte ndone;		/* producers finished */
byte consumed;

/* A producer: reserve one slot, write it, commit it, wake if asked. */
proctype producer(byte id)
{
	byte seq = 0, h, slot, lap;
	bool got, saw;

	do
	:: seq == PER_PRODUCER -> break
	:: else ->
		/* reserve: read head, then tail (acquire), CAS head forward */
		h = head;
		/* lfq_mpsc_lap_free(): the slot's previous lap is done
		 * (always, with an honest consumer: tests/model/lap.pml)
		 */
		lap = (((h - CAP) - (commit[h & MASK] - 1)) & 255);
		atomic {
			if
#ifdef NO_SPACE_CHECK
			:: head == h -> head = h + 1; got = true
#else
			:: head == h && h - tail < CAP &&
			   (lap == 0 || lap >= 128) -> head = h + 1; got = true
#endif
			:: else -> got = false
			fi
		}
		if
		:: got ->
			slot = h & MASK;
			/* the slot was released by the consumer */
			assert(!written[slot]);
#ifdef PUB_BEFORE_DATA
			commit[slot] = h + 1;
#endif
			data_pid[slot] = id;
			data_seq[slot] = seq;
			written[slot] = true;
#ifdef FLAG_BEFORE_PUB
			saw = need_data;	/* the load passed the store */
			commit[slot] = h + 1;
#else
#ifndef PUB_BEFORE_DATA
			/* release: pairs with the consumer's acquire */
			commit[slot] = h + 1;
#endif
			/* commit_check: full barrier, then read need_data */
			saw = need_data;
#endif
			if
			:: saw -> need_data = false; woken = true
			:: else -> skip
			fi;
			seq++
		:: else -> skip
		fi
	od;
	ndone++
}

proctype consumer()
{
	byte slot, last_seq[2];
	bool seen[2];

	seen[0] = false;
	seen[1] = false;
	do
	:: consumed == TOTAL -> break
	:: else ->
		slot = tail & MASK;
		if
		:: commit[slot] == tail + 1 ->	/* acquire */
			assert(written[slot]);
			assert(!seen[data_pid[slot]] ||
			       data_seq[slot] == last_seq[data_pid[slot]] + 1);
			assert(seen[data_pid[slot]] || data_seq[slot] == 0);
			seen[data_pid[slot]] = true;
			last_seq[data_pid[slot]] = data_seq[slot];
			written[slot] = false;
			tail++;			/* release */
			consumed++
		:: else ->
			/* arm: need_data = 1; full barrier; re-check */
			need_data = true;
#ifndef NO_RECHECK
			if
			:: commit[slot] == tail + 1 -> need_data = false
			:: else ->
#endif
				/* sleep until woken */
				woken -> woken = false
#ifndef NO_RECHECK
			fi
#endif
		fi
	od
}

init {
	atomic {
		run producer(0);
		run producer(1);
		run consumer()
	}
}
