// SPDX-License-Identifier: GPL-2.0
/*
 * sources_mixed.c - every kind of producer at once into one /dev/lfq MPSC
 * queue, checked record by record: two SYNTH sources (2 kernel threads
 * flat out; a hardirq and a softirq hrtimer), a PROC source and 2
 * userspace producer processes with their own record layout. Every
 * producer's sequence must arrive complete and in order (or, if the
 * kernel counted drops, with gaps that add up to them), each record from
 * the context its producer number says, with a sane cpu and time, and
 * the forks and exits of the producer processes as PROC events.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "sources_util.h"
#include "tap.h"
#include "test_util.h"

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

static uint64_t check_word(uint64_t producer, uint64_t seq)
{
	return (producer << 48 | seq) * 0x9e3779b97f4a7c15ull ^ (seq >> 7);
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

#define A_SLOTS		65536u	/* holds every kernel record: no drops */
#define A_SLOT_SIZE	128u
#define A_THREAD_COUNT	20000u
#define A_TIMER_COUNT	2000u
#define A_TIMER_PERIOD	(100 * 1000ull)
#define A_USER_COUNT	20000u
#define A_USERS		2

/* A userspace producer process: its own handle on the queue's file. */
/*
 * Waits on @go to start; pushes its records; then waits for @bye's end of
 * file (the parent has drained everything else) before it exits, so that
 * its EXIT record meets an empty queue and not SYNTH's full one.
 */
static int user_producer(int fd, int go, int bye, uint32_t id)
{
	struct lfq *q;
	uint64_t seq;
	char c;

	if (read(go, &c, 1) != 1)
		return 2;
	q = open_fd(fd);
	if (!q)
		return 3;
	for (seq = 0; seq < A_USER_COUNT;) {
		struct urec *r;
		void *slot;
		int got = lfq_reserve(q, 1, &slot);

		if (got == -EAGAIN) {
			if (lfq_wait_space(q, 1, 30 * SEC))
				return 4;
			continue;
		}
		if (got != 1)
			return 5;
		r = slot;
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
	while (read(bye, &c, 1) > 0)
		;
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
	const void *span;
	int got, i;

	while ((got = lfq_peek(q, 256, &span)) > 0) {
		for (i = 0; i < got; i++)
			all_note(st, (const unsigned char *)span +
				 (size_t)i * A_SLOT_SIZE);
		lfq_release(q, (uint32_t)got);
		n += (uint64_t)got;
	}
	drained_or_exit(got);
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
	int fd = lfq_fd(q), go[2], bye[2], id_proc, id_thr, id_tmr, ok, i;
	int64_t t0, deadline;
	struct lfq_stats s;
	uint64_t total = 0;

	memset(&st, 0, sizeof(st));
	synth_start(&st.syn);
	synth_expect(&st.syn, LFQ_CONTEXT_THREAD, 0, 2, A_THREAD_COUNT);
	synth_expect(&st.syn, LFQ_CONTEXT_HARDIRQ, 0, 1, A_TIMER_COUNT);
	synth_expect(&st.syn, LFQ_CONTEXT_SOFTIRQ, 1, 1, A_TIMER_COUNT);
	t0 = st.syn.t0;

	/* PROC first: it must see the producers' forks. */
	id_proc = ioc_source_attach(fd, &s_proc);
	if (pipe(go) || pipe(bye)) {
		tap_diag("pipe: %s", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	for (i = 0; i < A_USERS; i++) {
		st.users[i] = fork();
		if (st.users[i] == 0) {
			close(go[1]);
			close(bye[1]);
			_exit(user_producer(fd, go[0], bye[0], (uint32_t)i));
		}
	}
	close(go[0]);
	close(bye[0]);
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
	close(bye[1]);		/* the producers may exit now */
	ok = 1;
	for (i = 0; i < A_USERS; i++) {
		int status = child_status(st.users[i]);

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

int main(void)
{
	tap_plan(9);
	test_all_at_once();
	return tap_done();
}
