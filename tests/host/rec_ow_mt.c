// SPDX-License-Identifier: MIT
/*
 * rec_ow_mt.c - the overwrite mode (the flight recorder) of the record
 * ring protocol (kmod/proto/lfq_rec.h) with threads on a bare
 * double-mapped memfd ring (struct lfq_rec_ring.overwrite set by hand):
 *
 *   - SPSC and MPSC (2 producers, and 4), producers flat out or pausing
 *     a little after each record, records of 1 byte to the limit, random
 *     discards in some runs, a slow consumer (producers overwrite all the
 *     time): every record the consumer gets is whole (its bytes are its
 *     producer's), once, in order per producer; the records committed
 *     are those delivered plus those overwritten (the sum of the
 *     producers' @overwritten: a producer overwrites others' records
 *     too); failed reservations (drops) are counted apart;
 *   - a snapshot thread at the same time: every copy it keeps is whole,
 *     and in order per producer within one snapshot;
 *   - the batch consume (runs of 1 to 16, some cut short): the same, and
 *     the records a cut gives back are overwritten while the consumer
 *     pauses (tail is not left owned);
 *   - a consumer holding a record (tail owned, LFQ_REC_TAIL_HELD):
 *     producers drop rather than overwrite it, it stays whole, tail does
 *     not move; after its release the overwrites resume;
 *   - one thread, against a model of every byte of the ring and of the
 *     tail word: overwrites across the ring's end at every offset, a
 *     record of the limit in a full ring of small ones, a record at tail
 *     not committed, held, cut from a batch, or being overwritten by
 *     another producer (tail owned, LFQ_REC_TAIL_RECLAIM).
 *
 * Which record the consumer (or a snapshot) got is found from its byte
 * index: each producer publishes the index of each record it reserved
 * before committing it; the record's length, discard and every byte are
 * functions of its producer and sequence number. So even a 1-byte record
 * is identified, and a record overwritten is simply never seen.
 *
 * Built twice: normally, and with ThreadSanitizer (LFQ_TSAN, fewer
 * records). Producers write payload with relaxed atomic stores, word by
 * word: a snapshot reads the words of records producers may be zeroing
 * or writing at that moment (a seqlock's read side, checked afterwards by
 * lfq_rec_snap_check()), and marked accesses on both sides keep
 * ThreadSanitizer from reporting that read as a race. The consumer reads
 * held records with plain loads: nobody writes them while it holds them
 * (a report there would be a real bug). As in rec_mt.c, ThreadSanitizer
 * sees the two mappings of a byte as two addresses.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq_rec.h"
#include "memfd_ring.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define PER_RUN		100000ull
#define PACE_NS		0		/* ThreadSanitizer slows them enough */
#define HOLD_MS		100
#define WAIT_NS		10000000000ll	/* for overwrites to resume */
#else
#define PER_RUN		1000000ull
#define PACE_NS		1000		/* a paced producer's pause, at most */
#define HOLD_MS		300
#define WAIT_NS		5000000000ll
#endif
#define STALL_NS	20000000000ll	/* no record for this long: stuck */
#define RING_BYTES	16384u
#define SMALL_RING	4096u		/* the one-thread model's ring */
#define MAX_PRODUCERS	4
#define MAX_PAUSES	64		/* pauses after a cut, per run */

static uint64_t rec_id(uint32_t who, uint64_t seq)
{
	return (uint64_t)who << 40 | seq;
}

/* Record @id's length, 1 to @max; half of them 64 bytes or less. */
static uint32_t rec_len(uint64_t id, uint32_t max)
{
	uint64_t r = mix64(id ^ 0x5bd1e9955bd1e995ull);
	uint32_t span = r & 1 ? 64 : max;

	return 1 + (uint32_t)((r >> 1) % span);
}

/* Whether its producer discards record @id (one in @one_in; 0: never). */
static int rec_discarded(uint64_t id, int one_in)
{
	return one_in && !(mix64(id ^ 0xd15ca4dd15ca4dull) % (uint64_t)one_in);
}

/*
 * Write record @id's payload: whole words (a record's room is rounded up
 * to 8 bytes), relaxed atomic stores (a snapshot may read them now).
 */
static void rec_write(void *b, uint64_t id, uint32_t len)
{
	uint64_t *w = b;

	for (uint32_t i = 0; i < (len + 7) / 8; i++)
		__atomic_store_n(&w[i], mix64(id * 4096 + i), __ATOMIC_RELAXED);
}

/* Whether @b holds record @id's @len bytes. */
static int rec_same(const void *b, uint64_t id, uint32_t len)
{
	const uint8_t *p = b;

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t w = mix64(id * 4096 + i / 8);

		if (memcmp(p + i, &w, len - i < 8 ? len - i : 8))
			return 0;
	}
	return 1;
}

/* Spin for @ns (a slow consumer: busy, so it keeps its CPU). */
static void dawdle(int64_t ns)
{
	int64_t t0 = now_ns();

	while (now_ns() - t0 < ns)
		;
}

static unsigned int cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

struct run;

/* One producer: what it publishes as it goes, and its totals. */
struct prod {
	struct run *run;
	uint32_t id;
	uint64_t *pos_of;	/* byte index of record seq (relaxed) */
	uint64_t n_pub;		/* pos_of[0..n_pub) written (release) */
	uint64_t ow;		/* its @overwritten, after each reservation */
	uint64_t tries;		/* reservations tried (relaxed) */
	uint64_t drops;		/* of which failed (relaxed) */
	uint64_t committed, discarded, overwritten;	/* after the join */
} __attribute__((aligned(64)));

struct run {
	struct lfq_rec_ring ring;
	unsigned char *base;
	size_t len;
	unsigned int producers;
	uint64_t per_producer;
	uint32_t max_len;
	int discard_one_in;
	int pace;		/* producers' pause after a record, ns, at most */
	int done;		/* producers finished (release) */
	int stop;		/* producers: stop now */
	int snap_stop;
	struct prod prod[MAX_PRODUCERS];
};

static void *produce(void *arg)
{
	struct prod *me = arg;
	struct run *run = me->run;
	uint64_t tries = 0, drops = 0;
	struct lfq_rec_prod p;
	struct lfq_rec_resv r;
	void *b;

	lfq_rec_prod_init(&p, &run->ring, run->producers > 1);
	for (uint64_t seq = 0; seq < run->per_producer; seq++) {
		uint64_t id = rec_id(me->id, seq);
		uint32_t len = rec_len(id, run->max_len);

		for (;;) {
			b = lfq_rec_reserve(&p, len, &r);
			__atomic_store_n(&me->ow, p.overwritten,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&me->tries, ++tries, __ATOMIC_RELAXED);
			if (b)
				break;
			/*
			 * A drop: the consumer owns tail, the oldest record is
			 * not committed, or another producer's overwrite of it
			 * does not end within a few spins.
			 */
			__atomic_store_n(&me->drops, ++drops, __ATOMIC_RELAXED);
			if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))
				goto out;
			sched_yield();
		}
		/* Its index before its commit: whoever sees it can find it. */
		__atomic_store_n(&me->pos_of[seq], r.pos, __ATOMIC_RELAXED);
		__atomic_store_n(&me->n_pub, seq + 1, __ATOMIC_RELEASE);
		rec_write(b, id, len);
		if (rec_discarded(id, run->discard_one_in)) {
			lfq_rec_discard(&p, &r);
			me->discarded++;
		} else {
			lfq_rec_commit(&p, &r);
			me->committed++;
		}
		if (run->pace)
			dawdle((int64_t)(mix64(id) % (uint64_t)run->pace));
		if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))
			break;
	}
out:
	me->overwritten = p.overwritten;
	__atomic_fetch_add(&run->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int producers_done(struct run *run)
{
	return __atomic_load_n(&run->done, __ATOMIC_ACQUIRE) ==
	       (int)run->producers;
}

/* The producers' @overwritten, as last published. */
static uint64_t ow_sum(struct run *run)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < run->producers; i++)
		n += __atomic_load_n(&run->prod[i].ow, __ATOMIC_RELAXED);
	return n;
}

static uint64_t drops_sum(struct run *run)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < run->producers; i++)
		n += __atomic_load_n(&run->prod[i].drops, __ATOMIC_RELAXED);
	return n;
}

/*
 * Which producer reserved the record at byte index @pos, and its
 * sequence number: a binary search of each producer's published indices
 * (increasing; each index is reserved once in the ring's life). The
 * record was committed, after its index was published: the caller's
 * acquire of its header makes the index visible.
 */
static int rec_lookup(struct run *run, uint64_t pos, uint32_t *who,
		      uint64_t *seq)
{
	for (uint32_t q = 0; q < run->producers; q++) {
		struct prod *pr = &run->prod[q];
		uint64_t lo = 0, hi = __atomic_load_n(&pr->n_pub,
						      __ATOMIC_ACQUIRE);

		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			uint64_t v = __atomic_load_n(&pr->pos_of[mid],
						     __ATOMIC_RELAXED);

			if (v == pos) {
				*who = q;
				*seq = mid;
				return 1;
			}
			if (v < pos)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

/* What the consumer found. */
struct tally {
	uint64_t got, bad, unknown, order, twice, corrupt, skipped, empty;
	uint64_t got_p[MAX_PRODUCERS];
	uint64_t next[MAX_PRODUCERS];	/* lowest sequence still allowed */
	uint64_t *seen[MAX_PRODUCERS];	/* bitmaps of sequences delivered */
	uint64_t cuts, pause_ok, pause_bad, pause_none, pause_ow;
	int stalled;
};

/* Check one record the consumer got at byte index @pos; count it. */
static void check_rec(struct run *run, struct tally *t, uint64_t pos,
		      const void *b, uint32_t len)
{
	uint64_t seq, id;
	uint32_t q;

	t->got++;
	if (!rec_lookup(run, pos, &q, &seq)) {
		t->unknown++;
		t->bad++;
		return;
	}
	id = rec_id(q, seq);
	if (rec_discarded(id, run->discard_one_in) ||
	    len != rec_len(id, run->max_len) || !rec_same(b, id, len))
		t->bad++;
	if (seq < t->next[q])
		t->order++;		/* out of order, or twice */
	else
		t->next[q] = seq + 1;
	if (bit_seen_twice(t->seen[q], seq))
		t->twice++;
	t->got_p[q]++;
}

/*
 * The slow consumer, one record at a time: a few microseconds of work
 * after each release (producers fill the ring and overwrite), and now and
 * then a longer one while it holds the record (producers drop).
 */
static void consume(struct run *run, struct tally *t)
{
	int64_t last = now_ns();
	struct lfq_rec_cons c;
	uint64_t pick = 11, r;
	const void *b;
	uint32_t len;
	int fin;

	lfq_rec_cons_init(&c, &run->ring);
	for (;;) {
		fin = producers_done(run);
		b = lfq_rec_peek(&c, &len);
		if (!b) {
			if (fin || c.corrupt)
				break;
			t->empty++;
			if (now_ns() - last > STALL_NS) {
				t->stalled = 1;
				break;
			}
			/*
			 * Again at once: a yield would give the CPU away for
			 * a slice, and tail is mostly owned by a producer
			 * overwriting (lfq_rec_own() gives up after a few
			 * spins).
			 */
			continue;
		}
		last = now_ns();
		check_rec(run, t, c.tail, b, len);
		r = rnd_next(&pick);
		if (!(r % 64))
			dawdle(20000);
		lfq_rec_release(&c);
		dawdle((int64_t)(r % 4000));
	}
	t->skipped = c.discarded;
	t->corrupt = c.corrupt;
}

/*
 * After a cut, the consumer pauses: the records it gave back, up to byte
 * index @end (@n of them not discarded), must be overwritten: tail passes
 * @end and the overwritten counts grow by @n at least. 1 if so, 0 if not
 * in time, -1 if the producers finished first (no verdict).
 */
static int pause_check(struct run *run, uint64_t end, uint64_t n,
		       uint64_t ow0, uint64_t *grew)
{
	int64_t t0 = now_ns();

	for (;;) {
		uint64_t tail = __atomic_load_n(run->ring.tail,
						__ATOMIC_ACQUIRE) &
				~LFQ_REC_TAIL_BITS;

		*grew = ow_sum(run) - ow0;
		if ((int64_t)(tail - end) >= 0 && *grew >= n)
			return 1;
		if (producers_done(run))
			return -1;
		if (now_ns() - t0 > WAIT_NS)
			return 0;
		sched_yield();
	}
}

/*
 * The batch consumer: runs of 1 to 16 records; one in four cut short
 * after a random number of them (0 included: the whole run given back);
 * as slow per record as the other.
 */
static void consume_batches(struct run *run, struct tally *t)
{
	int64_t last = now_ns();
	struct lfq_rec_batch b;
	struct lfq_rec_cons c;
	uint64_t pick = 7, r, start, run_end, ow0, grew;
	uint32_t len, keep, k, count;
	const uint8_t *p;
	__u64 off;
	int fin, v;

	lfq_rec_cons_init(&c, &run->ring);
	for (;;) {
		fin = producers_done(run);
		lfq_rec_peek_batch(&c, 1 + (uint32_t)(rnd_next(&pick) % 16),
				   &b);
		if (!b.bytes) {
			/* Nothing: the run gives tail back (it may own it). */
			lfq_rec_release_batch(&c, &b);
			if (fin || c.corrupt)
				break;
			t->empty++;
			if (now_ns() - last > STALL_NS) {
				t->stalled = 1;
				break;
			}
			/*
			 * Again at once: a yield would give the CPU away for
			 * a slice, and tail is mostly owned by a producer
			 * overwriting (lfq_rec_own() gives up after a few
			 * spins).
			 */
			continue;
		}
		last = now_ns();
		start = c.tail;		/* the run's first record; tail owned */
		run_end = start + b.bytes;
		count = b.count;
		r = rnd_next(&pick);
		keep = count && !(r % 4) ? (uint32_t)((r >> 2) % count) : count;
		off = 0;
		for (k = 0; k < keep &&
			    (p = lfq_rec_batch_next(&b, &off, &len)); k++)
			check_rec(run, t, start +
				  (uint64_t)(p - LFQ_REC_HDR_SIZE - b.at),
				  p, len);
		if (keep == count) {
			/* Whole: nothing more but discards to its end. */
			if (k != count || lfq_rec_batch_next(&b, &off, &len) ||
			    off != b.bytes)
				t->bad++;
		} else {
			lfq_rec_batch_cut(&b, off);
			if (k != keep || b.count != keep || b.bytes != off)
				t->bad++;
			t->cuts++;
		}
		if (!(r % 97))
			dawdle(20000);
		ow0 = ow_sum(run);
		lfq_rec_release_batch(&c, &b);
		if (keep < count && t->pause_ok + t->pause_bad < MAX_PAUSES) {
			v = pause_check(run, run_end, count - keep, ow0, &grew);
			if (v > 0) {
				t->pause_ok++;
				t->pause_ow += grew;
			} else if (!v) {
				t->pause_bad++;
			} else {
				t->pause_none++;
			}
			last = now_ns();
		}
		dawdle((int64_t)(r % 4000) * (count + 1));
	}
	t->skipped = c.discarded;
	t->corrupt = c.corrupt;
}

/* What the snapshot thread found. */
struct snapper {
	struct run *run;
	uint64_t snaps, kept, dropped, skipped, bad, unknown, order;
	uint64_t most;		/* records kept by one snapshot, at most */
};

/*
 * Snapshots until told to stop: each copy kept (lfq_rec_snap_check() says
 * 1) must be its record's bytes, and within one snapshot the records
 * must come in increasing byte index and per producer in sequence order.
 */
static void *snapshot(void *arg)
{
	struct snapper *sn = arg;
	struct run *run = sn->run;
	uint64_t buf[RING_BYTES / 8];
	uint64_t last[MAX_PRODUCERS], seq, id, prev;
	__u64 hdr;
	struct lfq_rec_snap s;
	const void *src;
	uint32_t len, q;
	uint64_t kept;
	int any;

	while (!__atomic_load_n(&run->snap_stop, __ATOMIC_RELAXED)) {
		lfq_rec_snap_init(&s, &run->ring);
		memset(last, 0, sizeof(last));
		kept = 0;
		any = 0;
		prev = 0;
		while ((src = lfq_rec_snap_next(&s, &hdr)) || s.paused) {
			if (!src)
				continue;
			len = (uint32_t)(hdr & LFQ_REC_LEN_MASK);
			lfq_rec_snap_copy(buf, src, len);
			if (!lfq_rec_snap_check(&s, hdr)) {
				sn->dropped++;
				continue;
			}
			kept++;
			if (any && s.at <= prev)
				sn->order++;
			any = 1;
			prev = s.at;
			if (!rec_lookup(run, s.at, &q, &seq)) {
				sn->unknown++;
				sn->bad++;
				continue;
			}
			id = rec_id(q, seq);
			if (len != rec_len(id, run->max_len) ||
			    rec_discarded(id, run->discard_one_in) ||
			    !rec_same(buf, id, len))
				sn->bad++;
			if (seq + 1 <= last[q])
				sn->order++;
			last[q] = seq + 1;
		}
		sn->snaps++;
		sn->kept += kept;
		sn->skipped += s.skipped;
		if (kept > sn->most)
			sn->most = kept;
		dawdle(5000);
	}
	return NULL;
}

/*
 * Words left in the ring once everything is consumed or overwritten:
 * payload zeroed; headers only of the last ring's worth of records
 * (their position from the lap bits). Returns the count of words that
 * are neither.
 */
static uint64_t ring_leftovers(const struct lfq_rec_ring *ring,
			       uint32_t max_len)
{
	uint32_t order = lfq_rec_order(ring->size);
	uint64_t head = *ring->head, n = 0;

	for (uint64_t i = 0; i < ring->size; i += 8) {
		uint64_t w = *(const uint64_t *)(ring->data + i);
		uint64_t pos = ((w >> LFQ_REC_LAP_SHIFT) << order) + i;
		uint32_t len = (uint32_t)(w & LFQ_REC_LEN_MASK);

		n += w && (!len || len > max_len || pos >= head ||
			   pos + lfq_rec_size(len) + ring->size <= head);
	}
	return n;
}

/*
 * One run: @producers producers (SPSC if 1), each pausing up to @pace ns
 * after a record (0: flat out), a slow consumer (one at a time, or runs
 * with cuts if @batch), a snapshot thread if @snap.
 */
static void run_threads(unsigned int producers, int discard_one_in,
			int batch, int snap, int pace)
{
	struct run *run = calloc(1, sizeof(*run));
	struct snapper sn = { .run = run };
	unsigned int threads = producers + 1 + !!snap;
	pthread_t th[MAX_PRODUCERS], sth;
	uint64_t committed = 0, discarded = 0, ow = 0, drops = 0, tries = 0;
	uint64_t leftovers, missing = 0;
	struct tally t = { 0 };
	int64_t t0 = now_ns();
	char what[256];
	int ok;

	if (!run || memfd_rec_init(&run->ring, RING_BYTES, &run->base,
				   &run->len)) {
		tap_ok(0, "map a record ring");
		return;
	}
	run->ring.overwrite = 1;
	run->producers = producers;
	run->per_producer = PER_RUN / producers;
	run->max_len = lfq_rec_max_len(run->ring.size);
	run->discard_one_in = discard_one_in;
	run->pace = pace;
	for (unsigned int i = 0; i < producers; i++) {
		run->prod[i].run = run;
		run->prod[i].id = i;
		run->prod[i].pos_of = calloc(run->per_producer, 8);
		t.seen[i] = calloc(run->per_producer / 64 + 1, 8);
		if (!run->prod[i].pos_of || !t.seen[i]) {
			tap_ok(0, "allocate");
			return;
		}
	}
	snprintf(what, sizeof(what),
		 "%s, %u producer%s%s%s, %s consumer%s%s (%u threads on %u CPUs%s)",
		 producers == 1 ? "SPSC" : "MPSC", producers,
		 producers == 1 ? "" : "s",
		 pace ? " pausing after each record" : " flat out",
		 discard_one_in ? ", random discards" : "",
		 batch ? "slow batch" : "slow",
		 batch ? " (runs of 1 to 16, one in 4 cut short)" : "",
		 snap ? ", a snapshot thread" : "", threads, cpus(),
		 threads > cpus() ? ": oversubscribed" : "");
	if (snap)
		pthread_create(&sth, NULL, snapshot, &sn);
	for (unsigned int i = 0; i < producers; i++)
		pthread_create(&th[i], NULL, produce, &run->prod[i]);
	if (batch)
		consume_batches(run, &t);
	else
		consume(run, &t);
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < producers; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&run->snap_stop, 1, __ATOMIC_RELAXED);
	if (snap)
		pthread_join(sth, NULL);
	for (unsigned int i = 0; i < producers; i++) {
		struct prod *pr = &run->prod[i];

		committed += pr->committed;
		discarded += pr->discarded;
		ow += pr->overwritten;
		drops += pr->drops;
		tries += pr->tries;
		/* Delivered, of each producer: no more than it committed. */
		missing += t.got_p[i] > pr->committed;
	}
	leftovers = ring_leftovers(&run->ring, run->max_len);
	ok = !t.stalled && !t.bad && !t.order && !t.twice && !t.corrupt &&
	     !missing && committed == t.got + ow && t.got && ow &&
	     t.skipped <= discarded &&
	     committed + discarded == producers * run->per_producer &&
	     *run->ring.tail == *run->ring.head && !leftovers;
	if (!tap_ok(ok, "overwrite mode, %s, records of 1 to %u bytes in a %u-byte ring: %llu committed = %llu delivered + %llu overwritten; each delivered whole, once, in order per producer; %llu discarded (%llu skipped by the consumer); %llu of %llu reservations failed (drops); %llu peeks found nothing; the ring drained to zero payload (%.2f s)",
		    what, run->max_len, RING_BYTES,
		    (unsigned long long)committed, (unsigned long long)t.got,
		    (unsigned long long)ow, (unsigned long long)discarded,
		    (unsigned long long)t.skipped, (unsigned long long)drops,
		    (unsigned long long)tries, (unsigned long long)t.empty,
		    (double)(now_ns() - t0) / 1e9))
		tap_diag("  got %llu bad %llu unknown %llu order %llu twice %llu corrupt %llu stalled %d over-delivered producers %llu; tail %llu head %llu; leftover words %llu",
			 (unsigned long long)t.got, (unsigned long long)t.bad,
			 (unsigned long long)t.unknown,
			 (unsigned long long)t.order,
			 (unsigned long long)t.twice,
			 (unsigned long long)t.corrupt, t.stalled,
			 (unsigned long long)missing,
			 (unsigned long long)*run->ring.tail,
			 (unsigned long long)*run->ring.head,
			 (unsigned long long)leftovers);
	if (snap && !tap_ok(!sn.bad && !sn.order && sn.kept && sn.snaps > 10,
			    "overwrite mode, %s: %llu snapshots kept %llu copies (up to %llu in one), each whole and in order per producer; %llu copies dropped by the check, %llu records skipped",
			    what, (unsigned long long)sn.snaps,
			    (unsigned long long)sn.kept,
			    (unsigned long long)sn.most,
			    (unsigned long long)sn.dropped,
			    (unsigned long long)sn.skipped))
		tap_diag("  bad %llu (not found %llu) out of order %llu",
			 (unsigned long long)sn.bad,
			 (unsigned long long)sn.unknown,
			 (unsigned long long)sn.order);
	if (batch && !tap_ok(t.pause_ok >= 4 && !t.pause_bad,
			     "overwrite mode, %s: %llu runs cut short; after %llu of them the consumer paused and producers overwrote every record given back (tail passed them; %llu overwritten meanwhile), %llu without a verdict (producers done)",
			     what, (unsigned long long)t.cuts,
			     (unsigned long long)t.pause_ok,
			     (unsigned long long)t.pause_ow,
			     (unsigned long long)t.pause_none))
		tap_diag("  pauses without the overwrites in %.0f s: %llu",
			 (double)WAIT_NS / 1e9,
			 (unsigned long long)t.pause_bad);
	for (unsigned int i = 0; i < producers; i++) {
		free(run->prod[i].pos_of);
		free(t.seen[i]);
	}
	munmap(run->base, run->len);
	free(run);
}

/*
 * The consumer holds a record (peeked, not released: tail owned) while
 * 2 producers go on: the ring fills, and every reservation then fails (a
 * drop) instead of overwriting it; tail stays on it, its bytes stay its
 * producer's. Released, the overwrites resume.
 */
static void hold(void)
{
	struct run *run = calloc(1, sizeof(*run));
	uint64_t tries0[MAX_PRODUCERS], ow0, ow1, drops0, drops1, pos;
	uint64_t hdr0, seq, id, tail_moved = 0, checks = 0, torn = 0, raw;
	uint64_t copy[RING_BYTES / 8];
	pthread_t th[MAX_PRODUCERS];
	struct lfq_rec_cons c;
	unsigned int n = 2, i;
	int64_t t0, waited;
	const void *b;
	uint32_t len, q;
	int ok, settled;

	if (!run || memfd_rec_init(&run->ring, RING_BYTES, &run->base,
				   &run->len)) {
		tap_ok(0, "map a record ring");
		return;
	}
	run->ring.overwrite = 1;
	run->producers = n;
	run->per_producer = PER_RUN;
	run->max_len = lfq_rec_max_len(run->ring.size);
	for (i = 0; i < n; i++) {
		run->prod[i].run = run;
		run->prod[i].id = i;
		run->prod[i].pos_of = calloc(run->per_producer, 8);
	}
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, produce, &run->prod[i]);
	lfq_rec_cons_init(&c, &run->ring);
	/* Producers overwriting: the ring is full. */
	for (t0 = now_ns(); !ow_sum(run) && now_ns() - t0 < WAIT_NS;)
		sched_yield();
	while (!(b = lfq_rec_peek(&c, &len)) && now_ns() - t0 < WAIT_NS)
		sched_yield();
	ok = b && rec_lookup(run, c.tail, &q, &seq);
	if (!ok) {
		tap_ok(0, "overwrite mode: a record to hold");
		__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		return;
	}
	pos = c.tail;
	raw = __atomic_load_n(run->ring.tail, __ATOMIC_ACQUIRE);
	id = rec_id(q, seq);
	ok = len == rec_len(id, run->max_len) && rec_same(b, id, len);
	memcpy(copy, b, len);
	hdr0 = __atomic_load_n(lfq_rec_hdr(&run->ring, pos), __ATOMIC_RELAXED);
	/*
	 * Overwrites counted before tail was owned are published when their
	 * reservation returns: wait for every producer's next two.
	 */
	for (i = 0; i < n; i++)
		tries0[i] = __atomic_load_n(&run->prod[i].tries,
					    __ATOMIC_RELAXED);
	do {
		settled = 1;
		for (i = 0; i < n; i++)
			settled &= __atomic_load_n(&run->prod[i].tries,
						   __ATOMIC_RELAXED) >=
				   tries0[i] + 2;
		if (!settled)
			sched_yield();
	} while (!settled && now_ns() - t0 < WAIT_NS);
	ow0 = ow_sum(run);
	drops0 = drops_sum(run);
	for (t0 = now_ns(); now_ns() - t0 < HOLD_MS * 1000000ll;) {
		tail_moved += __atomic_load_n(run->ring.tail,
					      __ATOMIC_ACQUIRE) != raw;
		torn += memcmp(copy, b, len) || !rec_same(b, id, len) ||
			__atomic_load_n(lfq_rec_hdr(&run->ring, pos),
					__ATOMIC_RELAXED) != hdr0;
		checks++;
		msleep(2);
	}
	ow1 = ow_sum(run);
	drops1 = drops_sum(run);
	if (!tap_ok(ok && settled && !tail_moved && !torn && ow1 == ow0 &&
		    drops1 > drops0 && raw == (pos | LFQ_REC_TAIL_HELD) &&
		    !producers_done(run),
		    "overwrite mode, %u producers, the consumer holding a %u-byte record for %d ms: %llu reservations failed (drops), none overwrote (%llu overwritten before, %llu after), tail stayed on the record, held (LFQ_REC_TAIL_HELD), and the record stayed whole (%llu checks)",
		    n, len, HOLD_MS, (unsigned long long)(drops1 - drops0),
		    (unsigned long long)ow0, (unsigned long long)ow1,
		    (unsigned long long)checks))
		tap_diag("  first check %d settled %d tail %#llx (record at %#llx) moved %llu times, torn %llu, header %#llx, producers done %d",
			 ok, settled, (unsigned long long)raw,
			 (unsigned long long)pos,
			 (unsigned long long)tail_moved,
			 (unsigned long long)torn, (unsigned long long)hdr0,
			 producers_done(run));
	lfq_rec_release(&c);
	t0 = now_ns();
	while ((ow_sum(run) < ow1 + 100 ||
		(__atomic_load_n(run->ring.tail, __ATOMIC_ACQUIRE) &
		 ~LFQ_REC_TAIL_BITS) - pos <= RING_BYTES) &&
	       now_ns() - t0 < WAIT_NS && !producers_done(run))
		sched_yield();
	waited = now_ns() - t0;
	ow0 = ow_sum(run);
	tap_ok(ow0 >= ow1 + 100 &&
	       (__atomic_load_n(run->ring.tail, __ATOMIC_ACQUIRE) &
		~LFQ_REC_TAIL_BITS) - pos > RING_BYTES,
	       "overwrite mode: once the record is released the overwrites resume (%llu overwritten, tail a ring past it, in %.1f ms)",
	       (unsigned long long)(ow0 - ow1), (double)waited / 1e6);
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < n; i++)
		free(run->prod[i].pos_of);
	munmap(run->base, run->len);
	free(run);
}

/*
 * One thread, against a model: the ring's bytes as they must be after
 * every call (a shadow copy), the shared tail with its owner bits, and
 * the records from tail to head.
 */
struct mrec {
	uint64_t pos, id;
	uint32_t len;
	int state;		/* 0 reserved, 1 committed, 2 discarded */
};

#define MQ	(SMALL_RING / 16 + 1)

struct model {
	struct lfq_rec_ring ring;
	unsigned char *base;
	size_t mlen;
	uint64_t size, head, tail, ow, next_id, ops;
	uint32_t max_len, order;
	int own;		/* the consumer owns tail (LFQ_REC_TAIL_HELD) */
	int busy;		/* another producer's overwrite owns it */
	uint8_t shadow[SMALL_RING];
	struct mrec q[MQ];	/* from tail: q[q0], q[q0 + 1], ... */
	uint32_t q0, qn;
	uint8_t ow_at[SMALL_RING / 8];	/* overwritten across the end here */
	uint32_t ow_n;
	int ok;
	char why[200];		/* the first difference */
};

__attribute__((format(printf, 2, 3)))
static void m_fail(struct model *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->ok)
		return;
	m->ok = 0;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
}

static uint64_t *m_word(struct model *m, uint64_t pos)
{
	return (uint64_t *)(m->shadow + (pos & (m->size - 1)));
}

static struct mrec *m_rec(struct model *m, uint32_t i)
{
	return &m->q[(m->q0 + i) % MQ];
}

static int m_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	if (memfd_rec_init(&m->ring, SMALL_RING, &m->base, &m->mlen))
		return -1;
	m->ring.overwrite = 1;
	m->size = m->ring.size;
	m->max_len = lfq_rec_max_len(m->size);
	m->order = lfq_rec_order(m->size);
	m->ok = 1;
	return 0;
}

/* An empty, zeroed ring whose head and tail are @start. */
static void m_reset(struct model *m, uint64_t start)
{
	memset(m->ring.data, 0, m->size);
	memset(m->shadow, 0, m->size);
	*m->ring.head = *m->ring.tail = start;
	m->head = m->tail = start;
	m->q0 = m->qn = 0;
	m->own = m->busy = 0;
}

/* The shared tail as the model has it: the index and its owner bits. */
static uint64_t m_tail(struct model *m)
{
	return m->tail | (m->own ? LFQ_REC_TAIL_HELD : 0) |
	       (m->busy ? LFQ_REC_TAIL_RECLAIM : 0);
}

/* The bytes of both mappings, head and tail, as the model says. */
static void m_check(struct model *m, const char *op)
{
	m->ops++;
	if (memcmp(m->ring.data, m->shadow, m->size) ||
	    memcmp(m->ring.data + m->size, m->shadow, m->size))
		m_fail(m, "%s (op %llu): ring bytes differ from the model", op,
		       (unsigned long long)m->ops);
	if (*m->ring.head != m->head || *m->ring.tail != m_tail(m))
		m_fail(m, "%s (op %llu): head %llu tail %#llx, model %llu %#llx",
		       op, (unsigned long long)m->ops,
		       (unsigned long long)*m->ring.head,
		       (unsigned long long)*m->ring.tail,
		       (unsigned long long)m->head,
		       (unsigned long long)m_tail(m));
}

/*
 * The oldest record leaves: its header marked with @flags (the
 * consumer's LFQ_REC_RELEASED; a producer's overwrite leaves it), its
 * payload words zeroed, tail past it.
 */
static void m_pass(struct model *m, uint64_t flags)
{
	struct mrec *f = m_rec(m, 0);
	uint64_t need = lfq_rec_size(f->len);

	*m_word(m, f->pos) |= flags;
	for (uint64_t i = LFQ_REC_HDR_SIZE; i < need; i += 8)
		*m_word(m, f->pos + i) = 0;
	m->tail += need;
	m->q0 = (m->q0 + 1) % MQ;
	m->qn--;
}

/*
 * The overwrites a reservation of @need bytes must make: the oldest
 * records, while the ring lacks room, each committed (or discarded),
 * with tail owned by nobody. Returns 1 if it then fits, 0 if it must
 * fail.
 */
static int m_make_room(struct model *m, uint64_t need)
{
	while (m->head - m->tail > m->size - need) {
		struct mrec *f = m_rec(m, 0);
		uint64_t o = f->pos & (m->size - 1);

		if (!m->qn || !f->state || m->own || m->busy)
			return 0;
		m->ow += f->state == 1;
		if (o + lfq_rec_size(f->len) > m->size && !m->ow_at[o / 8]) {
			m->ow_at[o / 8] = 1;
			m->ow_n++;
		}
		m_pass(m, 0);
	}
	return 1;
}

/*
 * Reserve a record of @len bytes through @p, as the model expects (it
 * fails, or it succeeds at head after the overwrites it needs). Returns
 * its index in the model's queue, or -1.
 */
static int m_reserve(struct model *m, struct lfq_rec_prod *p, uint32_t len)
{
	uint64_t need = lfq_rec_size(len), ow = m->ow, pow = p->overwritten;
	struct lfq_rec_resv r;
	int fits = m_make_room(m, need);
	struct mrec *n;
	void *b = lfq_rec_reserve(p, len, &r);

	if (!!b != fits || p->overwritten - pow != m->ow - ow)
		m_fail(m, "reserve %u (op %llu): got %s, model %s; overwrote %llu, model %llu",
		       len, (unsigned long long)m->ops, b ? "a record" : "NULL",
		       fits ? "a record" : "NULL",
		       (unsigned long long)(p->overwritten - pow),
		       (unsigned long long)(m->ow - ow));
	if (!b || !fits) {
		m_check(m, "failed reserve");
		return -1;
	}
	if (r.pos != m->head || r.len != len ||
	    b != m->ring.data + (m->head & (m->size - 1)) + LFQ_REC_HDR_SIZE)
		m_fail(m, "reserve (op %llu): at %llu, model %llu",
		       (unsigned long long)m->ops, (unsigned long long)r.pos,
		       (unsigned long long)m->head);
	n = m_rec(m, m->qn++);
	*n = (struct mrec){ .pos = m->head, .id = m->next_id++, .len = len };
	rec_write(b, n->id, len);
	for (uint32_t i = 0; i < (len + 7) / 8; i++)
		*m_word(m, n->pos + LFQ_REC_HDR_SIZE + 8ull * i) =
			mix64(n->id * 4096 + i);
	m->head += need;
	m_check(m, "reserve");
	return (int)m->qn - 1;
}

/* Commit (or discard) the model's record @i. */
static void m_publish(struct model *m, struct lfq_rec_prod *p, int i,
		      int discard)
{
	struct mrec *n = m_rec(m, (uint32_t)i);
	struct lfq_rec_resv r = { .pos = n->pos, .len = n->len };

	if (discard)
		lfq_rec_discard(p, &r);
	else
		lfq_rec_commit(p, &r);
	n->state = discard ? 2 : 1;
	*m_word(m, n->pos) = n->len | (discard ? LFQ_REC_DISCARD : 0) |
			     lfq_rec_lap(n->pos, m->order);
	m_check(m, "commit");
}

/* Reserve and commit (or discard, one in @one_in) a record. */
static int m_put(struct model *m, struct lfq_rec_prod *p, uint32_t len,
		 uint64_t *seed, int one_in)
{
	int i = m_reserve(m, p, len);

	if (i >= 0)
		m_publish(m, p, i, one_in && !(rnd_next(seed) % one_in));
	return i;
}

/* Whether a record of @len bytes fits without an overwrite. */
static int m_room(struct model *m, uint32_t len)
{
	return m->head - m->tail <= m->size - lfq_rec_size(len);
}

/*
 * Peek: the model's consumer owns tail (unless another producer's
 * overwrite does), passes the discarded records there (each pass gives
 * tail up, the next owns it again), and keeps the first committed one,
 * tail still owned; nothing committed: tail given back. Returns 1 if the
 * consumer got what the model has.
 */
static int m_peek(struct model *m, struct lfq_rec_cons *c)
{
	struct mrec *f = NULL;
	const void *b;
	uint32_t len;

	if (!m->busy) {
		m->own = 1;
		while (m->qn && m_rec(m, 0)->state == 2)
			m_pass(m, LFQ_REC_RELEASED);
		f = m->qn && m_rec(m, 0)->state == 1 ? m_rec(m, 0) : NULL;
		m->own = !!f;
	}
	b = lfq_rec_peek(c, &len);
	if (!!b != !!f || (b && (c->tail != f->pos || len != f->len ||
				 !rec_same(b, f->id, len))))
		m_fail(m, "peek (op %llu): got %s at %llu, model %s at %llu",
		       (unsigned long long)m->ops, b ? "a record" : "NULL",
		       (unsigned long long)c->tail, f ? "a record" : "NULL",
		       f ? (unsigned long long)f->pos : 0ull);
	m_check(m, "peek");
	return b && f;
}

static void m_release(struct model *m, struct lfq_rec_cons *c)
{
	lfq_rec_release(c);
	m_pass(m, LFQ_REC_RELEASED);
	m->own = 0;
	m_check(m, "release");
}

/*
 * A run of up to @max records; the reader keeps @keep (all if @keep is
 * not less than the run's count; else the rest is given back by a cut).
 * The run is released even when empty (it gives tail back).
 */
static void m_batch(struct model *m, struct lfq_rec_cons *c, uint32_t max,
		    uint32_t keep)
{
	uint32_t count = 0, joined = 0, k, len, kept_all = 0;
	uint64_t bytes = 0, off_model = 0;
	struct lfq_rec_batch b;
	const uint8_t *p;
	__u64 off = 0;

	/* The run: from tail, committed records (and discards) to @max. */
	if (!m->busy) {
		m->own = 1;
		while (joined < m->qn && count < max) {
			struct mrec *f = m_rec(m, joined);

			if (!f->state)
				break;
			count += f->state == 1;
			bytes += lfq_rec_size(f->len);
			joined++;
		}
		/* An empty run gives tail back at once. */
		if (!bytes)
			m->own = 0;
	}
	lfq_rec_peek_batch(c, max, &b);
	if (b.count != count || b.bytes != bytes ||
	    (bytes && c->tail != m_rec(m, 0)->pos))
		m_fail(m, "peek_batch %u (op %llu): %u records, %llu bytes; model %u, %llu",
		       max, (unsigned long long)m->ops, b.count,
		       (unsigned long long)b.bytes, count,
		       (unsigned long long)bytes);
	m_check(m, "peek_batch");
	if (!m->ok)
		return;
	if (keep >= count) {
		keep = count;
		kept_all = 1;
	}
	/* Read @keep records; the model's place after the last. */
	for (k = 0, joined = 0; k < keep; joined++) {
		struct mrec *f = m_rec(m, joined);

		off_model += lfq_rec_size(f->len);
		if (f->state != 1)
			continue;
		p = lfq_rec_batch_next(&b, &off, &len);
		if (!p || c->tail + (uint64_t)(p - LFQ_REC_HDR_SIZE - b.at) !=
			  f->pos || len != f->len || !rec_same(p, f->id, len))
			m_fail(m, "batch_next (op %llu): not the model's record at %llu",
			       (unsigned long long)m->ops,
			       (unsigned long long)f->pos);
		k++;
	}
	if (kept_all) {
		if (lfq_rec_batch_next(&b, &off, &len) || off != bytes)
			m_fail(m, "batch_next (op %llu): past the run",
			       (unsigned long long)m->ops);
		off_model = bytes;
	} else {
		lfq_rec_batch_cut(&b, off);
		if (off != off_model || b.bytes != off || b.count != keep)
			m_fail(m, "batch_cut (op %llu): %llu bytes, %u records; model %llu, %u",
			       (unsigned long long)m->ops,
			       (unsigned long long)b.bytes, b.count,
			       (unsigned long long)off_model, keep);
	}
	lfq_rec_release_batch(c, &b);
	/* Released: the records before the cut; tail given back. */
	while (off_model) {
		off_model -= lfq_rec_size(m_rec(m, 0)->len);
		m_pass(m, LFQ_REC_RELEASED);
	}
	m->own = 0;
	m_check(m, "release_batch");
}

/*
 * A snapshot: every committed record from tail to the first not
 * committed, all kept, but the one at tail while tail is owned.
 */
static void m_snap(struct model *m)
{
	uint64_t buf[SMALL_RING / 8];
	uint32_t i = 0, len;
	struct lfq_rec_snap s;
	const void *src;
	__u64 hdr;

	lfq_rec_snap_init(&s, &m->ring);
	while ((src = lfq_rec_snap_next(&s, &hdr)) || s.paused) {
		if (!src)
			continue;
		struct mrec *f = NULL;

		while (i < m->qn) {
			f = m_rec(m, i++);
			if (!f->state)
				i = m->qn;	/* the walk ends there */
			else if (f->state == 1 &&
				 !(i == 1 && (m->own || m->busy)))
				break;
			f = NULL;
		}
		len = (uint32_t)(hdr & LFQ_REC_LEN_MASK);
		lfq_rec_snap_copy(buf, src, len);
		if (!f || !lfq_rec_snap_check(&s, hdr) || s.at != f->pos ||
		    len != f->len || !rec_same(buf, f->id, len)) {
			m_fail(m, "snapshot (op %llu): record at %llu is not the model's",
			       (unsigned long long)m->ops,
			       (unsigned long long)s.at);
			return;
		}
	}
	/* Nothing left the snapshot should have copied. */
	while (i < m->qn) {
		struct mrec *f = m_rec(m, i++);

		if (!f->state)
			break;
		if (f->state == 1 && !(i == 1 && (m->own || m->busy))) {
			m_fail(m, "snapshot (op %llu): missed the record at %llu",
			       (unsigned long long)m->ops,
			       (unsigned long long)f->pos);
			return;
		}
	}
	m_check(m, "snapshot");
}

/* A length: half of them 1 to 64 bytes, half 1 to the limit. */
static uint32_t m_len(struct model *m, uint64_t *seed)
{
	uint64_t r = rnd_next(seed);

	return 1 + (uint32_t)((r >> 1) % (r & 1 ? 64 : m->max_len));
}

/*
 * Overwrites across the ring's end, against the model: records of random
 * sizes, some discarded, with peeks, runs (some cut) and snapshots in
 * between, until records were reserved and overwritten across the end
 * at every offset where one can start. Where the head is in reach of the
 * end, half of the lengths are drawn among those that cross it.
 */
static void edge_wrap(int multi)
{
	uint32_t offsets = 0, resv_n = 0;
	uint8_t resv_at[SMALL_RING / 8] = { 0 };
	uint64_t seed = 99 + (uint64_t)multi, r, n;
	struct lfq_rec_prod p;
	struct lfq_rec_cons c;
	struct model *m = malloc(sizeof(*m));

	if (!m || m_init(m)) {
		tap_ok(0, "map a record ring");
		return;
	}
	m_reset(m, 0);
	lfq_rec_prod_init(&p, &m->ring, multi);
	lfq_rec_cons_init(&c, &m->ring);
	/* Offsets where a record can cross the end: size - need + 8 ... */
	for (uint64_t o = 0; o < m->size; o += 8)
		offsets += o + lfq_rec_size(m->max_len) > m->size;
	for (n = 0; m->ok && n < 2000000 &&
		    (resv_n < offsets || m->ow_n < offsets); n++) {
		uint64_t at = m->head & (m->size - 1);
		uint32_t len = m_len(m, &seed), lo;

		r = rnd_next(&seed);
		if (at + lfq_rec_size(m->max_len) > m->size && (r & 1)) {
			lo = (uint32_t)(m->size - at - 7);	/* crosses */
			len = lo + (uint32_t)((r >> 1) % (m->max_len - lo + 1));
		}
		if (m_put(m, &p, len, &seed, 8) < 0) {
			m_fail(m, "reserve %u failed (op %llu)", len,
			       (unsigned long long)m->ops);
			break;
		}
		if (at + lfq_rec_size(len) > m->size && !resv_at[at / 8]) {
			resv_at[at / 8] = 1;
			resv_n++;
		}
		/* A consumer slower than the producer: most are overwritten. */
		r = rnd_next(&seed);
		if (!(r % 10) && m_peek(m, &c))
			m_release(m, &c);
		else if (r % 20 == 1)
			m_batch(m, &c, 1 + (uint32_t)(r >> 5) % 4,
				(uint32_t)(r >> 8) % 5);
		else if (r % 13 == 2)
			m_snap(m);
	}
	if (!tap_ok(m->ok && resv_n == offsets && m->ow_n == offsets,
		    "overwrite mode, one %s producer, a %u-byte ring: %llu records of 1 to %u bytes, with peeks, runs (some cut) and snapshots between: records reserved across the ring's end at all %u offsets, and overwritten across it at all %u; every byte of both mappings as the model says after each of %llu calls (%llu overwritten)",
		    multi ? "MPSC" : "SPSC", SMALL_RING, (unsigned long long)n,
		    m->max_len, resv_n, m->ow_n, (unsigned long long)m->ops,
		    (unsigned long long)p.overwritten))
		tap_diag("  %s; offsets %u", m->ok ? "coverage" : m->why,
			 offsets);
	munmap(m->base, m->mlen);
	free(m);
}

/*
 * A reservation of the limit in a ring full of small records (some
 * discarded) overwrites as many as it needs, no more, at every start
 * offset.
 */
static void edge_big(void)
{
	uint64_t seed = 5, most = 0, least = ~0ull, starts = 0;
	struct lfq_rec_prod p;
	struct lfq_rec_cons c;
	struct model *m = malloc(sizeof(*m));

	if (!m || m_init(m)) {
		tap_ok(0, "map a record ring");
		return;
	}
	for (uint64_t start = 0; m->ok && start < m->size; start += 8) {
		uint64_t ow0, tail0;

		/* Some laps on, so the headers carry lap bits. */
		m_reset(m, 3 * m->size + start);
		lfq_rec_prod_init(&p, &m->ring, start & 8 ? 1 : 0);
		lfq_rec_cons_init(&c, &m->ring);
		for (;;) {
			uint32_t len = 1 + (uint32_t)(rnd_next(&seed) % 24);

			if (!m_room(m, len))
				break;
			m_put(m, &p, len, &seed, 5);
		}
		ow0 = m->ow;
		tail0 = m->tail;
		if (m_put(m, &p, m->max_len, &seed, 0) < 0)
			m_fail(m, "the record of the limit failed");
		most = m->tail - tail0 > most ? m->tail - tail0 : most;
		least = m->tail - tail0 < least ? m->tail - tail0 : least;
		if (m->ow == ow0)
			m_fail(m, "nothing overwritten at start %llu",
			       (unsigned long long)start);
		/* The oldest survivor comes first; then a snapshot of all. */
		if (m_peek(m, &c))
			m_release(m, &c);
		m_snap(m);
		starts++;
	}
	if (!tap_ok(m->ok,
		    "overwrite mode, a %u-byte ring full of records of 1 to 24 bytes (one in 5 discarded), at each of %llu start offsets: a record of %u bytes overwrites the oldest it needs (%llu to %llu bytes of them), no more, and the rest stay whole",
		    SMALL_RING, (unsigned long long)starts, m->max_len,
		    (unsigned long long)least, (unsigned long long)most))
		tap_diag("  %s", m->why);
	munmap(m->base, m->mlen);
	free(m);
}

/*
 * The record at tail not committed (a reservation under way): a producer
 * that needs room fails, overwrites nothing, leaves its bytes; the
 * consumer and a snapshot stop there. Committed, it is overwritten.
 */
static void edge_uncommitted(void)
{
	static const uint64_t starts[] = { 0, SMALL_RING - 40, 1000 * 8,
					   SMALL_RING - 8 };
	uint64_t seed = 17, tries = 0;
	struct lfq_rec_prod a, b;
	struct lfq_rec_cons c;
	struct model *m = malloc(sizeof(*m));
	int i, first;

	if (!m || m_init(m)) {
		tap_ok(0, "map a record ring");
		return;
	}
	for (unsigned int s = 0; m->ok && s < 8; s++) {
		int multi = s & 1;

		m_reset(m, starts[s / 2] + m->size);
		lfq_rec_prod_init(&a, &m->ring, multi);
		lfq_rec_cons_init(&c, &m->ring);
		/* SPSC: the one producer has its first record under way. */
		first = m_reserve(m, &a, 100);
		if (multi)
			lfq_rec_prod_init(&b, &m->ring, 1);
		while (m_room(m, 8))
			m_put(m, multi ? &b : &a, 1 + (uint32_t)
			      (rnd_next(&seed) % 64), &seed, 0);
		for (i = 0; i < 100; i++, tries++)
			m_reserve(m, multi ? &b : &a, 8);
		m_reserve(m, multi ? &b : &a, m->max_len);
		if (m_peek(m, &c))
			m_fail(m, "peek past a record not committed");
		m_batch(m, &c, 4, 4);	/* empty: tail given back at once */
		m_snap(m);
		if ((multi ? b : a).overwritten)
			m_fail(m, "overwrote with the record at tail not committed");
		/* Committed: the next reservation overwrites it (and only it). */
		m_publish(m, &a, first, 0);
		if (m_reserve(m, multi ? &b : &a, 8) < 0 ||
		    (multi ? b : a).overwritten != 1)
			m_fail(m, "no overwrite of the committed record at tail");
	}
	if (!tap_ok(m->ok,
		    "overwrite mode, the record at tail reserved but not committed (SPSC, and MPSC with another producer; 4 start offsets, across the end too): %llu reservations failed with nothing overwritten, its bytes untouched, peek and snapshot stop there; committed, the next reservation overwrites it",
		    (unsigned long long)tries))
		tap_diag("  %s", m->why);
	munmap(m->base, m->mlen);
	free(m);
}

/* A fresh ring at @start, filled by @p (of @multi) to the last 16 bytes. */
static void m_fill(struct model *m, struct lfq_rec_prod *p,
		   struct lfq_rec_cons *c, uint64_t start, int multi,
		   uint64_t *seed, int small)
{
	m_reset(m, start);
	lfq_rec_prod_init(p, &m->ring, multi);
	lfq_rec_cons_init(c, &m->ring);
	while (m_room(m, 8)) {
		uint32_t len = small ? 8 : m_len(m, seed);

		if (m_room(m, len))
			m_put(m, p, len, seed, 0);
	}
}

/*
 * The record at tail held by the consumer, or taken by another producer
 * whose overwrite has not finished (preempted): reservations fail and
 * leave it; released (or finished), they overwrite again. A run cut
 * short gives back what follows the cut: the next reservation overwrites
 * it.
 */
static void edge_taken(void)
{
	uint64_t seed = 23, before, starts = 0;
	struct lfq_rec_prod p;
	struct lfq_rec_cons c;
	struct model *m = malloc(sizeof(*m));
	struct mrec *f;
	int multi;

	if (!m || m_init(m)) {
		tap_ok(0, "map a record ring");
		return;
	}
	for (uint64_t start = 0; m->ok && start < m->size; start += 904) {
		multi = (start / 904) & 1;
		starts++;

		/* Held: the producer fails, whatever it asks. */
		m_fill(m, &p, &c, start, multi, &seed, 0);
		before = p.overwritten;
		if (!m_peek(m, &c))
			m_fail(m, "nothing to peek");
		for (uint32_t i = 0; i < 10; i++)
			m_reserve(m, &p, 1 + i * 100);
		m_reserve(m, &p, m->max_len);
		m_snap(m);
		if (p.overwritten != before)
			m_fail(m, "overwrote with the record at tail held");
		/* Peeked again: the same record, still held. */
		m_peek(m, &c);
		m_release(m, &c);
		m_put(m, &p, m->max_len, &seed, 0);
		if (p.overwritten == before)
			m_fail(m, "no overwrite after the release");

		/* A run of 4 records of 8 bytes, cut after 1: 3 given back. */
		m_fill(m, &p, &c, start, multi, &seed, 1);
		m_batch(m, &c, 4, 1);
		before = p.overwritten;
		m_put(m, &p, 200, &seed, 0);
		if (p.overwritten - before < 3)
			m_fail(m, "the records given back by a cut were not overwritten");
		/* A run cut before its first: all given back. */
		m_batch(m, &c, 3, 0);
		before = p.overwritten;
		m_put(m, &p, m->max_len, &seed, 0);
		if (p.overwritten - before < 3)
			m_fail(m, "the run given back whole was not overwritten");

		/* Another producer's overwrite under way: it owns tail. */
		m_fill(m, &p, &c, start, multi, &seed, 0);
		m->busy = 1;
		*m->ring.tail |= LFQ_REC_TAIL_RECLAIM;
		m_check(m, "mark");
		before = p.overwritten;
		m_reserve(m, &p, 8);
		m_reserve(m, &p, m->max_len);
		if (m_peek(m, &c))
			m_fail(m, "peek of a record being overwritten");
		m_batch(m, &c, 4, 4);
		m_snap(m);
		if (p.overwritten != before)
			m_fail(m, "overwrote past another producer's overwrite");
		/* It finishes: payload zeroed, tail past it (given up). */
		f = m_rec(m, 0);
		for (uint64_t i = 8; i < lfq_rec_size(f->len); i += 8)
			*(uint64_t *)(m->ring.data +
				      ((f->pos + i) & (m->size - 1))) = 0;
		*m->ring.tail = m->tail + lfq_rec_size(f->len);
		m->busy = 0;
		m_pass(m, 0);
		m_check(m, "finish");
		m_put(m, &p, m->max_len, &seed, 0);
		if (p.overwritten == before)
			m_fail(m, "no overwrite after the other one finished");
	}
	if (!tap_ok(m->ok,
		    "overwrite mode, one thread, at %llu start offsets (SPSC and MPSC): the record at tail held by the consumer, or being overwritten by another producer: reservations fail, nothing overwritten, peek gets nothing, a snapshot passes over it; released or finished, overwrites go on; a run cut short (after 1 record, or before its first) gives back what follows the cut, and the next reservations overwrite it",
		    (unsigned long long)starts))
		tap_diag("  %s", m->why);
	munmap(m->base, m->mlen);
	free(m);
}

int main(void)
{
	tap_plan(17);
	run_threads(1, 0, 0, 1, 0);
	run_threads(2, 5, 0, 0, PACE_NS);
	run_threads(4, 3, 0, 1, 0);
	run_threads(1, 0, 1, 0, PACE_NS);
	run_threads(2, 7, 1, 1, PACE_NS);
	hold();
	edge_wrap(0);
	edge_wrap(1);
	edge_big();
	edge_uncommitted();
	edge_taken();
	return tap_done();
}
