// SPDX-License-Identifier: GPL-2.0
/*
 * mpmc_torn.c - hostile consumers cannot make the kernel corrupt another
 * consumer's records. On an MPMC queue a consumer-role file can write the
 * per-slot release words: a hostile consumer that forges the release word
 * of a slot another consumer still holds lets a producer of the next lap
 * into it while that consumer reads it. The producers mark a slot's
 * commit word before they write it (lfq_mpsc_mark()), and consumers check
 * it again before they release (lfq_mpmc_torn()): liblfq's lfq_release()
 * answers -ESTALE, the kernel's consumers discard their copy, and
 * lfq_stats.torn counts them. Never is a torn record taken for a record.
 *
 *   1. Kernel producers, process consumers: a SYNTH source (kernel
 *	threads, a hardirq and a softirq timer) produces into a named MPMC
 *	ring of 128 32-byte slots; two honest consumer processes copy each
 *	span they peek slowly (half of it, a yield and a short spin, the
 *	rest), then release it: on -ESTALE they drop the copy, else every
 *	record of it must be a whole SYNTH record (type, size, producer,
 *	its context, seq in range and increasing per producer within the
 *	consumer) and none may be kept twice. A hostile consumer process
 *	maps the ring read-only but for its consumer page and the release
 *	words, and releases every claimed slot as soon as it sees the claim
 *	index pass it; now and then it parks the claim index far from any
 *	committed slot (and puts it back), and writes garbage into the
 *	claim records. The producers run to their count (produced + dropped
 *	== total); every index produced is kept or dropped by the honest
 *	consumers, once; lfq_stats.torn is at least the -ESTALE answers and
 *	at most the records dropped with their spans.
 *   2. A process producer, kernel and process consumers: a producer
 *	process pushes self-checking records (seq, a check word and filler
 *	from the seq) into a named MPMC ring of 16 256-byte slots consumed
 *	by two LFQ_SOURCE_ECHO kernel consumers (each copying the records
 *	it takes into an MPSC queue this program reads) and by a slow
 *	honest consumer process, against the same forger. Every record that
 *	arrives, through the kernel or the process, is whole, none twice;
 *	what never arrives is among those dropped with a span, the torn
 *	and the target's drops. The ECHO's copies of torn slots land in the
 *	target as discarded slots, which its reader skips: they are counted
 *	from the target's head (at most lfq_stats.torn).
 *
 * Whether tears happen is timing: the counts are printed, and with -r
 * (require) each part must see some (lfq_stats.torn > 0; those of the
 * kernel consumers are rarer, and only printed). Part 1 runs again, up to
 * PART1_TRIES times in all, while a run passes every other check but saw
 * no tear (a stock-kernel CI run once saw none in 198282 records). The VM
 * runner fails the run on any kernel splat: the forgery must never make
 * the kernel touch memory outside the ring.
 *
 *   mpmc_torn [-n PER_PRODUCER] [-N RECORDS] [-r]
 *	-n	part 1: records per SYNTH producer (4 of them; default 50000)
 *	-N	part 2: records the producer process pushes (default 500000)
 *
 * Runs in the test VM as root with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "sources_util.h"
#include "tap.h"
#include "test_util.h"

#define NAME		"t-mpmctorn"
#define SLOT		32u	/* part 1: a SYNTH record, 128 slots */
#define SLOTS		128u	/* 4096 bytes of slots: the smallest ring */
#define SLOT2		256u	/* part 2: longer copies, 16 slots */
#define SLOTS2		16u
#define THREADS		2
#define TIMERS		1	/* hardirq, and as many softirq */
#define PRODUCERS	(THREADS + 2 * TIMERS)
#define PART1_TRIES	3	/* -r: runs of part 1 that may see no tear */
#define HONEST		2	/* honest consumer processes (part 1) */
#define ECHOES		2	/* ECHO kernel consumers (part 2) */
#define BAD_KEEP	4	/* bad records kept for the diagnostics */

/* What the consumers and the forger saw, shared. */
struct tally {
	uint64_t stop;		/* the honest consumers: drain and exit */
	uint64_t stop_forge;	/* the forger: put the index back and exit */
	uint64_t kept;		/* records kept (released with 0) */
	uint64_t dropped;	/* records of spans released with -ESTALE */
	uint64_t stale;		/* lfq_release() answers -ESTALE */
	uint64_t bad, twice;
	uint64_t forged;	/* release words moved on by the forger */
	uint64_t parked;	/* claim index parked far away, put back */
	uint64_t unpark_failed;	/* ... found moved when put back */
	uint64_t scribbled;	/* claim records overwritten */
	uint64_t rounds;
	uint64_t nbad;
	unsigned char badrec[BAD_KEEP][SLOT];
	uint64_t bits[];	/* a bit per record: seen */
};

static struct tally *tally_new(uint64_t records, size_t *len)
{
	struct tally *t;

	*len = sizeof(*t) + (records + 63) / 64 * 8;
	t = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	return t == MAP_FAILED ? NULL : t;
}

static void add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t seen(const struct tally *t, uint64_t records)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < (records + 63) / 64; i++)
		n += (uint64_t)__builtin_popcountll(t->bits[i]);
	return n;
}

/* A bad record: counted, and the first few kept for the diagnostics. */
static void bad(struct tally *t, const void *rec)
{
	uint64_t k = __atomic_fetch_add(&t->nbad, 1, __ATOMIC_RELAXED);

	add(&t->bad, 1);
	if (k < BAD_KEEP)
		memcpy(t->badrec[k], rec, SLOT);
}

static void bad_diag(const struct tally *t)
{
	for (uint64_t k = 0; k < t->nbad && k < BAD_KEEP; k++) {
		const uint64_t *w = (const void *)t->badrec[k];

		tap_diag("  bad record %llu: %016llx %016llx %016llx %016llx",
			 (unsigned long long)k, (unsigned long long)w[0],
			 (unsigned long long)w[1], (unsigned long long)w[2],
			 (unsigned long long)w[3]);
	}
}

static void mark(struct tally *t, uint64_t bit)
{
	if (bit_seen_twice(t->bits, bit))
		add(&t->twice, 1);
}

/* ------------------------------------------------------------ forger */

/*
 * The hostile consumer: its own consumer-role file on @name, the ring
 * mapped read-only but for its consumer page and the release words.
 * Until told to stop, it releases every claimed slot of the last lap,
 * which honest consumers may hold: release[i] = i + 1 for i in
 * [tail - slot_count, tail), moved forward only. A forger can always
 * stall an MPMC ring (it may claim and never release); this one keeps it
 * going, so that the run measures what it is for. A victim's release
 * that lands after a later lap's (its check of the slot and its store of
 * the release word are two steps: lfq_mpmc_release()) puts the word
 * back, and these stores move it on again. (A torn slot's release is
 * forward-only itself, lfq_mpmc_publish_torn(); tests/host/mpmc_mt.c
 * checks that step by step.) Now and then it parks
 * the claim index far from any committed slot (the consumers then find
 * nothing, producers a full ring) and puts it back, and writes garbage
 * into a claim record.
 */
/*
 * A child dies with the test: killed by its timeout, the test must not
 * leave a forger or a consumer running (and /dev/lfq open) behind it.
 */
static void die_with_parent(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		_exit(2);
}

static void forge(struct tally *t, const char *name)
{
	struct lfq_info in = { .size = sizeof(in) };
	uint64_t *rel, x = 0x686f7374696c65ull, tail, i, r, g;
	struct lfq_cons_ctl *cc;
	struct lfq_mpsc_claim *cl;
	unsigned char *base;
	struct lfq *q = NULL;
	uint32_t mask;
	int fd;

	die_with_parent();
	if (open_named(name, LFQ_ROLE_CONSUMER, &q))
		_exit(2);
	fd = lfq_fd(q);
	if (ioctl(fd, LFQ_IOC_INFO, &in) || in.type != LFQ_TYPE_MPMC)
		_exit(3);
	base = mmap(NULL, in.map_size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		_exit(4);
	cc = mmap(base + in.cons_offset, 4096, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_FIXED, fd, (off_t)in.cons_offset);
	rel = mmap(base + in.commit_offset + in.commit_size, in.commit_size,
		   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		   (off_t)(in.commit_offset + in.commit_size));
	if (cc == MAP_FAILED || rel == MAP_FAILED)
		_exit(5);
	mask = in.slot_count - 1;
	while (!__atomic_load_n(&t->stop_forge, __ATOMIC_RELAXED)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		tail = __atomic_load_n(&cc->tail, __ATOMIC_ACQUIRE);
		for (i = tail - in.slot_count; i != tail; i++) {
			r = __atomic_load_n(&rel[i & mask], __ATOMIC_RELAXED);
			if ((int64_t)(i + 1 - r) > 0 &&
			    __atomic_compare_exchange_n(&rel[i & mask], &r,
							i + 1, 0,
							__ATOMIC_RELEASE,
							__ATOMIC_RELAXED))
				add(&t->forged, 1);
		}
		if (!(++t->rounds % 128)) {
			/* Park the claim index where nothing is committed. */
			g = tail + (x & 1 ? 1ull << 40 : -(1ull << 40)) +
			    (x >> 48);
			if (__atomic_compare_exchange_n(&cc->tail, &tail, g, 0,
							__ATOMIC_ACQ_REL,
							__ATOMIC_RELAXED)) {
				sched_yield();
				if (__atomic_compare_exchange_n(&cc->tail, &g,
						tail, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
					add(&t->parked, 1);
				else
					add(&t->unpark_failed, 1);
			}
		}
		if (!(t->rounds % 16)) {
			/* Near the claim index, or anywhere. */
			cl = &cc->claims[x % LFQ_MPMC_CLAIMS];
			g = x & 2 ? tail - (x >> 8 & 255) : x >> 3;
			__atomic_store_n(&cl->start, g, __ATOMIC_RELAXED);
			__atomic_store_n(&cl->end, g + (x >> 16 & 255),
					 __ATOMIC_RELAXED);
			add(&t->scribbled, 1);
		}
		sched_yield();
	}
	_exit(0);
}

/* ---------------------------------------------------- honest consumer */

/* Spin a little: the time a real consumer might take over a record. */
static void spin(uint32_t n)
{
	for (volatile uint32_t k = 0; k < n; k++)
		;
}

/*
 * An honest consumer process: its own file on @name. Peeks 1 to 8 slots,
 * copies them out half first, yields and spins, copies the rest, and only
 * then releases: -ESTALE drops the copy, else @check takes each record.
 * Exits 0 once told to stop and the ring is empty.
 */
static void honest(struct tally *t, const char *name,
		   void (*check)(struct tally *t, const void *rec, void *arg),
		   void *arg)
{
	unsigned char buf[8 * SLOT2];
	struct lfq *q = NULL;
	uint32_t n = 0, half, size;
	const void *span;
	int got, r;

	die_with_parent();
	if (open_named(name, LFQ_ROLE_CONSUMER, &q))
		_exit(2);
	size = lfq_slot_size(q);
	if (size > SLOT2)
		_exit(2);
	for (;;) {
		n++;
		got = lfq_peek(q, n % 8 + 1, &span);
		if (got == -EAGAIN) {
			if (__atomic_load_n(&t->stop, __ATOMIC_RELAXED))
				_exit(0);
			lfq_wait_data(q, 1, 20 * MS);
			continue;
		}
		if (got < 0 || got > 8)
			_exit(3);
		/*
		 * Half of the bytes, and 8 more: a record is cut inside its
		 * header or payload, not on a boundary between them.
		 */
		half = (uint32_t)got * size / 2 + 8;
		memcpy(buf, span, half);
		sched_yield();
		spin(n % 7 * 200);
		memcpy(buf + half, (const unsigned char *)span + half,
		       (uint32_t)got * size - half);
		r = lfq_release(q, (uint32_t)got);
		if (r == -ESTALE) {
			add(&t->stale, 1);
			add(&t->dropped, (uint64_t)got);
			continue;
		}
		if (r)
			_exit(4);
		for (int i = 0; i < got; i++)
			check(t, buf + (size_t)i * size, arg);
		add(&t->kept, (uint64_t)got);
	}
}

static pid_t spawn_forger(struct tally *t, const char *name)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid)
		forge(t, name);
	return pid;
}

/* ----------------------------------------- part 1: kernel producers */

static uint64_t count1 = 50000;	/* records per SYNTH producer */

static uint32_t context_of(uint32_t producer)
{
	return producer < THREADS ? LFQ_CONTEXT_THREAD :
	       producer < THREADS + TIMERS ? LFQ_CONTEXT_HARDIRQ :
					     LFQ_CONTEXT_SOFTIRQ;
}

/* Each honest consumer's last seq of each producer. */
struct last {
	uint64_t seq[PRODUCERS];
};

static void check_synth(struct tally *t, const void *rec, void *arg)
{
	const struct lfq_event_synth *e = rec;
	struct last *l = arg;
	uint32_t p = e->producer;
	uint64_t s = e->seq;

	if (e->hdr.type != LFQ_EVENT_SYNTH || e->hdr.size != sizeof(*e) ||
	    p >= PRODUCERS || s >= count1 || e->context != context_of(p) ||
	    (l->seq[p] != UINT64_MAX && s <= l->seq[p])) {
		bad(t, rec);
		return;
	}
	l->seq[p] = s;
	mark(t, p * count1 + s);
}

static void honest_synth(struct tally *t)
{
	struct last l;

	for (int p = 0; p < PRODUCERS; p++)
		l.seq[p] = UINT64_MAX;
	honest(t, NAME, check_synth, &l);
}

/*
 * Part 1, once. With @require, a run that saw no tear but passed every
 * other check returns 1 (the caller runs it again) unless it is the
 * @last try; otherwise it reports its TAP line and returns 0.
 */
static int kernel_producers(int require, int last)
{
	LFQ_OPTS(lfq_create_opts, c, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = SLOTS, .backend = LFQ_BACKEND_KERNEL,
		 .name = NAME, .mode = 0600, .role = LFQ_ROLE_PRODUCER);
	struct lfq_source src = synth(THREADS, TIMERS, TIMERS, count1, 20000);
	uint64_t total = PRODUCERS * count1, got;
	struct lfq_stats st = { .size = sizeof(st) };
	pid_t pid[HONEST], bad_pid;
	int64_t t0 = now_ns(), t1;
	struct tally *t;
	struct lfq *q;
	int id, i, rc = 0, again = 0, ok;
	size_t len;

	src.thread_period_ns = 10000;
	lfq_unlink(NAME);
	t = tally_new(total, &len);
	if (!t || lfq_create(&c, &q)) {
		tap_ok(0, "create the MPMC queue");
		return 0;
	}
	for (i = 0; i < HONEST; i++) {
		fflush(stdout);
		pid[i] = fork();
		if (!pid[i])
			honest_synth(t);
	}
	bad_pid = spawn_forger(t, NAME);
	id = lfq_source_attach(q, &src);
	if (id < 0) {
		tap_diag("attach the SYNTH source: %d (%s)", id, ename(-id));
		rc = -1;
	}
	/* Until every producer ran to its count. */
	while (id >= 0 && now_ns() - t0 < 100 * SEC) {
		usleep(20000);
		get_stats(q, &st);
		if (st.produced + st.dropped == total)
			break;
	}
	/*
	 * Detached, no producer is left between a reservation and its
	 * commit (produced counts reservations); then everything reserved
	 * is claimed before the consumers are told to stop.
	 */
	if (id >= 0 && lfq_source_detach(q, id))
		rc = -1;
	id = -1;
	t1 = now_ns();
	do {
		usleep(2000);
		get_stats(q, &st);
	} while (st.consumed != st.produced && now_ns() - t1 < 20 * SEC);
	__atomic_store_n(&t->stop_forge, 1, __ATOMIC_RELAXED);
	if (child_ok(bad_pid))
		rc = -1;
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < HONEST; i++)
		if (child_ok(pid[i]))
			rc = -1;
	get_stats(q, &st);
	got = seen(t, total);
	tap_diag("part 1: forger: %llu rounds, %llu release words forged, claim index parked %llu times (%llu found moved), %llu claim records scribbled",
		 (unsigned long long)t->rounds, (unsigned long long)t->forged,
		 (unsigned long long)t->parked,
		 (unsigned long long)t->unpark_failed,
		 (unsigned long long)t->scribbled);
	ok = !rc && !t->bad && !t->twice && !t->unpark_failed &&
	     st.produced + st.dropped == total &&
	     t->kept + t->dropped == st.produced && got == t->kept &&
	     st.torn >= t->stale && st.torn <= t->dropped;
	if (ok && require && !st.torn && !last) {
		/* Whether a tear happens is timing: try again. */
		tap_diag("part 1: no tear in this run (%llu records kept, %llu dropped on a full ring): again",
			 (unsigned long long)t->kept,
			 (unsigned long long)st.dropped);
		again = 1;
	} else if (!tap_ok(ok && (!require || st.torn > 0),
		    "kernel producers (%d: threads, hardirq, softirq) x %llu records into an MPMC ring of %u %u-byte slots, %d slow honest consumer processes and a forger of release words: torn %llu (%llu -ESTALE releases), %llu records kept, %llu dropped with their span, 0 bad, 0 twice; %llu dropped on a full ring (%.1f s)",
		    PRODUCERS, (unsigned long long)count1, SLOTS, SLOT, HONEST,
		    (unsigned long long)st.torn, (unsigned long long)t->stale,
		    (unsigned long long)t->kept,
		    (unsigned long long)t->dropped,
		    (unsigned long long)st.dropped,
		    (double)(t1 - t0) / 1e9)) {
		tap_diag("  rc %d bad %llu twice %llu produced %llu dropped %llu consumed %llu lost %llu seen %llu",
			 rc, (unsigned long long)t->bad,
			 (unsigned long long)t->twice,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.dropped,
			 (unsigned long long)st.consumed,
			 (unsigned long long)st.lost,
			 (unsigned long long)got);
		bad_diag(t);
	}
	lfq_close(q);
	lfq_unlink(NAME);
	munmap(t, len);
	return again;
}

/* ------------------------------------ part 2: a process producer, ECHO */

static uint64_t count2 = 500000;	/* records of the producer process */

/* One record: its seq, a check word and filler, all from the seq. */
struct trec {
	uint64_t seq;
	uint64_t check;
	uint64_t fill[SLOT2 / 8 - 2];
};

_Static_assert(sizeof(struct trec) == SLOT2, "one record per slot");

static void trec_fill(struct trec *r, uint64_t seq)
{
	r->seq = seq;
	r->check = ~mix64(seq ^ 0x746f726eull);
	for (uint32_t i = 0; i < SLOT2 / 8 - 2; i++)
		r->fill[i] = mix64(seq * (SLOT2 / 8) + i);
}

static void check_trec(struct tally *t, const void *rec, void *arg)
{
	const struct trec *r = rec;
	struct trec want;

	(void)arg;
	trec_fill(&want, r->seq);
	if (r->seq >= count2 || memcmp(r, &want, sizeof(want)))
		bad(t, rec);
	else
		mark(t, r->seq);
}

/* The producer process: records 0..count2 - 1, waiting when full. */
static void produce(void)
{
	struct lfq *q = NULL;
	uint64_t s = 0;
	uint32_t full = 0;
	void *span;
	int got;

	die_with_parent();
	if (open_named(NAME, LFQ_ROLE_PRODUCER, &q))
		_exit(2);
	while (s < count2) {
		/* Up to a ring's worth: the consumers claim long runs. */
		got = lfq_reserve(q, count2 - s < SLOTS2 ?
				  (uint32_t)(count2 - s) : SLOTS2, &span);
		if (got == -EAGAIN) {
			/*
			 * Mostly poll: a producer that is running when a
			 * consumer claims is one that can lap into the slots
			 * claimed (the forger released them). Now and then
			 * sleep, short (forged releases wake nobody).
			 */
			if (++full % 64)
				sched_yield();
			else
				lfq_wait_space(q, 1, MS);
			continue;
		}
		if (got < 0)
			_exit(3);
		for (int i = 0; i < got; i++)
			trec_fill((struct trec *)span + i, s + (uint64_t)i);
		lfq_commit(q, (uint32_t)got);
		s += (uint64_t)got;
	}
	lfq_close(q);
	_exit(0);
}

/* Read what the ECHO put in @b; how many records. */
static uint64_t drain_b(struct lfq *b, struct tally *t)
{
	const void *span;
	uint64_t n = 0;
	int got;

	while ((got = lfq_peek(b, 64, &span)) > 0) {
		for (int i = 0; i < got; i++)
			check_trec(t, (const unsigned char *)span +
					      (size_t)i * SLOT2, NULL);
		lfq_release(b, (uint32_t)got);
		n += (uint64_t)got;
	}
	return n;
}

static void kernel_consumer(int require)
{
	LFQ_OPTS(lfq_create_opts, c, .type = LFQ_TYPE_MPMC, .slot_size = SLOT2,
		 .slot_count = SLOTS2, .backend = LFQ_BACKEND_KERNEL,
		 .name = NAME, .mode = 0600,
		 .role = LFQ_ROLE_PRODUCER | LFQ_ROLE_CONSUMER);
	struct lfq *a = NULL, *b = mpsc_queue_or_exit(SLOT2, 8192);
	struct lfq_stats sa = { .size = sizeof(sa) };
	struct lfq_stats sb = { .size = sizeof(sb) };
	struct lfq_source e = of_type(LFQ_SOURCE_ECHO);
	pid_t prod, cons, bad_pid;
	uint64_t via_b = 0, got, echo_discards, kept_b;
	int64_t t0 = now_ns(), t1;
	int id[ECHOES], i, rc = 0, status;
	struct tally *t;
	size_t len;

	lfq_unlink(NAME);
	t = tally_new(count2, &len);
	if (!t || lfq_create(&c, &a)) {
		tap_ok(0, "create the MPMC queue");
		return;
	}
	e.target_fd = lfq_fd(b);
	for (i = 0; i < ECHOES; i++) {
		id[i] = lfq_source_attach(a, &e);
		if (id[i] < 0) {
			tap_diag("attach an ECHO source: %d (%s)", id[i],
				 ename(-id[i]));
			rc |= 1;
		}
	}
	fflush(stdout);
	cons = fork();
	if (!cons)
		honest(t, NAME, check_trec, NULL);
	bad_pid = spawn_forger(t, NAME);
	prod = fork();
	if (!prod)
		produce();
	/* The producer done (or the time up), the forger stops. */
	if (prod < 0)
		status = 1;	/* no producer: a failure, nothing to wait for */
	while (prod > 0 && waitpid(prod, &status, WNOHANG) != prod) {
		if (now_ns() - t0 > 100 * SEC) {
			kill(prod, SIGKILL);
			waitpid(prod, &status, 0);
			break;
		}
		got = drain_b(b, t);
		via_b += got;
		if (!got)
			usleep(1000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		tap_diag("  producer wait status 0x%x", status);
		rc |= 2;
	}
	t1 = now_ns();
	__atomic_store_n(&t->stop_forge, 1, __ATOMIC_RELAXED);
	if (child_ok(bad_pid))
		rc |= 4;
	/* All claimed; then the consumer drains what it holds and exits. */
	do {
		via_b += drain_b(b, t);
		usleep(2000);
		get_stats(a, &sa);
	} while (sa.consumed != sa.produced && now_ns() - t1 < 20 * SEC);
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	if (child_ok(cons))
		rc |= 8;
	for (i = 0; i < ECHOES; i++)
		if (id[i] >= 0 && lfq_source_detach(a, id[i]))
			rc |= 16;
	via_b += drain_b(b, t);
	get_stats(a, &sa);
	get_stats(b, &sb);
	got = seen(t, count2);
	kept_b = via_b;
	/* B's head counts every slot the ECHO reserved: kept or discarded. */
	echo_discards = sb.produced - via_b;
	tap_diag("part 2: forger: %llu rounds, %llu release words forged, claim index parked %llu times (%llu found moved), %llu claim records scribbled",
		 (unsigned long long)t->rounds, (unsigned long long)t->forged,
		 (unsigned long long)t->parked,
		 (unsigned long long)t->unpark_failed,
		 (unsigned long long)t->scribbled);
	if (!tap_ok(!rc && !t->bad && !t->twice && !t->unpark_failed &&
		    sa.produced == count2 && got <= count2 &&
		    got == kept_b + t->kept &&
		    got + t->dropped + sa.torn + sb.dropped >= count2 &&
		    echo_discards <= sa.torn && sa.torn >= t->stale &&
		    (!require || sa.torn > 0),
		    "a producer process x %llu records into an MPMC ring of %u %u-byte slots, %d ECHO kernel consumers, a slow honest consumer process and a forger of release words: torn %llu (%llu -ESTALE releases, %llu ECHO copies discarded), %llu records arrived whole (%llu through the kernel, %llu through the process), %llu dropped with their span, %llu dropped on a full target, 0 bad, 0 twice (%.1f s)",
		    (unsigned long long)count2, SLOTS2, SLOT2, ECHOES,
		    (unsigned long long)sa.torn, (unsigned long long)t->stale,
		    (unsigned long long)echo_discards,
		    (unsigned long long)got, (unsigned long long)kept_b,
		    (unsigned long long)t->kept,
		    (unsigned long long)t->dropped,
		    (unsigned long long)sb.dropped,
		    (double)(t1 - t0) / 1e9)) {
		tap_diag("  rc %d bad %llu twice %llu A produced %llu consumed %llu lost %llu; B produced %llu dropped %llu",
			 rc, (unsigned long long)t->bad,
			 (unsigned long long)t->twice,
			 (unsigned long long)sa.produced,
			 (unsigned long long)sa.consumed,
			 (unsigned long long)sa.lost,
			 (unsigned long long)sb.produced,
			 (unsigned long long)sb.dropped);
		bad_diag(t);
	}
	lfq_close(a);
	lfq_close(b);
	lfq_unlink(NAME);
	munmap(t, len);
}

int main(int argc, char **argv)
{
	int opt, tries, require = 0;

	while ((opt = getopt(argc, argv, "n:N:r")) != -1) {
		if (opt == 'n')
			count1 = strtoull(optarg, NULL, 0);
		else if (opt == 'N')
			count2 = strtoull(optarg, NULL, 0);
		else if (opt == 'r')
			require = 1;
		if (opt == '?' || !count1 || !count2 || count1 > 1u << 28 ||
		    count2 > 1u << 30) {
			fprintf(stderr,
				"usage: %s [-n PER_PRODUCER] [-N RECORDS] [-r]\n",
				argv[0]);
			return 2;
		}
	}
	tap_plan(2);
	/* -r: tears must happen in one of PART1_TRIES runs of part 1. */
	for (tries = 1; kernel_producers(require, tries == PART1_TRIES); tries++)
		;
	kernel_consumer(require);
	return tap_done();
}
