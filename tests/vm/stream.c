// SPDX-License-Identifier: GPL-2.0
/*
 * stream.c - a producer process and a consumer process stream sequenced,
 * checksummed messages through one /dev/lfq queue, blocking in
 * lfq_wait_space()/lfq_wait_data() (LFQ_IOC_WAIT, woken by LFQ_IOC_WAKE)
 * whenever the ring is full or empty:
 *
 *   - 10^6 single messages, producer in a forked child, through the
 *     mappings inherited across fork;
 *   - batches of 1..32 slots (lfq_reserve/lfq_peek), spans crossing the
 *     end of the ring, waits with min_count > 1;
 *   - through a second handle the child opens on the inherited fd
 *     (lfq_open() by fd), in both directions.
 *
 * Each side stalls now and then so that the other one fills or drains
 * the ring and has to sleep. A wait that times out (10 s) is a failure:
 * a lost wakeup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define SLOT		64
#define SLOTS		1024
#define N_STREAM	1000000u
#define N_BATCH		300000u
#define N_ATTACH	200000u
#define WAIT_NS		(10ll * 1000000000)
#define MAX_BATCH	32u

struct msg {
	uint64_t seq;
	uint64_t sum;
	uint64_t payload[6];
};

_Static_assert(sizeof(struct msg) == SLOT, "one message per slot");

static uint64_t msg_sum(const struct msg *m)
{
	uint64_t h = 0xcbf29ce484222325ull ^ m->seq;
	int i;

	for (i = 0; i < 6; i++)
		h = (h ^ m->payload[i]) * 0x100000001b3ull;
	return h;
}

static void msg_fill(struct msg *m, uint64_t seq)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	int i;

	m->seq = seq;
	for (i = 0; i < 6; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m->payload[i] = x;
	}
	m->sum = msg_sum(m);
}

/* 0 if @m is message @seq, intact. */
static int msg_bad(const struct msg *m, uint64_t seq)
{
	struct msg want;

	msg_fill(&want, seq);
	return memcmp(m, &want, sizeof(want)) != 0 || msg_sum(m) != m->sum;
}

/* Deterministic per-side pseudo random numbers. */
static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/* Push @n messages one by one; 0 or a failure exit code. */
static int produce(struct lfq *q, uint32_t n)
{
	struct msg m;
	uint32_t seq;
	int err;

	for (seq = 0; seq < n; seq++) {
		if (seq && seq % 131072 == 0)
			msleep(30);	/* let the consumer run dry */
		msg_fill(&m, seq);
		while ((err = lfq_push(q, &m, sizeof(m))) == -EAGAIN) {
			err = lfq_wait_space(q, 1, WAIT_NS);
			if (err) {
				tap_diag("producer: lfq_wait_space at seq %u: %d (%s)",
					 seq, err, strerror(-err));
				return 3;
			}
		}
		if (err) {
			tap_diag("producer: lfq_push at seq %u: %d (%s)", seq,
				 err, strerror(-err));
			return 4;
		}
	}
	return 0;
}

/* Pop @n messages one by one and check them; 0 or a failure code. */
static int consume(struct lfq *q, uint32_t n, const char *who)
{
	struct msg m;
	uint32_t seq, bad = 0;
	int err;

	for (seq = 0; seq < n; seq++) {
		if (seq && seq % 100003 == 0)
			msleep(30);	/* let the producer fill the ring */
		while ((err = lfq_pop(q, &m, sizeof(m))) == -EAGAIN) {
			err = lfq_wait_data(q, 1, WAIT_NS);
			if (err) {
				tap_diag("%s: lfq_wait_data at seq %u: %d (%s)",
					 who, seq, err, strerror(-err));
				return 3;
			}
		}
		if (err) {
			tap_diag("%s: lfq_pop at seq %u: %d (%s)", who, seq,
				 err, strerror(-err));
			return 4;
		}
		if (msg_bad(&m, seq) && bad++ < 5)
			tap_diag("%s: message %u bad: seq %llu sum %llx", who,
				 seq, (unsigned long long)m.seq,
				 (unsigned long long)m.sum);
	}
	if (bad)
		tap_diag("%s: %u bad messages", who, bad);
	return bad ? 5 : 0;
}

/* Batched producer: reserve 1..32, sometimes commit fewer. */
static int produce_batch(struct lfq *q, uint32_t n)
{
	uint64_t r = 1, seq = 0;
	uint32_t want, i, k;
	struct msg *m;
	void *span;
	int got, err;

	while (seq < n) {
		want = 1 + rnd(&r) % MAX_BATCH;
		if (want > n - seq)
			want = (uint32_t)(n - seq);
		got = lfq_reserve(q, want, &span);
		if (got < 0 && got != -EAGAIN) {
			tap_diag("batch producer: reserve(%u) at %llu: %d (%s)",
				 want, (unsigned long long)seq, got,
				 strerror(-got));
			return 8;
		}
		if (got < (int)want) {
			/* Not enough room (or -EAGAIN): sleep until there is. */
			err = lfq_wait_space(q, want, WAIT_NS);
			if (err) {
				tap_diag("batch producer: wait_space(%u) at %llu: %d (%s)",
					 want, (unsigned long long)seq, err,
					 strerror(-err));
				return 3;
			}
			got = lfq_reserve(q, want, &span);
			if (got != (int)want) {
				tap_diag("batch producer: wait_space(%u) returned but reserve got %d",
					 want, got);
				return 6;
			}
		}
		m = span;
		k = (uint32_t)got;
		if (k > 1 && rnd(&r) % 4 == 0)
			k--;	/* commit only part of the reservation */
		for (i = 0; i < k; i++)
			msg_fill(&m[i], seq + i);
		lfq_commit(q, k);
		seq += k;
		if (seq % 65536 < k)
			msleep(20);
	}
	return 0;
}

/* Batched consumer; counts spans that run across the end of the ring. */
static int consume_batch(struct lfq *q, uint32_t n, uint64_t *wrap_spans)
{
	uint64_t r = 2, seq = 0, bad = 0;
	const struct msg *m;
	const void *span;
	uint32_t want, got, i;
	int n_got, err;

	*wrap_spans = 0;
	while (seq < n) {
		want = 1 + rnd(&r) % MAX_BATCH;
		if (want > n - seq)
			want = (uint32_t)(n - seq);
		n_got = lfq_peek(q, want, &span);
		if (n_got < 0 && n_got != -EAGAIN) {
			tap_diag("batch consumer: peek(%u) at %llu: %d (%s)",
				 want, (unsigned long long)seq, n_got,
				 strerror(-n_got));
			return 8;
		}
		if (n_got < (int)want) {
			err = lfq_wait_data(q, want, WAIT_NS);
			if (err) {
				tap_diag("batch consumer: wait_data(%u) at %llu: %d (%s)",
					 want, (unsigned long long)seq, err,
					 strerror(-err));
				return 3;
			}
			n_got = lfq_peek(q, want, &span);
			if (n_got != (int)want) {
				tap_diag("batch consumer: wait_data(%u) returned but peek got %d",
					 want, n_got);
				return 6;
			}
		}
		m = span;
		got = (uint32_t)n_got;
		if ((seq & (SLOTS - 1)) + got > SLOTS)
			++*wrap_spans;
		for (i = 0; i < got; i++)
			if (msg_bad(&m[i], seq + i) && bad++ < 5)
				tap_diag("batch consumer: message %llu bad (seq %llu)",
					 (unsigned long long)(seq + i),
					 (unsigned long long)m[i].seq);
		lfq_release(q, got);
		seq += got;
		if (seq % 50000 < got)
			msleep(20);
	}
	if (bad)
		tap_diag("batch consumer: %llu bad messages",
			 (unsigned long long)bad);
	return bad ? 5 : 0;
}

static int reap(pid_t pid, const char *who)
{
	int status;

	if (waitpid(pid, &status, 0) != pid) {
		tap_diag("waitpid %s: %s", who, strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	tap_diag("%s: wait status 0x%x", who, status);
	return -1;
}

static struct lfq *make_queue(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = SLOT,
		 .slot_count = SLOTS);
	struct lfq *q = NULL;
	int err = lfq_create(&o, &q);

	if (err) {
		tap_diag("lfq_create: %d (%s)", err, strerror(-err));
		return NULL;
	}
	return q;
}

static void test_stream(void)
{
	struct lfq_stats st;
	struct lfq *q = make_queue();
	uint64_t t0;
	pid_t pid;
	int rc, crc;

	if (!tap_ok(q != NULL, "lfq_create 64-byte x 1024 slots")) {
		tap_ok(0, "stream of %u messages", N_STREAM);
		tap_ok(0, "stream: stats");
		return;
	}
	t0 = now_ns();
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(produce(q, N_STREAM));
	rc = consume(q, N_STREAM, "consumer");
	crc = reap(pid, "producer child");
	tap_ok(pid > 0 && !rc && !crc,
	       "stream of %u messages, child producer -> parent consumer, blocking waits",
	       N_STREAM);
	tap_diag("stream: %.2f s", (double)(now_ns() - t0) / 1e9);

	rc = lfq_get_stats(q, &st);
	if (!tap_ok(!rc && st.produced == N_STREAM && st.consumed == N_STREAM &&
		    st.waits > 0 && st.wakeups > 0 && st.wake_calls >= st.wakeups,
		    "stream: stats produced=consumed=%u, both sides slept and were woken",
		    N_STREAM))
		tap_diag("  rc %d produced %llu consumed %llu", rc,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);
	tap_diag("  waits %llu wakeups %llu wake_calls %llu full %llu empty %llu",
		 (unsigned long long)st.waits, (unsigned long long)st.wakeups,
		 (unsigned long long)st.wake_calls,
		 (unsigned long long)st.full_events,
		 (unsigned long long)st.empty_events);
	lfq_close(q);
}

static void test_batch(void)
{
	struct lfq *q = make_queue();
	uint64_t wraps = 0, t0;
	pid_t pid;
	int rc, crc;

	if (!q) {
		tap_ok(0, "batch stream");
		tap_ok(0, "batch spans across the wrap");
		return;
	}
	t0 = now_ns();
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(produce_batch(q, N_BATCH));
	rc = consume_batch(q, N_BATCH, &wraps);
	crc = reap(pid, "batch producer child");
	tap_ok(pid > 0 && !rc && !crc,
	       "batch stream of %u messages, reserve/peek 1..%u, min_count waits",
	       N_BATCH, MAX_BATCH);
	tap_diag("batch: %.2f s, %llu spans across the wrap",
		 (double)(now_ns() - t0) / 1e9, (unsigned long long)wraps);
	tap_ok(wraps > 0, "batch spans across the end of the ring were contiguous and intact");
	lfq_close(q);
}

/* Open by fd (dup'ed, with the file's role: both, the creator's). */
static int open_by_fd(int fd, struct lfq **out)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = fd);

	return lfq_open(&o, out);
}

/* Child: open the inherited fd, then produce or consume through it. */
static int attached_child(int fd, int producer)
{
	struct lfq *a = NULL;
	int err = open_by_fd(fd, &a);

	if (err) {
		tap_diag("child: lfq_open(fd %d): %d (%s)", fd, err,
			 strerror(-err));
		return 2;
	}
	if (lfq_slot_size(a) != SLOT || lfq_slot_count(a) != SLOTS ||
	    !lfq_is_kernel(a) || lfq_fd(a) == fd ||
	    lfq_type(a) != LFQ_TYPE_SPSC || lfq_role(a) != LFQ_ROLE_ALL) {
		tap_diag("child: opened handle: %u x %u kernel %d fd %d type %u role %u",
			 lfq_slot_size(a), lfq_slot_count(a), lfq_is_kernel(a),
			 lfq_fd(a), lfq_type(a), lfq_role(a));
		return 7;
	}
	err = producer ? produce(a, N_ATTACH) : consume(a, N_ATTACH, "child consumer");
	lfq_close(a);
	return err;
}

static void test_attach(int producer)
{
	const char *dir = producer ? "child (attached) -> parent" :
				     "parent -> child (attached)";
	struct lfq *q = make_queue();
	uint64_t t0;
	pid_t pid;
	int rc, crc;

	if (!q) {
		tap_ok(0, "attached stream %s", dir);
		return;
	}
	t0 = now_ns();
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(attached_child(lfq_fd(q), producer));
	rc = producer ? consume(q, N_ATTACH, "parent consumer") : produce(q, N_ATTACH);
	crc = reap(pid, "attached child");
	tap_ok(pid > 0 && !rc && !crc,
	       "stream of %u messages %s via lfq_open() on the inherited fd",
	       N_ATTACH, dir);
	tap_diag("attached: %.2f s", (double)(now_ns() - t0) / 1e9);
	lfq_close(q);
}

int main(void)
{
	struct lfq *a = NULL;
	int fd, err;

	tap_plan(8);
	test_stream();
	test_batch();
	test_attach(1);
	test_attach(0);

	fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	err = open_by_fd(fd, &a);
	if (!tap_ok(err == -EBADFD, "lfq_open() by an unbound fd -> -EBADFD"))
		tap_diag("  got %d (%s)", err, strerror(-err));
	if (!err)
		lfq_close(a);
	close(fd);
	return tap_done();
}
