// SPDX-License-Identifier: MIT
/*
 * rec_lib.c - record queues (LFQ_CREATE_RECORDS) through liblfq's API:
 * producer processes attached by fd stream records of random sizes, 1
 * byte to the limit, each one's length and contents derived from its
 * producer and sequence number; one consumer takes them with
 * lfq_record_peek()/_release(), lfq_pop() and lfq_record_consume() in
 * turn, sleeping in lfq_wait_data(), and checks every byte, per-producer
 * order, and the discards. Also: what a record queue refuses (geometry,
 * slot calls, lengths), blocking producers (LFQ_CREATE_BLOCK), and, on a
 * /dev/lfq queue, producers killed holding a record (the kernel discards
 * it: lfq_stats.orphaned) and a kill storm.
 *
 * Runs on a memfd queue here, and on a /dev/lfq queue in the test VM
 * (tests/vm/rec_kernel.c builds this file with LFQ_KERNEL_QUEUE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "rec_queue.h"
#include "tap.h"
#include "test_util.h"

#define PRODUCERS	4
#define RING_BYTES	65536u
#define TIMEOUT_NS	10000000000ll
#ifdef LFQ_KERNEL_QUEUE
#define PER_PRODUCER	50000ull	/* TCG is slow */
#else
#define PER_PRODUCER	500000ull
#endif

static uint32_t max_len;

/* The creator's role on /dev/lfq (0: both); the producers open their own. */
static uint32_t creator_role = LFQ_ROLE_CONSUMER;

static int make_queue(uint32_t type, uint32_t flags, struct lfq **q)
{
	return rec_queue_make(type, flags, RING_BYTES, "t-rec", creator_role,
			      q);
}

#define open_producer	rec_open_producer
#define close_queue	rec_close_queue

/*
 * A record's length: mostly small, sometimes up to the limit; 8 at least
 * (the producer and sequence). Lengths of 1 to 7 bytes: the discards.
 */
static uint32_t rec_len(uint32_t who, uint64_t seq)
{
	uint64_t m = mix64((uint64_t)who << 40 ^ seq);

	return 8 + (uint32_t)(m % 8 ? m % 200 : (m >> 8) % (max_len - 7));
}

/* Fill @len bytes: the producer and sequence, then check words. */
static void rec_fill(unsigned char *p, uint32_t len, uint32_t who,
		     uint64_t seq)
{
	uint64_t w[2] = { (uint64_t)who << 48 | seq, 0 };
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0 && i >= 16)
			w[1] = mix64(w[0] + i);
		p[i] = i < 8 ? (unsigned char)(w[0] >> (8 * i)) :
		       (unsigned char)(w[1] >> (8 * (i % 8))) ^ (unsigned char)i;
	}
}

/* What a consumer knows of the stream. */
struct tally {
	uint64_t next[PRODUCERS];	/* next sequence expected */
	uint64_t got, bad, gaps;
	int strict;			/* no gaps allowed (nobody killed) */
};

/* Check one record; 0 if it is whole and in order. */
static int rec_check(struct tally *t, const unsigned char *p, uint32_t len)
{
	static unsigned char want[RING_BYTES / 4];
	uint64_t w0 = 0;
	uint32_t who, i;
	uint64_t seq;

	for (i = 0; i < 8 && i < len; i++)
		w0 |= (uint64_t)p[i] << (8 * i);
	who = (uint32_t)(w0 >> 48);
	seq = w0 & ((1ull << 48) - 1);
	if (len < 8 || who >= PRODUCERS || len != rec_len(who, seq) ||
	    len > sizeof(want)) {
		t->bad++;
		return -1;
	}
	rec_fill(want, len, who, seq);
	if (memcmp(want, p, len) || seq < t->next[who] ||
	    (t->strict && seq != t->next[who])) {
		t->bad++;
		return -1;
	}
	t->gaps += seq - t->next[who];
	t->next[who] = seq + 1;
	t->got++;
	return 0;
}

static int consume_cb(void *ctx, const void *payload, uint32_t len)
{
	return rec_check(ctx, payload, len);
}

/*
 * Consume until @total records arrived (or a stall of TIMEOUT_NS): the
 * three ways in turn, sleeping when empty.
 */
static void consume(struct lfq *q, struct tally *t, uint64_t total)
{
	static unsigned char buf[RING_BYTES / 4];
	int64_t idle = now_ns();
	uint64_t round = 0;

	while (t->got < total && !t->bad) {
		const void *p;
		int got = -EAGAIN;

		switch (round++ % 3) {
		case 0:
			got = lfq_record_peek(q, &p);
			if (got > 0) {
				rec_check(t, p, (uint32_t)got);
				lfq_record_release(q);
			}
			break;
		case 1:
			got = lfq_pop(q, buf, sizeof(buf));
			if (got > 0)
				rec_check(t, buf, (uint32_t)got);
			break;
		default:
			got = lfq_record_consume(q, 1 + round % 16, consume_cb,
						 t);
			if (!got)
				got = -EAGAIN;
		}
		if (got > 0) {
			idle = now_ns();
			continue;
		}
		if (got != -EAGAIN) {
			tap_diag("  consume: %s", ename(-got));
			t->bad++;
			return;
		}
		if (now_ns() - idle > TIMEOUT_NS)
			return;
		lfq_wait_data(q, 1, 100000000);
	}
}

/* A producer process: @n records, one in @discard_one_in discarded. */
static void produce(struct lfq *c, uint32_t who, uint64_t first, uint64_t n,
		    int discard_one_in)
{
	struct lfq *q = open_producer(c);
	uint64_t seq;

	if (!q)
		_exit(2);
	for (seq = first; seq < first + n; seq++) {
		uint32_t len = rec_len(who, seq);
		void *p;
		int err;

		/* Now and then a record given up first (1 to 7 bytes). */
		if (discard_one_in &&
		    mix64(seq * 3 ^ who) % (uint64_t)discard_one_in == 0) {
			while ((err = lfq_record_reserve(q, 1 + seq % 7, &p)) ==
			       -EAGAIN)
				lfq_wait_space(q, 16, -1);
			if (err)
				_exit(3);
			memset(p, 0xdd, 1 + seq % 7);
			if (lfq_record_discard(q))
				_exit(4);
		}
		while ((err = lfq_record_reserve(q, len, &p)) == -EAGAIN)
			lfq_wait_space(q, 8 + ((len + 7) & ~7u), -1);
		if (err)
			_exit(3);
		rec_fill(p, len, who, seq);
		if (lfq_record_commit(q))
			_exit(4);
	}
	lfq_close(q);
	_exit(0);
}

static void refusals(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 8,
		 .slot_count = RING_BYTES, .flags = LFQ_CREATE_RECORDS,
		 .backend = REC_BACKEND);
	struct lfq *q = NULL, *slot = NULL;
	const void *cp;
	void *p;
	int err;

	expect(-lfq_create(&o, &q), EINVAL, "a record queue with slot_size 8");
	o.slot_size = 1;
	o.type = LFQ_TYPE_MPMC;
	o.flags |= LFQ_CREATE_OVERWRITE;
	expect(-lfq_create(&o, &q), EINVAL,
	       "an MPMC record queue in overwrite mode");
	o.flags &= ~LFQ_CREATE_OVERWRITE;
	o.type = LFQ_TYPE_MPSC;
	o.slot_count = RING_BYTES + 1;
	expect(-lfq_create(&o, &q), EINVAL, "a record ring of 2^16 + 1 bytes");
	o.slot_count = RING_BYTES;
	o.flags |= LFQ_CREATE_ELASTIC | LFQ_CREATE_OVERWRITE;
	o.seg_min = 1;
	o.seg_max = 2;
	expect(-lfq_create(&o, &q), EINVAL,
	       "an elastic record queue in overwrite mode");
	o.flags &= ~LFQ_CREATE_OVERWRITE;
	o.seg_max = 1;
	expect(-lfq_create(&o, &q), EINVAL, "an elastic record queue of 1 segment");
	o.flags = LFQ_CREATE_RECORDS;
	o.seg_min = 0;
	o.seg_max = 0;

	creator_role = 0;	/* both */
	err = make_queue(LFQ_TYPE_MPSC, 0, &q);
	creator_role = LFQ_ROLE_CONSUMER;
	if (err) {
		tap_ok(0, "create a record queue");
		return;
	}
	expect(-lfq_reserve(q, 1, &p), EOPNOTSUPP, "lfq_reserve() on it");
	expect(-lfq_peek(q, 1, &cp), EOPNOTSUPP, "lfq_peek() on it");
	expect(-lfq_record_reserve(q, 0, &p), EMSGSIZE,
	       "lfq_record_reserve() of 0 bytes");
	expect(-lfq_record_reserve(q, max_len + 1, &p), EMSGSIZE,
	       "lfq_record_reserve() of LFQ_REC_MAX_LEN + 1 = %u bytes",
	       max_len + 1);
	expect(-lfq_record_commit(q), ENOENT, "lfq_record_commit() of nothing");
	expect(-lfq_record_consume(q, 0, consume_cb, NULL), EINVAL,
	       "lfq_record_consume() of 0 records");
	expect(-lfq_record_peek(q, &cp), EAGAIN, "lfq_record_peek() when empty");
	{
		struct lfq_stats a = { 0 }, b = { 0 };
		int got, sa, sb;

		sa = lfq_get_stats(q, &a);
		got = lfq_record_consume(q, 4, consume_cb, NULL);
		sb = lfq_get_stats(q, &b);
		tap_ok(!sa && !sb && got == 0 &&
		       b.empty_events == a.empty_events + 1,
		       "lfq_record_consume() when empty: 0, one empty event counted (%d, %llu then %llu)",
		       got, (unsigned long long)a.empty_events,
		       (unsigned long long)b.empty_events);
	}
	if (!lfq_create(&(struct lfq_create_opts){ .sz = sizeof(o),
			.type = LFQ_TYPE_SPSC, .slot_size = 64,
			.slot_count = 64, .backend = REC_BACKEND }, &slot)) {
		expect(-lfq_record_reserve(slot, 8, &p), EOPNOTSUPP,
		       "lfq_record_reserve() on a slot queue");
		expect(-lfq_record_peek(slot, &cp), EOPNOTSUPP,
		       "lfq_record_peek() on a slot queue");
		lfq_close(slot);
	}
	/* The largest record, twice round the ring; then one too big to pop. */
	{
		static unsigned char big[RING_BYTES / 4];
		int ok = 1, i;

		for (i = 0; i < 12 && ok; i++) {
			memset(big, i, max_len);
			ok &= !lfq_push(q, big, max_len);
			memset(big, 0xff, max_len);
			ok &= lfq_pop(q, big, max_len) == (int)max_len &&
			      big[0] == i && big[max_len - 1] == i;
		}
		ok &= !lfq_push(q, big, 100);
		ok &= lfq_pop(q, big, 99) == -EMSGSIZE &&
		      lfq_pop(q, big, 100) == 100;
		tap_ok(ok, "records of the limit (%u bytes) go round the ring whole; one longer than the buffer stays in the ring (EMSGSIZE)",
		       max_len);
	}
	close_queue(q);
}

/*
 * @producers processes of PER_PRODUCER records each; the consumer here.
 * With @discards they give records up now and then.
 */
static void stream(uint32_t type, uint32_t producers, int discards)
{
	struct tally t = { .strict = 1 };
	pid_t pid[PRODUCERS];
	struct lfq *q = NULL;
	int64_t t0 = now_ns();
	struct lfq_stats st;
	uint32_t i;
	int ok = 1;

	if (make_queue(type, 0, &q)) {
		tap_ok(0, "create a record queue");
		return;
	}
	for (i = 0; i < producers; i++) {
		pid[i] = fork();
		if (!pid[i])
			produce(q, i, 0, PER_PRODUCER, discards ? 5 : 0);
	}
	consume(q, &t, producers * PER_PRODUCER);
	for (i = 0; i < producers; i++) {
		if (t.got < producers * PER_PRODUCER || t.bad)
			kill(pid[i], SIGKILL);	/* failed: do not wait on them */
		ok &= !child_ok(pid[i]);
	}
	lfq_get_stats(q, &st);
	ok &= t.got == producers * PER_PRODUCER && !t.bad;
	if (!tap_ok(ok, "%s, %u producer process%s: %llu records of 8 to %u bytes (discards: 1 to 7), each arrived once, whole, in order%s (%.2f s)",
		    type == LFQ_TYPE_MPSC ? "MPSC" : "SPSC", producers,
		    producers > 1 ? "es" : "",
		    (unsigned long long)t.got, max_len,
		    discards ? "; the discarded ones skipped" : "",
		    (double)(now_ns() - t0) / 1e9))
		tap_diag("  got %llu of %llu, bad %llu",
			 (unsigned long long)t.got,
			 (unsigned long long)(producers * PER_PRODUCER),
			 (unsigned long long)t.bad);
	close_queue(q);
}

/* Blocking pushes into a small ring, the consumer sleeping. */
static void blocking(void)
{
	struct tally t = { .strict = 1 };
	struct lfq *q = NULL;
	uint64_t n = PER_PRODUCER / 5, seq;
	pid_t pid;

	if (make_queue(LFQ_TYPE_SPSC, LFQ_CREATE_BLOCK, &q)) {
		tap_ok(0, "create a blocking record queue");
		return;
	}
	pid = fork();
	if (!pid) {
		static unsigned char buf[RING_BYTES / 4];
		struct lfq *p = open_producer(q);

		for (seq = 0; p && seq < n; seq++) {
			uint32_t len = rec_len(0, seq);

			rec_fill(buf, len, 0, seq);
			if (lfq_push(p, buf, len))
				_exit(3);
			if (seq % 4096 == 0)
				msleep(1);	/* let the consumer sleep */
		}
		_exit(p ? 0 : 2);
	}
	consume(q, &t, n);
	if (t.got < n || t.bad)
		kill(pid, SIGKILL);
	tap_ok(!child_ok(pid) && t.got == n && !t.bad,
	       "LFQ_CREATE_BLOCK: lfq_push() waits for space; %llu records arrived whole, the consumer sleeping between bursts",
	       (unsigned long long)t.got);
	close_queue(q);
}

#ifdef LFQ_KERNEL_QUEUE
/* On a stall: the ring's words at the consumer's tail, and the claims. */
static void dump_ring(struct lfq *q)
{
	struct lfq_info in;
	unsigned char *m = mmap_queue(lfq_fd(q), &in, PROT_READ);
	const struct lfq_prod_ctl *pc;
	uint64_t tail, head, h;
	int i;

	if (!m)
		return;
	pc = (const void *)(m + in.prod_offset);
	head = pc->head;
	tail = *(const uint64_t *)(m + in.cons_offset +
				   offsetof(struct lfq_cons_ctl, tail));
	tap_diag("  head %llu tail %llu", (unsigned long long)head,
		 (unsigned long long)tail);
	for (i = 0; i < 4; i++) {
		h = *(const uint64_t *)(m + in.data_offset +
					(tail % RING_BYTES));
		tap_diag("  header at %llu: %#llx (lap %llu, want %llu)",
			 (unsigned long long)tail, (unsigned long long)h,
			 (unsigned long long)(h >> 33),
			 (unsigned long long)(tail / RING_BYTES));
		if (!(h & 0xffffffffull) || h >> 33 != tail / RING_BYTES)
			break;
		tail += 8 + (((h & 0xffffffffull) + 7) & ~7ull);
	}
	for (i = 0; i < LFQ_MPSC_CLAIMS; i++)
		if (pc->claims[i].start || pc->claims[i].end)
			tap_diag("  claim %d: %llu..%llu", i,
				 (unsigned long long)pc->claims[i].start,
				 (unsigned long long)pc->claims[i].end);
	munmap(m, in.map_size);
}

/*
 * A producer killed holding a record: the kernel discards it (counted in
 * lfq_stats.orphaned) and the consumer gets the records reserved after it.
 */
static void killed_holding(void)
{
	struct tally t = { 0 };
	struct lfq_stats st;
	struct lfq *q = NULL;
	int ready[2];
	pid_t holder, after;
	char c;

	if (make_queue(LFQ_TYPE_MPSC, 0, &q) || pipe(ready)) {
		tap_ok(0, "create a record queue");
		return;
	}
	holder = fork();
	if (!holder) {
		struct lfq *p = open_producer(q);
		void *r;

		if (!p || lfq_record_reserve(p, 300, &r))
			_exit(2);
		memset(r, 0xab, 300);	/* never committed */
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1) {
		tap_ok(0, "the holder reserved");
		return;
	}
	after = fork();
	if (!after)
		produce(q, 1, 0, 1000, 0);
	msleep(50);	/* records reserved after the holder's */
	kill(holder, SIGKILL);
	child_status(holder);
	consume(q, &t, 1000);
	if (t.got < 1000)
		kill(after, SIGKILL);
	child_ok(after);
	lfq_get_stats(q, &st);
	if (!tap_ok(t.got == 1000 && !t.bad && st.orphaned == 1,
		    "a producer killed holding a 300-byte record: the kernel discards it (orphaned %llu) and the 1000 records reserved after it arrive",
		    (unsigned long long)st.orphaned))
		tap_diag("  got %llu bad %llu orphaned %llu",
			 (unsigned long long)t.got, (unsigned long long)t.bad,
			 (unsigned long long)st.orphaned);
	close(ready[0]);
	close(ready[1]);
	close_queue(q);
}

/*
 * Producers killed at random while streaming, and replaced: the consumer
 * never stalls, no record arrives torn or twice or out of order; the
 * last producers' records all arrive.
 */
static void kill_storm(void)
{
	struct tally t = { 0 };
	pid_t pid[PRODUCERS];
	struct lfq_stats st;
	struct lfq *q = NULL;
	uint64_t base = 0, total, gen = 0;
	int kills = 0, stalls = 0, round, ok;
	uint32_t i, k;

	if (make_queue(LFQ_TYPE_MPSC, 0, &q)) {
		tap_ok(0, "create a record queue");
		return;
	}
	/* Each new producer starts its sequence above its slot's last. */
	for (round = 0; round < 6 && !stalls; round++) {
		for (i = 0; i < PRODUCERS; i++) {
			gen++;
			pid[i] = fork();
			if (!pid[i])
				produce(q, i, gen << 32, 1ull << 31, 3);
		}
		for (i = 0; i < 20; i++) {
			uint64_t want = t.got + 2000;

			consume(q, &t, want);
			if (t.got < want || t.bad) {
				lfq_get_stats(q, &st);
				tap_diag("  round %d: stalled at %llu records (bad %llu), orphaned %llu",
					 round, (unsigned long long)t.got,
					 (unsigned long long)t.bad,
					 (unsigned long long)st.orphaned);
				dump_ring(q);
				stalls++;
				break;
			}
			/* One dies; a new one takes its place, numbered above. */
			k = (uint32_t)(mix64(i + round) % PRODUCERS);
			kill(pid[k], SIGKILL);
			child_status(pid[k]);
			kills++;
			gen++;
			pid[k] = fork();
			if (!pid[k])
				produce(q, k, gen << 32, 1ull << 31, 3);
		}
		for (i = 0; i < PRODUCERS; i++) {
			kill(pid[i], SIGKILL);
			child_status(pid[i]);
			kills++;
		}
	}
	/* Survivors: one clean generation, all of it must arrive. */
	base = ++gen << 32;
	for (i = 0; i < PRODUCERS; i++) {
		pid[i] = fork();
		if (!pid[i])
			produce(q, i, base, 2000, 0);
	}
	/* Drain: the earlier generations' tail, then all of the last's. */
	total = 0;
	while (!stalls) {
		uint64_t before = t.got;

		consume(q, &t, t.got + 1);
		if (t.got == before)
			break;
		for (i = 0, total = 0; i < PRODUCERS; i++)
			total += t.next[i] == base + 2000;
		if (total == PRODUCERS)
			break;
	}
	ok = 1;
	for (i = 0; i < PRODUCERS; i++) {
		if (total != PRODUCERS)
			kill(pid[i], SIGKILL);
		ok &= !child_ok(pid[i]);
	}
	lfq_get_stats(q, &st);
	ok &= total == PRODUCERS && !t.bad && !stalls;
	if (!tap_ok(ok, "kill storm: %d producer processes killed while streaming; %llu records arrived, none torn, twice or out of order, %llu orphans discarded by the kernel; the last generation's records all arrived",
		    kills, (unsigned long long)t.got,
		    (unsigned long long)st.orphaned))
		tap_diag("  complete producers %llu of %d, bad %llu",
			 (unsigned long long)total, PRODUCERS,
			 (unsigned long long)t.bad);
	close_queue(q);
}
#endif

int main(void)
{
#ifdef LFQ_KERNEL_QUEUE
	tap_plan(22);
#else
	tap_plan(20);
#endif
	max_len = LFQ_REC_MAX_LEN(RING_BYTES);
	refusals();
	stream(LFQ_TYPE_SPSC, 1, 0);
	stream(LFQ_TYPE_MPSC, PRODUCERS, 0);
	stream(LFQ_TYPE_MPSC, PRODUCERS, 1);
	blocking();
#ifdef LFQ_KERNEL_QUEUE
	killed_holding();
	kill_storm();
#endif
	return tap_done();
}
