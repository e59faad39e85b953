// SPDX-License-Identifier: GPL-2.0
/*
 * sources.c - kernel event sources (LFQ_IOC_SOURCE_ATTACH/DETACH) feeding
 * /dev/lfq MPSC queues, checked record by record:
 *
 *   1. everything at once into one queue: two SYNTH sources (2 kernel
 *      threads flat out; a hardirq and a softirq hrtimer), a PROC source
 *      and 2 userspace producer processes with their own record layout;
 *      every producer's sequence must arrive complete and in order (or,
 *      if the kernel counted drops, with gaps that add up to them), each
 *      record from the context its producer number says, and the forks
 *      and exits of the producer processes as PROC events;
 *   2. exact drop accounting: a 64-slot ring, SYNTH producers flat out
 *      and a consumer that sleeps 1 ms per batch: sequences strictly
 *      increasing, records seen + lfq_stats.dropped == records produced,
 *      and the slow consumer must really have caused drops;
 *   3. detach: LFQ_IOC_SOURCE_DETACH stops a source at once (its records
 *      cease, the others go on), a second detach is ENOENT; a source
 *      survives the close of the fd while a mapping holds the file and
 *      goes with the munmap; closing queues with SYNTH and PROC sources
 *      attached while processes fork leaves no kernel thread behind, and
 *      new sources attach afterwards (the debug kernel run adds KASAN,
 *      lockdep and kmemleak to this);
 *   4. every errno of LFQ_IOC_SOURCE_ATTACH/DETACH (see struct lfq_source
 *      in lfq.h), one TAP line each, EPERM from an unprivileged uid.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "tap.h"
#include "test_util.h"

#define MS		1000000ll
#define SEC		1000000000ll
#define UNPRIV_UID	1001	/* lfqa in the VM's /etc/passwd */

/* The record userspace producers write: distinguishable by its type. */
#define UREC_TYPE	100
struct urec {
	struct lfq_event hdr;
	uint32_t producer;
	uint32_t magic;
	uint64_t seq;
	uint64_t check;
};

#define UREC_MAGIC	0x75726563u

static unsigned int ncpus;

static uint64_t check_word(uint64_t producer, uint64_t seq)
{
	return (producer << 48 | seq) * 0x9e3779b97f4a7c15ull ^ (seq >> 7);
}

/* A SYNTH source (size set). */
static struct lfq_source synth(uint32_t threads, uint32_t hard, uint32_t soft,
			       uint64_t count, uint64_t timer_period_ns)
{
	return (struct lfq_source){
		.size = sizeof(struct lfq_source),
		.type = LFQ_SOURCE_SYNTH,
		.threads = threads,
		.hardirq_timers = hard,
		.softirq_timers = soft,
		.count = count,
		.timer_period_ns = timer_period_ns,
	};
}

static struct lfq_source of_type(uint32_t type)
{
	return (struct lfq_source){ .size = sizeof(struct lfq_source),
				    .type = type };
}

static void get_stats(struct lfq *q, struct lfq_stats *st)
{
	int err = lfq_get_stats(q, st);

	if (err) {
		tap_diag("LFQ_IOC_STATS: %d", err);
		exit(1);
	}
}

/*
 * Per-producer sequence tracking: producers are keyed by (context,
 * number), which stays unique across several SYNTH sources on one queue
 * as long as each context's numbers are disjoint.
 */
struct track {
	uint64_t expect;	/* records the producer makes; 0: none expected */
	uint64_t next;		/* highest seq seen + 1 */
	uint64_t seen;
	uint64_t gaps;		/* seqs skipped (drops) */
	uint64_t bad;		/* repeated, reordered or beyond the count */
	int64_t last_ns;
	uint64_t time_bad;	/* time went backwards within the producer */
};

struct synth_set {
	struct track t[4][LFQ_SYNTH_PRODUCERS_MAX];
	uint64_t stray;		/* (context, producer) not expected, bad size */
	uint64_t hdr_bad;	/* cpu or time out of range */
	int64_t t0;		/* time_ns must not precede this */
};

static void synth_expect(struct synth_set *s, uint32_t context,
			 uint32_t first, uint32_t n, uint64_t count)
{
	uint32_t i;

	for (i = first; i < first + n; i++)
		s->t[context][i].expect = count;
}

/* Account one LFQ_EVENT_SYNTH record. */
static void synth_note(struct synth_set *s, const struct lfq_event_synth *e)
{
	struct track *t;

	if (e->hdr.size != sizeof(*e) || e->context < LFQ_CONTEXT_THREAD ||
	    e->context > LFQ_CONTEXT_SOFTIRQ ||
	    e->producer >= LFQ_SYNTH_PRODUCERS_MAX ||
	    !s->t[e->context][e->producer].expect) {
		if (s->stray++ < 5)
			tap_diag("  stray synth record: size %u producer %u context %u seq %llu",
				 e->hdr.size, e->producer, e->context,
				 (unsigned long long)e->seq);
		return;
	}
	if (e->hdr.cpu >= ncpus || (int64_t)e->hdr.time_ns < s->t0 ||
	    (int64_t)e->hdr.time_ns > now_ns()) {
		if (s->hdr_bad++ < 5)
			tap_diag("  synth header: cpu %u time %llu (t0 %lld)",
				 e->hdr.cpu, (unsigned long long)e->hdr.time_ns,
				 (long long)s->t0);
	}
	t = &s->t[e->context][e->producer];
	if (e->seq < t->next || e->seq >= t->expect) {
		if (t->bad++ < 3)
			tap_diag("  context %u producer %u: seq %llu after %llu (count %llu)",
				 e->context, e->producer,
				 (unsigned long long)e->seq,
				 (unsigned long long)t->next,
				 (unsigned long long)t->expect);
		return;
	}
	if ((int64_t)e->hdr.time_ns < t->last_ns)
		t->time_bad++;
	t->last_ns = (int64_t)e->hdr.time_ns;
	t->gaps += e->seq - t->next;
	t->next = e->seq + 1;
	t->seen++;
}

/* Totals over the producers of @context (0: all contexts). */
struct synth_sum {
	uint64_t expect, seen, gaps, missing, bad, time_bad;
	int complete;	/* every producer's seqs 0..count-1, all seen */
};

static struct synth_sum synth_sum(const struct synth_set *s, uint32_t context)
{
	struct synth_sum r = { .complete = 1 };
	uint32_t c, i;

	for (c = 1; c <= 3; c++) {
		if (context && c != context)
			continue;
		for (i = 0; i < LFQ_SYNTH_PRODUCERS_MAX; i++) {
			const struct track *t = &s->t[c][i];

			if (!t->expect)
				continue;
			r.expect += t->expect;
			r.seen += t->seen;
			r.gaps += t->gaps;
			r.missing += t->expect - t->seen;
			r.bad += t->bad;
			r.time_bad += t->time_bad;
			if (t->seen != t->expect || t->gaps || t->bad)
				r.complete = 0;
		}
	}
	return r;
}

static const char *const ctx_name[] = { "?", "thread", "hardirq", "softirq" };

/*
 * One TAP line for the producers of @context: complete and in order, or,
 * if the queue counted drops, in order with every missing record among
 * the drops.
 */
static void synth_verdict(const struct synth_set *s, uint32_t context,
			  uint64_t dropped, const char *what)
{
	struct synth_sum r = synth_sum(s, context);
	int ok = !r.bad && !r.time_bad &&
		 (r.complete || (dropped && r.missing <= dropped));

	if (!tap_ok(ok, "%s: %llu/%llu records, every %s producer's seqs in order%s",
		    what, (unsigned long long)r.seen,
		    (unsigned long long)r.expect, ctx_name[context],
		    dropped ? " (gaps covered by dropped)" : ", none missing"))
		tap_diag("  seen %llu missing %llu gaps %llu bad %llu time_bad %llu dropped %llu",
			 (unsigned long long)r.seen,
			 (unsigned long long)r.missing,
			 (unsigned long long)r.gaps, (unsigned long long)r.bad,
			 (unsigned long long)r.time_bad,
			 (unsigned long long)dropped);
}

static int reap(pid_t pid)
{
	int status;

	if (pid <= 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/*
 * Kernel threads whose name starts with @prefix (SYNTH names its threads
 * "lfq-synth/QUEUE:N"): how we see that a released source really stopped.
 */
static int count_threads(const char *prefix)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], comm[32];
	int n = 0, fd;
	ssize_t len;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len > 0) {
			comm[len] = 0;
			if (!strncmp(comm, prefix, strlen(prefix)))
				n++;
		}
	}
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ 1 */

#define A_SLOTS		65536u	/* holds every kernel record: no drops */
#define A_SLOT_SIZE	128u
#define A_THREAD_COUNT	20000u
#define A_TIMER_COUNT	2000u
#define A_TIMER_PERIOD	(100 * 1000ull)
#define A_USER_COUNT	20000u
#define A_USERS		2

/* A userspace producer process: its own handle on the queue's file. */
static int user_producer(int fd, int go, uint32_t id)
{
	struct lfq *q;
	uint64_t seq;
	char c;

	if (read(go, &c, 1) != 1)
		return 2;
	if (lfq_attach_fd(fd, &q))
		return 3;
	for (seq = 0; seq < A_USER_COUNT;) {
		uint32_t got;
		struct urec *r = lfq_reserve(q, 1, &got);

		if (!r) {
			if (lfq_wait_space(q, 1, 30 * SEC))
				return 4;
			continue;
		}
		*r = (struct urec){
			.hdr = { .type = UREC_TYPE, .size = sizeof(*r),
				 .time_ns = (uint64_t)now_ns() },
			.producer = id,
			.magic = UREC_MAGIC,
			.seq = seq,
			.check = check_word(id, seq),
		};
		lfq_commit(q, 1);
		seq++;
	}
	lfq_close(q);
	return 0;
}

struct all_state {
	struct synth_set syn;
	uint64_t user_next[A_USERS], user_bad;
	uint64_t foreign;		/* unknown record types */
	pid_t users[A_USERS];
	int fork_seen[A_USERS], fork_bad[A_USERS];
	int exit_seen[A_USERS], exit_status[A_USERS];
	uint64_t proc_events;
};

static void all_note(struct all_state *st, const void *slot)
{
	const struct lfq_event *h = slot;
	const struct urec *u = slot;
	const struct lfq_event_proc *p = slot;
	uint32_t i;

	switch (h->type) {
	case LFQ_EVENT_SYNTH:
		synth_note(&st->syn, slot);
		return;
	case UREC_TYPE:
		if (h->size != sizeof(*u) || u->producer >= A_USERS ||
		    u->magic != UREC_MAGIC ||
		    u->seq != st->user_next[u->producer] ||
		    u->check != check_word(u->producer, u->seq)) {
			if (st->user_bad++ < 5)
				tap_diag("  user record: size %u producer %u seq %llu check %s",
					 h->size, u->producer,
					 (unsigned long long)u->seq,
					 u->producer < A_USERS &&
					 u->check == check_word(u->producer, u->seq) ?
					 "ok" : "BAD");
			return;
		}
		st->user_next[u->producer]++;
		return;
	case LFQ_EVENT_FORK:
	case LFQ_EVENT_EXEC:
	case LFQ_EVENT_EXIT:
		st->proc_events++;
		for (i = 0; i < A_USERS; i++) {
			if (h->type == LFQ_EVENT_FORK &&
			    p->child_pid == (uint32_t)st->users[i]) {
				st->fork_seen[i]++;
				if (p->pid != (uint32_t)getpid() ||
				    p->tgid != (uint32_t)getpid() ||
				    p->child_tgid != (uint32_t)st->users[i])
					st->fork_bad[i]++;
			}
			if (h->type == LFQ_EVENT_EXIT &&
			    p->pid == (uint32_t)st->users[i]) {
				st->exit_seen[i]++;
				st->exit_status[i] = p->exit_code;
			}
		}
		return;
	default:
		if (st->foreign++ < 5)
			tap_diag("  record of unknown type %u size %u", h->type,
				 h->size);
	}
}

/* Consume what is there now; returns the records taken. */
static uint64_t all_drain(struct lfq *q, struct all_state *st)
{
	uint64_t n = 0;
	uint32_t got, i;
	const unsigned char *span;

	while ((span = lfq_peek(q, 256, &got))) {
		for (i = 0; i < got; i++)
			all_note(st, span + (size_t)i * A_SLOT_SIZE);
		lfq_release(q, got);
		n += got;
	}
	return n;
}

static int all_done(struct lfq *q, struct all_state *st)
{
	struct synth_sum r = synth_sum(&st->syn, 0);
	struct lfq_stats s;
	uint32_t i;

	for (i = 0; i < A_USERS; i++)
		if (st->user_next[i] < A_USER_COUNT)
			return 0;
	if (r.seen == r.expect)
		return 1;
	get_stats(q, &s);
	return s.dropped && r.seen + s.dropped >= r.expect;
}

static void test_all_at_once(void)
{
	static struct all_state st;
	struct lfq *q = mpsc_queue_or_exit(A_SLOT_SIZE, A_SLOTS);
	struct lfq_source s_thr = synth(2, 0, 0, A_THREAD_COUNT, 0);
	struct lfq_source s_tmr = synth(0, 1, 1, A_TIMER_COUNT, A_TIMER_PERIOD);
	struct lfq_source s_proc = of_type(LFQ_SOURCE_PROC);
	int fd = lfq_fd(q), go[2], id_proc, id_thr, id_tmr, ok, i;
	int64_t t0, deadline;
	struct lfq_stats s;
	uint64_t total = 0;

	memset(&st, 0, sizeof(st));
	synth_expect(&st.syn, LFQ_CONTEXT_THREAD, 0, 2, A_THREAD_COUNT);
	synth_expect(&st.syn, LFQ_CONTEXT_HARDIRQ, 0, 1, A_TIMER_COUNT);
	synth_expect(&st.syn, LFQ_CONTEXT_SOFTIRQ, 1, 1, A_TIMER_COUNT);
	t0 = now_ns();
	st.syn.t0 = t0;

	/* PROC first: it must see the producers' forks. */
	id_proc = ioc_source_attach(fd, &s_proc);
	if (pipe(go)) {
		tap_diag("pipe: %s", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	for (i = 0; i < A_USERS; i++) {
		st.users[i] = fork();
		if (st.users[i] == 0) {
			close(go[1]);
			_exit(user_producer(fd, go[0], (uint32_t)i));
		}
	}
	close(go[0]);
	id_thr = ioc_source_attach(fd, &s_thr);
	id_tmr = ioc_source_attach(fd, &s_tmr);
	if (write(go[1], "gg", A_USERS) != A_USERS)
		tap_diag("releasing the producers: %s", strerror(errno));
	close(go[1]);
	tap_ok(id_proc >= 0 && id_thr >= 0 && id_tmr >= 0 &&
	       id_proc != id_thr && id_thr != id_tmr && id_proc != id_tmr,
	       "attach PROC, SYNTH (2 threads) and SYNTH (hardirq + softirq timers) to one queue: distinct ids %d %d %d",
	       id_proc, id_thr, id_tmr);

	deadline = now_ns() + 120 * SEC;
	while (!all_done(q, &st) && now_ns() < deadline) {
		uint64_t n = all_drain(q, &st);

		total += n;
		if (!n)
			lfq_wait_data(q, 1, 100 * MS);
	}
	tap_diag("all at once: %llu records in %.2f s",
		 (unsigned long long)total, (now_ns() - t0) / 1e9);
	ok = 1;
	for (i = 0; i < A_USERS; i++) {
		int status = reap(st.users[i]);

		if (status != 0) {
			tap_diag("  user producer %d: wait status 0x%x", i,
				 status);
			ok = 0;
		}
	}
	tap_ok(ok, "both userspace producer processes pushed %u records and exited 0",
	       A_USER_COUNT);
	/* Their exits were recorded before waitpid() returned. */
	total += all_drain(q, &st);
	get_stats(q, &s);
	if (s.dropped)
		tap_diag("the queue counted %llu dropped records",
			 (unsigned long long)s.dropped);
	if (!tap_ok(st.user_next[0] == A_USER_COUNT &&
		    st.user_next[1] == A_USER_COUNT && !st.user_bad,
		    "userspace records (type %d): %u per producer, in order, checksums right",
		    UREC_TYPE, A_USER_COUNT))
		tap_diag("  next %llu %llu bad %llu",
			 (unsigned long long)st.user_next[0],
			 (unsigned long long)st.user_next[1],
			 (unsigned long long)st.user_bad);
	synth_verdict(&st.syn, LFQ_CONTEXT_THREAD, s.dropped,
		      "SYNTH 2 kernel threads x 20000, flat out");
	synth_verdict(&st.syn, LFQ_CONTEXT_HARDIRQ, s.dropped,
		      "SYNTH hardirq hrtimer x 2000 (producer 0)");
	synth_verdict(&st.syn, LFQ_CONTEXT_SOFTIRQ, s.dropped,
		      "SYNTH softirq hrtimer x 2000 (producer 1)");
	if (!tap_ok(!st.syn.stray && !st.syn.hdr_bad && !st.foreign,
		    "every record a known type; synth producer numbers match their context; size, cpu and time_ns right"))
		tap_diag("  stray %llu header %llu foreign %llu",
			 (unsigned long long)st.syn.stray,
			 (unsigned long long)st.syn.hdr_bad,
			 (unsigned long long)st.foreign);
	if (!tap_ok(st.fork_seen[0] == 1 && st.fork_seen[1] == 1 &&
		    !st.fork_bad[0] && !st.fork_bad[1],
		    "PROC: one FORK event per producer process, pid/tgid the parent, child_pid/child_tgid the child"))
		tap_diag("  forks seen %d %d bad %d %d (%llu proc events)",
			 st.fork_seen[0], st.fork_seen[1], st.fork_bad[0],
			 st.fork_bad[1], (unsigned long long)st.proc_events);
	if (!tap_ok(st.exit_seen[0] == 1 && st.exit_seen[1] == 1 &&
		    !st.exit_status[0] && !st.exit_status[1],
		    "PROC: one EXIT event per producer process, status 0"))
		tap_diag("  exits seen %d %d status 0x%x 0x%x",
			 st.exit_seen[0], st.exit_seen[1], st.exit_status[0],
			 st.exit_status[1]);
	lfq_close(q);
}

/* ------------------------------------------------------------------ 2 */

#define B_SLOTS		64u
#define B_SLOT_SIZE	64u
#define B_THREAD_COUNT	50000u
#define B_TIMER_COUNT	5000u

static void test_drop_accounting(void)
{
	static struct synth_set syn;
	struct lfq *q = mpsc_queue_or_exit(B_SLOT_SIZE, B_SLOTS);
	struct lfq_source s_thr = synth(2, 0, 0, B_THREAD_COUNT, 0);
	struct lfq_source s_tmr = synth(0, 1, 0, B_TIMER_COUNT, 100 * 1000);
	const uint64_t total = 2ull * B_THREAD_COUNT + B_TIMER_COUNT;
	int fd = lfq_fd(q), id1, id2;
	uint64_t seen = 0, other = 0, batches = 0;
	int64_t t0 = now_ns(), deadline = t0 + 120 * SEC;
	struct synth_sum r;
	struct lfq_stats s;
	uint32_t got, i;
	const unsigned char *span;

	memset(&syn, 0, sizeof(syn));
	synth_expect(&syn, LFQ_CONTEXT_THREAD, 0, 2, B_THREAD_COUNT);
	synth_expect(&syn, LFQ_CONTEXT_HARDIRQ, 0, 1, B_TIMER_COUNT);
	syn.t0 = t0;
	id1 = ioc_source_attach(fd, &s_thr);
	id2 = ioc_source_attach(fd, &s_tmr);
	tap_ok(id1 >= 0 && id2 >= 0,
	       "64-slot ring: attach SYNTH 2 threads x 50000 flat out and a hardirq timer x 5000 (%d, %d)",
	       id1, id2);
	for (;;) {
		span = lfq_peek(q, B_SLOTS, &got);
		if (span) {
			for (i = 0; i < got; i++) {
				const struct lfq_event *h = (const void *)
					(span + (size_t)i * B_SLOT_SIZE);

				if (h->type == LFQ_EVENT_SYNTH)
					synth_note(&syn, (const void *)h);
				else
					other++;
			}
			lfq_release(q, got);
			seen += got;
			batches++;
		}
		get_stats(q, &s);
		if (seen + s.dropped >= total || now_ns() > deadline)
			break;
		/* The slow consumer: the producers outrun it and drop. */
		msleep(1);
	}
	tap_diag("slow consumer: %llu seen + %llu dropped of %llu in %.2f s, %llu batches",
		 (unsigned long long)seen, (unsigned long long)s.dropped,
		 (unsigned long long)total, (now_ns() - t0) / 1e9,
		 (unsigned long long)batches);
	/* Nothing may trickle in after the accounts balance. */
	msleep(200);
	span = lfq_peek(q, B_SLOTS, &got);
	get_stats(q, &s);
	r = synth_sum(&syn, 0);
	if (!tap_ok(seen + s.dropped == total && !span && !other,
		    "records seen + stats.dropped == records produced, exactly (%llu + %llu == %llu)",
		    (unsigned long long)seen, (unsigned long long)s.dropped,
		    (unsigned long long)total))
		tap_diag("  leftover %u, non-synth %llu", span ? got : 0,
			 (unsigned long long)other);
	if (!tap_ok(!r.bad && !r.time_bad && !syn.stray && !syn.hdr_bad,
		    "every producer's seqs strictly increasing, producers and contexts right"))
		tap_diag("  bad %llu time_bad %llu stray %llu header %llu",
			 (unsigned long long)r.bad,
			 (unsigned long long)r.time_bad,
			 (unsigned long long)syn.stray,
			 (unsigned long long)syn.hdr_bad);
	if (!tap_ok(r.missing == s.dropped && r.seen == seen,
		    "the per-producer gaps add up to stats.dropped (%llu)",
		    (unsigned long long)s.dropped))
		tap_diag("  missing %llu (gaps %llu), seen by producer %llu",
			 (unsigned long long)r.missing,
			 (unsigned long long)r.gaps,
			 (unsigned long long)r.seen);
	tap_ok(s.dropped > 0 && s.dropped < total,
	       "the slow consumer really caused drops (%llu of %llu)",
	       (unsigned long long)s.dropped, (unsigned long long)total);
	tap_ok(s.produced == seen && s.consumed == seen,
	       "stats: produced %llu == consumed %llu == records seen",
	       (unsigned long long)s.produced, (unsigned long long)s.consumed);
	lfq_close(q);
}

/* ------------------------------------------------------------------ 3 */

/* Drain @q; count records per synth context in @per (4 entries). */
static uint64_t drain_count(struct lfq *q, uint64_t *per)
{
	uint32_t size = lfq_slot_size(q), got, i;
	const unsigned char *span;
	uint64_t n = 0;

	while ((span = lfq_peek(q, 64, &got))) {
		for (i = 0; i < got; i++) {
			const struct lfq_event_synth *e = (const void *)
				(span + (size_t)i * size);

			if (per && e->hdr.type == LFQ_EVENT_SYNTH &&
			    e->context <= 3)
				per[e->context]++;
		}
		lfq_release(q, got);
		n += got;
	}
	return n;
}

/* Consume @q for @ms milliseconds. */
static uint64_t consume_for(struct lfq *q, unsigned int ms, uint64_t *per)
{
	int64_t end = now_ns() + ms * MS;
	uint64_t n = 0;

	while (now_ns() < end) {
		n += drain_count(q, per);
		msleep(5);
	}
	return n + drain_count(q, per);
}

static void test_detach(void)
{
	struct lfq *q = mpsc_queue_or_exit(64, 1024);
	struct lfq_source s_thr = synth(1, 0, 0, 0, 0);
	struct lfq_source s_tmr = synth(0, 1, 0, 0, 200 * 1000);
	uint64_t per[4] = { 0 }, n;
	struct lfq_stats s1, s2;
	int fd = lfq_fd(q), a, b, err;

	a = ioc_source_attach(fd, &s_thr);
	b = ioc_source_attach(fd, &s_tmr);
	consume_for(q, 300, per);
	if (!tap_ok(a >= 0 && b >= 0 && per[1] > 0 && per[2] > 0,
		    "unbounded SYNTH thread and hardirq timer produce (%llu, %llu records in 300 ms)",
		    (unsigned long long)per[1], (unsigned long long)per[2]))
		tap_diag("  ids %d %d", a, b);

	err = ioc_source_detach(fd, (unsigned long)a);
	drain_count(q, NULL);
	memset(per, 0, sizeof(per));
	consume_for(q, 300, per);
	if (!tap_ok(!err && per[1] == 0 && per[2] > 0,
		    "after DETACH of the thread source no thread record arrives; the timer source goes on (%llu)",
		    (unsigned long long)per[2]))
		tap_diag("  detach %d (%s), thread records %llu", err,
			 ename(-err), (unsigned long long)per[1]);

	err = ioc_source_detach(fd, (unsigned long)b);
	drain_count(q, NULL);
	get_stats(q, &s1);
	msleep(200);
	n = drain_count(q, NULL);
	get_stats(q, &s2);
	if (!tap_ok(!err && n == 0 && s1.produced == s2.produced &&
		    s1.dropped == s2.dropped,
		    "after DETACH of both and a drain: no record (nor drop) within 200 ms"))
		tap_diag("  detach %d, %llu records, produced %llu -> %llu, dropped %llu -> %llu",
			 err, (unsigned long long)n,
			 (unsigned long long)s1.produced,
			 (unsigned long long)s2.produced,
			 (unsigned long long)s1.dropped,
			 (unsigned long long)s2.dropped);
	expect(-ioc_source_detach(fd, (unsigned long)a), ENOENT,
	       "DETACH of the detached thread source again");
	expect(-ioc_source_detach(fd, (unsigned long)b), ENOENT,
	       "DETACH of the detached timer source again");
	lfq_close(q);
}

/*
 * Sources belong to the file: closing the last fd is not enough while a
 * mapping holds the file; the munmap releases it and stops them.
 */
static void test_release_by_munmap(void)
{
	struct lfq *q = mpsc_queue_or_exit(64, 1024);
	struct lfq_source s = synth(1, 1, 1, 0, 100 * 1000);
	int fd = lfq_fd(q), id, nul, before, during, after;
	uint64_t per[4] = { 0 };

	before = count_threads("lfq-synth");
	id = ioc_source_attach(fd, &s);
	during = count_threads("lfq-synth");
	/* Close the handle's fd behind liblfq's back; keep its mapping. */
	close(fd);
	consume_for(q, 300, per);
	if (!tap_ok(id >= 0 && per[1] > 0 && per[2] > 0 && per[3] > 0,
		    "with the fd closed but the queue mapped, the source keeps producing (%llu/%llu/%llu)",
		    (unsigned long long)per[1], (unsigned long long)per[2],
		    (unsigned long long)per[3]))
		tap_diag("  id %d", id);
	tap_ok(during == before + 1,
	       "the source's kernel thread shows in /proc (lfq-synth*: %d -> %d)",
	       before, during);
	/* Let lfq_close()'s close() hit a harmless fd, not a reused one. */
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul >= 0 && nul != fd) {
		dup2(nul, fd);
		close(nul);
	}
	lfq_close(q);
	after = count_threads("lfq-synth");
	tap_ok(after == before,
	       "munmap released the file: the source's thread is gone (%d left)",
	       after - before);
}

/* A child forking and reaping as fast as it can: PROC probes keep firing. */
static pid_t fork_storm(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid)
		return pid;
	for (;;) {
		pid_t c = fork();

		if (c == 0)
			_exit(0);
		if (c > 0)
			waitpid(c, NULL, 0);
	}
}

#define CLOSE_ROUNDS	12

static void test_close_attached(void)
{
	struct lfq_source s_syn = synth(1, 1, 1, 0, 20 * 1000);
	struct lfq_source s_proc = of_type(LFQ_SOURCE_PROC);
	pid_t storm = fork_storm();
	int round, bad = 0, left, id1, id2;
	uint64_t n, total = 0, per[4] = { 0 };
	struct lfq *q;

	for (round = 0; round < CLOSE_ROUNDS; round++) {
		q = mpsc_queue_or_exit(128, 256);
		id1 = ioc_source_attach(lfq_fd(q), &s_syn);
		id2 = ioc_source_attach(lfq_fd(q), &s_proc);
		if (id1 < 0 || id2 < 0) {
			bad++;
			tap_diag("  round %d: attach %d %d", round, id1, id2);
		}
		/* Alternately close with records unread and after a read. */
		if (round & 1)
			total += consume_for(q, 20, NULL);
		else
			msleep(20);
		lfq_close(q);
	}
	kill(storm, SIGKILL);
	reap(storm);
	left = count_threads("lfq-synth");
	tap_ok(!bad && left == 0,
	       "%d queues closed with unbounded SYNTH (thread + 2 timers) and PROC attached during a fork storm: no thread left (%d)",
	       CLOSE_ROUNDS, left);

	/* The module still attaches and produces afterwards. */
	q = mpsc_queue_or_exit(128, 256);
	s_syn = synth(1, 1, 1, 50, 20 * 1000);
	id1 = ioc_source_attach(lfq_fd(q), &s_syn);
	id2 = ioc_source_attach(lfq_fd(q), &s_proc);
	for (round = 0; round < 400 && per[1] + per[2] + per[3] < 150; round++)
		consume_for(q, 10, per);
	n = per[1] + per[2] + per[3];
	if (!tap_ok(id1 >= 0 && id2 >= 0 && per[1] == 50 && per[2] == 50 &&
		    per[3] == 50,
		    "a new queue after that: SYNTH and PROC attach, 50 records from each synth producer"))
		tap_diag("  ids %d %d, %llu records: %llu/%llu/%llu", id1, id2,
			 (unsigned long long)n,
			 (unsigned long long)per[1], (unsigned long long)per[2],
			 (unsigned long long)per[3]);
	lfq_close(q);
	tap_diag("close rounds consumed %llu records", (unsigned long long)total);
}

/* ------------------------------------------------------------------ 4 */

/* A bound /dev/lfq file (not mapped). */
static int raw_queue(uint32_t type, uint32_t slot_size, uint32_t slot_count)
{
	struct lfq_create c = { .size = sizeof(c), .type = type,
				.slot_size = slot_size,
				.slot_count = slot_count };
	int fd = open_lfq();

	if (ioctl(fd, LFQ_IOC_CREATE, &c)) {
		tap_diag("LFQ_IOC_CREATE %u x %u: %s", slot_count, slot_size,
			 strerror(errno));
		exit(1);
	}
	return fd;
}

/* Attach; expect @want (0: success, then detach again). */
__attribute__((format(printf, 4, 5)))
static void expect_attach(int fd, const struct lfq_source *s, int want,
			  const char *fmt, ...)
{
	char desc[200];
	va_list ap;
	int r = ioc_source_attach(fd, s);

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (r >= 0) {
		if (!tap_ok(!want && r < LFQ_SOURCES_MAX,
			    "%s -> id (0..%d)", desc, LFQ_SOURCES_MAX - 1))
			tap_diag("  got id %d, want %s", r, ename(want));
		ioc_source_detach(fd, (unsigned long)r);
		return;
	}
	expect(-r, want, "%s", desc);
}

/* A larger struct lfq_source: @tail bytes after it, all @fill. */
static void expect_big(int fd, size_t tail, unsigned char fill, int want,
		       const char *desc)
{
	unsigned char buf[sizeof(struct lfq_source) + 64];
	struct lfq_source s = synth(1, 0, 0, 1, 0);

	memset(buf, fill, sizeof(buf));
	s.size = (uint32_t)(sizeof(s) + tail);
	memcpy(buf, &s, sizeof(s));
	expect_attach(fd, (const struct lfq_source *)buf, want, "%s", desc);
}

/* Attach @s as uid UNPRIV_UID (no capabilities) in a child: its errno. */
static int attach_unprivileged(int fd, const struct lfq_source *s,
			       int *stats_err)
{
	int pfd[2], status, res[2] = { -1, -1 };
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct lfq_stats st = { .size = sizeof(st) };

		close(pfd[0]);
		if (setgroups(0, NULL) ||
		    setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
		    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
			_exit(1);
		int r = ioc_source_attach(fd, s);

		res[0] = r < 0 ? -r : 0;
		res[1] = ioctl(fd, LFQ_IOC_STATS, &st) ? errno : 0;
		if (r >= 0)	/* it attached: don't leave it behind */
			ioc_source_detach(fd, (unsigned long)r);
		if (write(pfd[1], res, sizeof(res)) != sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], res, sizeof(res)) != sizeof(res))
		res[0] = -1;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || status)
		res[0] = -1;
	*stats_err = res[1];
	return res[0];
}

static void test_errnos(void)
{
	int m = raw_queue(LFQ_TYPE_MPSC, 128, 64);	/* the main subject */
	int sp = raw_queue(LFQ_TYPE_SPSC, 64, 64);
	int m16 = raw_queue(LFQ_TYPE_MPSC, 16, 256);
	int m72 = raw_queue(LFQ_TYPE_MPSC, 72, 512);
	int m80 = raw_queue(LFQ_TYPE_MPSC, LFQ_EVENT_PROC_SLOT_MIN, 256);
	int tgt = raw_queue(LFQ_TYPE_MPSC, 64, 64);	/* ECHO targets */
	int tgt2 = raw_queue(LFQ_TYPE_MPSC, 128, 64);
	int tgt_sp = raw_queue(LFQ_TYPE_SPSC, 64, 64);
	int tgt32 = raw_queue(LFQ_TYPE_MPSC, 32, 128);
	int unbound = open_lfq(), unbound2 = open_lfq();
	struct lfq_source s, good = synth(1, 0, 0, 1, 0);
	int pfd[2], closed_fd, dupfd, ids[LFQ_SOURCES_MAX + 1], i, distinct,
	    stats_err = -1, r;
	const uint32_t types[] = { LFQ_SOURCE_SYNTH, LFQ_SOURCE_PROC,
				   LFQ_SOURCE_SYSCALL, LFQ_SOURCE_ECHO };
	static const char *const tname[] = { "", "SYNTH", "PROC", "SYSCALL",
					     "ECHO" };
	struct lfq_source priv[4];
	struct lfq *h;
	uint64_t seen[4][LFQ_SYNTH_PRODUCERS_MAX];
	uint32_t got, j;
	const unsigned char *span;
	int numbering_ok, total;

	if (pipe(pfd)) {
		tap_diag("pipe: %s", strerror(errno));
		exit(1);
	}
	closed_fd = open("/dev/null", O_RDONLY);
	close(closed_fd);

	/* Capability: every type refused without CAP_PERFMON/SYS_ADMIN. */
	priv[0] = good;
	priv[1] = of_type(LFQ_SOURCE_PROC);
	priv[2] = of_type(LFQ_SOURCE_SYSCALL);
	priv[2].syscall_nr = __NR_getppid;
	priv[3] = of_type(LFQ_SOURCE_ECHO);
	priv[3].target_fd = tgt;
	for (i = 0; i < 4; i++) {
		int fd = types[i] == LFQ_SOURCE_ECHO ? sp : m;

		r = attach_unprivileged(fd, &priv[i], &stats_err);
		expect(r, EPERM, "%s attach as uid %d (no capabilities)",
		       tname[types[i]], UNPRIV_UID);
		if (i == 0)
			expect(stats_err, 0,
			       "the same unprivileged process can use the queue (LFQ_IOC_STATS)");
	}
	for (i = 0; i < 4; i++) {
		int fd = types[i] == LFQ_SOURCE_ECHO ? sp : m;

		expect_attach(fd, &priv[i], 0,
			      "the same %s attach as root (control)",
			      tname[types[i]]);
	}

	/* Argument size. */
	s = good;
	s.size = 0;
	expect_attach(m, &s, EINVAL, "size 0");
	s.size = LFQ_SOURCE_SIZE_VER0 - 8;
	expect_attach(m, &s, EINVAL, "size LFQ_SOURCE_SIZE_VER0 - 8");
	expect_big(m, 8, 0xff, E2BIG,
		   "size + 8 with non-zero trailing bytes");
	expect_big(m, 64, 0, 0, "size + 64, trailing bytes zero (accepted)");

	/* No queue. */
	expect_attach(unbound, &good, EBADFD, "SYNTH on a file with no queue");
	expect(-ioc_source_detach(unbound, 0), EBADFD,
	       "DETACH on a file with no queue");

	/* Type and flags. */
	s = good;
	s.type = 0;
	expect_attach(m, &s, EINVAL, "type 0");
	s.type = LFQ_SOURCE_ECHO + 1;
	expect_attach(m, &s, EINVAL, "type LFQ_SOURCE_ECHO + 1");
	s.type = 0xffffffffu;
	expect_attach(m, &s, EINVAL, "type 0xffffffff");
	s = good;
	s.flags = 1;
	expect_attach(m, &s, EINVAL, "flags 1");
	s.flags = 0x80000000u;
	expect_attach(m, &s, EINVAL, "flags 0x80000000");

	/* Producer sources need an MPSC queue. */
	expect_attach(sp, &good, EINVAL, "SYNTH on an SPSC queue");
	s = of_type(LFQ_SOURCE_PROC);
	expect_attach(sp, &s, EINVAL, "PROC on an SPSC queue");
	s = priv[2];
	expect_attach(sp, &s, EINVAL, "SYSCALL on an SPSC queue");

	/* SYNTH producers and periods. */
	s = synth(0, 0, 0, 1, 0);
	expect_attach(m, &s, EINVAL, "SYNTH with zero producers");
	s = synth(0, 1, 0, 1, LFQ_SYNTH_TIMER_PERIOD_MIN_NS - 1);
	expect_attach(m, &s, EINVAL, "SYNTH hardirq timer, period MIN - 1 ns");
	s = synth(0, 0, 1, 1, 0);
	expect_attach(m, &s, EINVAL, "SYNTH softirq timer, period 0");
	s = synth(0, 1, 1, 1, LFQ_SYNTH_TIMER_PERIOD_MIN_NS);
	expect_attach(m, &s, 0, "SYNTH timers, period exactly MIN (accepted)");
	s = synth(LFQ_SYNTH_PRODUCERS_MAX + 1, 0, 0, 1, 0);
	expect_attach(m, &s, EINVAL, "SYNTH with MAX + 1 threads");
	s = synth(32, 32, 1, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL, "SYNTH with 32 + 32 + 1 producers");
	s = synth(0x80000000u, 0x80000000u, 0, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL,
		      "SYNTH with 2^31 + 2^31 producers (wraps to 0 in 32 bits)");
	s = synth(0xffffffffu, 0, 1, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL,
		      "SYNTH with 2^32 - 1 + 1 producers (wraps to 0 in 32 bits)");
	s = synth(1, 1, 0, 1, 100 * 1000);
	s.thread_period_ns = 0;
	s.syscall_nr = 1;
	expect_attach(m, &s, EINVAL, "SYNTH with syscall_nr set");
	s.syscall_nr = 0;
	s.target_fd = tgt;
	expect_attach(m, &s, EINVAL, "SYNTH with target_fd set");
	s = synth(0, 1, 0, 1, 100 * 1000);
	s.thread_period_ns = 1000;
	expect_attach(m, &s, EINVAL, "SYNTH with thread_period_ns but no threads");
	s = synth(1, 0, 0, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL, "SYNTH with timer_period_ns but no timers");

	/* PROC, SYSCALL, ECHO: the fields they do not use must be zero. */
	s = of_type(LFQ_SOURCE_PROC);
	s.threads = 1;
	expect_attach(m, &s, EINVAL, "PROC with threads set");
	s = of_type(LFQ_SOURCE_PROC);
	s.count = 1;
	expect_attach(m, &s, EINVAL, "PROC with count set");
	s = of_type(LFQ_SOURCE_PROC);
	s.syscall_nr = __NR_getppid;
	expect_attach(m, &s, EINVAL, "PROC with syscall_nr set");
	s = of_type(LFQ_SOURCE_PROC);
	s.target_fd = tgt;
	expect_attach(m, &s, EINVAL, "PROC with target_fd set");
	s = priv[2];
	s.timer_period_ns = 100000;
	expect_attach(m, &s, EINVAL, "SYSCALL with timer_period_ns set");
	s = priv[2];
	s.target_fd = tgt;
	expect_attach(m, &s, EINVAL, "SYSCALL with target_fd set");
	s = priv[2];
	s.syscall_nr = -1;
	expect_attach(m, &s, EINVAL, "SYSCALL with syscall_nr -1");
	s.syscall_nr = 100000;
	expect_attach(m, &s, ENOENT,
		      "SYSCALL with syscall_nr 100000 (this kernel lacks it)");
	s = good;
	s.__reserved = 1;
	expect_attach(m, &s, EINVAL, "__reserved set");

	/* record_size: SYSCALL only; 8-aligned, >= its record, fits a slot. */
	s = priv[2];
	s.record_size = sizeof(struct lfq_event_syscall) + 4;
	expect_attach(m, &s, EINVAL, "SYSCALL record_size 36 (not a multiple of 8)");
	s.record_size = sizeof(struct lfq_event_syscall) - 8;
	expect_attach(m, &s, EINVAL,
		      "SYSCALL record_size 24 (< sizeof(struct lfq_event_syscall))");
	s.record_size = LFQ_SOURCE_RECORD_SIZE_MAX + 8;
	expect_attach(m, &s, EINVAL,
		      "SYSCALL record_size LFQ_SOURCE_RECORD_SIZE_MAX + 8 (hdr.size is 16 bits)");
	s.record_size = 0xfffffff8u;
	expect_attach(m, &s, EINVAL, "SYSCALL record_size 0xfffffff8");
	s.record_size = 136;
	expect_attach(m, &s, EMSGSIZE, "SYSCALL record_size 136 on 128-byte slots");
	s.record_size = 128;
	expect_attach(m, &s, 0, "SYSCALL record_size 128 on 128-byte slots (accepted)");
	s = good;
	s.record_size = 64;
	expect_attach(m, &s, EINVAL, "SYNTH with record_size set");
	s = of_type(LFQ_SOURCE_PROC);
	s.record_size = 128;
	expect_attach(m, &s, EINVAL, "PROC with record_size set");
	s = priv[3];
	s.record_size = 64;
	expect_attach(sp, &s, EINVAL, "ECHO with record_size set");

	s = priv[3];
	s.threads = 1;
	expect_attach(sp, &s, EINVAL, "ECHO with threads set");
	s = priv[3];
	s.count = 1;
	expect_attach(sp, &s, EINVAL, "ECHO with count set");
	s = priv[3];
	s.syscall_nr = 1;
	expect_attach(sp, &s, EINVAL, "ECHO with syscall_nr set");

	/* Records that do not fit a slot. */
	expect_attach(m16, &good, EMSGSIZE, "SYNTH on 16-byte slots");
	s = priv[2];
	expect_attach(m16, &s, EMSGSIZE, "SYSCALL on 16-byte slots");
	s = of_type(LFQ_SOURCE_PROC);
	expect_attach(m72, &s, EMSGSIZE, "PROC on 72-byte slots (< LFQ_EVENT_PROC_SLOT_MIN)");
	expect_attach(m80, &s, 0, "PROC on LFQ_EVENT_PROC_SLOT_MIN-byte slots (accepted)");

	/* ECHO targets. */
	s = priv[3];
	s.target_fd = -1;
	expect_attach(sp, &s, EBADF, "ECHO with target_fd -1");
	s.target_fd = closed_fd;
	expect_attach(sp, &s, EBADF, "ECHO with a closed target_fd");
	s.target_fd = pfd[0];
	expect_attach(sp, &s, EINVAL, "ECHO into a pipe (not /dev/lfq)");
	s.target_fd = sp;
	expect_attach(sp, &s, EINVAL, "ECHO into its own queue");
	dupfd = dup(sp);
	s.target_fd = dupfd;
	expect_attach(sp, &s, EINVAL, "ECHO into its own queue through a dup()ed fd");
	close(dupfd);
	s.target_fd = unbound2;
	expect_attach(sp, &s, EBADFD, "ECHO into a /dev/lfq file with no queue");
	s.target_fd = tgt_sp;
	expect_attach(sp, &s, EINVAL, "ECHO into an SPSC queue");
	s.target_fd = tgt32;
	expect_attach(sp, &s, EMSGSIZE, "ECHO into 32-byte slots from 64-byte slots");
	s.target_fd = tgt;
	r = ioc_source_attach(sp, &s);
	tap_ok(r >= 0, "ECHO into an MPSC queue of 64-byte slots -> id %d", r);
	s.target_fd = tgt2;
	expect_attach(sp, &s, EBUSY, "a second ECHO on the same queue");
	if (r >= 0)
		ioc_source_detach(sp, (unsigned long)r);
	expect_attach(sp, &s, 0, "ECHO again after the first was detached");
	s.target_fd = tgt2;
	r = ioc_source_attach(tgt, &s);	/* the kernel consumes tgt now */
	s.target_fd = tgt;
	expect_attach(sp, &s, ELOOP,
		      "ECHO into a queue the kernel consumes (another ECHO's source)");
	if (r >= 0)
		ioc_source_detach(tgt, (unsigned long)r);
	expect_attach(sp, &s, 0, "the same ECHO once that one is detached");

	/* DETACH ids. */
	expect(-ioc_source_detach(m, LFQ_SOURCES_MAX), EINVAL,
	       "DETACH id LFQ_SOURCES_MAX");
	expect(-ioc_source_detach(m, (unsigned long)-1), EINVAL,
	       "DETACH id (unsigned long)-1");
	expect(-ioc_source_detach(m, 1ul << 32), EINVAL,
	       "DETACH id 2^32 (not truncated to 0)");
	expect(-ioc_source_detach(m, 5), ENOENT,
	       "DETACH of an id nothing is attached at");

	/*
	 * LFQ_SOURCES_MAX on one queue (after all the refused attaches
	 * above, which must not have used a place up).
	 */
	for (i = 0; i < LFQ_SOURCES_MAX; i++)
		ids[i] = ioc_source_attach(m, &good);
	distinct = 1;
	for (i = 0; i < LFQ_SOURCES_MAX; i++) {
		int k;

		if (ids[i] < 0 || ids[i] >= LFQ_SOURCES_MAX)
			distinct = 0;
		for (k = 0; k < i; k++)
			if (ids[k] == ids[i])
				distinct = 0;
	}
	if (!tap_ok(distinct, "%d sources attach to one queue, ids 0..%d distinct",
		    LFQ_SOURCES_MAX, LFQ_SOURCES_MAX - 1))
		for (i = 0; i < LFQ_SOURCES_MAX; i++)
			tap_diag("  id %d", ids[i]);
	s = of_type(LFQ_SOURCE_PROC);
	expect_attach(m, &s, ENOSPC, "a 9th source (PROC) on the queue");
	expect_attach(m, &good, ENOSPC, "a 9th source (SYNTH) on the queue");
	r = -1;
	if (distinct) {
		ioc_source_detach(m, (unsigned long)ids[3]);
		r = ioc_source_attach(m, &good);
	}
	tap_ok(distinct && r == ids[3],
	       "after one DETACH, the next attach gets the freed id (%d)", r);
	if (r >= 0)
		ids[3] = r;
	for (i = 0; i < LFQ_SOURCES_MAX; i++)
		if (ids[i] >= 0)
			ioc_source_detach(m, (unsigned long)ids[i]);

	/*
	 * The largest SYNTH: LFQ_SYNTH_PRODUCERS_MAX producers numbered
	 * threads first, then hardirq, then softirq timers.
	 */
	if (lfq_attach_fd(m, &h)) {
		tap_diag("lfq_attach_fd: %s", strerror(errno));
		exit(1);
	}
	drain_count(h, NULL);
	s = synth(LFQ_SYNTH_PRODUCERS_MAX - 2, 1, 1, 1, 100 * 1000);
	r = ioc_source_attach(m, &s);
	memset(seen, 0, sizeof(seen));
	total = 0;
	for (i = 0; i < 500 && total < LFQ_SYNTH_PRODUCERS_MAX; i++) {
		while ((span = lfq_peek(h, 64, &got))) {
			for (j = 0; j < got; j++) {
				const struct lfq_event_synth *e = (const void *)
					(span + (size_t)j * 128);

				if (e->hdr.type == LFQ_EVENT_SYNTH &&
				    e->context <= 3 &&
				    e->producer < LFQ_SYNTH_PRODUCERS_MAX &&
				    e->seq == 0)
					seen[e->context][e->producer]++;
				total++;
			}
			lfq_release(h, got);
		}
		msleep(10);
	}
	numbering_ok = r >= 0 && total == LFQ_SYNTH_PRODUCERS_MAX;
	for (j = 0; j < LFQ_SYNTH_PRODUCERS_MAX; j++) {
		uint32_t c = j < LFQ_SYNTH_PRODUCERS_MAX - 2 ?
			     LFQ_CONTEXT_THREAD :
			     j == LFQ_SYNTH_PRODUCERS_MAX - 2 ?
			     LFQ_CONTEXT_HARDIRQ : LFQ_CONTEXT_SOFTIRQ;

		if (seen[c][j] != 1)
			numbering_ok = 0;
	}
	if (!tap_ok(numbering_ok,
		    "SYNTH with %d threads + 1 hardirq + 1 softirq timer (MAX): one record each, producers 0..%d threads, %d hardirq, %d softirq",
		    LFQ_SYNTH_PRODUCERS_MAX - 2, LFQ_SYNTH_PRODUCERS_MAX - 3,
		    LFQ_SYNTH_PRODUCERS_MAX - 2, LFQ_SYNTH_PRODUCERS_MAX - 1))
		tap_diag("  id %d, %d records", r, total);
	if (r >= 0)
		ioc_source_detach(m, (unsigned long)r);
	lfq_close(h);

	close(pfd[0]);
	close(pfd[1]);
	close(m);
	close(sp);
	close(m16);
	close(m72);
	close(m80);
	close(tgt);
	close(tgt2);
	close(tgt_sp);
	close(tgt32);
	close(unbound);
	close(unbound2);
}

int main(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	ncpus = n > 0 ? (unsigned int)n : 1;
	tap_plan(107);
	test_errnos();
	test_all_at_once();
	test_drop_accounting();
	test_detach();
	test_release_by_munmap();
	test_close_attached();
	return tap_done();
}
