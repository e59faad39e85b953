// SPDX-License-Identifier: MIT
/*
 * suite_elastic.c - suite "elastic": lfq's elastic queues (in-process, the
 * liburcu path) against the same queue fixed, in one run, through the
 * same loop, taking turns in every repeat of the throughput cases:
 *   - steady state: an elastic queue with its two segments (seg_min =
 *     seg_max = 2: no allocation ever) against the fixed queue of one
 *     segment's slots (throughput, target >= 0.95x); it switches segment
 *     only when the producer gets a whole segment ahead;
 *   - growing: a consumer that pauses every 4096 messages, so the elastic
 *     queue grows and shrinks (throughput, grow/shrink cycles per second);
 *   - one segment switch: single-threaded pushes then pops through
 *     64-slot segments (every 64th message seals, links, retires) against
 *     segments that never switch, all spares pooled: ns per switch;
 *   - producer latency during growth: every push timed while the consumer
 *     pauses (p50, p99, max): a fixed queue makes the producer wait, an
 *     elastic one grows;
 *   - memory over a burst and its drain: the memfd's allocated bytes,
 *     sampled every 20 ms, against a fixed queue sized for the burst (a
 *     plot of memory over time);
 *   - record queues (LFQ_CREATE_RECORDS): the steady state and a growing
 *     queue again, with 56-byte records (64 bytes in the ring with their
 *     header) written one at a time and read in runs of up to 32
 *     (lfq_record_consume()), elastic against fixed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench.h"
#include "liblfq.h"

#define SLOT		64
#define PAUSE_EVERY	4096
#define PAUSE_NS	50000

/* A record's payload: with its 8-byte header, one SLOT of the ring. */
#define REC_LEN		(SLOT - 8)

/*
 * A queue of @slots SLOT-byte slots (@rec: a record queue of as many
 * bytes), elastic if @seg_max (segments of that size).
 */
static struct lfq *make(uint32_t slots, uint32_t seg_min, uint32_t seg_max,
			int rec)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = SLOT,
		 .slot_count = slots, .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q;

	if (rec) {
		o.slot_size = 1;
		o.slot_count = slots * SLOT;
		o.flags = LFQ_CREATE_RECORDS;
	}
	if (seg_max) {
		o.flags |= LFQ_CREATE_ELASTIC;
		o.seg_min = seg_min;
		o.seg_max = seg_max;
	}
	return lfq_create(&o, &q) ? NULL : q;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = bench_now_ns() + ns;

	while (bench_now_ns() < end)
		;
}

struct run {
	struct lfq *q;
	uint64_t msgs;
	unsigned int batch;
	int pause;
	int rec;		/* records: one per reservation, runs to consume */
	double *lat;		/* producer: each push's ns, or NULL */
	uint64_t bad;
};

static void *producer(void *arg)
{
	struct run *r = arg;
	uint64_t i = 0, t0 = 0;
	void *span;
	int n, k;

	bench_pin(bench_cpu(0));
	while (r->rec && i < r->msgs) {
		if (lfq_record_reserve(r->q, REC_LEN, &span))
			continue;
		*(uint64_t *)span = i++;
		lfq_record_commit(r->q);
	}
	while (i < r->msgs) {
		/* A push's time includes every retry while the queue is full. */
		if (r->lat && !t0)
			t0 = bench_now_ns();
		n = lfq_reserve(r->q, r->batch, &span);
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			break;
		for (k = 0; k < n; k++)
			*(uint64_t *)((char *)span + (size_t)k * SLOT) = i + k;
		lfq_commit(r->q, (uint32_t)n);
		if (r->lat) {
			r->lat[i] = (double)(bench_now_ns() - t0);
			t0 = 0;
		}
		i += (uint64_t)n;
	}
	return NULL;
}

/* A record queue's consumer: each record's first word, in order. */
struct rec_take {
	uint64_t got, bad;
};

static int rec_take(void *ctx, const void *rec, uint32_t len)
{
	struct rec_take *t = ctx;

	t->bad += len != REC_LEN || *(const uint64_t *)rec != t->got;
	t->got++;
	return 0;
}

/* Stream r->msgs through r->q; returns messages per second. */
static double stream(struct run *r)
{
	struct rec_take rt = { 0, 0 };
	uint64_t got = 0, t0;
	const void *span;
	pthread_t t;
	int n, k;

	r->bad = 0;
	t0 = bench_now_ns();
	pthread_create(&t, NULL, producer, r);
	bench_pin(bench_cpu(1));
	while (r->rec && rt.got < r->msgs) {
		n = lfq_record_consume(r->q, r->batch, rec_take, &rt);
		if (n < 0)
			break;
		got += (uint64_t)n;
		if (r->pause && n && got % PAUSE_EVERY < (uint64_t)n)
			spin_ns(PAUSE_NS);
	}
	r->bad += rt.bad;
	while (!r->rec && got < r->msgs) {
		n = lfq_peek(r->q, r->batch, &span);
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			break;
		for (k = 0; k < n; k++)
			r->bad += *(const uint64_t *)((const char *)span +
						      (size_t)k * SLOT) != got + k;
		lfq_release(r->q, (uint32_t)n);
		got += (uint64_t)n;
		if (r->pause && got % PAUSE_EVERY < (uint64_t)n)
			spin_ns(PAUSE_NS);
	}
	pthread_join(t, NULL);
	bench_unpin();
	return r->msgs / ((bench_now_ns() - t0) / 1e9);
}

/* One system of a case: the queue's geometry. */
struct geom {
	const char *system;
	uint32_t slots, seg_min, seg_max;	/* as make() */
};

/* One run of @g; its figures go in slot @i of each array. 0 or -errno. */
static int run_once(const struct geom *g, unsigned int batch, int pause,
		    int rec, unsigned int i, double *v, double *empty,
		    double *full, double *cycles_s)
{
	struct run r = { .msgs = bench_opts.msgs, .batch = batch,
			 .pause = pause, .rec = rec };
	uint64_t t0 = bench_now_ns();
	struct lfq_stats st;

	r.q = make(g->slots, g->seg_min, g->seg_max, rec);
	if (!r.q)
		return -ENOMEM;
	v[i] = stream(&r) / 1e6;
	lfq_get_stats(r.q, &st);
	empty[i] = (double)st.empty_events / (double)r.msgs;
	full[i] = (double)st.full_events / (double)r.msgs;
	if (cycles_s)
		cycles_s[i] = st.shrinks / ((bench_now_ns() - t0) / 1e9);
	lfq_close(r.q);
	return r.bad ? -EPROTO : 0;
}

/*
 * bench_opts.repeats runs of one case, the elastic queue @el and the
 * fixed one @fx taking turns (a change of the machine's mode between two
 * blocks of runs would skew their ratio), each run after a probe of the
 * mode (struct bench_modes: every row has its medians per mode).
 * Recorded: Mmsg/s, the ring's state (empty polls and full retries per
 * message: a consumer that keeps catching up drains it run by run), the
 * elastic queue's grow/shrink cycles per second if @cycles, and the
 * cross-core round trip ("machine").
 */
static int record_pair(const char *scen, const struct geom *el,
		       const struct geom *fx, unsigned int batch, int pause,
		       int rec, int cycles)
{
	static const char *const metric[] = {
		"throughput", "empty polls", "full retries",
	};
	static const char *const unit[] = { "Mmsg/s", "per msg", "per msg" };
	double v[3][2][8], cyc[8];
	size_t run[2][8];
	unsigned int i, n = bench_opts.repeats < 8 ? bench_opts.repeats : 8;
	const struct geom *g[2] = { el, fx };
	struct bench_modes modes;
	int err = 0;

	if (bench_modes_init(&modes, 2 * n))
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		for (int k = 0; k < 2 && !err; k++) {
			run[k][i] = bench_modes_next(&modes);
			err = run_once(g[k], batch, pause, rec, i, v[0][k],
				       v[1][k], v[2][k],
				       k == 0 && cycles ? cyc : NULL);
		}
	}
	if (err) {
		bench_modes_free(&modes);
		return err;
	}
	bench_modes_done(&modes);
	for (int k = 0; k < 2; k++) {
		for (int m = 0; m < 3; m++)
			bench_result_moded("elastic", scen, g[k]->system,
					   metric[m], unit[m],
					   m ? BENCH_LOWER : BENCH_HIGHER,
					   v[m][k], run[k], n, &modes);
		if (k == 0 && cycles)
			bench_result_moded("elastic", scen, g[k]->system,
					   "grow/shrink cycles", "per s",
					   BENCH_HIGHER, cyc, run[k], n,
					   &modes);
	}
	bench_modes_record(&modes, "elastic", scen);
	bench_modes_free(&modes);
	return 0;
}

/*
 * One thread pushes @n messages (no consumer), then pops them: with
 * @slots-slot segments and every spare pooled. Returns ns per message.
 */
static double push_then_pop(uint32_t slots, uint32_t segs, uint64_t n)
{
	struct lfq *q = make(slots, segs, segs, 0);
	uint64_t i, t0, m[SLOT / 8] = { 0 };

	if (!q)
		return -1;
	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		if (lfq_push(q, m, sizeof(m)))
			break;
	while (!lfq_pop(q, m, sizeof(m)))
		;
	t0 = bench_now_ns() - t0;
	lfq_close(q);
	return i == n ? (double)t0 / n : -1;
}

static int record_switch(void)
{
	uint64_t n = 64ull * 1024;	/* 1024 segments of 64, 1 of 65536 (of 2) */
	double small[8], big[8], sw[8];
	unsigned int i, k = bench_opts.repeats < 8 ? bench_opts.repeats : 8;

	for (i = 0; i < k; i++) {
		small[i] = push_then_pop(64, 1024, n);
		big[i] = push_then_pop(65536, 2, n);
		if (small[i] < 0 || big[i] < 0)
			return -ENOMEM;
		/* A switch every 64 messages: the difference, times 64. */
		sw[i] = (small[i] - big[i]) * 64;
	}
	bench_result_samples("elastic", "segment switch", "lfq",
			     "switch cost", "ns", BENCH_LOWER, sw, k);
	return 0;
}

/* Push latency while the consumer pauses: elastic grows, fixed waits. */
static int record_latency(void)
{
	uint64_t n = bench_opts.quick ? 100000 : 2000000;
	double *lat = calloc(n, sizeof(double));
	struct run r = { .msgs = n, .batch = 1, .pause = 1, .lat = lat };
	char *system[] = { "lfq", "lfq fixed" };
	int i;

	if (!lat)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		r.q = i ? make(4096, 0, 0, 0) : make(64, 64, 1024, 0);
		if (!r.q)
			break;
		stream(&r);
		lfq_close(r.q);
		bench_result("elastic", "push during growth", system[i],
			     "push p50", "ns", BENCH_LOWER,
			     bench_percentile(lat, n, 0.50), 0, 0);
		bench_result("elastic", "push during growth", system[i],
			     "push p99", "ns", BENCH_LOWER,
			     bench_percentile(lat, n, 0.99), 0, 0);
		bench_result("elastic", "push during growth", system[i],
			     "push max", "ns", BENCH_LOWER,
			     bench_percentile(lat, n, 1.0), 0, 0);
	}
	free(lat);
	return i == 2 ? 0 : -ENOMEM;
}

/* Bytes the queue's memfd holds now. */
static double held_kib(struct lfq *q)
{
	struct stat st;

	return fstat(lfq_fd(q), &st) ? -1 : st.st_blocks * 512.0 / 1024;
}

/*
 * A burst of 60000 messages into an idle queue, a consumer that starts
 * 100 ms later and drains 300 messages per ms (200 ms), then idles: the
 * memory held, every 20 ms for 800 ms.
 */
static int record_memory(void)
{
	const char *system[] = { "lfq", "lfq fixed" };
	uint64_t m[SLOT / 8] = { 0 }, burst = 60000, popped, t0, t, now, due;
	char scen[48];
	struct lfq *q;
	int i, s, k;

	for (i = 0; i < 2; i++) {
		q = i ? make(65536, 0, 0, 0) : make(64, 2, 1024, 0);
		if (!q)
			return -ENOMEM;
		for (k = 0; k < (int)burst; k++)
			lfq_push(q, m, sizeof(m));
		t0 = bench_now_ns();
		popped = 0;
		for (s = 0; s <= 40; s++) {
			t = t0 + (uint64_t)s * 20000000;
			while (bench_now_ns() < t) {
				/* From 100 ms on, 300 messages per ms. */
				now = bench_now_ns();
				due = now > t0 + 100000000 ?
				      (now - t0 - 100000000) / 1000000 * 300 :
				      0;
				if (popped < burst && popped < due &&
				    !lfq_pop(q, m, sizeof(m)))
					popped++;
				/* An idle consumer sleeps: it trims. */
				if (popped == burst)
					lfq_wait_data(q, 1, 1000000);
			}
			snprintf(scen, sizeof(scen), "t=%03dms", s * 20);
			bench_result("elastic-memory", scen, system[i], "held",
				     "KiB", BENCH_LOWER, held_kib(q), 0, 0);
		}
		lfq_close(q);
	}
	return 0;
}

int suite_elastic(void)
{
	/* Two segments, both allocated: the elastic path's own cost. */
	static const struct geom steady = { "lfq", 4096, 2, 2 };
	/* A pausing consumer: 64-slot segments grow and shrink. */
	static const struct geom growing = { "lfq", 64, 2, 1024 };
	static const struct geom fixed = { "lfq fixed", 4096, 0, 0 };
	int rc = 0, err;

	err = record_pair("steady 64B b32", &steady, &fixed, 32, 0, 0, 0);
	rc = err ?: rc;
	err = record_pair("steady 64B b1", &steady, &fixed, 1, 0, 0, 0);
	rc = err ?: rc;
	err = record_pair("growing 64B b32", &growing, &fixed, 32, 1, 0, 1);
	rc = err ?: rc;
	/* Records: the same, 56-byte records in 256 KiB (or 4 KiB) segments. */
	err = record_pair("steady records 56B", &steady, &fixed, 32, 0, 1, 0);
	rc = err ?: rc;
	err = record_pair("growing records 56B", &growing, &fixed, 32, 1, 1, 1);
	rc = err ?: rc;
	err = record_switch();
	rc = err ?: rc;
	err = record_latency();
	rc = err ?: rc;
	err = record_memory();
	return err ?: rc;
}
