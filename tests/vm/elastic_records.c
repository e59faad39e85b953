// SPDX-License-Identifier: MIT
/*
 * elastic_records.c - elastic record queues (LFQ_CREATE_RECORDS |
 * LFQ_CREATE_ELASTIC) on /dev/lfq: what only the module does with them.
 * Owns the kernel side; what a process sees of the queues themselves is
 * tests/host/rec_elastic_mt.c (built for the VM as rec_elastic_kernel).
 * Segments of 4096 bytes throughout: records of 1 to 1016 bytes.
 *
 *   1. SYSCALL_DATA: a SYSCALL source with LFQ_SOURCE_SYSCALL_DATA on
 *      write(2) (fd -1), record_size the segment's limit, into an MPSC
 *      queue (seg_min 2, seg_max 64) whose consumer pauses: two threads
 *      flood it with buffers of 8 bytes to past the limit. The queue
 *      grows (kernel producers take pooled spares only); every record is
 *      its call's, with its exact bytes (cut and flagged past the limit),
 *      in order per thread; every call missing is a drop the kernel
 *      counted (lfq_stats.dropped, which may also count a foreign
 *      write(2) dropped meanwhile: the VM's heartbeat); after the source
 *      is gone and an idle period, the queue holds its memory at creation.
 *      Then, the consumer stalled, write(2) calls whose records a byte-exact
 *      model of the segments places: one of 89 bytes where 96 are left and
 *      one of 88 where 88 are left go on in the next segment (the size
 *      with header and padding is what must fit), one of 88 where 96 are
 *      left ends at its segment's end; grows as the model says, no drop.
 *   2. Producer processes killed holding a reserved record, placed by a
 *      byte-exact model of the segments: in the middle of segment 0, as
 *      the first record of segment 1 (its reservation grew the queue), as
 *      the last of segment 1 (ending at its end), in segment 2, two by
 *      the parent's SIGKILL, two by their own raise(SIGKILL); and a live
 *      holder after them. The kernel discards the four dead ones
 *      (orphaned 4), the consumer gets every committed record whole and
 *      in order across the three segments and waits at the live one's,
 *      which arrives once committed; the drained segments retire.
 *   3. A kill storm: four producer processes streaming records of random
 *      sizes, killed and replaced, every other one while it holds a
 *      reserved record (asked to stop at its next one), the others
 *      wherever they are, while the consumer pauses so the queue grows
 *      and shrinks: no record torn, repeated or out of order per
 *      producer, no stall, orphaned at least the kills holding a record
 *      and at most the kills, and a last generation whose records all
 *      arrive.
 *   4. Processes: a producer process (SPSC) and two (MPSC) stream 10^5
 *      records to a consumer process through growth and shrink: each
 *      arrived once, whole, in order; the queue grew, shrank, and is
 *      back to its memory at creation.
 *   5. Hostile memory. First the mapping's roles for record frames: a
 *      frame is its bytes twice (no commit words), writable by the
 *      consumer (it zeroes what it consumed) as by producers; the tail
 *      words and the segment table not by a producer (EPERM). Then,
 *      while SYNTH kernel producers (threads and a hardirq
 *      timer) and an honest process producer write, a producer process
 *      forges head words (sealed, unsealed, off by one, a segment ahead,
 *      garbage), record headers in every frame (huge lengths and lengths
 *      just past the limit with the right lap, discard flags, garbage)
 *      and its claims, and asks LFQ_IOC_GROW for any frame; a child of
 *      the consumer forges the tail words. The consumer's calls return
 *      records or errors, never a signal; the kernel stays up (the VM
 *      runner fails the run on any splat), its counters stay in bounds,
 *      the producer killed afterwards (its forged claims walked) leaves a
 *      queue that still answers; then a fresh elastic record queue takes
 *      SYNTH's records through its segments, each gap a counted drop, and
 *      every module reference goes with the files.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "rec_pattern.h"
#include "synth_tally.h"
#include "tap.h"
#include "test_util.h"

#define SEG		4096u		/* bytes per segment */
#define PG		4096ul
#define SEG_ORDER	12
#define LAP_SHIFT	33		/* a record header's lap bits */
#define REC_DISCARD	0x100000000ull	/* a record header's discard bit */

static uint32_t max_len;		/* LFQ_REC_MAX_LEN(SEG) */

/* An elastic record queue named @name, the creator's file in @role. */
static int make_named(const char *name, uint32_t type, uint32_t seg_min,
		      uint32_t seg_max, uint32_t role, struct lfq **q)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = 1,
		 .slot_count = SEG,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC,
		 .seg_min = seg_min, .seg_max = seg_max, .name = name,
		 .mode = 0600, .role = role);
	int err;

	lfq_unlink(name);	/* an earlier run's, if it failed */
	err = lfq_create(&o, q);
	if (err)
		tap_diag("create %s: %s", name, ename(-err));
	return err;
}

static struct lfq_stats stats_of(struct lfq *q)
{
	struct lfq_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (lfq_get_stats(q, &st))
		tap_diag("lfq_get_stats: %s", strerror(errno));
	return st;
}

/*
 * Wait up to 5 s for the queue to hold @bytes in one live segment again
 * (the module's reclaim runs every seg_idle_ms / 2); @c, if not NULL, is
 * the consumer, which looks now and then (passing discarded records left
 * at the end). The ms waited, or -1.
 */
static int wait_rest(struct lfq *q, struct lfq *c, uint64_t bytes,
		     struct lfq_stats *st)
{
	const void *p;
	int ms;

	for (ms = 0;; ms += 50) {
		if (c)
			lfq_record_peek(c, &p);
		*st = stats_of(q);
		if (st->bytes == bytes && st->segments == 1)
			return ms;
		if (ms >= 5000)
			return -1;
		msleep(50);
	}
}

/* ====================================================================== */
/* 1. SYSCALL_DATA on write(2). */

#define FLOOD_THREADS	2
#define FLOOD_CALLS	20000u
#define FLOOD_SEG_MAX	64u
#define FLOOD_PAUSE_EVERY 1500u
#define FLOOD_PAUSE_MS	5
/* Foreign write(2) calls dropped during the flood that the count allows. */
#define FOREIGN_SLACK	8u

struct flood {
	struct lfq *q;
	pthread_barrier_t go;
	atomic_int done;
	pid_t tid[FLOOD_THREADS];
	uint32_t limit;			/* buffer bytes a record keeps */
	uint64_t next[FLOOD_THREADS];
	uint64_t got, bad, foreign, cut;
};

struct flood_arg {
	struct flood *f;
	uint32_t who;
};

/*
 * Buffer bytes of call @seq of thread @who: 8 to 256 mostly, an eighth
 * up to the limit, every 50th 40 past it (cut).
 */
static uint32_t flood_len(const struct flood *f, uint32_t who, uint32_t seq)
{
	uint64_t m = mix64((uint64_t)who << 32 | seq);

	if (seq % 50 == 17)
		return f->limit + 40;
	return 8 + (uint32_t)(m % 8 ? (m >> 8) % 249 :
				      (m >> 8) % (f->limit - 7));
}

static uint8_t flood_byte(uint32_t who, uint32_t seq, uint32_t i)
{
	return (uint8_t)(who * 131u + seq * 7u + i * 13u + 1u);
}

static void *flood_thread(void *p)
{
	struct flood_arg *a = p;
	struct flood *f = a->f;
	static __thread uint8_t buf[SEG];
	uint32_t seq, j, len;

	f->tid[a->who] = gettid();
	pthread_barrier_wait(&f->go);
	for (seq = 0; seq < FLOOD_CALLS; seq++) {
		len = flood_len(f, a->who, seq);
		memcpy(buf, &seq, 4);
		memcpy(buf + 4, &a->who, 4);
		for (j = 8; j < len; j++)
			buf[j] = flood_byte(a->who, seq, j);
		/* fd -1: fails at once, after its entry is recorded. */
		syscall(SYS_write, -1L, buf, (long)len);
	}
	atomic_fetch_add(&f->done, 1);
	return NULL;
}

/* One record: a call of ours, later than its thread's last, exact. */
static int flood_rec(void *ctx, const void *p, uint32_t len)
{
	struct flood *f = ctx;
	const uint8_t *b = p;
	struct lfq_event_syscall ev;
	struct lfq_syscall_data d;
	uint64_t args[5];
	uint32_t seq, who, j, want, calllen;

	if (len < LFQ_EVENT_SYSCALL_DATA_MIN) {
		f->foreign++;
		return 0;
	}
	memcpy(&ev, b, sizeof(ev));
	memcpy(args, b + sizeof(ev), sizeof(args));
	memcpy(&d, b + LFQ_EVENT_SYSCALL_FULL, sizeof(d));
	if (ev.hdr.type != LFQ_EVENT_SYSCALL || ev.nr != SYS_write ||
	    ev.arg0 != (uint64_t)-1 || d.size < 8) {
		f->foreign++;
		return 0;
	}
	memcpy(&seq, b + LFQ_EVENT_SYSCALL_DATA_MIN, 4);
	memcpy(&who, b + LFQ_EVENT_SYSCALL_DATA_MIN + 4, 4);
	if (who >= FLOOD_THREADS || ev.pid != (uint32_t)f->tid[who] ||
	    seq >= FLOOD_CALLS || seq < f->next[who])
		goto bad;
	calllen = flood_len(f, who, seq);
	want = calllen < f->limit ? calllen : f->limit;
	if (ev.hdr.size != len || len != LFQ_EVENT_SYSCALL_DATA_MIN + want ||
	    d.size != want || args[1] != calllen ||
	    d.flags != (calllen > f->limit ? LFQ_SYSCALL_DATA_CUT : 0u))
		goto bad;
	for (j = 8; j < want; j++)
		if (b[LFQ_EVENT_SYSCALL_DATA_MIN + j] !=
		    flood_byte(who, seq, j))
			goto bad;
	f->cut += calllen > f->limit;
	f->next[who] = seq + 1;
	f->got++;
	return 0;
bad:
	if (f->bad++ < 5)
		tap_diag("  bad record: %u bytes, thread %u seq %u (next %llu), size %u flags %u",
			 len, who, seq,
			 (unsigned long long)(who < FLOOD_THREADS ?
					      f->next[who] : 0),
			 d.size, d.flags);
	return 0;
}

static void test_syscall_data(void)
{
	struct flood *f = calloc(1, sizeof(*f));
	struct flood_arg args[FLOOD_THREADS];
	pthread_t th[FLOOD_THREADS];
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYSCALL,
				.flags = LFQ_SOURCE_SYSCALL_DATA,
				.syscall_nr = SYS_write,
				.record_size = max_len };
	struct lfq_stats first, st, peak, rest;
	uint64_t lost = 0, paused = 0;
	int id, i, ms;

	if (!f || make_named("t-elrec-sys", LFQ_TYPE_MPSC, 2, FLOOD_SEG_MAX,
			     0, &f->q)) {
		tap_ok(0, "create an elastic MPSC record queue");
		exit(1);
	}
	f->limit = max_len - LFQ_EVENT_SYSCALL_DATA_MIN;
	first = stats_of(f->q);
	id = lfq_source_attach(f->q, &s);
	if (!tap_ok(id >= 0,
		    "SYSCALL write(2) with LFQ_SOURCE_SYSCALL_DATA, record_size %u (the segment's limit), attached to an elastic MPSC record queue of %u-byte segments (%s)",
		    max_len, SEG, id < 0 ? ename(-id) : "ok")) {
		tap_ok(0, "the flood");
		tap_ok(0, "growth");
		tap_ok(0, "at rest");
		lfq_close(f->q);
		lfq_unlink("t-elrec-sys");
		free(f);
		return;
	}
	pthread_barrier_init(&f->go, NULL, FLOOD_THREADS + 1);
	for (i = 0; i < FLOOD_THREADS; i++) {
		args[i] = (struct flood_arg){ f, (uint32_t)i };
		pthread_create(&th[i], NULL, flood_thread, &args[i]);
	}
	pthread_barrier_wait(&f->go);
	/* No output meanwhile: our own write(2) calls would be recorded. */
	peak = first;
	while (atomic_load(&f->done) < FLOOD_THREADS) {
		if (lfq_record_consume(f->q, 64, flood_rec, f) <= 0)
			lfq_wait_data(f->q, 1, 5000000);
		if (f->got / FLOOD_PAUSE_EVERY != paused) {
			paused = f->got / FLOOD_PAUSE_EVERY;
			msleep(FLOOD_PAUSE_MS);	/* the queue grows */
			st = stats_of(f->q);
			if (st.segments > peak.segments)
				peak = st;
		}
	}
	for (i = 0; i < FLOOD_THREADS; i++)
		pthread_join(th[i], NULL);
	lfq_source_detach(f->q, id);
	while (lfq_record_consume(f->q, 256, flood_rec, f) > 0)
		;
	st = stats_of(f->q);
	/*
	 * Calls missing (inside a thread's run or after its last record):
	 * records arrive at most once each and in order (checked above), so
	 * they are the calls less the records, and each must be a drop.
	 */
	lost = (uint64_t)FLOOD_THREADS * FLOOD_CALLS - f->got;
	if (!tap_ok(!f->bad &&
		    st.dropped >= lost && st.dropped <= lost + FOREIGN_SLACK &&
		    f->got >= FLOOD_CALLS / 10 && f->cut > 0,
		    "%d threads x %u write(2) calls of 8 to %u bytes: %llu records whole, exact and in order (%llu cut and flagged at %u bytes), %llu missing = dropped %llu (up to %u more: foreign calls)",
		    FLOOD_THREADS, FLOOD_CALLS, f->limit + 40,
		    (unsigned long long)f->got, (unsigned long long)f->cut,
		    f->limit, (unsigned long long)lost,
		    (unsigned long long)st.dropped, FOREIGN_SLACK))
		tap_diag("  bad %llu, foreign %llu, got %llu, lost %llu, dropped %llu",
			 (unsigned long long)f->bad,
			 (unsigned long long)f->foreign,
			 (unsigned long long)f->got, (unsigned long long)lost,
			 (unsigned long long)st.dropped);
	tap_ok(st.grows >= 2 && st.segments_peak >= 3 &&
	       st.segments_peak <= FLOOD_SEG_MAX && st.shrinks > 0,
	       "the queue grew from kernel producers' pooled spares: %llu grows, %llu shrinks, peak %llu segments (%llu seen at a pause, pool %llu)",
	       (unsigned long long)st.grows, (unsigned long long)st.shrinks,
	       (unsigned long long)st.segments_peak,
	       (unsigned long long)peak.segments,
	       (unsigned long long)peak.pool);
	ms = wait_rest(f->q, f->q, first.bytes, &rest);
	if (!tap_ok(ms >= 0,
		    "drained and idle: back to %llu bytes (as created), 1 live segment, in %d ms",
		    (unsigned long long)first.bytes, ms))
		tap_diag("  bytes %llu, segments %llu, pool %llu",
			 (unsigned long long)rest.bytes,
			 (unsigned long long)rest.segments,
			 (unsigned long long)rest.pool);
	pthread_barrier_destroy(&f->go);
	lfq_close(f->q);
	lfq_unlink("t-elrec-sys");
	free(f);
}

/* ====================================================================== */
/* 2. Producers killed holding a record, placed by a model of the segments. */

#define KILL_NAME	"t-elrec-kill"
#define KILL_RECS	64

/* A consumer that never moves: bytes used in the producers' segment. */
struct model {
	uint32_t used;
	uint64_t grows;
};

static void model_add(struct model *m, uint32_t len)
{
	if (m->used + rp_size(len) > SEG) {
		m->grows++;
		m->used = 0;
	}
	m->used += rp_size(len);
}

enum hold_how {
	HOLD_KILLED,		/* waits; the parent kills it */
	HOLD_SELF,		/* raise(SIGKILL) once it holds the record */
	HOLD_LIVE,		/* commits when the parent says so */
};

struct holder {
	pid_t pid;
	int go;			/* HOLD_LIVE: a byte here commits */
};

/*
 * A producer process: opens the queue by name, reserves @len bytes, fills
 * them (0xee: a record no consumer may see; a live holder's is record
 * (1, 0) of rec_pattern.h), says so over a pipe, then as @how says.
 */
static int spawn_holder(struct holder *h, uint32_t len, enum hold_how how)
{
	int up[2], down[2];
	char c = 0;

	if (pipe(up) || pipe(down))
		return -1;
	fflush(stdout);
	h->pid = fork();
	if (!h->pid) {
		struct lfq *p;
		void *pl;

		close(up[0]);
		close(down[1]);
		if (open_named(KILL_NAME, LFQ_ROLE_PRODUCER, &p) ||
		    lfq_record_reserve(p, len, &pl))
			_exit(2);
		if (how == HOLD_LIVE)
			rp_fill(pl, len, 1, 0);
		else
			memset(pl, 0xee, len);
		if (write(up[1], &c, 1) != 1)
			_exit(3);
		if (how == HOLD_SELF)
			raise(SIGKILL);
		if (read(down[0], &c, 1) != 1)	/* killed here, or told */
			_exit(4);
		if (how != HOLD_LIVE || lfq_record_commit(p))
			_exit(5);
		lfq_close(p);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (h->pid < 0 || read(up[0], &c, 1) != 1) {
		close(up[0]);
		close(down[1]);
		return -1;
	}
	close(up[0]);
	h->go = down[1];
	if (how == HOLD_SELF) {
		int st = child_status(h->pid);

		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			return -1;
	}
	return 0;
}

struct kill_run {
	struct lfq *c, *p;
	struct model m;
	uint32_t lens[KILL_RECS];	/* the parent's records, by seq */
	uint32_t n;
	int err;
};

/* The parent's next record (0, n), of @len bytes. */
static void k_push(struct kill_run *k, uint32_t len)
{
	unsigned char buf[SEG];
	int err;

	if (k->err || k->n >= KILL_RECS) {
		k->err = k->err ?: -ENOSPC;
		return;
	}
	rp_fill(buf, len, 0, k->n);
	err = lfq_push(k->p, buf, len);
	if (err) {
		tap_diag("  push %u (%u bytes): %s", k->n, len, ename(-err));
		k->err = err;
		return;
	}
	model_add(&k->m, len);
	k->lens[k->n++] = len;
}

static void k_hold(struct kill_run *k, struct holder *h, uint32_t len,
		   enum hold_how how)
{
	if (k->err)
		return;
	if (spawn_holder(h, len, how)) {
		tap_diag("  holder of %u bytes failed", len);
		k->err = -ECHILD;
		return;
	}
	model_add(&k->m, len);
}

/* Take the parent's records @from to @to; 0 if all whole and in order. */
static int k_take(struct kill_run *k, uint32_t from, uint32_t to)
{
	static unsigned char buf[SEG];
	uint32_t i;
	int got;

	for (i = from; i < to; i++) {
		got = lfq_pop(k->c, buf, sizeof(buf));
		if (got != (int)k->lens[i] ||
		    !rp_same(buf, (uint32_t)got, 0, i)) {
			tap_diag("  record %u: %d bytes (want %u)%s", i, got,
				 k->lens[i],
				 got > 0 && buf[0] == 0xee ? ", a dead holder's" :
				 "");
			return -1;
		}
	}
	return 0;
}

static void test_killed_holders(void)
{
	struct kill_run *k = calloc(1, sizeof(*k));
	struct holder h[4], live = { -1, -1 };
	static unsigned char buf[SEG];
	struct lfq_stats st, rest, first;
	uint32_t before_live;
	int64_t t0;
	int i, got, ok, ms;

	if (!k || make_named(KILL_NAME, LFQ_TYPE_MPSC, 2, 16,
			     LFQ_ROLE_CONSUMER, &k->c) ||
	    open_named(KILL_NAME, LFQ_ROLE_PRODUCER, &k->p)) {
		tap_ok(0, "create " KILL_NAME " and a producer");
		exit(1);
	}
	first = stats_of(k->c);
	/* Segment 0: 3 of the limit, a holder (killed), 2; 8 bytes left. */
	for (i = 0; i < 3; i++)
		k_push(k, max_len);
	k_hold(k, &h[0], 296, HOLD_KILLED);
	k_push(k, 200);
	k_push(k, 496);
	/* Segment 1: opened by a holder (dies by its own hand), 3 of the
	 * limit, a holder (killed) ending exactly at the segment's end. */
	k_hold(k, &h[1], 104, HOLD_SELF);
	for (i = 0; i < 3; i++)
		k_push(k, max_len);
	k_hold(k, &h[2], SEG - k->m.used - 8, HOLD_KILLED);
	/* Segment 2: 1 byte, 5, a holder (its own hand), 3, the live one, 2. */
	k_push(k, 1);
	for (i = 0; i < 5; i++)
		k_push(k, 100);
	k_hold(k, &h[3], 50, HOLD_SELF);
	for (i = 0; i < 3; i++)
		k_push(k, 60);
	before_live = k->n;
	k_hold(k, &live, 300, HOLD_LIVE);
	k_push(k, max_len);
	k_push(k, max_len);
	st = stats_of(k->c);
	if (!tap_ok(!k->err && k->m.grows == 2 && st.grows == 2 &&
		    st.segments == 3 && h[2].pid > 0,
		    "MPSC, %u-byte segments: %u records and 5 holders placed by the model (mid-segment 0; segment 1's first, whose reservation grew the queue; segment 1's last, to its end; segment 2; a live one after them): %llu grows, %llu segments",
		    SEG, k->n, (unsigned long long)st.grows,
		    (unsigned long long)st.segments)) {
		tap_diag("  error %s, model grows %llu, used %u", ename(-k->err),
			 (unsigned long long)k->m.grows, k->m.used);
	}
	if (h[0].pid > 0)
		kill(h[0].pid, SIGKILL);
	if (h[2].pid > 0)
		kill(h[2].pid, SIGKILL);
	for (i = 0; i < 4; i += 2)
		if (h[i].pid > 0) {
			child_status(h[i].pid);
			close(h[i].go);
		}
	for (i = 1; i < 4; i += 2)
		if (h[i].pid > 0)
			close(h[i].go);
	/* The kernel's scan, as the files go: four dead records discarded. */
	for (t0 = now_ns(); now_ns() - t0 < 3000000000ll;) {
		st = stats_of(k->c);
		if (st.orphaned >= 4)
			break;
		msleep(10);
	}
	ok = !k->err && !k_take(k, 0, before_live);
	msleep(200);		/* the live holder's record: not discarded */
	got = lfq_pop(k->c, buf, sizeof(buf));
	st = stats_of(k->c);
	if (!tap_ok(ok && got == -EAGAIN && st.orphaned == 4,
		    "4 holders dead (2 killed, 2 by their own SIGKILL): orphaned %llu; the consumer gets the %u records before the live holder's, whole and in order across 3 segments, and waits there (%s)",
		    (unsigned long long)st.orphaned, before_live,
		    got < 0 ? ename(-got) : "a record"))
		tap_diag("  take ok %d, pop %d, orphaned %llu", ok, got,
			 (unsigned long long)st.orphaned);
	ok = 0;
	if (live.pid > 0 && write(live.go, "g", 1) == 1 &&
	    !child_ok(live.pid)) {
		got = lfq_pop(k->c, buf, sizeof(buf));
		ok = got == 300 && rp_same(buf, 300, 1, 0) &&
		     !k_take(k, before_live, k->n) &&
		     lfq_pop(k->c, buf, sizeof(buf)) == -EAGAIN;
	}
	if (live.go >= 0)
		close(live.go);
	st = stats_of(k->c);
	tap_ok(ok && st.orphaned == 4,
	       "the live holder commits: its record and the 2 after it arrive whole; orphaned still %llu",
	       (unsigned long long)st.orphaned);
	ms = wait_rest(k->c, k->c, first.bytes, &rest);
	if (!tap_ok(ms >= 0 && rest.shrinks >= 2,
		    "the drained segments retire: %llu shrinks, 1 live segment, %llu bytes as created, in %d ms",
		    (unsigned long long)rest.shrinks,
		    (unsigned long long)rest.bytes, ms))
		tap_diag("  segments %llu, bytes %llu (created %llu)",
			 (unsigned long long)rest.segments,
			 (unsigned long long)rest.bytes,
			 (unsigned long long)first.bytes);
	lfq_close(k->p);
	lfq_close(k->c);
	lfq_unlink(KILL_NAME);
	free(k);
}

/* ====================================================================== */
/* 1b. A kernel producer at segment ends. */

#define ENDS_CALLS	24

struct ends {
	uint32_t bufs[ENDS_CALLS];	/* each call's buffer bytes */
	uint32_t n, seen, foreign, bad;
	pid_t tid;
};

/* Our call @i's record: exactly its buffer, in order. */
static int ends_rec(void *ctx, const void *p, uint32_t len)
{
	struct ends *e = ctx;
	const uint8_t *b = p;
	struct lfq_event_syscall ev;
	struct lfq_syscall_data d;
	uint32_t j, want;

	memcpy(&ev, b, sizeof(ev));
	if (len < LFQ_EVENT_SYSCALL_DATA_MIN || ev.nr != SYS_write ||
	    ev.arg0 != (uint64_t)-1 || ev.pid != (uint32_t)e->tid) {
		e->foreign++;
		return 0;
	}
	memcpy(&d, b + LFQ_EVENT_SYSCALL_FULL, sizeof(d));
	want = e->seen < e->n ? e->bufs[e->seen] : ~0u;
	if (d.size != want || d.flags || len != LFQ_EVENT_SYSCALL_DATA_MIN + want)
		goto bad;
	for (j = 0; j < want; j++)
		if (b[LFQ_EVENT_SYSCALL_DATA_MIN + j] !=
		    flood_byte(2, e->seen, j))
			goto bad;
	e->seen++;
	return 0;
bad:
	if (e->bad++ < 3)
		tap_diag("  call %u: a record of %u bytes (buffer %u, want %u)",
			 e->seen, len, d.size, want);
	e->seen++;
	return 0;
}

/* One traced write(2) of @buf bytes: the next record, by the model. */
static void ends_call(struct ends *e, struct model *m, uint32_t buf)
{
	static uint8_t b[SEG];
	uint32_t j;

	if (e->n >= ENDS_CALLS)
		return;
	for (j = 0; j < buf; j++)
		b[j] = flood_byte(2, e->n, j);
	e->bufs[e->n++] = buf;
	model_add(m, LFQ_EVENT_SYSCALL_DATA_MIN + buf);
	syscall(SYS_write, -1L, b, (long)buf);
}

/* Buffers that fill the producers' segment until @leave bytes are left. */
static void ends_fill(struct ends *e, struct model *m, uint32_t leave)
{
	uint32_t rem = SEG - m->used - leave, sz;

	while (rem) {
		sz = rem <= 1024 ? rem : rem - 1024 >= 96 ? 1024 : rem - 96;
		ends_call(e, m, sz - 8 - LFQ_EVENT_SYSCALL_DATA_MIN);
		rem -= sz;
	}
}

/*
 * A SYSCALL_DATA source's records placed by the model, the consumer
 * stalled: a record that does not fit the rest of a segment (96 bytes
 * left for 104, 88 for 96, with its length within the rest: it is the
 * size with the header that counts) goes in the next segment, one that
 * fits exactly ends at its end; none is dropped (seg_min 5: the pool has
 * the spares). Foreign write(2) calls would move the records: then again.
 */
static void test_syscall_ends(void)
{
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYSCALL,
				.flags = LFQ_SOURCE_SYSCALL_DATA,
				.syscall_nr = SYS_write,
				.record_size = max_len };
	struct lfq_stats st = { 0 };
	struct model m;
	struct ends e;
	struct lfq *q = NULL;
	int id = -1, round, i;

	for (round = 0; round < 3; round++) {
		LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
			 .slot_size = 1, .slot_count = SEG,
			 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC,
			 .seg_min = 5, .seg_max = 8);

		memset(&e, 0, sizeof(e));
		memset(&m, 0, sizeof(m));
		e.tid = gettid();
		if (lfq_create(&o, &q))
			break;
		id = lfq_source_attach(q, &s);
		if (id < 0)
			break;
		/* No output from here to the detach: write(2) is traced. */
		for (i = 0; i < 3; i++)
			ends_call(&e, &m, max_len - LFQ_EVENT_SYSCALL_DATA_MIN);
		ends_fill(&e, &m, 96);
		ends_call(&e, &m, 9);	/* 89 bytes, 104 with header: next */
		ends_fill(&e, &m, 88);
		ends_call(&e, &m, 8);	/* 88 bytes, 96: next */
		ends_fill(&e, &m, 96);
		ends_call(&e, &m, 8);	/* 96 in 96: to the segment's end */
		ends_call(&e, &m, 0);	/* 80 bytes, 88: next */
		ends_call(&e, &m, 100);
		lfq_source_detach(q, id);
		st = stats_of(q);
		while (lfq_record_consume(q, 64, ends_rec, &e) > 0)
			;
		if (!e.foreign)
			break;
		tap_diag("  %u foreign write(2) records among ours: again",
			 e.foreign);
		lfq_close(q);
		q = NULL;
	}
	if (!tap_ok(q && id >= 0 && !e.foreign && !e.bad && e.seen == e.n &&
		    m.grows == 3 && st.grows == 3 && st.dropped == 0 &&
		    st.segments == 4,
		    "SYSCALL_DATA, the consumer stalled: %u records placed by the model; one of 89 bytes where 96 are left, one of 88 where 88 are left go on in the next segment, one of 88 where 96 are left ends at its segment's end: %llu grows (the model: %llu), %llu dropped, all %u whole and in order",
		    e.n, (unsigned long long)st.grows,
		    (unsigned long long)m.grows,
		    (unsigned long long)st.dropped, e.seen))
		tap_diag("  attach %s, foreign %u, bad %u, seen %u, segments %llu",
			 id < 0 ? ename(-id) : "ok", e.foreign, e.bad, e.seen,
			 (unsigned long long)st.segments);
	lfq_close(q);
}

/* ====================================================================== */
/* 3. A kill storm through growth and shrink. */

#define STORM_NAME	"t-elrec-storm"
#define STORM_SLOTS	4
#define STORM_KILLS	24
#define STORM_GENS	(STORM_SLOTS * 2 + STORM_KILLS + 8)
#define STORM_FINAL	1000u		/* the last generation's records each */
#define STORM_EVERY	1000u		/* records between kills */
#define STORM_STALL_NS	15000000000ll

/* Storm record (@gen, @n): 8 bytes to the limit, its id in bytes 0-7. */
static uint32_t storm_len(uint32_t gen, uint64_t n)
{
	uint64_t m = mix64((uint64_t)gen << 40 ^ n);

	return 8 + (uint32_t)(m % 4 ? (m >> 8) % 120 :
				      (m >> 8) % (max_len - 7));
}

static void storm_fill(unsigned char *b, uint32_t len, uint32_t gen,
		       uint64_t n)
{
	uint64_t id = (uint64_t)gen << 40 | n;

	rp_fill(b, len, 0, id);
	memcpy(b, &id, 8);
}

/*
 * Per slot, in memory shared with the producers: [0] the parent asks the
 * producer to stop at its next reserved record, [1] it holds one, and
 * waits to be killed.
 */
static int (*storm_hold)[2];

/* A producer of @count records of generation @gen in @slot (or killed). */
static void storm_producer(uint32_t slot, uint32_t gen, uint64_t count)
{
	static unsigned char buf[SEG];
	struct lfq *p;
	uint64_t n;
	void *pl;
	int err;

	if (open_named(STORM_NAME, LFQ_ROLE_PRODUCER, &p))
		_exit(2);
	for (n = 0; n < count; n++) {
		uint32_t len = storm_len(gen, n);

		if (n % 4 == 1) {
			storm_fill(buf, len, gen, n);
			while ((err = lfq_push(p, buf, len)) == -EAGAIN)
				lfq_wait_space(p, rp_size(len), 10000000);
		} else {
			while ((err = lfq_record_reserve(p, len, &pl)) ==
			       -EAGAIN)
				lfq_wait_space(p, rp_size(len), 10000000);
			if (!err) {
				storm_fill(pl, len, gen, n);
				if (__atomic_load_n(&storm_hold[slot][0],
						    __ATOMIC_ACQUIRE)) {
					__atomic_store_n(&storm_hold[slot][1],
							 1, __ATOMIC_RELEASE);
					for (;;)
						pause();	/* killed */
				}
				err = lfq_record_commit(p);
			}
		}
		if (err)
			_exit(3);
	}
	lfq_close(p);
	_exit(0);
}

struct storm {
	uint64_t next[STORM_GENS];	/* next n of each generation */
	uint8_t launched[STORM_GENS];
	uint64_t got, bad;
};

static int storm_rec(void *ctx, const void *payload, uint32_t len)
{
	struct storm *s = ctx;
	const unsigned char *b = payload;
	unsigned char want[SEG];
	uint64_t id = 0, n;
	uint32_t gen;

	if (len >= 8)
		memcpy(&id, b, 8);
	gen = (uint32_t)(id >> 40);
	n = id & ((1ull << 40) - 1);
	if (len < 8 || gen >= STORM_GENS || !s->launched[gen] ||
	    n != s->next[gen] || len != storm_len(gen, n))
		goto bad;
	storm_fill(want, len, gen, n);
	if (memcmp(want, b, len))
		goto bad;
	s->next[gen]++;
	s->got++;
	return 0;
bad:
	if (s->bad++ < 5)
		tap_diag("  storm: bad record of %u bytes: gen %u n %llu (next %llu)",
			 len, gen, (unsigned long long)n,
			 (unsigned long long)(gen < STORM_GENS ?
					      s->next[gen] : 0));
	return 1;
}

/* Consume until @want records in all, pausing now and then; -1: a stall. */
static int storm_consume(struct lfq *c, struct storm *s, uint64_t want)
{
	int64_t idle = now_ns();
	uint64_t paused = s->got / 4000;
	int n;

	while (s->got < want && !s->bad) {
		n = lfq_record_consume(c, 16, storm_rec, s);
		if (n > 0) {
			idle = now_ns();
			if (s->got / 4000 != paused) {
				paused = s->got / 4000;
				msleep(30);	/* the queue grows */
			}
			continue;
		}
		if (n < 0 || now_ns() - idle > STORM_STALL_NS)
			return -1;
		lfq_wait_data(c, 1, 20000000);
	}
	return s->bad ? -1 : 0;
}

static void test_storm(void)
{
	struct storm *s = calloc(1, sizeof(*s));
	pid_t pid[STORM_SLOTS];
	uint32_t gen_of[STORM_SLOTS], gen = 0, i, k;
	struct lfq_stats st;
	struct lfq *c = NULL;
	int kills = 0, held = 0, stalled = 0, complete, ok;
	int64_t t0 = now_ns(), t1;

	storm_hold = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (storm_hold == MAP_FAILED)
		exit(1);
	if (!s || make_named(STORM_NAME, LFQ_TYPE_MPSC, 2, 32,
			     LFQ_ROLE_CONSUMER, &c)) {
		tap_ok(0, "create " STORM_NAME);
		free(s);
		return;
	}
	fflush(stdout);
	for (i = 0; i < STORM_SLOTS; i++) {
		gen_of[i] = gen;
		s->launched[gen] = 1;
		pid[i] = fork();
		if (!pid[i])
			storm_producer(i, gen, 1ull << 39);
		gen++;
	}
	for (k = 0; k < STORM_KILLS && !stalled; k++) {
		if (storm_consume(c, s, s->got + STORM_EVERY)) {
			stalled = 1;
			break;
		}
		/*
		 * One dies: every other one as soon as it holds a record
		 * (asked to stop there, within 200 ms; the consumer goes on
		 * meanwhile so that it has room), the others wherever they
		 * are; a new generation takes its place.
		 */
		i = (uint32_t)(mix64(k) % STORM_SLOTS);
		if (k % 2 == 0) {
			__atomic_store_n(&storm_hold[i][0], 1,
					 __ATOMIC_RELEASE);
			for (t1 = now_ns();
			     !__atomic_load_n(&storm_hold[i][1],
					      __ATOMIC_ACQUIRE) &&
			     now_ns() - t1 < 200000000ll;)
				if (lfq_record_consume(c, 16, storm_rec,
						       s) <= 0)
					sched_yield();
			held += __atomic_load_n(&storm_hold[i][1],
						__ATOMIC_ACQUIRE);
		}
		kill(pid[i], SIGKILL);
		child_status(pid[i]);
		storm_hold[i][0] = storm_hold[i][1] = 0;
		kills++;
		gen_of[i] = gen;
		s->launched[gen] = 1;
		fflush(stdout);
		pid[i] = fork();
		if (!pid[i])
			storm_producer(i, gen, 1ull << 39);
		gen++;
	}
	for (i = 0; i < STORM_SLOTS; i++) {
		kill(pid[i], SIGKILL);
		child_status(pid[i]);
		kills++;
	}
	/* The last generation: nobody killed, every record must arrive. */
	for (i = 0; i < STORM_SLOTS && !stalled; i++) {
		gen_of[i] = gen;
		s->launched[gen] = 1;
		fflush(stdout);
		pid[i] = fork();
		if (!pid[i])
			storm_producer(i, gen, STORM_FINAL);
		gen++;
	}
	complete = 0;
	while (!stalled && complete < STORM_SLOTS) {
		uint64_t before = s->got;

		if (storm_consume(c, s, s->got + 1) || s->got == before) {
			stalled = 1;
			break;
		}
		for (i = 0, complete = 0; i < STORM_SLOTS; i++)
			complete += s->next[gen_of[i]] == STORM_FINAL;
	}
	ok = 1;
	for (i = 0; i < STORM_SLOTS; i++) {
		if (stalled)
			kill(pid[i], SIGKILL);
		ok &= !child_ok(pid[i]);
	}
	st = stats_of(c);
	if (!tap_ok(ok && !stalled && !s->bad && complete == STORM_SLOTS &&
		    held >= STORM_KILLS / 4 && st.orphaned >= (uint64_t)held &&
		    st.orphaned <= (uint64_t)kills &&
		    st.grows > 0 &&
		    st.shrinks > 0,
		    "kill storm: %d producer processes killed while streaming into %u-byte segments (%d of them holding a record they reserved); %llu records arrived, none torn, twice or out of order, %llu orphans discarded by the kernel (at least those held, at most the kills), the last generation's %u x %u all arrived; %llu grows, %llu shrinks, peak %llu (%.1f s)",
		    kills, SEG, held, (unsigned long long)s->got,
		    (unsigned long long)st.orphaned, STORM_SLOTS, STORM_FINAL,
		    (unsigned long long)st.grows,
		    (unsigned long long)st.shrinks,
		    (unsigned long long)st.segments_peak,
		    (now_ns() - t0) / 1e9))
		tap_diag("  stalled %d, bad %llu, complete %d of %d, orphaned %llu",
			 stalled, (unsigned long long)s->bad, complete,
			 STORM_SLOTS, (unsigned long long)st.orphaned);
	lfq_close(c);
	lfq_unlink(STORM_NAME);
	munmap(storm_hold, PG);
	free(s);
}

/* ====================================================================== */
/* 4. A producer process and a consumer process. */

#define XPROC_NAME	"t-elrec-x"
#define XPROC_RECS	100000ull
#define XPROC_PAUSE_EVERY 5000u
#define XPROC_PAUSE_MS	20

static void xproc_producer(uint32_t who, uint64_t count)
{
	static unsigned char buf[SEG];
	struct lfq *p;
	uint64_t seq;
	void *pl;
	int err;

	if (open_named(XPROC_NAME, LFQ_ROLE_PRODUCER, &p))
		_exit(2);
	for (seq = 0; seq < count; seq++) {
		uint32_t len = rp_len(who, seq, max_len);

		if (seq % 2) {
			rp_fill(buf, len, who, seq);
			while ((err = lfq_push(p, buf, len)) == -EAGAIN)
				lfq_wait_space(p, rp_size(len), 10000000);
		} else {
			while ((err = lfq_record_reserve(p, len, &pl)) ==
			       -EAGAIN)
				lfq_wait_space(p, rp_size(len), 10000000);
			if (!err) {
				rp_fill(pl, len, who, seq);
				err = lfq_record_commit(p);
			}
		}
		if (err)
			_exit(3);
	}
	lfq_close(p);
	_exit(0);
}

struct xtally {
	uint64_t next[RP_WHO_MAX];
	uint64_t got, bad;
	uint32_t np;
};

static int xproc_rec(void *ctx, const void *payload, uint32_t len)
{
	struct xtally *t = ctx;
	uint32_t who = rp_who(payload, len);

	if (who >= t->np || len != rp_len(who, t->next[who], max_len) ||
	    !rp_same(payload, len, who, t->next[who])) {
		if (t->bad++ < 5)
			tap_diag("  record %llu: %u bytes, not producer %u's next",
				 (unsigned long long)t->got, len, who);
		return 1;
	}
	t->next[who]++;
	t->got++;
	return 0;
}

static void test_xproc(uint32_t type, uint32_t np)
{
	const char *name = type == LFQ_TYPE_SPSC ? "SPSC" : "MPSC";
	struct xtally t = { .np = np };
	struct lfq_stats first, st, rest;
	pid_t pid[RP_WHO_MAX];
	uint64_t per = XPROC_RECS / np, paused = 0;
	struct lfq *c = NULL;
	int64_t t0 = now_ns(), idle = t0;
	uint32_t i;
	int ok = 1, n, ms;

	if (make_named(XPROC_NAME, type, 2, 32, LFQ_ROLE_CONSUMER, &c)) {
		tap_ok(0, "%s: create " XPROC_NAME, name);
		tap_ok(0, "%s: at rest", name);
		return;
	}
	first = stats_of(c);
	fflush(stdout);
	for (i = 0; i < np; i++) {
		pid[i] = fork();
		if (!pid[i])
			xproc_producer(i, per);
	}
	while (t.got < per * np && !t.bad) {
		n = lfq_record_consume(c, 1 + (uint32_t)(t.got % 16),
				       xproc_rec, &t);
		if (n > 0) {
			idle = now_ns();
			if (t.got / XPROC_PAUSE_EVERY != paused) {
				paused = t.got / XPROC_PAUSE_EVERY;
				msleep(XPROC_PAUSE_MS);
			}
			continue;
		}
		if (n < 0 || now_ns() - idle > 30000000000ll)
			break;
		lfq_wait_data(c, 1, 20000000);
	}
	for (i = 0; i < np; i++) {
		if (t.got < per * np || t.bad)
			kill(pid[i], SIGKILL);
		ok &= !child_ok(pid[i]);
	}
	st = stats_of(c);
	if (!tap_ok(ok && t.got == per * np && !t.bad && st.grows > 0 &&
		    st.shrinks > 0 && st.segments_peak >= 3,
		    "%s, %u producer process%s and a consumer process: %llu records of 1 to %u bytes arrived once, whole, in order; %llu grows, %llu shrinks, peak %llu segments (%.1f s)",
		    name, np, np > 1 ? "es" : "", (unsigned long long)t.got,
		    max_len, (unsigned long long)st.grows,
		    (unsigned long long)st.shrinks,
		    (unsigned long long)st.segments_peak,
		    (now_ns() - t0) / 1e9))
		tap_diag("  got %llu of %llu, bad %llu",
			 (unsigned long long)t.got,
			 (unsigned long long)(per * np),
			 (unsigned long long)t.bad);
	ms = wait_rest(c, c, first.bytes, &rest);
	tap_ok(ms >= 0, "%s: at rest, back to %llu bytes (as created) and 1 live segment in %d ms",
	       name, (unsigned long long)rest.bytes, ms);
	lfq_close(c);
	lfq_unlink(XPROC_NAME);
}

/* ====================================================================== */
/* 5. Hostile memory. */

#define H_NAME		"t-elrec-hostile"
#define H_SEGS		16u
#define H_NS		3000000000ll

/* What the forgers share with the consumer. */
struct h_shared {
	int stop;
	uint64_t prod_writes, tail_writes, grows, resv, sigbus;
};

static struct h_shared *hsh;
static uint64_t rng = 0x243f6a8885a308d3ull;
static sigjmp_buf h_jb;
static volatile sig_atomic_t h_armed;
static volatile sig_atomic_t h_signals;

static uint64_t rnd(void)
{
	return mix64(rng += 0x9e3779b97f4a7c15ull);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* SIGBUS (a frame retired under a forger) or, in the consumer, any fault. */
static void h_on_signal(int sig)
{
	if (h_armed) {
		h_armed = 0;
		h_signals++;
		siglongjmp(h_jb, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

struct hmap {
	struct lfq_info in;
	unsigned char *base;
	const struct lfq_seg_meta *meta;
	struct lfq_seg_word *heads, *tails;
	struct lfq_prod_ctl *prod;
};

/* Map @fd's queue read-only; then @parts (offset, size pairs) writable. */
static int h_map(int fd, struct hmap *m, const uint64_t (*parts)[2], int n)
{
	int i;

	m->base = mmap_queue(fd, &m->in, PROT_READ);
	if (!m->base || m->in.size < LFQ_INFO_SIZE_VER3)
		return -1;
	for (i = 0; i < n; i++)
		if (parts[i][1] &&
		    mmap(m->base + parts[i][0], parts[i][1],
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)parts[i][0]) == MAP_FAILED)
			return -1;
	m->meta = (const void *)(m->base + m->in.segtab_offset +
				 sizeof(struct lfq_segtab));
	m->heads = (void *)(m->base + m->in.heads_offset);
	m->tails = (void *)(m->base + m->in.tails_offset);
	m->prod = (void *)(m->base + m->in.prod_offset);
	return 0;
}

/* The record header word at byte index @pos of frame @f. */
static volatile uint64_t *h_word(const struct hmap *m, uint32_t f,
				 uint64_t pos)
{
	return (volatile uint64_t *)(m->base + m->in.frames_offset +
				     (uint64_t)f * m->in.frame_size +
				     m->in.commit_size + ((pos & ~7ull) % SEG));
}

static uint64_t h_lap(uint64_t pos)
{
	return (pos >> SEG_ORDER) << LAP_SHIFT;
}

/* A head or tail value around head @h, tail @t, base @b. */
static uint64_t h_value(uint64_t h, uint64_t t, uint64_t b)
{
	switch (below(16)) {
	case 0:
		return 0;
	case 1:
		return ~0ull;
	case 2:
		return h | LFQ_SEG_SEALED;
	case 3:
		return h & ~LFQ_SEG_SEALED;
	case 4:
		return (h & ~LFQ_SEG_SEALED) + 8;
	case 5:
		return (h & ~LFQ_SEG_SEALED) - 8;
	case 6:
		return (h & ~LFQ_SEG_SEALED) + 1;	/* unaligned */
	case 7:
		return t + SEG;				/* full */
	case 8:
		return t + SEG + 8;
	case 9:
		return t - 8;
	case 10:
		return b;
	case 11:
		return b + SEG;
	case 12:
		return (b + 8 * below(SEG / 8)) |
		       (below(2) ? LFQ_SEG_SEALED : 0);
	case 13:
		return h;
	default:
		return rnd();
	}
}

/* A forged record header for byte index @pos. */
static uint64_t h_header(uint64_t pos)
{
	switch (below(9)) {
	case 0:
		return 0x3fffffffull | h_lap(pos);	/* huge */
	case 1:
		return (max_len + 8) | h_lap(pos);	/* just past */
	case 2:
		return max_len | h_lap(pos);		/* garbage, valid */
	case 3:
		return REC_DISCARD | 0x3fffffffull | h_lap(pos);
	case 4:
		return REC_DISCARD | (1 + below(max_len)) | h_lap(pos);
	case 5:
		return 0;
	case 6:
		return 16 | h_lap(pos + SEG);		/* next lap */
	case 7:
		return 0x40000000ull | 64 | h_lap(pos);	/* RELEASED */
	default:
		return rnd();
	}
}

/* The forging producer: its own file, producer role. */
static void h_producer(void)
{
	uint64_t parts[3][2];
	struct hmap m;
	struct lfq *p;
	int64_t t0;
	void *pl;

	rng ^= 0x1234;
	if (open_named(H_NAME, LFQ_ROLE_PRODUCER, &p))
		_exit(2);
	if (mmap_queue(lfq_fd(p), &m.in, PROT_READ) == NULL)
		_exit(3);
	parts[0][0] = m.in.prod_offset;
	parts[0][1] = PG;
	parts[1][0] = m.in.heads_offset;
	parts[1][1] = m.in.tails_offset - m.in.heads_offset;
	parts[2][0] = m.in.frames_offset;
	parts[2][1] = m.in.map_size - m.in.frames_offset;
	if (h_map(lfq_fd(p), &m, parts, 3))
		_exit(4);
	signal(SIGBUS, h_on_signal);
	t0 = now_ns();
	while (!__atomic_load_n(&hsh->stop, __ATOMIC_RELAXED) &&
	       now_ns() - t0 < 2 * H_NS) {
		uint32_t f = below(H_SEGS), k, i;
		uint64_t h, t, b, pos;

		if (sigsetjmp(h_jb, 1)) {
			__atomic_fetch_add(&hsh->sigbus, 1, __ATOMIC_RELAXED);
			continue;
		}
		h_armed = 1;
		for (k = 0; k < 64; k++) {
			f = below(H_SEGS);
			h = m.heads[f].v;
			t = m.tails[f].v;
			b = m.meta[f].base;
			switch (below(8)) {
			case 0: case 1:
				m.heads[f].v = h_value(h, t, b);
				break;
			case 2: case 3: case 4:
				/* A header where a record goes or is read. */
				pos = below(2) ? h & ~LFQ_SEG_SEALED : t;
				*h_word(&m, f, pos) = h_header(pos);
				break;
			case 5:
				pos = b + 8 * below(SEG / 8);
				*h_word(&m, f, pos) = below(2) ? h_header(pos) :
							       rnd();
				break;
			case 6:
				i = below(LFQ_MPSC_CLAIMS);
				m.prod->claims[i].start =
					below(2) ? ((t + 8 * below(64)) |
						    below(4)) : rnd();
				m.prod->claims[i].end =
					below(2) ? t + 8 * below(600) : rnd();
				break;
			default:
				pos = 8 * below((uint32_t)((m.in.map_size -
					m.in.frames_offset) / 8));
				*(volatile uint64_t *)(m.base +
					m.in.frames_offset + pos) = rnd();
			}
			__atomic_fetch_add(&hsh->prod_writes, 1,
					   __ATOMIC_RELAXED);
		}
		h_armed = 0;
		if (!below(8))
			usleep(500);	/* honest traffic flows meanwhile */
		if (!below(4)) {
			ioctl(lfq_fd(p), LFQ_IOC_GROW,
			      (unsigned long)below(H_SEGS + 2));
			__atomic_fetch_add(&hsh->grows, 1, __ATOMIC_RELAXED);
		}
		if (!below(4)) {
			/* Through liblfq too: it reads what was forged. */
			h_armed = 1;
			if (!lfq_record_reserve(p, 1 + below(max_len), &pl)) {
				memset(pl, 0xcc, 8);
				if (below(2))
					lfq_record_commit(p);
			}
			h_armed = 0;
			__atomic_fetch_add(&hsh->resv, 1, __ATOMIC_RELAXED);
		}
	}
	_exit(0);
}

/* The consumer's child: forges the tail words through its inherited map. */
static void h_tails(const struct hmap *m)
{
	rng ^= 0x5678;
	while (!__atomic_load_n(&hsh->stop, __ATOMIC_RELAXED)) {
		uint32_t f = below(H_SEGS), k;

		for (k = 0; k < 64; k++) {
			f = below(H_SEGS);
			m->tails[f].v = h_value(m->heads[f].v, m->tails[f].v,
						m->meta[f].base);
		}
		__atomic_fetch_add(&hsh->tail_writes, 64, __ATOMIC_RELAXED);
		usleep(200);
	}
	_exit(0);
}

/* An honest producer thread in the consumer's process. */
struct h_honest {
	struct lfq *p;
	int stop;
	uint64_t pushed, refused;
};

static void *h_honest_thread(void *arg)
{
	struct h_honest *h = arg;
	static unsigned char buf[SEG];
	uint64_t seq = 0;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		uint32_t len = rp_len(0, seq, max_len);

		rp_fill(buf, len, 0, seq);
		if (!lfq_push(h->p, buf, len)) {
			h->pushed++;
			seq++;
		} else {
			h->refused++;
			usleep(100);
		}
	}
	return NULL;
}

/* What the consumer's calls returned. */
struct h_calls {
	uint64_t calls, records, empty, errors;
	uint64_t over;		/* records longer than the limit: a bug */
	int last_err;
};

static void h_note(struct h_calls *r, int got)
{
	r->calls++;
	if (got > 0)
		r->records += (uint64_t)got;
	else if (got == -EAGAIN || got == 0)
		r->empty++;
	else {
		r->errors++;
		r->last_err = got;
	}
}

static int h_count(void *ctx, const void *p, uint32_t len)
{
	struct h_calls *r = ctx;

	(void)p;
	r->over += len > max_len;
	return len > max_len;
}

/* Consume whatever comes for @ns: peeks, runs and pops, guarded. */
static void h_consume(struct lfq *c, int64_t ns, struct h_calls *r)
{
	static unsigned char buf[SEG];
	int64_t t0 = now_ns();
	volatile uint64_t k = 0;
	const void *pl;

	while (now_ns() - t0 < ns) {
		int got;

		if (sigsetjmp(h_jb, 1))
			continue;	/* counted in h_signals: a failure */
		h_armed = 1;
		switch (k++ % 3) {
		case 0:
			got = lfq_record_peek(c, &pl);
			if (got > 0 && (uint32_t)got > max_len)
				r->over++;
			if (got > 0)
				lfq_record_release(c);
			h_note(r, got > 0 ? 1 : got);
			break;
		case 1:
			got = lfq_record_consume(c, 1 + (uint32_t)(k % 16),
						 h_count, r);
			h_note(r, got);
			break;
		default:
			got = lfq_pop(c, buf, sizeof(buf));
			if (got > 0 && (uint32_t)got > max_len)
				r->over++;
			h_note(r, got > 0 ? 1 : got);
		}
		h_armed = 0;
		if (got <= 0)
			lfq_wait_data(c, 1, 1000000);
	}
}

static int h_sane(const struct lfq_stats *st)
{
	return st->segments >= 1 && st->segments <= H_SEGS &&
	       st->segments_peak <= H_SEGS && st->pool <= H_SEGS &&
	       st->bytes <= 64 * PG + H_SEGS * 2 * (uint64_t)SEG;
}

static void test_hostile(void)
{
	struct lfq *c = NULL, *hp = NULL;
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 2, .hardirq_timers = 1,
				.count = 1ull << 40, .thread_period_ns = 20000,
				.timer_period_ns = 50000 };
	struct h_honest honest = { 0 };
	struct h_calls r = { 0 }, after = { 0 };
	struct lfq_stats st0, st1, st2;
	struct hmap cm;
	uint64_t parts[1][2];
	pthread_t th;
	pid_t forger, tailer;
	void *w;
	int id, roles_ok, err, insane = 0;
	int64_t t0;

	hsh = mmap(NULL, sizeof(*hsh), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (hsh == MAP_FAILED ||
	    make_named(H_NAME, LFQ_TYPE_MPSC, 2, H_SEGS, LFQ_ROLE_CONSUMER,
		       &c) ||
	    open_named(H_NAME, LFQ_ROLE_PRODUCER, &hp)) {
		tap_ok(0, "create " H_NAME);
		exit(1);
	}
	/* The roles, for record frames: the consumer writes them, the
	 * producer never the tails; nobody the segment table. */
	cm.in = (struct lfq_info){ .size = sizeof(cm.in) };
	if (ioctl(lfq_fd(c), LFQ_IOC_INFO, &cm.in))
		exit(1);
	parts[0][0] = cm.in.tails_offset;
	parts[0][1] = cm.in.frames_offset - cm.in.tails_offset;
	roles_ok = !h_map(lfq_fd(c), &cm, parts, 1);
	w = mmap(NULL, cm.in.frame_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 lfq_fd(c), (off_t)cm.in.frames_offset);
	roles_ok &= w != MAP_FAILED;
	if (w != MAP_FAILED)
		munmap(w, cm.in.frame_size);
	w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, lfq_fd(hp),
		 (off_t)cm.in.tails_offset);
	roles_ok &= w == MAP_FAILED && errno == EPERM;
	if (w != MAP_FAILED)
		munmap(w, PG);
	w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, lfq_fd(hp),
		 (off_t)cm.in.segtab_offset);
	roles_ok &= w == MAP_FAILED && errno == EPERM;
	if (w != MAP_FAILED)
		munmap(w, PG);
	tap_ok(roles_ok && cm.in.commit_size == 0 &&
	       cm.in.frame_size == 2 * SEG,
	       "an elastic record queue's mapping: frames of its %u bytes twice, no commit words; its consumer may map the frames and tail words writable; a producer neither the tail words nor the segment table (EPERM)",
	       SEG);

	id = lfq_source_attach(hp, &s);
	honest.p = hp;
	st0 = stats_of(c);
	fflush(stdout);
	forger = fork();
	if (!forger)
		h_producer();
	tailer = fork();
	if (!tailer)
		h_tails(&cm);
	pthread_create(&th, NULL, h_honest_thread, &honest);
	signal(SIGBUS, h_on_signal);
	signal(SIGSEGV, h_on_signal);
	t0 = now_ns();
	while (now_ns() - t0 < H_NS) {
		h_consume(c, 100000000, &r);
		st1 = stats_of(c);
		insane += !h_sane(&st1);
	}
	__atomic_store_n(&hsh->stop, 1, __ATOMIC_RELAXED);
	child_status(tailer);
	/* Killed, whatever it was doing: its forged claims are walked. */
	kill(forger, SIGKILL);
	child_status(forger);
	__atomic_store_n(&honest.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	if (!tap_ok(!h_signals && !r.over && id >= 0 &&
		    hsh->prod_writes > 10000 &&
		    hsh->tail_writes > 1000,
		    "%.1f s of forgery: %llu writes by a producer process (head words, record headers, claims, frames), %llu by the consumer's child (tail words), %llu GROWs of any frame, %llu reservations through liblfq among them (%llu SIGBUS in the forger); SYNTH and an honest producer (%llu pushed, %llu refused) beside; the consumer's %llu calls returned %llu records (%llu over the limit), %llu empty, %llu errors (last %s), no signal (%d)",
		    (now_ns() - t0) / 1e9,
		    (unsigned long long)hsh->prod_writes,
		    (unsigned long long)hsh->tail_writes,
		    (unsigned long long)hsh->grows,
		    (unsigned long long)hsh->resv,
		    (unsigned long long)hsh->sigbus,
		    (unsigned long long)honest.pushed,
		    (unsigned long long)honest.refused,
		    (unsigned long long)r.calls,
		    (unsigned long long)r.records,
		    (unsigned long long)r.over,
		    (unsigned long long)r.empty,
		    (unsigned long long)r.errors, ename(-r.last_err),
		    (int)h_signals))
		tap_diag("  SYNTH attach: %s", id < 0 ? ename(-id) : "ok");
	/* After the forgers: the queue answers, the kernel's counts hold. */
	h_consume(c, 300000000, &after);
	err = id >= 0 ? lfq_source_detach(hp, id) : id;
	st1 = stats_of(c);
	msleep(200);
	st2 = stats_of(c);
	if (!tap_ok(!insane && h_sane(&st1) && h_sane(&st2) && !err &&
		    !h_signals && !after.over && after.calls > 0 &&
		    st2.dropped == st1.dropped && st2.grows == st1.grows &&
		    st2.orphaned == st1.orphaned && st1.grows >= st0.grows,
		    "afterwards (the forger killed, its forged claims walked): the consumer's %llu calls return (%llu records, %llu errors), SYNTH detaches, segments %llu, peak %llu, pool %llu within seg_max %u throughout; nothing moves once detached (dropped %llu, orphaned %llu, grows %llu)",
		    (unsigned long long)after.calls,
		    (unsigned long long)after.records,
		    (unsigned long long)after.errors,
		    (unsigned long long)st2.segments,
		    (unsigned long long)st2.segments_peak,
		    (unsigned long long)st2.pool, H_SEGS,
		    (unsigned long long)st2.dropped,
		    (unsigned long long)st2.orphaned,
		    (unsigned long long)st2.grows))
		tap_diag("  insane samples %d, detach %s", insane, ename(-err));
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	munmap(cm.base, cm.in.map_size);
	lfq_close(hp);
	lfq_close(c);
	lfq_unlink(H_NAME);
	munmap(hsh, sizeof(*hsh));
}

/*
 * A fresh elastic record queue after all that: SYNTH's records arrive in
 * order through several segments; a record made while the pool was empty
 * (the refill work late) is a counted drop, so the account is exact: the
 * gaps are the drops, what arrived and what was dropped make the count.
 */
static void test_fresh(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = SEG,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC,
		 .seg_min = 2, .seg_max = 64);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 1, .count = 3000,
				.thread_period_ns = 20000 };
	struct synth_tally t = { 0 };
	struct lfq_stats st;
	struct lfq *q = NULL;
	int64_t end = now_ns() + 30000000000ll;
	uint64_t gaps;
	int id, n;

	if (lfq_create(&o, &q)) {
		tap_ok(0, "a fresh elastic record queue");
		return;
	}
	id = lfq_source_attach(q, &s);
	/* Three segments' worth first: the queue grows. */
	while (id >= 0 && !lfq_get_stats(q, &st) && st.produced < 3 * SEG &&
	       now_ns() < end)
		msleep(1);
	while (id >= 0 && now_ns() < end) {
		n = lfq_record_consume(q, 64, synth_rec, &t);
		lfq_get_stats(q, &st);
		if (n <= 0 && t.got + st.dropped >= s.count)
			break;
		if (n <= 0)
			lfq_wait_data(q, 1, 10000000);
	}
	st = stats_of(q);
	if (id >= 0)
		lfq_source_detach(q, id);
	gaps = s.count - t.got;
	if (!tap_ok(id >= 0 && !t.bad && !t.order && gaps == st.dropped &&
		    st.grows >= 2 && st.segments_peak < o.seg_max &&
		    t.got >= s.count / 2,
		    "a fresh elastic record queue: SYNTH's %llu records of %zu bytes arrive in order through its segments (%llu grows, peak %llu), %llu missing = %llu dropped (empty pool)",
		    (unsigned long long)t.got, sizeof(struct lfq_event_synth),
		    (unsigned long long)st.grows,
		    (unsigned long long)st.segments_peak,
		    (unsigned long long)gaps, (unsigned long long)st.dropped))
		tap_diag("  attach %s, bad %llu, order %llu",
			 id < 0 ? ename(-id) : "ok", (unsigned long long)t.bad,
			 (unsigned long long)t.order);
	lfq_close(q);
}

int main(void)
{
	int i;

	max_len = LFQ_REC_MAX_LEN(SEG);
	tap_plan(4 + 1 + 4 + 1 + 4 + 3 + 1 + 1);
	test_syscall_data();
	test_syscall_ends();
	test_killed_holders();
	test_storm();
	test_xproc(LFQ_TYPE_SPSC, 1);
	test_xproc(LFQ_TYPE_MPSC, 2);
	test_hostile();
	test_fresh();
	for (i = 0; i < 50 && lfq_module_refcnt() > 0; i++)
		msleep(100);
	tap_ok(lfq_module_refcnt() == 0,
	       "every module reference gone with the files and mappings (refcnt %d)",
	       lfq_module_refcnt());
	return tap_done();
}
