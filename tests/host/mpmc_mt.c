// SPDX-License-Identifier: MIT
/*
 * mpmc_mt.c - the MPMC ring protocol (kmod/proto/lfq_mpmc.h) with threads:
 * 1x2, 2x2 and 4x4 producers x consumers (the last oversubscribed on
 * small machines), batches of random size on both sides and random
 * discards; every message delivered exactly once, whole, and in order per
 * producer within each consumer; discards counted exactly. A consumer
 * that dies holding a claim stalls the producers until its claim is
 * recovered (lfq_mpmc_recover()), and then only its own slots are lost.
 * A consumer forging tail and release words cannot put two producers in
 * one slot, nor make another consumer's claim loop forever (max_tries) or
 * hand out a span outside the ring, nor have another consumer take a
 * record overwritten under it for its own (lfq_mpmc_torn()). Built twice:
 * normally, and with ThreadSanitizer (LFQ_TSAN, fewer messages).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq_mpmc.h"
#include "lfq_ready.h"
#include "memfd_ring.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define PER_CONFIG	100000ull
#else
#define PER_CONFIG	4000000ull
#endif
#define SLOTS		256u
#define SLOT_SIZE	16u	/* word 0: producer << 48 | seq; word 1: check */
#define MAX_SIDE	4
#define SEQ_MASK	((1ull << 48) - 1)

struct run {
	struct memfd_ring ring;
	unsigned int producers, consumers;
	uint64_t per_producer;
	int discard_one_in;		/* 0: never */
	uint8_t *seen;			/* [producer][seq] deliveries */
	uint64_t consumed;		/* by all consumers */
	uint64_t discards[MAX_SIDE];	/* made by each producer */
	uint64_t skipped[MAX_SIDE];	/* discards each consumer skipped */
	uint64_t bad[MAX_SIDE];		/* verification errors per consumer */
	uint64_t torn[MAX_SIDE];	/* torn slots each consumer found */
	int64_t deadline_ns;		/* a broken protocol fails, not hangs */
};

#define RUN_MAX_NS	60000000000ll

struct side_arg {
	struct run *run;
	unsigned int id;
};

static void *producer(void *arg)
{
	struct side_arg *a = arg;
	struct run *run = a->run;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	uint64_t seq = 0, rnd = a->id * 7919 + 1;

	lfq_mpsc_prod_init(&p, &run->ring.loc);
	if (a->id & 1)
		lfq_mpsc_prod_set_claim(&p, &run->ring.loc.prod->claims[a->id]);
	while (seq < run->per_producer) {
		uint32_t want = 1 + rnd_next(&rnd) % 8, i;
		uint64_t *m;

		if (want > run->per_producer - seq)
			want = (uint32_t)(run->per_producer - seq);
		m = lfq_mpsc_reserve(&p, want, &r);
		if (!m) {
			if (now_ns() > run->deadline_ns)
				break;
			sched_yield();	/* full: let a consumer run */
			continue;
		}
		if (run->discard_one_in &&
		    rnd_next(&rnd) % run->discard_one_in == 0) {
			lfq_mpsc_discard(&p, &r);
			run->discards[a->id] += r.count;
			continue;
		}
		for (i = 0; i < r.count; i++, seq++) {
			m[2 * i] = (uint64_t)a->id << 48 | seq;
			m[2 * i + 1] = check_word(m[2 * i]);
		}
		lfq_mpsc_commit(&p, &r);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct side_arg *a = arg;
	struct run *run = a->run;
	uint64_t next[MAX_SIDE] = { 0 }, rnd = a->id * 104729 + 3;
	uint64_t total = run->producers * run->per_producer;
	struct lfq_mpmc_cons c;
	struct lfq_mpmc_take t;

	lfq_mpmc_cons_init(&c, &run->ring.loc);
	lfq_mpmc_cons_set_claim(&c, &run->ring.cclaims[a->id]);
	while (__atomic_load_n(&run->consumed, __ATOMIC_RELAXED) < total) {
		const uint64_t *m = lfq_mpmc_claim(&c, 1 + rnd_next(&rnd) % 16,
						   &t);
		uint32_t i;

		if (!m) {
			if (now_ns() > run->deadline_ns)
				break;
			sched_yield();
			continue;
		}
		for (i = 0; i < t.count; i++) {
			uint64_t w = m[2 * i], id = w >> 48, seq = w & SEQ_MASK;

			if (id >= run->producers || seq >= run->per_producer ||
			    m[2 * i + 1] != check_word(w) || seq < next[id]) {
				run->bad[a->id]++;
				continue;
			}
			next[id] = seq + 1;
			__atomic_fetch_add(&run->seen[id * run->per_producer + seq],
					   1, __ATOMIC_RELAXED);
		}
		lfq_mpmc_release(&c, &t);
		__atomic_fetch_add(&run->consumed, t.count, __ATOMIC_RELAXED);
	}
	run->skipped[a->id] = c.discarded;
	run->torn[a->id] = c.torn;
	return NULL;
}

static void run_threads(unsigned int np, unsigned int nc, int discard_one_in)
{
	struct run *run = calloc(1, sizeof(*run));
	struct side_arg pa[MAX_SIDE], ca[MAX_SIDE];
	pthread_t pt[MAX_SIDE], ct[MAX_SIDE];
	uint64_t twice = 0, never = 0, bad = 0, discards = 0, skipped = 0, i;
	uint64_t torn = 0;
	struct lfq_mpmc_cons c;
	struct lfq_mpmc_take t;
	double t0, dt;

	if (memfd_ring_init(&run->ring, SLOTS, SLOT_SIZE, 1)) {
		tap_ok(0, "%ux%u: ring setup", np, nc);
		return;
	}
	run->producers = np;
	run->consumers = nc;
	run->per_producer = PER_CONFIG / np;
	run->discard_one_in = discard_one_in;
	run->seen = calloc(np * run->per_producer, 1);
	t0 = now_s();
	run->deadline_ns = now_ns() + RUN_MAX_NS;
	for (i = 0; i < nc; i++) {
		ca[i] = (struct side_arg){ run, (unsigned int)i };
		pthread_create(&ct[i], NULL, consumer, &ca[i]);
	}
	for (i = 0; i < np; i++) {
		pa[i] = (struct side_arg){ run, (unsigned int)i };
		pthread_create(&pt[i], NULL, producer, &pa[i]);
	}
	for (i = 0; i < np; i++)
		pthread_join(pt[i], NULL);
	for (i = 0; i < nc; i++)
		pthread_join(ct[i], NULL);
	dt = now_s() - t0;
	for (i = 0; i < np * run->per_producer; i++) {
		twice += run->seen[i] > 1;
		never += run->seen[i] == 0;
	}
	for (i = 0; i < MAX_SIDE; i++) {
		bad += run->bad[i];
		discards += run->discards[i];
		skipped += run->skipped[i];
		torn += run->torn[i];
	}
	/* Discards behind the last message may still sit unclaimed. */
	lfq_mpmc_cons_init(&c, &run->ring.loc);
	lfq_mpmc_claim(&c, 1, &t);
	skipped += c.discarded;
	tap_ok(!twice && !never && !bad && skipped == discards && !torn &&
	       run->consumed == np * run->per_producer,
	       "%u producer%s x %u consumers%s: %llu messages, each once, whole and in order per producer in each consumer, none found torn (%llu), %.1f M msg/s (twice %llu, never %llu, bad %llu; discards %llu, skipped %llu)",
	       np, np > 1 ? "s" : "", nc,
	       discard_one_in ? ", random discards" : "",
	       (unsigned long long)run->consumed, (unsigned long long)torn,
	       run->consumed / dt / 1e6,
	       (unsigned long long)twice, (unsigned long long)never,
	       (unsigned long long)bad, (unsigned long long)discards,
	       (unsigned long long)skipped);
	munmap(run->ring.base, run->ring.len);
	free(run->seen);
	free(run);
}

/*
 * A consumer that dies holding a claim: the producers fill the ring up to
 * its slots and stall there; lfq_mpmc_recover(), with the live consumer's
 * claim beside it, releases exactly the dead one's slots, and the run
 * then completes with only those records lost.
 */
#define CRASH_TAKE	5u

static void run_dead_consumer(void)
{
	struct run *run = calloc(1, sizeof(*run));
	uint64_t total, got = 0, stalled = 0, i, lost_seen = 0;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	struct lfq_mpmc_cons dead, live;
	struct lfq_mpmc_take t;
	uint32_t recovered = 0, covered = 0, again = 0, k, space = ~0u;
	uint64_t *m;

	if (memfd_ring_init(&run->ring, SLOTS, SLOT_SIZE, 1)) {
		tap_ok(0, "dead consumer: ring setup");
		return;
	}
	total = 4 * SLOTS;
	lfq_mpsc_prod_init(&p, &run->ring.loc);
	lfq_mpmc_cons_init(&dead, &run->ring.loc);
	lfq_mpmc_cons_set_claim(&dead, &run->ring.cclaims[0]);
	lfq_mpmc_cons_init(&live, &run->ring.loc);
	lfq_mpmc_cons_set_claim(&live, &run->ring.cclaims[1]);
	for (i = 0; i < CRASH_TAKE; i++) {
		m = lfq_mpsc_reserve(&p, 1, &r);
		m[0] = i;
		lfq_mpsc_commit(&p, &r);
	}
	/* The dead consumer takes the first records and never releases. */
	lfq_mpmc_claim(&dead, CRASH_TAKE, &t);
	for (i = CRASH_TAKE; i < total; ) {
		const uint64_t *in;

		m = lfq_mpsc_reserve(&p, 1, &r);
		if (m) {
			m[0] = i++;
			lfq_mpsc_commit(&p, &r);
			continue;
		}
		in = lfq_mpmc_claim(&live, 4, &t);
		if (in) {
			for (k = 0; k < t.count; k++)
				lost_seen += in[2 * k] < CRASH_TAKE;
			got += t.count;
			lfq_mpmc_release(&live, &t);
			continue;
		}
		/*
		 * Full and empty: wedged on the dead consumer's slots. The
		 * live consumer's record first covers them, as one written
		 * before a compare-and-swap that failed would: recovery
		 * leaves them and says so; once the live consumer has come
		 * back empty-handed (its record emptied), it succeeds.
		 */
		if (++stalled > 1)
			break;
		/* A space waiter sees no room either (claimed, unreleased). */
		space = lfq_ready_space(&run->ring.loc, SLOTS, 0);
		run->ring.cclaims[1].start = 0;
		run->ring.cclaims[1].end = CRASH_TAKE;
		again = lfq_mpmc_recover(run->ring.loc.release, SLOTS - 1,
					 lfq_load_acquire(run->ring.loc.tail),
					 &run->ring.cclaims[0],
					 &run->ring.cclaims[1], 1, &covered);
		lfq_mpmc_claim(&live, 1, &t);	/* nothing: empties it */
		recovered = lfq_mpmc_recover(run->ring.loc.release, SLOTS - 1,
					     lfq_load_acquire(run->ring.loc.tail),
					     &run->ring.cclaims[0],
					     &run->ring.cclaims[1], 1, &k);
		covered += k * 1000;	/* must be 0 the second time */
	}
	for (;;) {
		const uint64_t *in = lfq_mpmc_claim(&live, 16, &t);

		if (!in)
			break;
		for (k = 0; k < t.count; k++)
			lost_seen += in[2 * k] < CRASH_TAKE;
		got += t.count;
		lfq_mpmc_release(&live, &t);
	}
	tap_ok(stalled == 1 && !space && !again && covered == CRASH_TAKE &&
	       recovered == CRASH_TAKE && !lost_seen &&
	       got == total - CRASH_TAKE && !live.torn,
	       "a consumer dead with %u slots claimed: producers stall once (%llu), a space waiter counts %u free; recovery leaves the slots a stale live claim covers (%u left, %u released), then releases exactly its %u (%u); the other %llu records arrive (%llu), none found torn (%llu)",
	       CRASH_TAKE, (unsigned long long)stalled, space, covered, again,
	       CRASH_TAKE, recovered,
	       (unsigned long long)(total - CRASH_TAKE),
	       (unsigned long long)got, (unsigned long long)live.torn);
	munmap(run->ring.base, run->ring.len);
	free(run);
}

/*
 * A consumer forging the claim index (tail = head) and every release
 * word ahead of the producers, all the time: producers still never share
 * a slot, because they check the commit word of the previous lap too.
 */
#define FORGED_SLOTS	SLOTS	/* the least a double mapping allows */
#define FORGED_THREADS	3u

struct forged {
	struct memfd_ring ring;
	int stop;
	uint64_t reserved[FORGED_THREADS], overwritten[FORGED_THREADS];
	uint64_t claims[FORGED_THREADS], gave_up[FORGED_THREADS];
	uint64_t outside[FORGED_THREADS];
};

struct forged_arg {
	struct forged *f;
	unsigned int id;
};

static void *forged_liar(void *arg)
{
	struct forged *f = arg;
	uint64_t h, i;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		h = lfq_load_relaxed(&f->ring.loc.prod->head);
		lfq_store_release(f->ring.loc.tail, h);
		for (i = h; i < h + FORGED_SLOTS; i++)
			lfq_store_release(&f->ring.loc.release[i % FORGED_SLOTS],
					  i + 1);
	}
	return NULL;
}

static void *forged_producer(void *arg)
{
	struct forged_arg *a = arg;
	struct forged *f = a->f;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	uint64_t i, mine;

	lfq_mpsc_prod_init(&p, &f->ring.loc);
	for (i = 0; i < PER_CONFIG / 40; i++) {
		uint64_t *m = lfq_mpsc_reserve(&p, 1, &r);

		if (!m)
			continue;
		f->reserved[a->id]++;
		mine = (uint64_t)a->id << 48 | r.index;
		m[0] = mine;
		m[1] = check_word(mine);
		if (i % 16 == 0)
			sched_yield();	/* hold it while the others lap */
		if (m[0] != mine || m[1] != check_word(mine))
			f->overwritten[a->id]++;
		lfq_mpsc_commit(&p, &r);
	}
	return NULL;
}

/*
 * A consumer among the forgers: its claims must return (max_tries bounds
 * them, as the kernel's will be) and stay inside the ring.
 */
static void *forged_consumer(void *arg)
{
	struct forged_arg *a = arg;
	struct forged *f = a->f;
	const unsigned char *lo = f->ring.loc.data;
	const unsigned char *hi = lo + 2 * (size_t)FORGED_SLOTS * SLOT_SIZE;
	struct lfq_mpmc_cons c;
	struct lfq_mpmc_take t;

	lfq_mpmc_cons_init(&c, &f->ring.loc);
	c.max_tries = 64;
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		const unsigned char *m = lfq_mpmc_claim(&c, 8, &t);

		if (!m) {
			f->gave_up[a->id]++;
			continue;
		}
		f->claims[a->id]++;
		if (m < lo || m + (size_t)t.count * SLOT_SIZE > hi ||
		    !t.count || t.count > 8)
			f->outside[a->id]++;
		lfq_mpmc_release(&c, &t);
	}
	return NULL;
}

static void run_forged(void)
{
	struct forged f = { 0 };
	struct forged_arg args[FORGED_THREADS];
	pthread_t t[FORGED_THREADS], cons[FORGED_THREADS], liar;
	struct forged_arg cargs[FORGED_THREADS];
	uint64_t reserved = 0, overwritten = 0, claims = 0, outside = 0;
	unsigned int i;

	if (memfd_ring_init(&f.ring, FORGED_SLOTS, SLOT_SIZE, 1)) {
		tap_ok(0, "forged consumer: ring setup");
		return;
	}
	pthread_create(&liar, NULL, forged_liar, &f);
	for (i = 0; i < 2; i++) {
		cargs[i] = (struct forged_arg){ &f, i };
		pthread_create(&cons[i], NULL, forged_consumer, &cargs[i]);
	}
	for (i = 0; i < FORGED_THREADS; i++) {
		args[i] = (struct forged_arg){ &f, i };
		pthread_create(&t[i], NULL, forged_producer, &args[i]);
	}
	for (i = 0; i < FORGED_THREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	pthread_join(liar, NULL);
	for (i = 0; i < 2; i++)
		pthread_join(cons[i], NULL);
	for (i = 0; i < FORGED_THREADS; i++) {
		reserved += f.reserved[i];
		overwritten += f.overwritten[i];
		claims += f.claims[i];
		outside += f.outside[i];
	}
	tap_ok(!overwritten && reserved > 4 * FORGED_SLOTS && !outside,
	       "forged claim index and release words, %u producer and 2 consumer threads: %llu slots reserved (%llu laps), %llu overwritten; %llu claims returned, none outside the ring (%llu)",
	       FORGED_THREADS, (unsigned long long)reserved,
	       (unsigned long long)(reserved / FORGED_SLOTS),
	       (unsigned long long)overwritten, (unsigned long long)claims,
	       (unsigned long long)outside);
	munmap(f.ring.base, f.ring.len);
}

/*
 * Torn records, step by step: consumer A claims index j, a forger stores
 * j's release word, a producer of the next lap gets j + SLOTS and writes
 * the first word of its record. What A copied then mixes two laps: the
 * check must say so (the producer's mark), before and after the commit,
 * and A's release counts it. Without lfq_mpsc_mark() the first check
 * passes the mix off as j's record.
 */
static void run_torn_steps(void)
{
	struct memfd_ring ring;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	struct lfq_mpmc_cons a, b;
	struct lfq_mpmc_take t, u;
	uint64_t copy[2], *m;
	const uint64_t *in;
	int before, marked, committed, bad_copy, other, kept, reads = 1;
	uint64_t i;
	uint32_t k;

	if (memfd_ring_init(&ring, SLOTS, SLOT_SIZE, 1)) {
		tap_ok(0, "torn records, steps: ring setup");
		return;
	}
	/*
	 * The mark of index i, as every reader of commit words takes it, on
	 * the first laps too: i outstanding, the lap before done, and no
	 * index of its slot committed or discarded.
	 */
	lfq_mpsc_prod_init(&p, &ring.loc);
	for (i = 0; i < 4 * SLOTS; i++) {
		uint64_t v;

		lfq_mpsc_mark(&p, i, 1);
		v = ring.loc.commit[i % SLOTS];
		reads &= lfq_mpsc_outstanding(v, i) &&
			 (i < SLOTS || !lfq_mpsc_outstanding(v, i - SLOTS)) &&
			 !lfq_mpsc_slot_state(ring.loc.commit, SLOTS - 1, i) &&
			 !lfq_mpsc_slot_state(ring.loc.commit, SLOTS - 1,
					      i - SLOTS);
	}
	memset(ring.loc.commit, 0, SLOTS * sizeof(uint64_t));
	lfq_mpsc_prod_init(&p, &ring.loc);
	lfq_mpmc_cons_init(&a, &ring.loc);
	lfq_mpmc_cons_init(&b, &ring.loc);
	for (k = 0; k < SLOTS; k++) {		/* a full lap, 0..SLOTS-1 */
		m = lfq_mpsc_reserve(&p, 1, &r);
		m[0] = r.index;
		m[1] = check_word(r.index);
		lfq_mpsc_commit(&p, &r);
	}
	in = lfq_mpmc_claim(&a, 1, &t);		/* A holds index 0 */
	before = !lfq_mpmc_torn(&a, t.index, 1);
	lfq_mpmc_claim(&b, SLOTS - 1, &u);	/* B takes the rest, releases */
	lfq_mpmc_release(&b, &u);
	/* The forger: index 0 released behind A's back. */
	lfq_store_release(&ring.loc.release[0], 1);
	m = lfq_mpsc_reserve(&p, 1, &r);	/* index SLOTS, A's slot */
	m[0] = r.index;				/* half written */
	copy[0] = in[0];
	copy[1] = in[1];
	marked = lfq_mpmc_torn(&a, t.index, 1);
	bad_copy = copy[0] != t.index || copy[1] != check_word(t.index);
	m[1] = check_word(r.index);
	lfq_mpsc_commit(&p, &r);
	committed = lfq_mpmc_torn(&a, t.index, 1);
	/*
	 * B, honest and untouched, takes the new lap's record whole and
	 * releases it before A gets to its release: A's must not move the
	 * word back to index 0's, or no producer would ever get index
	 * 2 * SLOTS (lfq_mpmc_publish_torn()).
	 */
	in = lfq_mpmc_claim(&b, 1, &u);
	other = in && u.index == SLOTS && in[0] == SLOTS &&
		!lfq_mpmc_torn(&b, u.index, 1);
	lfq_mpmc_release(&b, &u);
	lfq_mpmc_release(&a, &t);
	for (k = 0; k < SLOTS - 1; k++) {	/* the rest of lap 1 */
		m = lfq_mpsc_reserve(&p, 1, &r);
		lfq_mpsc_commit(&p, &r);
		lfq_mpmc_claim(&b, 1, &u);
		lfq_mpmc_release(&b, &u);
	}
	kept = lfq_load_relaxed(&ring.loc.release[0]) == SLOTS + 1 &&
	       lfq_mpsc_reserve(&p, 1, &r) && r.index == 2 * SLOTS;
	tap_ok(reads && before && bad_copy && marked && committed &&
	       a.torn == 1 && !b.torn && other && kept,
	       "torn record, steps: a mark reads as its index outstanding and the lap before done, on every lap, never as committed (%d); A's slot intact while held (%d); a forged release lets the next lap in, A's copy mixes two laps (%d) and is torn once the producer has marked it (%d) and once it has committed (%d); A's release counts 1 torn (%llu), B none (%llu); B takes the new record whole (%d), and A's late release leaves B's release word, so the lap after is reserved (%d)",
	       reads, before, bad_copy, marked, committed,
	       (unsigned long long)a.torn, (unsigned long long)b.torn, other,
	       kept);
	munmap(ring.base, ring.len);
}

/*
 * Torn records under threads: two honest consumers copy each record they
 * claim, slowly, while a forger stores the release words of the half
 * ring just behind the claim index (slots the consumers may hold) and
 * producers write records that name their own index. Every record a
 * consumer keeps (intact at its check) is the one its index was written
 * with; torn ones are counted and dropped. How many tear is up to the
 * scheduler: run_torn_steps() is the deterministic check that fails
 * without the producers' mark, this one catches it in some runs.
 */
#define TORN_PRODUCERS	2u
#define TORN_CONSUMERS	2u

struct torn {
	struct memfd_ring ring;
	int stop;
	uint64_t kept[TORN_CONSUMERS], torn[TORN_CONSUMERS];
	uint64_t wrong[TORN_CONSUMERS], produced[TORN_PRODUCERS];
};

struct torn_arg {
	struct torn *f;
	unsigned int id;
};

static void *torn_forger(void *arg)
{
	struct torn *f = arg;
	uint64_t h, i;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		h = lfq_load_relaxed(f->ring.loc.tail);
		for (i = h - SLOTS / 2; i != h; i++)
			lfq_store_release(&f->ring.loc.release[i % SLOTS],
					  i + 1);
		sched_yield();
	}
	return NULL;
}

static void *torn_producer(void *arg)
{
	struct torn_arg *a = arg;
	struct torn *f = a->f;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	int64_t deadline = now_ns() + RUN_MAX_NS / 4;
	uint64_t i;

	lfq_mpsc_prod_init(&p, &f->ring.loc);
	for (i = 0; i < PER_CONFIG / 40 && now_ns() < deadline;) {
		uint64_t *m = lfq_mpsc_reserve(&p, 1, &r);

		if (!m) {
			sched_yield();
			continue;
		}
		i++;
		__atomic_store_n(&m[0], r.index, __ATOMIC_RELAXED);
		if (i % 8 == 0)
			sched_yield();	/* half written for a while */
		__atomic_store_n(&m[1], check_word(r.index), __ATOMIC_RELAXED);
		lfq_mpsc_commit(&p, &r);
		f->produced[a->id]++;
	}
	return NULL;
}

static void *torn_consumer(void *arg)
{
	struct torn_arg *a = arg;
	struct torn *f = a->f;
	struct lfq_mpmc_cons c;
	struct lfq_mpmc_take t;
	uint64_t copy[2];

	lfq_mpmc_cons_init(&c, &f->ring.loc);
	c.max_tries = 64;
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		const uint64_t *m = lfq_mpmc_claim(&c, 1, &t);

		if (!m) {
			sched_yield();
			continue;
		}
		copy[0] = __atomic_load_n(&m[0], __ATOMIC_RELAXED);
		sched_yield();		/* a slow reader */
		copy[1] = __atomic_load_n(&m[1], __ATOMIC_RELAXED);
		if (lfq_mpmc_torn(&c, t.index, 1)) {
			f->torn[a->id]++;
		} else {
			f->kept[a->id]++;
			if (copy[0] != t.index ||
			    copy[1] != check_word(t.index))
				f->wrong[a->id]++;
		}
		lfq_mpmc_release(&c, &t);
	}
	return NULL;
}

static void run_torn_threads(void)
{
	struct torn f = { 0 };
	struct torn_arg pa[TORN_PRODUCERS], ca[TORN_CONSUMERS];
	pthread_t pt[TORN_PRODUCERS], ct[TORN_CONSUMERS], forger;
	uint64_t kept = 0, torn = 0, wrong = 0, produced = 0;
	unsigned int i;

	if (memfd_ring_init(&f.ring, SLOTS, SLOT_SIZE, 1)) {
		tap_ok(0, "torn records, threads: ring setup");
		return;
	}
	pthread_create(&forger, NULL, torn_forger, &f);
	for (i = 0; i < TORN_CONSUMERS; i++) {
		ca[i] = (struct torn_arg){ &f, i };
		pthread_create(&ct[i], NULL, torn_consumer, &ca[i]);
	}
	for (i = 0; i < TORN_PRODUCERS; i++) {
		pa[i] = (struct torn_arg){ &f, i };
		pthread_create(&pt[i], NULL, torn_producer, &pa[i]);
	}
	for (i = 0; i < TORN_PRODUCERS; i++) {
		pthread_join(pt[i], NULL);
		produced += f.produced[i];
	}
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	pthread_join(forger, NULL);
	for (i = 0; i < TORN_CONSUMERS; i++) {
		pthread_join(ct[i], NULL);
		kept += f.kept[i];
		torn += f.torn[i];
		wrong += f.wrong[i];
	}
	tap_ok(!wrong && kept > 0 && produced > 4 * SLOTS,
	       "torn records, %u producer and %u consumer threads, a forger releasing the half ring behind the claim index: %llu records produced, %llu kept, %llu torn and dropped; every record kept is its index's (%llu wrong)",
	       TORN_PRODUCERS, TORN_CONSUMERS, (unsigned long long)produced,
	       (unsigned long long)kept, (unsigned long long)torn,
	       (unsigned long long)wrong);
	munmap(f.ring.base, f.ring.len);
}

int main(void)
{
	tap_plan(8);
	run_threads(1, 2, 0);
	run_threads(2, 2, 0);
	run_threads(4, 4, 0);
	run_threads(2, 2, 500);
	run_dead_consumer();
	run_forged();
	run_torn_steps();
	run_torn_threads();
	return tap_done();
}
