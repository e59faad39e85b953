// SPDX-License-Identifier: MIT
/*
 * syscall_data.c - LFQ_SOURCE_SYSCALL_DATA against the real module: a
 * SYSCALL source on a record queue whose records carry the user buffer
 * the call names (pwrite64(fd, buf, count, pos) here), so one queue holds
 * records of every size. Checked: the attach errnos of the flag; records
 * exactly as long as the buffer (up to the source's record_size, cut and
 * flagged past it), with its bytes; buffers that cannot be read without
 * faulting (NULL, unmapped, never touched) give zeros flagged
 * LFQ_SYSCALL_DATA_FAULT; and two threads writing buffers of mixed sizes
 * flat out into a small ring while the consumer reads: every call is a
 * record with its own bytes or a counted drop.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "tap.h"
#include "test_util.h"

#define RING		(1u << 20)
#define FLOOD_RING	(64u * 1024)
#define FLOOD_THREADS	2
#define FLOOD_CALLS	20000u
#define FLOOD_MAX	256u	/* largest buffer a flood call writes: the default limit */

static struct lfq *record_queue(uint32_t bytes)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = bytes, .flags = LFQ_CREATE_RECORDS);

	return queue_or_exit(&o);
}

static struct lfq_source data_source(uint32_t record_size)
{
	return (struct lfq_source){ .size = sizeof(struct lfq_source),
				    .type = LFQ_SOURCE_SYSCALL,
				    .flags = LFQ_SOURCE_SYSCALL_DATA,
				    .syscall_nr = SYS_pwrite64,
				    .record_size = record_size };
}

/* The traced call: fd -1 fails at once, after its entry is recorded. */
static void traced(const void *buf, size_t len)
{
	syscall(SYS_pwrite64, -1L, buf, len, 0L);
}

/* Byte @i of a buffer of call @seq of thread @who. */
static inline uint8_t pattern(uint32_t who, uint32_t seq, uint32_t i)
{
	return (uint8_t)(who * 131u + seq * 7u + i * 13u + 1u);
}

static void errnos(void)
{
	struct lfq *rq = record_queue(RING);
	struct lfq *sq = mpsc_queue_or_exit(512, 64);
	struct lfq_source s = data_source(0);
	int id;

	expect(-lfq_source_attach(sq, &s), EINVAL,
	       "LFQ_SOURCE_SYSCALL_DATA on a slot queue");
	s.record_size = 4096;
	expect(-lfq_source_attach(sq, &s), EINVAL,
	       "LFQ_SOURCE_SYSCALL_DATA on a slot queue, record_size over the slot (EINVAL first)");
	s.record_size = LFQ_EVENT_SYSCALL_DATA_MIN - 8;
	expect(-lfq_source_attach(rq, &s), EINVAL,
	       "LFQ_SOURCE_SYSCALL_DATA, record_size below LFQ_EVENT_SYSCALL_DATA_MIN");
	s.record_size = LFQ_EVENT_SYSCALL_DATA_MIN + 4;
	expect(-lfq_source_attach(rq, &s), EINVAL,
	       "LFQ_SOURCE_SYSCALL_DATA, record_size not a multiple of 8");
	s = (struct lfq_source){ .size = sizeof(s), .type = LFQ_SOURCE_PROC,
				 .flags = LFQ_SOURCE_SYSCALL_DATA };
	expect(-lfq_source_attach(rq, &s), EINVAL,
	       "LFQ_SOURCE_SYSCALL_DATA on PROC");
	s = (struct lfq_source){ .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				 .flags = LFQ_SOURCE_SYSCALL_DATA,
				 .threads = 1, .count = 1 };
	expect(-lfq_source_attach(rq, &s), EINVAL,
	       "LFQ_SOURCE_SYSCALL_DATA on SYNTH");
	s = data_source(LFQ_EVENT_SYSCALL_DATA_MIN);
	id = lfq_source_attach(rq, &s);
	tap_ok(id >= 0, "LFQ_SOURCE_SYSCALL_DATA, record_size LFQ_EVENT_SYSCALL_DATA_MIN: accepted (%s)",
	       id < 0 ? ename(-id) : "ok");
	if (id >= 0)
		lfq_source_detach(rq, id);
	lfq_close(sq);
	lfq_close(rq);
}

/* One record as the checks see it. */
struct data_rec {
	uint32_t hdr_size, pid;
	int32_t nr;
	uint64_t args[6];
	struct lfq_syscall_data d;
	uint8_t bytes[4096];
};

/* Copy a SYSCALL data record of ours out of the ring; 0 if not one. */
static int data_rec_get(const void *p, uint32_t len, struct data_rec *r)
{
	struct lfq_event_syscall ev;

	if (len < LFQ_EVENT_SYSCALL_DATA_MIN ||
	    len > LFQ_EVENT_SYSCALL_DATA_MIN + sizeof(r->bytes))
		return 0;
	memcpy(&ev, p, sizeof(ev));
	if (ev.hdr.type != LFQ_EVENT_SYSCALL || ev.hdr.size != len ||
	    ev.nr != SYS_pwrite64)
		return 0;
	r->hdr_size = ev.hdr.size;
	r->pid = ev.pid;
	r->nr = ev.nr;
	r->args[0] = ev.arg0;
	memcpy(&r->args[1], (const uint8_t *)p + sizeof(ev), 40);
	memcpy(&r->d, (const uint8_t *)p + LFQ_EVENT_SYSCALL_FULL,
	       sizeof(r->d));
	memcpy(r->bytes, (const uint8_t *)p + LFQ_EVENT_SYSCALL_DATA_MIN,
	       len - LFQ_EVENT_SYSCALL_DATA_MIN);
	return 1;
}

/* ---------------------------------------------------------------------- */

#define SIZES_N	10

struct sizes_seen {
	struct data_rec r[SIZES_N];
	int n, other;
};

static int sizes_cb(void *ctx, const void *p, uint32_t len)
{
	struct sizes_seen *s = ctx;

	if (s->n < SIZES_N && data_rec_get(p, len, &s->r[s->n]) &&
	    s->r[s->n].pid == (uint32_t)gettid())
		s->n++;
	else
		s->other++;
	return 0;
}

/*
 * Buffers of 0 to 1000 bytes, the default limit: each record is as long
 * as its buffer up to LFQ_EVENT_SYSCALL_DATA_DEFAULT, with its bytes.
 */
static void sizes(uint32_t record_size)
{
	static const uint32_t lens[SIZES_N] = { 0, 1, 7, 8, 9, 100, 255, 256,
						257, 1000 };
	uint32_t limit = (record_size ?: LFQ_EVENT_SYSCALL_DATA_DEFAULT) -
			 LFQ_EVENT_SYSCALL_DATA_MIN;
	struct lfq *q = record_queue(RING);
	struct lfq_source s = data_source(record_size);
	struct sizes_seen *seen = calloc(1, sizeof(*seen));
	uint8_t buf[1000];
	int id, i, ok = 1;
	uint32_t j;

	if (!seen)
		exit(1);
	id = lfq_source_attach(q, &s);
	if (id < 0) {
		tap_ok(0, "attach SYSCALL_DATA record_size %u: %s",
		       record_size, ename(-id));
		lfq_close(q);
		free(seen);
		return;
	}
	for (i = 0; i < SIZES_N; i++) {
		for (j = 0; j < lens[i]; j++)
			buf[j] = pattern(1, (uint32_t)i, j);
		traced(buf, lens[i]);
	}
	lfq_source_detach(q, id);
	while (lfq_record_consume(q, 64, sizes_cb, seen) > 0)
		;
	ok = seen->n == SIZES_N;
	for (i = 0; ok && i < SIZES_N; i++) {
		const struct data_rec *r = &seen->r[i];
		uint32_t want = lens[i] < limit ? lens[i] : limit;

		if (r->d.size != want ||
		    r->hdr_size != LFQ_EVENT_SYSCALL_DATA_MIN + want ||
		    r->d.flags != (lens[i] > limit ? LFQ_SYSCALL_DATA_CUT : 0u) ||
		    r->args[0] != (uint64_t)-1 || r->args[2] != lens[i] ||
		    r->args[1] != (uint64_t)(uintptr_t)buf) {
			tap_diag("  call %d (%u bytes): size %u hdr %u flags %u arg2 %llu",
				 i, lens[i], r->d.size, r->hdr_size,
				 r->d.flags, (unsigned long long)r->args[2]);
			ok = 0;
		}
		for (j = 0; ok && j < want; j++)
			if (r->bytes[j] != pattern(1, (uint32_t)i, j)) {
				tap_diag("  call %d: byte %u differs", i, j);
				ok = 0;
			}
	}
	tap_ok(ok, "record_size %u: %d calls of 0 to 1000 bytes give records of 0 to %u bytes of buffer, exact, cut and flagged past the limit (%d records, %d others)",
	       record_size, SIZES_N, limit, seen->n, seen->other);
	lfq_close(q);
	free(seen);
}

/* ---------------------------------------------------------------------- */

/*
 * Buffers the probe cannot read without faulting: NULL, an unmapped
 * range, a mapped page never touched (no page yet), and one that starts
 * on a page full of bytes and runs into an unmapped one. Each record
 * still has its length, all of it zero, flagged.
 */
static void faults(void)
{
	struct lfq *q = record_queue(RING);
	struct lfq_source s = data_source(0);
	struct sizes_seen *seen = calloc(1, sizeof(*seen));
	static const uint32_t want_len[4] = { 16, 64, 100, 64 };
	uint8_t *gone, *fresh, *half;
	int id, i, ok;

	gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fresh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	half = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!seen || gone == MAP_FAILED || fresh == MAP_FAILED ||
	    half == MAP_FAILED)
		exit(1);
	munmap(gone, 4096);
	memset(half, 0xa5, 4096);
	munmap(half + 4096, 4096);
	id = lfq_source_attach(q, &s);
	if (id < 0) {
		tap_ok(0, "attach SYSCALL_DATA: %s", ename(-id));
		exit(1);
	}
	traced(NULL, 16);
	traced(gone, 64);
	traced(fresh, 100);
	traced(half + 4096 - 32, 64);
	lfq_source_detach(q, id);
	while (lfq_record_consume(q, 64, sizes_cb, seen) > 0)
		;
	ok = seen->n == 4;
	for (i = 0; ok && i < 4; i++) {
		const struct data_rec *r = &seen->r[i];
		uint32_t j, want = want_len[i];

		ok = r->d.size == want && r->d.flags == LFQ_SYSCALL_DATA_FAULT;
		for (j = 0; ok && j < want; j++)
			ok = !r->bytes[j];
		if (!ok)
			tap_diag("  call %d: size %u flags %u", i, r->d.size,
				 r->d.flags);
	}
	tap_ok(ok, "buffers at NULL, unmapped, never touched, and half on an unmapped page: records of 16, 64, 100 and 64 zero bytes flagged LFQ_SYSCALL_DATA_FAULT (%d records)",
	       seen->n);
	munmap(fresh, 4096);
	munmap(half, 4096);
	lfq_close(q);
	free(seen);
}

/* ---------------------------------------------------------------------- */

struct flood {
	struct lfq *q;
	pthread_barrier_t go;
	atomic_int done;
	pid_t tid[FLOOD_THREADS];
	uint64_t next[FLOOD_THREADS];	/* next sequence the consumer expects */
	uint64_t got, bad, gaps, foreign;
};

struct flood_arg {
	struct flood *f;
	uint32_t who;
};

/* The size of call @seq of thread @who: 8 to FLOOD_MAX bytes, mixed. */
static uint32_t flood_len(uint32_t who, uint32_t seq)
{
	return 8 + (uint32_t)(mix64(((uint64_t)who << 32) | seq) %
			      (FLOOD_MAX - 7));
}

static void *flood_thread(void *p)
{
	struct flood_arg *a = p;
	uint8_t buf[FLOOD_MAX];
	uint32_t seq, j, len;

	a->f->tid[a->who] = gettid();
	pthread_barrier_wait(&a->f->go);
	for (seq = 0; seq < FLOOD_CALLS; seq++) {
		len = flood_len(a->who, seq);
		memcpy(buf, &seq, sizeof(seq));
		memcpy(buf + 4, &a->who, sizeof(a->who));
		for (j = 8; j < len; j++)
			buf[j] = pattern(a->who, seq, j);
		traced(buf, len);
	}
	atomic_fetch_add(&a->f->done, 1);
	return NULL;
}

/* A record must be call seq of a thread, later than its last one. */
static int flood_cb(void *ctx, const void *p, uint32_t len)
{
	struct flood *f = ctx;
	struct data_rec r;
	uint32_t seq, who, j;

	if (!data_rec_get(p, len, &r) || r.args[0] != (uint64_t)-1) {
		f->foreign++;
		return 0;
	}
	memcpy(&seq, r.bytes, sizeof(seq));
	memcpy(&who, r.bytes + 4, sizeof(who));
	if (r.d.size < 8 || who >= FLOOD_THREADS ||
	    r.pid != (uint32_t)f->tid[who] || seq < f->next[who] ||
	    r.d.size != flood_len(who, seq) || r.d.flags) {
		f->bad++;
		return 0;
	}
	for (j = 8; j < r.d.size; j++)
		if (r.bytes[j] != pattern(who, seq, j)) {
			f->bad++;
			return 0;
		}
	f->gaps += seq - f->next[who];
	f->next[who] = seq + 1;
	f->got++;
	return 0;
}

static void flood(void)
{
	struct flood *f = calloc(1, sizeof(*f));
	struct flood_arg args[FLOOD_THREADS];
	pthread_t th[FLOOD_THREADS];
	struct lfq_source s = data_source(0);
	struct lfq_stats st;
	uint64_t lost;
	int id, i;

	if (!f)
		exit(1);
	f->q = record_queue(FLOOD_RING);
	pthread_barrier_init(&f->go, NULL, FLOOD_THREADS + 1);
	id = lfq_source_attach(f->q, &s);
	if (id < 0) {
		tap_ok(0, "attach SYSCALL_DATA: %s", ename(-id));
		exit(1);
	}
	for (i = 0; i < FLOOD_THREADS; i++) {
		args[i] = (struct flood_arg){ f, (uint32_t)i };
		pthread_create(&th[i], NULL, flood_thread, &args[i]);
	}
	pthread_barrier_wait(&f->go);
	while (atomic_load(&f->done) < FLOOD_THREADS)
		if (lfq_record_consume(f->q, 256, flood_cb, f) <= 0)
			sched_yield();
	for (i = 0; i < FLOOD_THREADS; i++)
		pthread_join(th[i], NULL);
	lfq_source_detach(f->q, id);
	while (lfq_record_consume(f->q, 256, flood_cb, f) > 0)
		;
	if (lfq_get_stats(f->q, &st))
		exit(1);
	/* Gaps at the end of each thread's calls are drops too. */
	lost = f->gaps;
	for (i = 0; i < FLOOD_THREADS; i++)
		lost += FLOOD_CALLS - f->next[i];
	if (!tap_ok(!f->bad && f->got + lost == FLOOD_THREADS * FLOOD_CALLS &&
		    lost == st.dropped && f->got >= FLOOD_CALLS / 10,
		    "%d threads x %u calls of 8 to %u bytes into a %u-byte ring: %llu records intact and in order, %llu dropped and counted",
		    FLOOD_THREADS, FLOOD_CALLS, FLOOD_MAX, FLOOD_RING,
		    (unsigned long long)f->got, (unsigned long long)lost))
		tap_diag("  bad %llu lost %llu kernel dropped %llu foreign %llu",
			 (unsigned long long)f->bad, (unsigned long long)lost,
			 (unsigned long long)st.dropped,
			 (unsigned long long)f->foreign);
	lfq_close(f->q);
	pthread_barrier_destroy(&f->go);
	free(f);
}

/* lfq-stream syscall NR --data prints the buffer, binary bytes escaped. */
static void stream_data(void)
{
	static const char msg[] = "hello lfq\0\xff";
	char cmd[160], line[1024];
	int found = 0, i, st;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "/lfq/bin/lfq-stream -c 1 -t 20 -r 65536 syscall %d --data 2>&1",
		 (int)SYS_pwrite64);
	f = popen(cmd, "r");
	if (!f)
		exit(1);
	msleep(1500);	/* attached */
	for (i = 0; i < 10; i++) {
		traced(msg, sizeof(msg) - 1);
		msleep(100);
	}
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "data_size=11") &&
		    strstr(line, "data=hello lfq\\x00\\xff"))
			found = 1;
	st = pclose(f);
	tap_ok(found && !st,
	       "lfq-stream syscall %d --data prints data_size=11 data=hello lfq\\x00\\xff (exit status %d)",
	       (int)SYS_pwrite64, st);
}

int main(void)
{
	tap_plan(12);
	errnos();
	sizes(0);
	sizes(LFQ_EVENT_SYSCALL_DATA_MIN + 48);
	faults();
	flood();
	stream_data();
	return tap_done();
}
