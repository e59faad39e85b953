// SPDX-License-Identifier: GPL-2.0
/*
 * syscall_src.c - LFQ_SOURCE_SYSCALL: one record per entry of the chosen
 * system call, from every task, and none for other calls.
 *
 * Two sources on one queue, getpgid and getsid. The main thread makes
 * exactly 10000 getpgid calls with a 64-bit magic first argument (and
 * 1000 with 0), two threads 5000 each with their own magic, a child
 * running as uid 1001 1000, and 2000 getsid calls; getppid calls in
 * between must leave no record. Each (pid, nr, arg0) count must be exact,
 * with no drop, every record well formed, timed inside the run and in
 * time order per thread. After DETACH, calls leave no record; a second
 * DETACH is ENOENT.
 *
 * lfq_source.record_size: sources writing 64-byte records into 64-byte
 * slots and 48-byte records into 64-byte slots, on rings whose every slot
 * a userspace producer first filled with 0xff bytes: each record says its
 * size in hdr.size, carries the call, and has every byte past struct
 * lfq_event_syscall zero (no stale slot contents). A struct of
 * LFQ_SOURCE_SIZE_VER0 bytes (no record_size) still attaches.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "tap.h"
#include "test_util.h"

#define SLOTS		32768u		/* holds every record of the run */
#define CALLS		10000u
#define ZERO_CALLS	1000u
#define THREAD_CALLS	5000u
#define CHILD_CALLS	1000u
#define SID_CALLS	2000u
#define NOISE_CALLS	1000u
#define MAGIC		0x4c46510012345678ull	/* beyond 32 bits on purpose */
#define UNPRIV_UID	1001

static unsigned int ncpus;

struct worker {
	pthread_t th;
	pid_t tid;
	uint64_t magic;
};

static void calls(uint64_t arg0, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		syscall(SYS_getpgid, (long)arg0);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	calls(w->magic, THREAD_CALLS);
	return NULL;
}

struct tally {
	pid_t pid;
	int nr;
	uint64_t arg0;
	uint64_t count;
	int64_t last_ns;
	uint64_t time_bad;
};

static uint64_t other_nr, bad_hdr, untracked;

static void note(struct tally *t, unsigned int nt,
		 const struct lfq_event_syscall *e, int64_t t0, int64_t t1)
{
	unsigned int i;

	if (e->hdr.type != LFQ_EVENT_SYSCALL || e->hdr.size != sizeof(*e) ||
	    e->hdr.cpu >= ncpus) {
		if (bad_hdr++ < 5)
			tap_diag("  record type %u size %u cpu %u", e->hdr.type,
				 e->hdr.size, e->hdr.cpu);
		return;
	}
	if (e->nr != SYS_getpgid && e->nr != SYS_getsid) {
		if (other_nr++ < 5)
			tap_diag("  record of syscall %d", e->nr);
		return;
	}
	for (i = 0; i < nt; i++) {
		if (t[i].pid != (pid_t)e->pid || t[i].nr != e->nr ||
		    t[i].arg0 != e->arg0)
			continue;
		if ((int64_t)e->hdr.time_ns < t0 ||
		    (int64_t)e->hdr.time_ns > t1 ||
		    (int64_t)e->hdr.time_ns < t[i].last_ns)
			t[i].time_bad++;
		t[i].last_ns = (int64_t)e->hdr.time_ns;
		t[i].count++;
		return;
	}
	untracked++;
}

/* The end of a drain: lfq_peek() must have said "empty", nothing else. */
static void peek_drained(int err)
{
	if (err != -EAGAIN) {
		tap_diag("lfq_peek: %d (%s), not -EAGAIN once drained", err,
			 ename(-err));
		exit(1);
	}
}

static uint64_t drain(struct lfq *q, struct tally *t, unsigned int nt,
		      int64_t t0, int64_t t1)
{
	const struct lfq_event_syscall *recs;
	const void *span;
	uint64_t n = 0;
	int got, i;

	while ((got = lfq_peek(q, 256, &span)) > 0) {
		recs = span;
		for (i = 0; i < got; i++)
			note(t, nt, &recs[i], t0, t1);
		lfq_release(q, (uint32_t)got);
		n += (uint64_t)got;
	}
	peek_drained(got);
	return n;
}

#define SIZED_SLOTS	64u
#define SIZED_CALLS	(3 * SIZED_SLOTS / 2)	/* drained twice */
#define SIZED_MAGIC	0x5a5a00005a5aull

/*
 * Drain records of @rec_size bytes from @q (slots of @slot_size, the rest
 * of each slot still 0xff from the fill): count the good ones, those with
 * our pid, nr getpgid and @arg0, hdr.size @rec_size and a zero tail.
 */
static void sized_drain(struct lfq *q, uint32_t slot_size, uint32_t rec_size,
			pid_t me, uint64_t arg0, uint64_t *good, uint64_t *bad)
{
	const void *span;
	uint32_t i, k;
	int got;

	while ((got = lfq_peek(q, SIZED_SLOTS, &span)) > 0) {
		for (i = 0; i < (uint32_t)got; i++) {
			const unsigned char *rec = (const unsigned char *)span +
						   (size_t)i * slot_size;
			const struct lfq_event_syscall *e = (const void *)rec;
			int ok = e->hdr.type == LFQ_EVENT_SYSCALL &&
				 e->hdr.size == rec_size &&
				 e->pid == (uint32_t)me &&
				 e->nr == SYS_getpgid && e->arg0 == arg0;

			for (k = sizeof(*e); ok && k < rec_size; k++)
				ok = !rec[k];
			for (k = rec_size; ok && k < slot_size; k++)
				ok = rec[k] == 0xff;	/* not written */
			if (ok) {
				(*good)++;
			} else if ((*bad)++ < 3) {
				tap_diag("  record type %u size %u pid %u nr %d arg0 %llx, byte 32 %02x",
					 e->hdr.type, e->hdr.size, e->pid, e->nr,
					 (unsigned long long)e->arg0, rec[32]);
			}
		}
		lfq_release(q, (uint32_t)got);
	}
	peek_drained(got);
}

/* A SYSCALL source of @rec_size-byte records on @slot_size-byte slots. */
static void test_record_size(uint32_t slot_size, uint32_t rec_size)
{
	struct lfq *q = mpsc_queue_or_exit(slot_size, SIZED_SLOTS);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYSCALL,
				.syscall_nr = SYS_getpgid,
				.record_size = rec_size };
	unsigned char junk[SIZED_SLOTS];	/* >= slot_size */
	const void *span;
	uint64_t good = 0, bad = 0, arg0 = SIZED_MAGIC + rec_size;
	struct lfq_stats st;
	pid_t me = gettid();
	int id, filled = 0, err;
	unsigned int i;

	/* Every slot once full of 0xff, then released. */
	memset(junk, 0xff, sizeof(junk));
	for (i = 0; i < SIZED_SLOTS && slot_size <= sizeof(junk); i++)
		filled += !lfq_push(q, junk, slot_size);
	while ((err = lfq_peek(q, SIZED_SLOTS, &span)) > 0)
		lfq_release(q, (uint32_t)err);
	peek_drained(err);
	id = ioc_source_attach(lfq_fd(q), &s);
	calls(arg0, SIZED_CALLS / 2);
	sized_drain(q, slot_size, rec_size, me, arg0, &good, &bad);
	calls(arg0, SIZED_CALLS - SIZED_CALLS / 2);
	sized_drain(q, slot_size, rec_size, me, arg0, &good, &bad);
	err = id >= 0 ? ioc_source_detach(lfq_fd(q), (unsigned long)id) : id;
	lfq_get_stats(q, &st);
	if (!tap_ok(filled == SIZED_SLOTS && !err && good == SIZED_CALLS &&
		    !bad && !st.dropped,
		    "record_size %u on %u-byte slots: %u records, hdr.size %u, zero past the record, slot tail untouched",
		    rec_size, slot_size, SIZED_CALLS, rec_size))
		tap_diag("  filled %d, attach/detach %d, good %llu, bad %llu, dropped %llu",
			 filled, err, (unsigned long long)good,
			 (unsigned long long)bad,
			 (unsigned long long)st.dropped);
	lfq_close(q);
}

/* A caller that knows only the version 0 struct still attaches. */
static void test_ver0(void)
{
	struct lfq *q = mpsc_queue_or_exit(sizeof(struct lfq_event_syscall),
					   2 * SIZED_SLOTS);	/* a page */
	struct lfq_source s = { .size = LFQ_SOURCE_SIZE_VER0,
				.type = LFQ_SOURCE_SYSCALL,
				.syscall_nr = SYS_getpgid,
				.record_size = 64 };	/* beyond VER0: unread */
	uint64_t good = 0, bad = 0;
	int id = ioc_source_attach(lfq_fd(q), &s);

	calls(SIZED_MAGIC, 10);
	sized_drain(q, sizeof(struct lfq_event_syscall),
		    sizeof(struct lfq_event_syscall), gettid(), SIZED_MAGIC,
		    &good, &bad);
	if (id >= 0)
		ioc_source_detach(lfq_fd(q), (unsigned long)id);
	if (!tap_ok(id >= 0 && good == 10 && !bad,
		    "a LFQ_SOURCE_SIZE_VER0 struct attaches; its records have the natural size"))
		tap_diag("  attach %d, good %llu, bad %llu", id,
			 (unsigned long long)good, (unsigned long long)bad);
	lfq_close(q);
}

int main(void)
{
	struct lfq *q = mpsc_queue_or_exit(sizeof(struct lfq_event_syscall),
					   SLOTS);
	struct lfq_source s_pgid = { .size = sizeof(s_pgid),
				     .type = LFQ_SOURCE_SYSCALL,
				     .syscall_nr = SYS_getpgid };
	struct lfq_source s_sid = s_pgid;
	struct worker w[2] = { { .magic = MAGIC + 1 }, { .magic = MAGIC + 2 } };
	struct tally t[6];
	int64_t t0, t1;
	int id1, id2, status, err, i, time_ok;
	pid_t me = gettid(), child;
	struct lfq_stats s1, s2;
	uint64_t n;
	long nc = sysconf(_SC_NPROCESSORS_CONF);

	ncpus = nc > 0 ? (unsigned int)nc : 1;
	tap_plan(13);
	s_sid.syscall_nr = SYS_getsid;
	t0 = now_ns();
	id1 = ioc_source_attach(lfq_fd(q), &s_pgid);
	id2 = ioc_source_attach(lfq_fd(q), &s_sid);
	tap_ok(id1 >= 0 && id2 >= 0 && id1 != id2,
	       "SYSCALL sources for getpgid (%d) and getsid (%d) on one queue",
	       id1, id2);

	calls(MAGIC, CALLS);
	calls(0, ZERO_CALLS);
	for (i = 0; i < (int)NOISE_CALLS; i++)
		syscall(SYS_getppid);
	for (i = 0; i < (int)SID_CALLS; i++)
		syscall(SYS_getsid, (long)MAGIC);
	for (i = 0; i < 2; i++)
		pthread_create(&w[i].th, NULL, worker_fn, &w[i]);
	for (i = 0; i < 2; i++)
		pthread_join(w[i].th, NULL);
	fflush(stdout);
	child = fork();
	if (child == 0) {
		if (setgroups(0, NULL) ||
		    setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
		    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
			_exit(1);
		calls(MAGIC + 10, CHILD_CALLS);
		_exit(0);
	}
	status = -1;
	waitpid(child, &status, 0);
	t1 = now_ns();

	t[0] = (struct tally){ .pid = me, .nr = SYS_getpgid, .arg0 = MAGIC };
	t[1] = (struct tally){ .pid = me, .nr = SYS_getpgid, .arg0 = 0 };
	t[2] = (struct tally){ .pid = w[0].tid, .nr = SYS_getpgid,
			       .arg0 = w[0].magic };
	t[3] = (struct tally){ .pid = w[1].tid, .nr = SYS_getpgid,
			       .arg0 = w[1].magic };
	t[4] = (struct tally){ .pid = child, .nr = SYS_getpgid,
			       .arg0 = MAGIC + 10 };
	t[5] = (struct tally){ .pid = me, .nr = SYS_getsid, .arg0 = MAGIC };
	n = drain(q, t, 6, t0, t1);
	lfq_get_stats(q, &s1);
	tap_diag("%llu records; %llu from untracked calls",
		 (unsigned long long)n, (unsigned long long)untracked);

	if (!tap_ok(t[0].count == CALLS,
		    "exactly %u getpgid records with pid == gettid() and the 64-bit magic arg0 (%llu)",
		    CALLS, (unsigned long long)t[0].count))
		tap_diag("  dropped %llu", (unsigned long long)s1.dropped);
	tap_ok(t[1].count == ZERO_CALLS,
	       "exactly %u with arg0 0 (%llu)", ZERO_CALLS,
	       (unsigned long long)t[1].count);
	tap_ok(t[2].count == THREAD_CALLS && t[3].count == THREAD_CALLS,
	       "exactly %u from each of two threads, pid == the thread's tid (%llu, %llu)",
	       THREAD_CALLS, (unsigned long long)t[2].count,
	       (unsigned long long)t[3].count);
	tap_ok(status == 0 && t[4].count == CHILD_CALLS,
	       "exactly %u from a uid %d child process (%llu)", CHILD_CALLS,
	       UNPRIV_UID, (unsigned long long)t[4].count);
	tap_ok(t[5].count == SID_CALLS,
	       "exactly %u getsid records from the second source (%llu)",
	       SID_CALLS, (unsigned long long)t[5].count);
	if (!tap_ok(!other_nr && !bad_hdr,
		    "no record of another syscall (getppid %u times); type, size and cpu right",
		    NOISE_CALLS))
		tap_diag("  other nr %llu, bad header %llu",
			 (unsigned long long)other_nr,
			 (unsigned long long)bad_hdr);
	time_ok = 1;
	for (i = 0; i < 6; i++)
		if (t[i].time_bad)
			time_ok = 0;
	tap_ok(time_ok && s1.dropped == 0,
	       "time_ns inside the run and in order per thread; nothing dropped (%llu)",
	       (unsigned long long)s1.dropped);

	err = ioc_source_detach(lfq_fd(q), (unsigned long)id1);
	err = err ? err : ioc_source_detach(lfq_fd(q), (unsigned long)id2);
	drain(q, t, 6, t0, now_ns());
	lfq_get_stats(q, &s1);
	calls(MAGIC, 1000);
	for (i = 0; i < 1000; i++)
		syscall(SYS_getsid, (long)MAGIC);
	msleep(100);
	n = drain(q, t, 6, t0, now_ns());
	lfq_get_stats(q, &s2);
	if (!tap_ok(!err && n == 0 && s1.produced == s2.produced &&
		    s1.dropped == s2.dropped,
		    "after DETACH of both, 2000 calls leave no record"))
		tap_diag("  detach %d, %llu records, produced %llu -> %llu",
			 err, (unsigned long long)n,
			 (unsigned long long)s1.produced,
			 (unsigned long long)s2.produced);
	expect(-ioc_source_detach(lfq_fd(q), (unsigned long)id1), ENOENT,
	       "DETACH of the getpgid source again");
	lfq_close(q);

	test_record_size(64, 64);
	test_record_size(64, 48);
	test_ver0();
	return tap_done();
}
