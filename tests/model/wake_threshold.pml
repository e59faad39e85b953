/*
 * wake_threshold.pml - SPIN model of wakeup thresholds (ORDERING
 * wake-threshold in kmod/proto/lfq_rules.h): a sleeper arms its flag with
 * the slots it waits for, lowering it (lfq_arm_flag()); a publisher wakes
 * if the flag is 1, or if its count of the slots ready reaches it
 * (lfq_wake_due()); MPSC commits wake on any flag.
 *
 * An MPSC ring of S slots: producer P0 pushes batches of 2 and waits for 2
 * free slots, P1 pushes single slots and waits for 1, both on the one
 * need_space flag and wait queue; they reserve with a CAS of head and
 * commit out of order (commit words). The consumer frees one slot at a
 * time, counting the free slots against head (lfq_mpsc_space_due()), and
 * waits for data when nothing is ready, for min(2, what is left) slots.
 * A waker clears the flag and wakes every queued sleeper (the kernel's
 * wake_up_interruptible_all(), FUTEX_WAKE of INT_MAX); a sleeper queues,
 * arms, re-checks, and sleeps only if still short (ORDERING wake-queue).
 * The Dekker ordering itself is the subject of mpsc.pml and
 * wake_asym.pml: steps here are sequentially consistent.
 *
 * Checked properties (spin -a; pan, exhaustive):
 *  - prompt wakeups: when no publisher is between its publish and its
 *    check, no sleeper that has not been woken sleeps while the slots it
 *    waits for are ready (asserted after every check);
 *  - no lost wakeup: every record is pushed and consumed (a stuck
 *    sleeper is an invalid end state).
 *
 * Mutations, each selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them all):
 *   OLD_INDEX          the consumer counts free slots against its tail
 *                      before the release it publishes
 *   STORE_NOT_MIN      a sleeper stores its count instead of lowering the
 *                      flag to it (the neediest hides the least needy)
 *   MPSC_COMMIT_BOUND  an MPSC producer wakes only if its own reservation
 *                      end reaches the count (out-of-order commits: the
 *                      commit that completes the prefix may end before it)
 */

#define S 3
#define TOTAL 6			/* P0: 2 batches of 2; P1: 2 of 1 */
#define C 0			/* sleeper ids: the consumer ... */
#define P0 1			/* ... and the producers */
#define P1 2

byte head, tail;
byte commit[S];			/* index + 1 of the slot's last commit */
byte need_data, need_space;
bool queued[3], asleep[3], woken[3];
byte want[3];
byte inflight;			/* publishers between publish and check */
byte got;			/* records the consumer has freed */

/* Slots committed in order from tail, into @n. */
inline ready_data(n)
{
	n = 0;
	do
	:: n < S && commit[(tail + n) % S] == tail + n + 1 -> n++
	:: else -> break
	od
}

/* Lower @flag to @w; STORE_NOT_MIN stores it. */
inline arm(flag, w)
{
#ifdef STORE_NOT_MIN
	flag = w
#else
	if
	:: flag != 0 && flag < w -> skip
	:: else -> flag = w
	fi
#endif
}

/* After every check: nobody not woken sleeps on a met count. */
inline check_prompt(n)
{
	if
	:: inflight == 0 ->
		ready_data(n);
		assert(!(asleep[C] && !woken[C] && n >= want[C]));
		assert(!(asleep[P0] && !woken[P0] &&
			 S - (head - tail) >= want[P0]));
		assert(!(asleep[P1] && !woken[P1] &&
			 S - (head - tail) >= want[P1]))
	:: else -> skip
	fi
}

/* Queue, arm for @w, re-check (@ok: the count after arming is enough),
 * sleep until woken; the consumer's copy is written out below.
 */
inline sleep_until(id, flag, w, ok)
{
	queued[id] = true;
	atomic { want[id] = w; arm(flag, w) };
	atomic {
		if
		:: ok -> queued[id] = false
		:: else -> asleep[id] = true
		fi
	};
	if
	:: asleep[id] ->
		woken[id];
		atomic { asleep[id] = false; woken[id] = false;
			 queued[id] = false }
	:: else -> skip
	fi
}

proctype producer(byte id; byte batch; byte batches)
{
	byte done = 0, my, k, v, n;

	do
	:: done == batches -> break
	:: else ->
		if
		:: atomic { S - (head - tail) >= batch ->
				my = head; head = head + batch }
			/* write and commit: the publish */
			atomic {
				k = 0;
				do
				:: k < batch ->
					commit[(my + k) % S] = my + k + 1; k++
				:: else -> break
				od;
				inflight++
			};
			/* the check: lfq_mpsc_commit() */
			atomic {
				v = need_data;
#ifdef MPSC_COMMIT_BOUND
				if
				:: v != 0 && (v == 1 || my + batch - tail >= v) ->
#else
				if
				:: v != 0 ->
#endif
					need_data = 0;
					woken[C] = queued[C]
				:: else -> skip
				fi;
				inflight--;
				check_prompt(n)
			};
			done++
		:: atomic { S - (head - tail) < batch -> skip };
			sleep_until(id, need_space, batch,
				    S - (head - tail) >= batch)
		fi
	od
}

active proctype consumer()
{
	byte n, v, w, free;

	do
	:: got == TOTAL -> break
	:: else ->
		ready_data(n);
		if
		:: n > 0 ->
			/* the release: tail moves past one slot */
			atomic { tail++; got++; inflight++ };
			/* the check: lfq_mpsc_release() */
			atomic {
				v = need_space;
#ifdef OLD_INDEX
				free = S - (head - (tail - 1));
#else
				free = S - (head - tail);
#endif
				if
				:: v != 0 && (v == 1 || v <= free) ->
					need_space = 0;
					woken[P0] = queued[P0];
					woken[P1] = queued[P1]
				:: else -> skip
				fi;
				inflight--;
				check_prompt(n)
			}
		:: n == 0 ->
			w = (TOTAL - got < 2 -> TOTAL - got : 2);
			queued[C] = true;
			atomic { want[C] = w; arm(need_data, w) };
			atomic {
				ready_data(n);
				if
				:: n >= w -> queued[C] = false
				:: else -> asleep[C] = true
				fi
			};
			if
			:: asleep[C] ->
				woken[C];
				atomic { asleep[C] = false; woken[C] = false;
					 queued[C] = false }
			:: else -> skip
			fi
		fi
	od
}

init
{
	atomic {
		run producer(P0, 2, 2);
		run producer(P1, 1, 2)
	}
}
