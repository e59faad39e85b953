/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sources_util.h - what the kernel event source tests (tests/vm/sources_*.c)
 * share: building a struct lfq_source, per-producer accounting of SYNTH
 * records (complete, in order, gaps covered by drops), draining a queue,
 * reading its counters, reaping children.
 * Header-only, static inline: each program takes what it uses.
 */
#ifndef LFQ_TEST_SOURCES_UTIL_H
#define LFQ_TEST_SOURCES_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "tap.h"
#include "test_util.h"

#define MS		1000000ll
#define SEC		1000000000ll

/* A SYNTH source (size set). */
static inline struct lfq_source synth(uint32_t threads, uint32_t hard,
				      uint32_t soft, uint64_t count,
				      uint64_t timer_period_ns)
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

/* A source of @type with nothing else set (size set). */
static inline struct lfq_source of_type(uint32_t type)
{
	return (struct lfq_source){ .size = sizeof(struct lfq_source),
				    .type = type };
}

/* lfq_get_stats(), or the end of the test program. */
static inline void get_stats(struct lfq *q, struct lfq_stats *st)
{
	int err = lfq_get_stats(q, st);

	if (err) {
		tap_diag("LFQ_IOC_STATS: %d", err);
		exit(1);
	}
}

/*
 * The end of a drain: lfq_peek() said @r (<= 0), which must be -EAGAIN
 * (empty); any other answer (-EPERM: the handle lost its consumer role?)
 * ends the test program.
 */
static inline void drained_or_exit(int r)
{
	if (r != -EAGAIN) {
		tap_diag("lfq_peek: %d (%s), want -EAGAIN once drained", r,
			 ename(-r));
		exit(1);
	}
}

/* Drain @q; count records per synth context in @per (4 entries, or NULL). */
static inline uint64_t drain_count(struct lfq *q, uint64_t *per)
{
	uint32_t size = lfq_slot_size(q), i;
	const void *span;
	uint64_t n = 0;
	int got;

	while ((got = lfq_peek(q, 64, &span)) > 0) {
		for (i = 0; i < (uint32_t)got; i++) {
			const struct lfq_event_synth *e = (const void *)
				((const unsigned char *)span + (size_t)i * size);

			if (per && e->hdr.type == LFQ_EVENT_SYNTH &&
			    e->context <= 3)
				per[e->context]++;
		}
		lfq_release(q, (uint32_t)got);
		n += (uint64_t)got;
	}
	drained_or_exit(got);
	return n;
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
	unsigned int ncpus;	/* hdr.cpu must be below this */
};

/* Start accounting: nothing expected yet, records from now on. */
static inline void synth_start(struct synth_set *s)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	memset(s, 0, sizeof(*s));
	s->ncpus = n > 0 ? (unsigned int)n : 1;
	s->t0 = now_ns();
}

/* Producers @first..@first + @n - 1 of @context each make @count records. */
static inline void synth_expect(struct synth_set *s, uint32_t context,
				uint32_t first, uint32_t n, uint64_t count)
{
	uint32_t i;

	for (i = first; i < first + n; i++)
		s->t[context][i].expect = count;
}

/* Account one LFQ_EVENT_SYNTH record. */
static inline void synth_note(struct synth_set *s,
			      const struct lfq_event_synth *e)
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
	if (e->hdr.cpu >= s->ncpus || (int64_t)e->hdr.time_ns < s->t0 ||
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

static inline struct synth_sum synth_sum(const struct synth_set *s,
					 uint32_t context)
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

#endif /* LFQ_TEST_SOURCES_UTIL_H */
