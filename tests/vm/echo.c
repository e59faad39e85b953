// SPDX-License-Identifier: GPL-2.0
/*
 * echo.c - LFQ_SOURCE_ECHO, the kernel as a queue's consumer: processes
 * produce into queue A, a kernel thread consumes A and copies every slot
 * into MPSC queue B as a kernel producer, and a process consumes B.
 *
 *   - SPSC A, one producer process, 10^5 sequenced, checksummed records,
 *     blocking in lfq_wait_space() when A is full (so the kernel consumer
 *     must wake it) and the kernel consumer woken by the producer's
 *     commits: B gets every record once, in order, intact;
 *   - MPSC A with two producer processes: each one's records in order;
 *   - a B too small to keep up: B's drops are counted exactly (records
 *     seen + B's dropped == records produced), order kept;
 *   - DETACH stops the copying; a new ECHO resumes at A's consumer index;
 *   - a target with larger slots gets each slot's bytes; smaller slots
 *     are refused (EMSGSIZE);
 *   - B closed while the echo still writes into it, then A closed with
 *     the producer still running: nothing breaks (the debug kernel run
 *     checks KASAN and kmemleak);
 *   - a chain A -> B -> C delivers, kernel consumer to kernel consumer;
 *     an echo that would close a loop is refused (ELOOP);
 *   - a hostile producer that moves A's head anywhere: the kernel
 *     consumer stays inside the ring and DETACH still stops it.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define MS		1000000ll
#define SEC		1000000000ll
#define SLOT		64u
#define N		100000u
#define BIG_B		131072u		/* holds all N: no drop possible */
#define REC_MAGIC	0x6563686fu

/* One 64-byte record. */
struct erec {
	uint64_t seq;
	uint32_t producer;
	uint32_t magic;
	uint64_t fill[5];
	uint64_t check;
};

_Static_assert(sizeof(struct erec) == SLOT, "one record per slot");

static void rec_fill(struct erec *r, uint32_t producer, uint64_t seq)
{
	uint64_t c = 0;
	int i;

	r->seq = seq;
	r->producer = producer;
	r->magic = REC_MAGIC;
	for (i = 0; i < 5; i++) {
		r->fill[i] = mix64(seq * 8 + i + ((uint64_t)producer << 40));
		c ^= mix64(r->fill[i] + (uint64_t)i);
	}
	r->check = c ^ mix64(seq ^ ((uint64_t)producer << 32 | REC_MAGIC));
}

static int rec_ok(const struct erec *r)
{
	struct erec want;

	if (r->magic != REC_MAGIC)
		return 0;
	rec_fill(&want, r->producer, r->seq);
	return !memcmp(r, &want, sizeof(want));
}

/*
 * A producer process: its own handle on A, @count records from @first,
 * blocking when A is full. Returns the exit status.
 */
static int produce(int fd, uint32_t id, uint64_t first, uint64_t count)
{
	uint64_t seq = first;
	struct lfq *q;

	q = open_fd(fd);
	if (!q)
		return 2;
	while (seq < first + count) {
		uint32_t i, want = 8;
		struct erec *r;
		void *span;
		int got;

		if (want > first + count - seq)
			want = (uint32_t)(first + count - seq);
		got = lfq_reserve(q, want, &span);
		if (got == -EAGAIN) {
			int err = lfq_wait_space(q, 1, 20 * SEC);

			if (err) {
				fprintf(stderr, "producer %u: wait_space at %llu: %d\n",
					id, (unsigned long long)seq, err);
				return 3;
			}
			continue;
		}
		if (got < 0) {
			fprintf(stderr, "producer %u: reserve at %llu: %d\n", id,
				(unsigned long long)seq, got);
			return 4;
		}
		r = span;
		for (i = 0; i < (uint32_t)got; i++)
			rec_fill(&r[i], id, seq + i);
		lfq_commit(q, (uint32_t)got);
		seq += (uint32_t)got;
	}
	lfq_close(q);
	return 0;
}

static pid_t spawn_producer(int fd, uint32_t id, uint64_t first,
			    uint64_t count)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(produce(fd, id, first, count));
	return pid;
}

/* What the consumer of B saw. */
struct seen {
	uint64_t next[2];	/* expected seq per producer */
	uint64_t count, bad, gaps;
	int stalled;		/* no record for 20 s */
};

/*
 * Consume B until @want records are accounted for (seen, plus B's drops
 * if @allow_drops), sleeping 1 ms per batch if @slow. Each producer's
 * seqs must be exactly consecutive from @first, or, with @allow_drops,
 * increasing.
 */
static void consume_from(struct lfq *b, uint64_t first, uint64_t want,
			 int allow_drops, int slow, struct seen *sn)
{
	int64_t last = now_ns();
	struct lfq_stats st = { 0 };

	memset(sn, 0, sizeof(*sn));
	sn->next[0] = sn->next[1] = first;
	for (;;) {
		const struct erec *r = NULL;
		const void *span;
		int n = lfq_peek(b, 64, &span);
		uint32_t got = 0, i;

		if (n < 0 && n != -EAGAIN) {
			tap_diag("consumer of B: lfq_peek: %d (%s)", n,
				 ename(-n));
			exit(1);
		}
		if (n > 0) {
			r = span;
			got = (uint32_t)n;
			for (i = 0; i < got; i++) {
				uint32_t p = r[i].producer;

				if (p > 1 || !rec_ok(&r[i]) ||
				    r[i].seq < sn->next[p] ||
				    (!allow_drops && r[i].seq != sn->next[p])) {
					if (sn->bad++ < 5)
						tap_diag("  record %llu: producer %u seq %llu (want %llu) %s",
							 (unsigned long long)sn->count,
							 p, (unsigned long long)r[i].seq,
							 p > 1 ? 0ull :
							 (unsigned long long)sn->next[p],
							 rec_ok(&r[i]) ? "intact" : "CORRUPT");
					continue;
				}
				sn->gaps += r[i].seq - sn->next[p];
				sn->next[p] = r[i].seq + 1;
				sn->count++;
			}
			lfq_release(b, got);
			last = now_ns();
			if (slow)
				msleep(1);
		}
		if (allow_drops)
			lfq_get_stats(b, &st);
		if (sn->count + sn->bad + st.dropped >= want)
			return;
		if (!r && lfq_wait_data(b, 1, 200 * MS) && now_ns() - last > 20 * SEC) {
			sn->stalled = 1;
			return;
		}
	}
}

static void consume(struct lfq *b, uint64_t want, int allow_drops, int slow,
		    struct seen *sn)
{
	consume_from(b, 0, want, allow_drops, slow, sn);
}

static struct lfq_source echo_into(int target_fd)
{
	return (struct lfq_source){ .size = sizeof(struct lfq_source),
				    .type = LFQ_SOURCE_ECHO,
				    .target_fd = target_fd };
}

static void test_spsc(void)
{
	struct lfq *a = spsc_queue_or_exit(SLOT, 256);
	struct lfq *b = mpsc_queue_or_exit(SLOT, BIG_B);
	struct lfq_source s = echo_into(lfq_fd(b));
	struct lfq_stats sa, sb;
	struct seen sn;
	int64_t t0 = now_ns();
	int id, status;
	pid_t pid;

	/*
	 * The producer fills A and goes to sleep before the echo exists, so
	 * the kernel consumer's first releases must wake it.
	 */
	pid = spawn_producer(lfq_fd(a), 0, 0, N);
	do {
		msleep(10);
		lfq_get_stats(a, &sa);
	} while (!sa.waits && now_ns() - t0 < 10 * SEC);
	id = ioc_source_attach(lfq_fd(a), &s);
	tap_ok(id >= 0 && sa.produced == 256 && sa.waits,
	       "ECHO attached to a full SPSC queue of 64-byte slots whose producer sleeps, into an MPSC one (%d)",
	       id);
	consume(b, N, 0, 0, &sn);
	if (sn.stalled || sn.bad)
		kill(pid, SIGKILL);
	status = child_status(pid);
	lfq_get_stats(a, &sa);
	lfq_get_stats(b, &sb);
	tap_diag("SPSC echo: %u records in %.2f s; A full_events %llu waits %llu wakeups %llu",
		 N, (now_ns() - t0) / 1e9, (unsigned long long)sa.full_events,
		 (unsigned long long)sa.waits, (unsigned long long)sa.wakeups);
	tap_ok(status == 0, "the producer process pushed %u records (blocking when full) and exited 0 (0x%x)",
	       N, status);
	if (!tap_ok(sn.count == N && !sn.bad && !sn.stalled && sn.next[0] == N,
		    "B got all %u records once, in order, every byte intact", N))
		tap_diag("  count %llu bad %llu stalled %d next %llu",
			 (unsigned long long)sn.count,
			 (unsigned long long)sn.bad, sn.stalled,
			 (unsigned long long)sn.next[0]);
	tap_ok(sa.produced == N && sa.consumed == N && sb.dropped == 0 &&
	       sb.produced == N,
	       "A: produced %llu, consumed by the kernel %llu; B: produced %llu, dropped %llu",
	       (unsigned long long)sa.produced, (unsigned long long)sa.consumed,
	       (unsigned long long)sb.produced, (unsigned long long)sb.dropped);
	tap_ok(sa.full_events > 0 && sa.wakeups > 0,
	       "the producer found A full %llu times; the kernel consumer woke it (wakeups %llu)",
	       (unsigned long long)sa.full_events,
	       (unsigned long long)sa.wakeups);
	lfq_close(a);
	lfq_close(b);
}

static void test_mpsc(void)
{
	struct lfq *a = mpsc_queue_or_exit(SLOT, 256);
	struct lfq *b = mpsc_queue_or_exit(SLOT, BIG_B);
	struct lfq_source s = echo_into(lfq_fd(b));
	struct lfq_stats sb;
	struct seen sn;
	int64_t t0 = now_ns();
	int id, st0, st1;
	pid_t p0, p1;

	id = ioc_source_attach(lfq_fd(a), &s);
	p0 = spawn_producer(lfq_fd(a), 0, 0, N / 2);
	p1 = spawn_producer(lfq_fd(a), 1, 0, N / 2);
	consume(b, N, 0, 0, &sn);
	if (sn.stalled || sn.bad) {
		kill(p0, SIGKILL);
		kill(p1, SIGKILL);
	}
	st0 = child_status(p0);
	st1 = child_status(p1);
	lfq_get_stats(b, &sb);
	tap_diag("MPSC echo: %u records in %.2f s", N, (now_ns() - t0) / 1e9);
	if (!tap_ok(id >= 0 && !st0 && !st1 && sn.count == N && !sn.bad &&
		    sn.next[0] == N / 2 && sn.next[1] == N / 2 && !sb.dropped,
		    "MPSC A, 2 producer processes x %u: B got every record, each producer's in order",
		    N / 2))
		tap_diag("  id %d status 0x%x 0x%x count %llu bad %llu next %llu %llu dropped %llu stalled %d",
			 id, st0, st1, (unsigned long long)sn.count,
			 (unsigned long long)sn.bad,
			 (unsigned long long)sn.next[0],
			 (unsigned long long)sn.next[1],
			 (unsigned long long)sb.dropped, sn.stalled);
	lfq_close(a);
	lfq_close(b);
}

#define SMALL_N	20000u

static void test_drops(void)
{
	struct lfq *a = spsc_queue_or_exit(SLOT, 256);
	struct lfq *b = mpsc_queue_or_exit(SLOT, 64);
	struct lfq_source s = echo_into(lfq_fd(b));
	struct lfq_stats sa, sb;
	struct seen sn;
	int id, status;
	pid_t pid;

	id = ioc_source_attach(lfq_fd(a), &s);
	pid = spawn_producer(lfq_fd(a), 0, 0, SMALL_N);
	consume(b, SMALL_N, 1, 1, &sn);
	status = child_status(pid);
	msleep(100);
	lfq_get_stats(a, &sa);
	lfq_get_stats(b, &sb);
	tap_diag("small B: %llu seen, %llu dropped", (unsigned long long)sn.count,
		 (unsigned long long)sb.dropped);
	if (!tap_ok(id >= 0 && !status && !sn.bad && !sn.stalled &&
		    sa.consumed == SMALL_N &&
		    sn.count + sb.dropped == SMALL_N && sn.gaps <= sb.dropped,
		    "64-slot B read slowly: records seen + B's dropped == %u exactly, seqs increasing",
		    SMALL_N))
		tap_diag("  id %d status 0x%x bad %llu gaps %llu A consumed %llu stalled %d",
			 id, status, (unsigned long long)sn.bad,
			 (unsigned long long)sn.gaps,
			 (unsigned long long)sa.consumed, sn.stalled);
	tap_ok(sb.dropped > 0, "the slow reader of B made the echo drop (%llu)",
	       (unsigned long long)sb.dropped);
	lfq_close(a);
	lfq_close(b);
}

/* Push records @first.. of producer 0, waiting (10 s at most) for space. */
static int push_recs(struct lfq *q, uint64_t first, uint64_t n)
{
	struct erec r;
	uint64_t i;
	int err;

	for (i = first; i < first + n; i++) {
		rec_fill(&r, 0, i);
		while ((err = lfq_push(q, &r, sizeof(r))) == -EAGAIN)
			if (lfq_wait_space(q, 1, 10 * SEC))
				return -1;
		if (err)
			return -1;
	}
	return 0;
}

static void test_detach_resume(void)
{
	struct lfq *a = spsc_queue_or_exit(SLOT, 256);
	struct lfq *b = mpsc_queue_or_exit(SLOT, 1024);
	struct lfq_source s = echo_into(lfq_fd(b));
	struct lfq_stats sa, sb1, sb2;
	struct seen sn;
	int id, id2, err, e1, e2;

	/*
	 * This process is A's producer here; the echo has found A empty and
	 * sleeps when the records come, so each commit that finds it armed
	 * must wake it (LFQ_IOC_WAKE).
	 */
	id = ioc_source_attach(lfq_fd(a), &s);
	msleep(100);
	e1 = push_recs(a, 0, 100);
	consume(b, 100, 0, 0, &sn);
	lfq_get_stats(a, &sa);
	if (!tap_ok(id >= 0 && !e1 && sn.count == 100 && !sn.bad &&
		    !sn.stalled && sa.wake_calls > 0,
		    "ECHO asleep on an empty queue copies 100 records this process pushes (%llu WAKE calls)",
		    (unsigned long long)sa.wake_calls))
		tap_diag("  id %d push %d count %llu bad %llu stalled %d", id,
			 e1, (unsigned long long)sn.count,
			 (unsigned long long)sn.bad, sn.stalled);
	err = ioc_source_detach(lfq_fd(a), (unsigned long)id);
	lfq_get_stats(b, &sb1);
	e2 = push_recs(a, 100, 50);
	msleep(200);
	lfq_get_stats(b, &sb2);
	if (!tap_ok(!err && !e2 && sb1.produced == sb2.produced,
		    "after DETACH, 50 more records in A are not copied"))
		tap_diag("  detach %d push %d, B produced %llu -> %llu", err,
			 e2, (unsigned long long)sb1.produced,
			 (unsigned long long)sb2.produced);
	id2 = ioc_source_attach(lfq_fd(a), &s);
	{
		struct seen more;

		consume_from(b, 100, 50, 0, 0, &more);
		if (!tap_ok(id2 >= 0 && more.count == 50 && !more.bad &&
			    !more.stalled,
			    "a new ECHO resumes at A's consumer index: the 50 arrive, in order"))
			tap_diag("  id %d count %llu bad %llu", id2,
				 (unsigned long long)more.count,
				 (unsigned long long)more.bad);
	}
	lfq_close(a);
	lfq_close(b);
}

static void test_slot_sizes(void)
{
	struct lfq *a = spsc_queue_or_exit(SLOT, 256);
	struct lfq *b32 = mpsc_queue_or_exit(32, 128);
	struct lfq *b128 = mpsc_queue_or_exit(128, 64);
	struct lfq_source s = echo_into(lfq_fd(b32));
	struct erec r;
	const void *slot = NULL;
	int id, ok, n;
	int64_t deadline;

	expect(-ioc_source_attach(lfq_fd(a), &s), EMSGSIZE,
	       "ECHO from 64-byte slots into 32-byte slots");
	s.target_fd = lfq_fd(b128);
	id = ioc_source_attach(lfq_fd(a), &s);
	rec_fill(&r, 0, 7);
	lfq_push(a, &r, sizeof(r));
	deadline = now_ns() + 10 * SEC;
	while ((n = lfq_peek(b128, 1, &slot)) == -EAGAIN &&
	       now_ns() < deadline)
		lfq_wait_data(b128, 1, 100 * MS);
	ok = n == 1 && !memcmp(slot, &r, sizeof(r));
	if (n > 0)
		lfq_release(b128, 1);
	else
		tap_diag("  lfq_peek of B: %d (%s)", n, ename(-n));
	tap_ok(id >= 0 && ok,
	       "ECHO into 128-byte slots: the 64-byte slot arrives byte for byte (%d)",
	       id);
	lfq_close(a);
	lfq_close(b32);
	lfq_close(b128);
}

/* Close the target, then the source, while a producer keeps pushing. */
static void test_close_order(void)
{
	struct lfq *a = spsc_queue_or_exit(SLOT, 256);
	struct lfq *b = mpsc_queue_or_exit(SLOT, 64);
	struct lfq_source s = echo_into(lfq_fd(b));
	struct lfq *a2, *b2;
	struct seen sn;
	int id, status, id2;
	pid_t pid;

	id = ioc_source_attach(lfq_fd(a), &s);
	pid = spawn_producer(lfq_fd(a), 0, 0, 1000000000ull);
	msleep(100);
	lfq_close(b);		/* the echo's reference keeps B's queue */
	msleep(200);
	lfq_close(a);		/* the producer still holds A's file */
	msleep(100);
	kill(pid, SIGKILL);	/* now A's file goes, and the echo with it */
	status = child_status(pid);
	tap_ok(id >= 0 && WIFSIGNALED(status),
	       "B closed, then A, while the echo ran and a producer pushed: no hang");

	/* Everything still works afterwards. */
	a2 = spsc_queue_or_exit(SLOT, 256);
	b2 = mpsc_queue_or_exit(SLOT, 1024);
	s.target_fd = lfq_fd(b2);
	id2 = ioc_source_attach(lfq_fd(a2), &s);
	push_recs(a2, 0, 200);
	consume(b2, 200, 0, 0, &sn);
	tap_ok(id2 >= 0 && sn.count == 200 && !sn.bad,
	       "a new ECHO afterwards copies 200 records");
	lfq_close(a2);
	lfq_close(b2);
}

/*
 * Echo chains: A into B, then B into C is a chain (the kernel consumes B
 * and produces into it): 100 records pushed into A must reach C in order,
 * each kernel producer's commit waking the next kernel consumer. An echo
 * that would close a loop (into a queue the kernel consumes) is -ELOOP.
 */
static void test_chain(void)
{
	struct lfq *a = mpsc_queue_or_exit(SLOT, 64);
	struct lfq *b = mpsc_queue_or_exit(SLOT, 1024);	/* no drop: */
	struct lfq *c = mpsc_queue_or_exit(SLOT, 1024);	/* all fit */
	struct lfq_source s_ab = echo_into(lfq_fd(b));
	struct lfq_source s_bc = echo_into(lfq_fd(c));
	struct lfq_source s_ca = echo_into(lfq_fd(a));
	struct lfq_source s_cb = echo_into(lfq_fd(b));
	struct lfq_stats sa, sb;
	struct seen sn;
	int id1, id2, err;

	id1 = ioc_source_attach(lfq_fd(a), &s_ab);
	id2 = ioc_source_attach(lfq_fd(b), &s_bc);
	msleep(50);
	err = push_recs(a, 0, 100);
	consume(c, 100, 0, 0, &sn);
	lfq_get_stats(a, &sa);
	lfq_get_stats(b, &sb);
	if (!tap_ok(id1 >= 0 && id2 >= 0 && !err && sn.count == 100 &&
		    !sn.bad && !sn.stalled && sa.consumed == 100 &&
		    sb.consumed == 100,
		    "ECHO chain A -> B -> C: 100 records pushed into A reach C in order"))
		tap_diag("  ids %d %d push %d count %llu bad %llu stalled %d; A consumed %llu; B produced %llu dropped %llu consumed %llu",
			 id1, id2, err, (unsigned long long)sn.count,
			 (unsigned long long)sn.bad, sn.stalled,
			 (unsigned long long)sa.consumed,
			 (unsigned long long)sb.produced,
			 (unsigned long long)sb.dropped,
			 (unsigned long long)sb.consumed);
	expect(-ioc_source_attach(lfq_fd(c), &s_ca), ELOOP,
	       "ECHO C -> A, closing the loop A -> B -> C -> A");
	expect(-ioc_source_attach(lfq_fd(c), &s_cb), ELOOP,
	       "ECHO C -> B, into the middle of the chain");
	lfq_close(a);
	lfq_close(b);
	lfq_close(c);
}

/*
 * A hostile producer of A: it moves A's head (in its own, writable
 * producer page) far ahead of anything written, or behind the tail. The
 * kernel consumer may copy garbage, but only from inside A's ring, and
 * DETACH must still stop it promptly.
 */
static void test_hostile_head(void)
{
	static const uint64_t heads[] = { 1ull << 40, 5, ~0ull - 7 };
	unsigned int i;
	int bad = 0;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct lfq *a = spsc_queue_or_exit(SLOT, 64);
		struct lfq *b = mpsc_queue_or_exit(SLOT, 64);
		struct lfq_source s = echo_into(lfq_fd(b));
		struct lfq_info info = { .size = sizeof(info) };
		struct lfq_prod_ctl *prod = MAP_FAILED;
		struct lfq_stats sb;
		int64_t t;
		int id, err = -1;

		if (!ioctl(lfq_fd(a), LFQ_IOC_INFO, &info))
			prod = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				    MAP_SHARED, lfq_fd(a),
				    (off_t)info.prod_offset);
		id = ioc_source_attach(lfq_fd(a), &s);
		push_recs(a, 0, 10);	/* tail moves to 10 */
		msleep(50);
		if (prod != MAP_FAILED) {
			__atomic_store_n(&prod->head, heads[i],
					 __ATOMIC_RELEASE);
			ioctl(lfq_fd(a), LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER);
		}
		msleep(200);
		t = now_ns();
		if (id >= 0)
			err = ioc_source_detach(lfq_fd(a), (unsigned long)id);
		t = now_ns() - t;
		lfq_get_stats(b, &sb);
		if (prod == MAP_FAILED || id < 0 || err || t > 5000 * MS) {
			bad++;
			tap_diag("  head 0x%llx: map %s id %d detach %d after %lld ms",
				 (unsigned long long)heads[i],
				 prod == MAP_FAILED ? "failed" : "ok", id, err,
				 (long long)(t / MS));
		}
		tap_diag("head 0x%llx: B produced %llu dropped %llu",
			 (unsigned long long)heads[i],
			 (unsigned long long)sb.produced,
			 (unsigned long long)sb.dropped);
		if (prod != MAP_FAILED)
			munmap(prod, 4096);
		lfq_close(a);
		lfq_close(b);
	}
	tap_ok(!bad, "a producer moving A's head far ahead, behind the tail, or near 2^64: DETACH still stops the echo at once");
}

int main(void)
{
	tap_plan(19);
	test_spsc();
	test_mpsc();
	test_drops();
	test_detach_resume();
	test_slot_sizes();
	test_close_order();
	test_chain();
	test_hostile_head();
	return tap_done();
}
