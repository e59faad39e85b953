/*
 * segments.pml - SPIN model of the elastic queue's segment hand-off
 * (kmod/proto/lfq_segment.h): MPSC producers reserve in the current
 * segment by CAS on its head; one that finds it full seals it (a CAS that
 * sets SEALED in the head word, so no reservation can follow), claims the
 * segment's link (CAS from none to LINKING), takes a spare segment from
 * the pool, initialises it (base = the sealed end, head = tail = base,
 * a new life) and only then publishes the link and swings the producers'
 * hint. Producers reserve and write inside an RCU read-side section. The
 * consumer drains a segment in order; once it is sealed, drained to its
 * end and linked, the consumer moves to the next one and retires the old
 * one: it makes it unreachable (swinging the producers' hint past it if
 * no linker has yet), and returns it to the pool only after a grace
 * period (every producer seen outside a read-side section, or in a later
 * one). The model found that a retirement that leaves the hint naming the
 * segment lets a producer reach it from a section begun after the grace
 * period started.
 *
 * Segments hold one slot each (S = 1), so every second message grows the
 * queue; 3 frames, at most 2 live, 2 producers with 2 messages each.
 * A producer that finds no spare segment (pool empty, or 2 live) drops
 * its message and counts it, as a kernel producer does at the maximum;
 * one that finds its segment full with no spare to be had may also give
 * up without sealing it, as an in-process producer does
 * (lfq_local_may_grow()).
 *
 * Checked properties (spin -a; pan, exhaustive):
 *   - a producer writes and commits only in the life of the segment it
 *     reserved in, never in a pooled or reused one (assert),
 *   - a producer that follows a link finds the segment initialised
 *     (assert),
 *   - the consumer reads each message once, intact (assert), and every
 *     message is read or counted as dropped: consumed + dropped = sent
 *     (the consumer waits for it; a hang is an invalid end state).
 *
 * Mutations, selected with -D and each required to FAIL the check
 * (tests/model/check.sh runs them):
 *   NO_GRACE         a retired segment goes back to the pool at once: a
 *                    producer still inside it writes into a reused one
 *   LINK_BEFORE_INIT the link is published before the segment it names
 *                    is initialised
 *   RETIRE_UNDRAINED the consumer retires a segment as soon as it is
 *                    sealed and linked, while a producer may still be
 *                    writing a slot it reserved there
 */

#define NF	3	/* frames (segments) */
#define MAXLIVE	2	/* live segments at most */
#define PER	2	/* messages per producer */
#define NP	2	/* producers */
#define TOTAL	(NP * PER)
#define NONE	0
#define LINKING	(NF + 1)	/* next[]: a producer is linking */

byte head[NF];		/* next index to reserve (global indices) */
bool sealed[NF];	/* SEALED bit of the head word */
byte tail[NF];		/* the consumer's index in the segment */
byte base[NF];		/* first index of the segment's life */
byte next[NF];		/* NONE, LINKING, or frame + 1 */
byte gen[NF];		/* the segment's life, bumped by each init */
bool ready[NF];		/* the init of the current life is complete */
bool inpool[NF];
byte commit[NF];	/* index + 1 of the record published in the slot */
byte data[NF];		/* the record: message id */
byte pseg;		/* producers' hint: the newest segment */
byte live = 1;
byte rcu[NP];		/* 1 while producer p is in a read-side section */
byte rcu_seq[NP];	/* read-side sections producer p has entered */
byte dropped;
byte consumed;
bool seen[TOTAL + 1];

inline grace_period()
{
	/* synchronize_rcu(): every producer outside, or in a later section */
	s0 = rcu_seq[0];
	s1 = rcu_seq[1];
	(rcu[0] == 0 || rcu_seq[0] != s0);
	(rcu[1] == 0 || rcu_seq[1] != s1)
}

inline init_segment(g, b)
{
	base[g] = b;
	tail[g] = b;
	sealed[g] = false;
	head[g] = b;
	next[g] = NONE;
	gen[g]++;
	inpool[g] = false;
	ready[g] = true
}

proctype producer(byte p)
{
	byte k = 0, f, h, t, g, life, n, tries;
	bool got, won;

	do
	:: k == PER -> break
	:: else ->
		atomic { rcu[p] = 1; rcu_seq[p]++ }	/* rcu_read_lock() */
		f = pseg;
		tries = 0;
		got = false;
again:
		h = head[f];
		t = tail[f];				/* acquire */
		if
		:: !sealed[f] && h == t ->		/* a free slot (S = 1) */
			atomic {			/* CAS on the head word */
				if
				:: head[f] == h && !sealed[f] ->
					head[f] = h + 1;
					life = gen[f];
					got = true
				:: else -> skip
				fi
			}
			if
			:: got -> goto write
			:: else -> goto again
			fi
		:: !sealed[f] && h != t ->		/* full: seal it */
			/*
			 * An in-process producer seals only when a segment
			 * can be had (lfq_local_may_grow()); else it gives
			 * the message up unsealed (-EAGAIN: the segment
			 * stays a ring). A kernel producer seals anyway.
			 * Either may happen here: what this shows is that
			 * giving up unsealed is safe. Its wakeup (a waiter
			 * told once a frame is pooled) is not modelled:
			 * elastic_mt and wakeup_mt test it.
			 */
			if
			:: next[f] == NONE && !(inpool[0] || inpool[1] || inpool[2]) ->
				goto drop
			:: true -> skip
			fi;
			atomic {
				if
				:: head[f] == h && !sealed[f] -> sealed[f] = true
				:: else -> skip
				fi
			};
			goto again
		:: sealed[f] -> skip
		fi;
		/* f is sealed: follow its link, or make it. */
		n = next[f];				/* acquire */
		if
		:: n != NONE && n != LINKING ->
			f = n - 1;
			assert(ready[f]);	/* linked only once initialised */
			goto again
		:: n == LINKING ->
			tries++;
			if
			:: tries < 2 -> goto again
			:: else -> goto drop		/* bounded, as in NMI */
			fi
		:: n == NONE -> skip
		fi;
		won = false;
		atomic {				/* claim the link */
			if
			:: next[f] == NONE -> next[f] = LINKING; won = true
			:: else -> skip
			fi
		}
		if
		:: !won -> goto again
		:: else -> skip
		fi;
		atomic {				/* take a spare */
			if
			:: live < MAXLIVE && inpool[1] -> g = 1; inpool[1] = false; live++
			:: live < MAXLIVE && inpool[2] -> g = 2; inpool[2] = false; live++
			:: live < MAXLIVE && inpool[0] -> g = 0; inpool[0] = false; live++
			:: else -> g = NF
			fi
		}
		if
		:: g == NF ->
			next[f] = NONE;			/* give the link up */
			goto drop
		:: else -> skip
		fi;
		ready[g] = false;
#ifdef LINK_BEFORE_INIT
		next[f] = g + 1;
		init_segment(g, head[f]);
#else
		init_segment(g, head[f]);
		next[f] = g + 1;			/* release */
#endif
		atomic { if :: pseg == f -> pseg = g :: else -> skip fi }
		f = g;
		goto again
write:
		assert(gen[f] == life && !inpool[f]);
		data[f] = p * PER + k + 1;
		assert(gen[f] == life && !inpool[f]);
		commit[f] = h + 1;			/* release */
		goto done
drop:
		dropped++;
done:
		rcu[p] = 0;				/* rcu_read_unlock() */
		k++
	od
}

/* The consumer's move condition: sealed, linked and (DRAINED) read to its end. */
#ifdef RETIRE_UNDRAINED
#define DRAINED(f, i)	true
#else
#define DRAINED(f, i)	((i) == head[f])
#endif
#define MOVABLE(f, i)	(sealed[f] && DRAINED(f, i) && next[f] != NONE && \
			 next[f] != LINKING)

proctype consumer()
{
	byte f = 0, i, old, id, s0, s1;

	do
	:: consumed + dropped == TOTAL -> break
	:: else ->
		i = tail[f];
		/* Sleep until there is something to do (a wakeup). */
		(commit[f] == i + 1 || MOVABLE(f, i) ||
		 consumed + dropped == TOTAL);
		if
		:: commit[f] == i + 1 ->		/* acquire */
			id = data[f];
			assert(id >= 1 && id <= TOTAL && !seen[id]);
			seen[id] = true;
			consumed++;
			tail[f] = i + 1			/* release */
		:: MOVABLE(f, i) ->
			old = f;
			f = next[f] - 1;
			/* Unreachable first: no hint may still name it. */
			atomic { if :: pseg == old -> pseg = f :: else -> skip fi }
			live--;
#ifndef NO_GRACE
			grace_period();
#endif
			atomic { ready[old] = false; inpool[old] = true }
		:: else -> skip
		fi
	od
}

init {
	atomic {
		inpool[1] = true;
		inpool[2] = true;
		gen[0] = 1;
		ready[0] = true;
		run producer(0);
		run producer(1);
		run consumer()
	}
}
