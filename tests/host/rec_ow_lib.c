// SPDX-License-Identifier: MIT
/*
 * rec_ow_lib.c - record queues in overwrite mode (LFQ_CREATE_OVERWRITE,
 * the flight recorder) through liblfq's API: producers never fail for
 * lack of space, the oldest records go (lfq_stats.overwritten), what the
 * consumer gets and what lfq_record_snapshot() copies is whole, in
 * order, and every record is either delivered or counted overwritten; a
 * record the consumer holds is never overwritten (producers drop
 * instead). On a /dev/lfq queue also: a consumer killed holding records
 * gives them back, a producer that dies in an overwrite has it finished
 * by the kernel (MPSC: the orphan scan; SPSC: the file's release), and a
 * reader (LFQ_ROLE_READER) takes snapshots with LFQ_IOC_SNAPSHOT.
 *
 * Runs on a memfd queue here, and on a /dev/lfq queue in the test VM
 * (tests/vm/rec_ow_kernel.c builds this file with LFQ_KERNEL_QUEUE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "lfq_rec.h"
#include "rec_queue.h"
#include "tap.h"
#include "test_util.h"

#define PRODUCERS	4
#define RING_BYTES	16384u
#ifdef LFQ_KERNEL_QUEUE
#define PER_PRODUCER	20000ull	/* TCG is slow */
#else
#define PER_PRODUCER	300000ull
#endif

static uint64_t snap_buf[RING_BYTES / 8];

/* The creator consumes (SPSC: and produces, as one file must). */
static int make_queue(uint32_t type, uint32_t flags, struct lfq **q)
{
	return rec_queue_make(type, flags, RING_BYTES, "t-recow",
			      type == LFQ_TYPE_SPSC ? LFQ_ROLE_ALL :
			      LFQ_ROLE_CONSUMER, q);
}

#define open_producer	rec_open_producer
#define close_queue	rec_close_queue

/* A record's length: 8 (producer and sequence) to 8 + 119 bytes. */
static uint32_t rec_len(uint32_t who, uint64_t seq)
{
	return 8 + (uint32_t)(mix64((uint64_t)who << 40 ^ seq) % 120);
}

static unsigned char rec_byte(uint32_t who, uint64_t seq, uint32_t i)
{
	return (unsigned char)(seq * 31 + i * 7 + who * 101);
}

static void rec_fill(unsigned char *p, uint32_t who, uint64_t seq)
{
	uint64_t w = (uint64_t)who << 48 | seq;
	uint32_t i, len = rec_len(who, seq);

	memcpy(p, &w, 8);
	for (i = 8; i < len; i++)
		p[i] = rec_byte(who, seq, i);
}

/* What a reader knows of the stream. */
struct tally {
	uint64_t next[PRODUCERS];	/* lowest sequence still possible */
	uint64_t got, bad, gaps;
	int64_t last_who;		/* -1: none */
	uint64_t last_seq;
};

static void tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->last_who = -1;
}

/* One record: whole (length, every byte) and after its predecessors. */
static int rec_check(void *ctx, const void *payload, uint32_t len)
{
	const unsigned char *p = payload;
	struct tally *t = ctx;
	uint64_t w, seq;
	uint32_t who, i;

	if (len < 8) {
		t->bad++;
		return 0;
	}
	memcpy(&w, p, 8);
	who = (uint32_t)(w >> 48);
	seq = w & ((1ull << 48) - 1);
	if (who >= PRODUCERS || len != rec_len(who, seq) ||
	    seq < t->next[who]) {
		t->bad++;
		return 0;
	}
	for (i = 8; i < len; i++)
		if (p[i] != rec_byte(who, seq, i)) {
			t->bad++;
			return 0;
		}
	t->gaps += seq - t->next[who];
	t->next[who] = seq + 1;
	t->last_who = who;
	t->last_seq = seq;
	t->got++;
	return 0;
}

/* Push record @seq of producer @who; -EAGAIN when it could not. */
static int push(struct lfq *q, uint32_t who, uint64_t seq)
{
	unsigned char rec[128];

	rec_fill(rec, who, seq);
	return lfq_push(q, rec, rec_len(who, seq));
}

static uint64_t overwritten(struct lfq *q)
{
	struct lfq_stats st;

	return lfq_get_stats(q, &st) ? ~0ull : st.overwritten;
}

static void refusals(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 1024, .flags = LFQ_CREATE_OVERWRITE,
		 .backend = REC_BACKEND);
	struct lfq *q = NULL;
	int err;

	err = lfq_create(&o, &q);
	expect(err, -EINVAL, "overwrite mode on a slot queue is refused");
	if (!err)
		lfq_close(q);
	err = make_queue(LFQ_TYPE_MPSC, LFQ_CREATE_OVERWRITE |
			 LFQ_CREATE_BLOCK, &q);
	expect(err, -EINVAL, "overwrite mode with LFQ_CREATE_BLOCK is refused");
	if (!err)
		close_queue(q);
	if (make_queue(LFQ_TYPE_MPSC, 0, &q)) {
		tap_ok(0, "create a record queue");
		return;
	}
	err = lfq_record_snapshot(q, snap_buf, sizeof(snap_buf), NULL, NULL);
	expect(err, -EOPNOTSUPP, "a snapshot of a record queue not in overwrite mode is refused");
	close_queue(q);
	if (make_queue(LFQ_TYPE_MPSC, LFQ_CREATE_OVERWRITE, &q)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	err = lfq_record_snapshot(q, (char *)snap_buf + 4,
				  sizeof(snap_buf) - 8, NULL, NULL);
	expect(err, -EINVAL, "a snapshot into a misaligned buffer is refused");
	close_queue(q);
}

/*
 * One producer pushes 40 rings' worth: no push fails; a snapshot and the
 * consumer then see the same newest records, contiguous up to the last
 * one pushed; delivered + overwritten = pushed.
 */
static void single(uint32_t type)
{
	const uint64_t n = 40 * RING_BYTES / 72;
	struct tally snap, cons;
	struct lfq *q = NULL, *p;
	uint64_t i, fails = 0, ow;
	int s;

	if (make_queue(type, LFQ_CREATE_OVERWRITE, &q)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	p = type == LFQ_TYPE_SPSC && REC_BACKEND == LFQ_BACKEND_KERNEL ?
	    q : open_producer(q);
	for (i = 0; p && i < n; i++)
		fails += push(p, 0, i) != 0;
	ow = overwritten(q);
	tally_init(&snap);
	s = lfq_record_snapshot(q, snap_buf, sizeof(snap_buf), rec_check,
				&snap);
	tally_init(&cons);
	cons.next[0] = 0;
	while (lfq_record_consume(q, 16, rec_check, &cons) > 0)
		;
	tap_ok(p && !fails && ow > 0 && ow + cons.got == n && !cons.bad &&
	       cons.last_seq == n - 1 && cons.gaps == n - cons.got,
	       "%s: %llu records pushed into a %u-byte ring, none refused; %llu overwritten, the newest %llu delivered whole and contiguous up to the last",
	       type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC", (unsigned long long)n,
	       RING_BYTES, (unsigned long long)ow,
	       (unsigned long long)cons.got);
	tap_ok(s > 0 && (uint64_t)s == cons.got && snap.got == cons.got &&
	       !snap.bad && snap.last_seq == n - 1,
	       "%s: a snapshot before the consumer copied the same %d records, whole, and consumed none",
	       type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC", s);
	if (p && p != q)
		lfq_close(p);
	close_queue(q);
}

/*
 * A record the consumer holds is never overwritten: producers fail at it
 * (and the held bytes stay whole); once it is released they go on.
 */
static void held(void)
{
	struct lfq *q = NULL, *p;
	const void *rec;
	uint64_t i, fails = 0, ok_after = 0, ow, ow2;
	struct tally t;
	int len, whole;

	if (make_queue(LFQ_TYPE_MPSC, LFQ_CREATE_OVERWRITE, &q)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	p = open_producer(q);
	for (i = 0; p && i < 2 * RING_BYTES / 72; i++)
		push(p, 0, i);
	len = lfq_record_peek(q, &rec);
	for (; p && i < 10 * RING_BYTES / 72; i++)
		fails += push(p, 0, i) != 0;
	ow = overwritten(q);
	tally_init(&t);
	if (len > 0)
		rec_check(&t, rec, (uint32_t)len);
	whole = len > 0 && t.got == 1 && !t.bad;
	lfq_record_release(q);
	for (; p && i < 12 * RING_BYTES / 72; i++)
		ok_after += push(p, 0, i) == 0;
	ow2 = overwritten(q);
	tap_ok(whole && fails > 0 && ok_after == 2 * RING_BYTES / 72 &&
	       ow2 > ow,
	       "a held record is never overwritten: %llu pushes failed at it, it stayed whole; after its release every push succeeds (overwritten %llu -> %llu)",
	       (unsigned long long)fails, (unsigned long long)ow,
	       (unsigned long long)ow2);
	if (p)
		lfq_close(p);
	close_queue(q);
}

/*
 * Producer processes stream while the consumer takes runs slowly and
 * takes snapshots: every record delivered or copied is whole and in
 * order per producer, and delivered + overwritten = pushed.
 */
static void stream(void)
{
	struct tally t, snap;
	uint64_t rounds = 0, snaps = 0, snap_bad = 0, ow;
	pid_t pid[PRODUCERS];
	struct lfq *q = NULL;
	int64_t deadline;
	uint32_t k;
	int alive;

	if (make_queue(LFQ_TYPE_MPSC, LFQ_CREATE_OVERWRITE, &q)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	for (k = 0; k < PRODUCERS; k++) {
		pid[k] = fork();
		if (!pid[k]) {
			struct lfq *p = open_producer(q);
			uint64_t i;

			if (!p)
				_exit(2);
			/* A push fails only at a record in flight or held. */
			for (i = 0; i < PER_PRODUCER; i++)
				while (push(p, k, i))
					sched_yield();
			lfq_close(p);
			_exit(0);
		}
	}
	tally_init(&t);
	deadline = now_ns() + 120 * 1000000000ll;
	do {
		alive = 0;
		for (k = 0; k < PRODUCERS; k++)
			alive |= pid[k] > 0 && !waitpid(pid[k], NULL, WNOHANG);
		lfq_record_consume(q, 1 + rounds % 16, rec_check, &t);
		if (!(++rounds % 64)) {
			tally_init(&snap);
			if (lfq_record_snapshot(q, snap_buf, sizeof(snap_buf),
						rec_check, &snap) < 0 ||
			    snap.bad)
				snap_bad++;
			snaps++;
		}
		if (rounds % 8 == 0)
			usleep(100);	/* slow: producers overwrite */
	} while (alive && now_ns() < deadline);
	while (lfq_record_consume(q, 64, rec_check, &t) > 0)
		;
	for (k = 0; k < PRODUCERS; k++)
		if (alive)
			kill(pid[k], SIGKILL);
	ow = overwritten(q);
	tap_ok(!alive && !t.bad && t.got + ow == PRODUCERS * PER_PRODUCER &&
	       ow > 0,
	       "%u producer processes, %llu records each, a slow consumer: %llu delivered whole and in order, %llu overwritten, none lost or twice",
	       PRODUCERS, (unsigned long long)PER_PRODUCER,
	       (unsigned long long)t.got, (unsigned long long)ow);
	if (alive || t.bad || t.got + ow != PRODUCERS * PER_PRODUCER)
		tap_diag("  alive %d bad %llu got %llu overwritten %llu", alive,
			 (unsigned long long)t.bad, (unsigned long long)t.got,
			 (unsigned long long)ow);
	tap_ok(!snap_bad && snaps > 0,
	       "%llu snapshots taken meanwhile, every record in them whole and in order",
	       (unsigned long long)snaps);
	close_queue(q);
}

#ifdef LFQ_KERNEL_QUEUE
/*
 * A consumer killed holding records: they go back to the ring; the next
 * consumer gets the one it held, and producers overwrite again meanwhile.
 */
static void consumer_killed(void)
{
	struct lfq *q = NULL, *c = NULL;
	uint64_t i, fails = 0, ow;
	int ready[2], len = 0;
	struct tally t;
	const void *rec;
	uint64_t held_seq = 0;
	pid_t holder;

	/* The creator is a producer: the consumers come and go. */
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = RING_BYTES,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE,
		 .backend = REC_BACKEND, .name = "t-recow-killed",
		 .mode = 0600, .role = LFQ_ROLE_PRODUCER);
	LFQ_OPTS(lfq_open_opts, co, .name = "t-recow-killed",
		 .role = LFQ_ROLE_CONSUMER);

	if (lfq_create(&o, &q) || pipe(ready)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	for (i = 0; i < 2 * RING_BYTES / 72; i++)
		push(q, 0, i);
	holder = fork();
	if (!holder) {
		struct lfq *h = NULL;
		uint64_t w;

		if (lfq_open(&co, &h))
			_exit(2);
		/* A run of records held, then the first of the rest. */
		if (lfq_record_peek(h, &rec) <= 0)
			_exit(2);
		memcpy(&w, rec, 8);
		if (write(ready[1], &w, 8) != 8)
			_exit(2);
		pause();
		_exit(0);
	}
	if (read(ready[0], &held_seq, 8) != 8) {
		tap_ok(0, "the consumer peeked");
		return;
	}
	for (; i < 4 * RING_BYTES / 72; i++)
		fails += push(q, 0, i) != 0;
	kill(holder, SIGKILL);
	child_status(holder);
	ow = overwritten(q);
	/* Given back, the held record is the oldest again. */
	if (!lfq_open(&co, &c))
		len = lfq_record_peek(c, &rec);
	tally_init(&t);
	if (len > 0)
		rec_check(&t, rec, (uint32_t)len);
	tap_ok(fails > 0 && len > 0 && !t.bad && t.last_seq == held_seq,
	       "a consumer killed holding a record: producers failed at it meanwhile (%llu pushes), the next consumer gets it, whole (sequence %llu)",
	       (unsigned long long)fails, (unsigned long long)held_seq);
	if (c)
		lfq_close(c);
	/* Without a consumer, producers overwrite it at once. */
	for (fails = 0; i < 8 * RING_BYTES / 72; i++)
		fails += push(q, 0, i) != 0;
	tap_ok(!fails && overwritten(q) > ow,
	       "and once that consumer closed, producers overwrite it and the rest without a failure (overwritten %llu -> %llu)",
	       (unsigned long long)ow, (unsigned long long)overwritten(q));
	close(ready[0]);
	close(ready[1]);
	lfq_unlink("t-recow-killed");
	lfq_close(q);
}

/*
 * The shared tail of @fd's queue, in a writable mapping of its consumer
 * page (a producer of an overwrite-mode queue maps it writable).
 */
static uint64_t *shared_tail(int fd)
{
	struct lfq_info in;
	unsigned char *m;

	m = mmap_queue(fd, &in, PROT_READ);
	if (!m)
		return NULL;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)in.cons_offset);
	return m == MAP_FAILED ? NULL : (uint64_t *)m;	/* tail first */
}

/*
 * A producer that dies in an overwrite: it owns tail
 * (LFQ_REC_TAIL_RECLAIM) and is gone before zeroing and moving it. The
 * kernel finishes it (MPSC: the orphan scan, as no live claim names it;
 * SPSC: the file's release), and producers go on.
 */
static void reclaimer_killed(uint32_t type)
{
	struct lfq *q = NULL;
	uint64_t i, fails = 0, ow;
	int64_t until;
	pid_t pid;
	int st = 0;

	if (make_queue(type, LFQ_CREATE_OVERWRITE, &q)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	if (type == LFQ_TYPE_SPSC) {
		/* The one producer is the child: the creator only consumes. */
		lfq_close(q);
		LFQ_OPTS(lfq_open_opts, co, .name = rec_name,
			 .role = LFQ_ROLE_CONSUMER);
		q = NULL;
		if (lfq_open(&co, &q)) {
			tap_ok(0, "reopen as consumer");
			return;
		}
	}
	pid = fork();
	if (!pid) {
		LFQ_OPTS(lfq_open_opts, po, .name = rec_name,
			 .role = LFQ_ROLE_PRODUCER);
		struct lfq *p = NULL;
		uint64_t *h, v;

		if (lfq_open(&po, &p))
			_exit(2);
		for (i = 0; i < 2 * RING_BYTES / 72; i++)
			push(p, 0, i);
		/* lfq_rec_reclaim() owning tail, and death right after. */
		h = shared_tail(lfq_fd(p));
		if (!h)
			_exit(3);
		v = __atomic_load_n(h, __ATOMIC_ACQUIRE);
		if (!__atomic_compare_exchange_n(h, &v, v | LFQ_REC_TAIL_RECLAIM,
						 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_RELAXED))
			_exit(4);
		_exit(0);
	}
	st = child_status(pid);
	ow = overwritten(q);
	{
		/* A new producer (SPSC: the queue has its producer back). */
		LFQ_OPTS(lfq_open_opts, po, .name = rec_name,
			 .role = LFQ_ROLE_PRODUCER);
		struct lfq *p = NULL;

		if (lfq_open(&po, &p)) {
			tap_ok(0, "open a new producer");
			close_queue(q);
			return;
		}
		/* MPSC: the orphan scan runs from a workqueue: a moment. */
		until = now_ns() + 5 * 1000000000ll;
		for (i = 0; i < 2 * RING_BYTES / 72 && now_ns() < until;) {
			if (push(p, 1, i)) {
				fails++;
				msleep(1);
				continue;
			}
			i++;
		}
		if (i < 2 * RING_BYTES / 72)
			fails = ~0ull;
		lfq_close(p);
	}
	tap_ok(!st && fails != ~0ull && overwritten(q) > ow,
	       "%s: a producer dies holding the oldest record in its overwrite; the kernel finishes it and producers overwrite again (overwritten %llu -> %llu, %llu pushes failed before)",
	       type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC", (unsigned long long)ow,
	       (unsigned long long)overwritten(q), (unsigned long long)fails);
	close_queue(q);
}

/* A reader (LFQ_ROLE_READER) takes snapshots with LFQ_IOC_SNAPSHOT. */
static void reader(void)
{
	struct lfq_open o = { .size = sizeof(o), .role = LFQ_ROLE_READER };
	struct lfq_snapshot s = { .size = sizeof(s) };
	struct lfq *q = NULL, *p;
	struct lfq_info in;
	struct tally a, b;
	uint64_t i, off;
	long got;
	int fd, n, bad = 0;
	uint32_t len;
	void *m;

	if (make_queue(LFQ_TYPE_MPSC, LFQ_CREATE_OVERWRITE, &q)) {
		tap_ok(0, "create an overwrite-mode queue");
		return;
	}
	p = open_producer(q);
	for (i = 0; p && i < 3 * RING_BYTES / 72; i++)
		push(p, 2, i);
	strcpy(o.name, rec_name);
	fd = open_lfq();
	o.role = LFQ_ROLE_READER | LFQ_ROLE_CONSUMER;
	expect(ioctl(fd, LFQ_IOC_OPEN, &o) ? -errno : 0, -EINVAL,
	       "LFQ_ROLE_READER with another role is refused");
	o.role = LFQ_ROLE_READER;
	expect(ioctl(fd, LFQ_IOC_OPEN, &o) ? -errno : 0, 0,
	       "a named queue opens as a reader while it has its consumer");
	m = mmap_queue(fd, &in, PROT_READ | PROT_WRITE);
	tap_ok(!m && errno == EPERM, "a reader maps nothing writable (EPERM)");
	s.buf = (uintptr_t)snap_buf;
	s.buf_size = sizeof(snap_buf);
	s.flags = 1;
	expect(ioctl(fd, LFQ_IOC_SNAPSHOT, &s) < 0 ? -errno : 0, -EINVAL,
	       "LFQ_IOC_SNAPSHOT with unknown flags: EINVAL");
	s.flags = 0;
	s.buf = (uintptr_t)snap_buf + 4;
	expect(ioctl(fd, LFQ_IOC_SNAPSHOT, &s) < 0 ? -errno : 0, -EINVAL,
	       "LFQ_IOC_SNAPSHOT into a misaligned buffer: EINVAL");
	s.buf = 8;
	expect(ioctl(fd, LFQ_IOC_SNAPSHOT, &s) < 0 ? -errno : 0, -EFAULT,
	       "LFQ_IOC_SNAPSHOT into an unmapped buffer: EFAULT");
	s.buf = (uintptr_t)snap_buf;
	got = ioctl(fd, LFQ_IOC_SNAPSHOT, &s);
	tally_init(&a);
	for (off = 0; got > 0 && off < (uint64_t)got;
	     off += LFQ_SNAPSHOT_NEXT(len)) {
		len = (uint32_t)snap_buf[off / 8];
		if (len > RING_BYTES || off + LFQ_SNAPSHOT_NEXT(len) > (uint64_t)got) {
			bad = 1;
			break;
		}
		rec_check(&a, (unsigned char *)snap_buf + off + 8, len);
	}
	tally_init(&b);
	n = lfq_record_snapshot(q, snap_buf, sizeof(snap_buf), rec_check, &b);
	tap_ok(got > 0 && !bad && !a.bad && !b.bad && n > 0 &&
	       (uint64_t)n == a.got && a.last_seq == i - 1,
	       "the reader's LFQ_IOC_SNAPSHOT (%ld bytes, %llu records) equals the consumer's lfq_record_snapshot(), newest last",
	       got, (unsigned long long)a.got);
	s.buf_size = 200;
	got = ioctl(fd, LFQ_IOC_SNAPSHOT, &s);
	tap_ok(got >= 0 && got <= 200, "a small buffer takes the oldest records that fit (%ld bytes of 200)", got);
	close(fd);
	if (p)
		lfq_close(p);
	close_queue(q);
	/* A record queue not in overwrite mode: nothing to snapshot. */
	{
		struct lfq *plain = NULL;

		s.buf_size = sizeof(snap_buf);
		if (make_queue(LFQ_TYPE_MPSC, 0, &plain)) {
			tap_ok(0, "create a record queue");
		} else {
			got = ioctl(lfq_fd(plain), LFQ_IOC_SNAPSHOT, &s);
			expect(got < 0 ? -errno : 0, -EOPNOTSUPP,
			       "LFQ_IOC_SNAPSHOT of a record queue not in overwrite mode: EOPNOTSUPP");
			lfq_unlink(rec_name);
			lfq_close(plain);
		}
	}
}
#endif

int main(void)
{
#ifdef LFQ_KERNEL_QUEUE
	tap_plan(24);
#else
	tap_plan(11);
#endif
	refusals();
	single(LFQ_TYPE_SPSC);
	single(LFQ_TYPE_MPSC);
	held();
	stream();
#ifdef LFQ_KERNEL_QUEUE
	consumer_killed();
	reclaimer_killed(LFQ_TYPE_MPSC);
	reclaimer_killed(LFQ_TYPE_SPSC);
	reader();
#endif
	return tap_done();
}
