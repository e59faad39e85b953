// SPDX-License-Identifier: GPL-2.0
/*
 * elastic_burst.c - a burst of 100 times an elastic queue's minimum
 * capacity (seg_min * slot_count records) from LFQ_SOURCE_SYNTH sources
 * (kernel threads, hardirq and softirq timers) into a consumer that does
 * not read until the burst is over:
 *
 *   A. seg_max holds the burst: the queue grows to exactly the segments
 *	the burst needs, and every record arrives once, in its producer's
 *	order; the only drops are records a hardirq or softirq producer
 *	made while the pool was empty (the work item refilling it had not
 *	run yet): at most 0.5% (MAX_DROP_PPM; -D PPM sets another bound:
 *	the debug and KCSAN kernels run the work item far slower than the
 *	timers), and each producer's gaps are exactly the records counted
 *	dropped;
 *   B. seg_max is smaller than the burst: exactly the records beyond
 *	seg_max * slot_count are dropped (stats.dropped), the ones that
 *	fit arrive in order, and each producer's gaps add up to the drops;
 *
 * and, after the drain and the idle period (seg_idle_ms, lowered to 200
 * ms here and restored), memory is back to the minimum: the queue's byte
 * count (stats.bytes) as it was after creation, lfq.ko's vmaps
 * (/proc/vmallocinfo) likewise, /proc/meminfo's VmallocUsed back to its
 * value before, but for the stacks of kernel threads started meanwhile
 * (KernelStack: the SYNTH threads, workqueue workers, which idle on), and
 * the memory cgroup's memory.current back to its value after creation,
 * within a slack (VMALLOC_SLACK_KB, MEMCG_SLACK). Segments are vmapped
 * (vmap()), which VmallocUsed does not count on 6.1: the vmaps and the
 * memory cgroup are what see them.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elastic_util.h"
#include "lfq_event.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define SLOT		32u	/* sizeof(struct lfq_event_synth) */
#define SEG		512u	/* slots per segment: 16 KiB + 4 KiB commit words */
#define SEG_MIN		2u
#define MIN_CAP		(SEG_MIN * SEG)
#define BURST		(100u * MIN_CAP)	/* 102400 records */
#define SEG_MAX_A	256u	/* the burst needs BURST / SEG = 200 */
#define SEG_MAX_B	20u	/* holds 10240 of them */
#define NPROD		4u	/* 2 threads, a hardirq and a softirq timer */
#define THREAD_NS	40000ull
#define TIMER_NS	100000ull
#define IDLE_MS		200
#define VMALLOC_SLACK_KB 256ll
#define MEMCG_SLACK	(512ll * 1024)
#define MEMCG_GROUP	"lfq-elastic-burst"
#define DEADLINE_NS	(240ll * 1000000000)
#define MAX_DROP_PPM	5000u

static unsigned long max_drop_ppm = MAX_DROP_PPM;

static long long idle_saved = -1;
static int have_memcg;

static void restore_idle(void)
{
	if (idle_saved >= 0 && el_param_set("seg_idle_ms", idle_saved) == 0)
		idle_saved = -1;
}

/* Memory as the system sees it. */
struct mem {
	long long vmalloc_kb, stack_kb, vmap, vmap_areas, memcg;
};

static struct mem mem_now(void)
{
	struct mem m;

	m.vmalloc_kb = el_meminfo_kb("VmallocUsed");
	m.stack_kb = el_meminfo_kb("KernelStack");
	m.vmap = el_lfq_vmap_bytes(&m.vmap_areas);
	m.memcg = have_memcg ? el_memcg_current(MEMCG_GROUP) : -1;
	return m;
}

/* Per-producer accounts, keyed by (context, producer). */
static struct el_seq accts[4][NPROD];

static void expect_producers(uint64_t count)
{
	memset(accts, 0, sizeof(accts));
	accts[LFQ_CONTEXT_THREAD][0].count = count;
	accts[LFQ_CONTEXT_THREAD][1].count = count;
	accts[LFQ_CONTEXT_HARDIRQ][0].count = count;
	accts[LFQ_CONTEXT_SOFTIRQ][1].count = count;
}

static struct el_seq_sum sum_producers(void)
{
	struct el_seq all[NPROD] = {
		accts[LFQ_CONTEXT_THREAD][0], accts[LFQ_CONTEXT_THREAD][1],
		accts[LFQ_CONTEXT_HARDIRQ][0], accts[LFQ_CONTEXT_SOFTIRQ][1],
	};

	return el_seq_sum(all, NPROD);
}

/* Drain @q into the accounts: records taken; *@stray the unexpected. */
static uint64_t drain(struct lfq *q, uint64_t *stray)
{
	const struct lfq_event_synth *e;
	uint64_t n = 0;
	const void *span;
	int got, i;

	while ((got = lfq_peek(q, SEG, &span)) > 0) {
		e = span;
		for (i = 0; i < got; i++, e++) {
			if (e->hdr.type != LFQ_EVENT_SYNTH ||
			    e->hdr.size != sizeof(*e) || e->context < 1 ||
			    e->context > 3 || e->producer >= NPROD ||
			    !accts[e->context][e->producer].count) {
				if ((*stray)++ < 3)
					tap_diag("  stray record: type %u size %u producer %u context %u",
						 e->hdr.type, e->hdr.size,
						 e->producer, e->context);
				continue;
			}
			el_seq_note(&accts[e->context][e->producer], e->seq,
				    "producer", e->producer);
		}
		lfq_release(q, (uint32_t)got);
		n += (uint64_t)got;
	}
	if (got != -EAGAIN)
		tap_diag("  lfq_peek: %d (%s)", got, ename(-got));
	return n;
}

/*
 * Attach the burst's sources: 2 threads, then a hardirq and a softirq
 * timer (a second source, so producers 0 and 1 of those contexts), each
 * making BURST / NPROD records. 0, or -1 after a failed TAP line.
 */
static int attach_burst(struct lfq *q, int ids[2], const char *name)
{
	struct lfq_source thr = {
		.size = sizeof(thr), .type = LFQ_SOURCE_SYNTH, .threads = 2,
		.count = BURST / NPROD, .thread_period_ns = THREAD_NS,
	};
	struct lfq_source tmr = {
		.size = sizeof(tmr), .type = LFQ_SOURCE_SYNTH,
		.hardirq_timers = 1, .softirq_timers = 1,
		.count = BURST / NPROD, .timer_period_ns = TIMER_NS,
	};

	expect_producers(BURST / NPROD);
	ids[0] = lfq_source_attach(q, &thr);
	ids[1] = lfq_source_attach(q, &tmr);
	return tap_ok(ids[0] >= 0 && ids[1] >= 0,
		      "%s: SYNTH 2 threads + hardirq and softirq timers, %u records each (%u = 100 x seg_min %u x %u slots), consumer paused (%d, %d)",
		      name, BURST / NPROD, BURST, SEG_MIN, SEG, ids[0],
		      ids[1]) ? 0 : -1;
}

/* A case that could not start: its remaining @n checks fail. */
static void fail_rest(struct lfq *q, int n, const char *name)
{
	while (n--)
		tap_ok(0, "%s: not run (no source)", name);
	lfq_close(q);
}

/* Wait for every producer to finish: the counters say all were placed. */
static int wait_burst(struct lfq *q, struct lfq_stats *st, double *secs)
{
	int64_t t0 = now_ns();

	for (;;) {
		*st = el_stats(q);
		if (st->produced + st->dropped >= BURST)
			break;
		if (now_ns() - t0 > DEADLINE_NS) {
			tap_diag("  burst not over after 240 s: produced %llu dropped %llu",
				 (unsigned long long)st->produced,
				 (unsigned long long)st->dropped);
			return -1;
		}
		msleep(50);
	}
	*secs = (now_ns() - t0) / 1e9;
	/* Nothing more comes: every producer has made its count. */
	msleep(100);
	*st = el_stats(q);
	return 0;
}

/* After the drain: back to the minimum within the idle period. */
static void check_memory(struct lfq *q, const char *name,
			 const struct lfq_stats *st0, const struct lfq_stats *peak,
			 const struct mem *base, const struct mem *made,
			 const struct mem *top, int all)
{
	struct lfq_stats st;
	struct mem after;
	int ms = el_wait_bytes(q, st0->bytes, 10000, &st), vms, cgms;

	/* The count drops as a spare goes; its pages a grace period later. */
	vms = el_wait_vmap(made->vmap, 5000);
	for (cgms = 0; cgms < 5000; cgms += 20) {
		after = mem_now();
		if (!have_memcg || after.memcg - made->memcg <= MEMCG_SLACK)
			break;
		msleep(20);
	}
	tap_ok(ms >= 0 && peak->bytes > st0->bytes,
	       "%s: stats.bytes %llu after creation, %llu at the peak, %llu %d ms after the drain (seg_idle_ms %d); %llu segments, %llu spares",
	       name, (unsigned long long)st0->bytes,
	       (unsigned long long)peak->bytes, (unsigned long long)st.bytes,
	       ms, IDLE_MS, (unsigned long long)st.segments,
	       (unsigned long long)st.pool);
	tap_ok(made->vmap > 0 && top->vmap > made->vmap && vms >= 0 &&
	       after.vmap == made->vmap,
	       "%s: lfq vmaps (/proc/vmallocinfo) %lld bytes in %lld areas after creation, %lld at the peak, %lld in %lld areas %d ms later",
	       name, made->vmap, made->vmap_areas, top->vmap, after.vmap,
	       after.vmap_areas, vms);
	if (!all)
		return;
	tap_ok(base->vmalloc_kb >= 0 && base->stack_kb >= 0 &&
	       llabs((after.vmalloc_kb - base->vmalloc_kb) -
		     (after.stack_kb - base->stack_kb)) <= VMALLOC_SLACK_KB,
	       "%s: VmallocUsed %lld kB before, %lld after creation, %lld at the peak, %lld after; KernelStack %lld kB before, %lld after: back within %lld kB but for the new stacks",
	       name, base->vmalloc_kb, made->vmalloc_kb, top->vmalloc_kb,
	       after.vmalloc_kb, base->stack_kb, after.stack_kb,
	       VMALLOC_SLACK_KB);
	if (!have_memcg) {
		tap_skip("%s: no memory cgroup in this VM: memory.current not checked",
			 name);
		return;
	}
	tap_ok(made->memcg >= 0 &&
	       top->memcg - made->memcg >= (long long)(peak->bytes - st0->bytes) / 2 &&
	       after.memcg - made->memcg <= MEMCG_SLACK,
	       "%s: memcg memory.current %lld before, %lld after creation, %lld at the peak (+%lld KiB), %lld after (within %lld KiB of creation; %d ms)",
	       name, base->memcg, made->memcg, top->memcg,
	       (top->memcg - made->memcg) / 1024, after.memcg,
	       MEMCG_SLACK / 1024, cgms);
}

/* No queue left from before (freed a grace period after its close). */
static struct mem quiet_base(void)
{
	if (el_wait_vmap(0, 5000) < 0)
		tap_diag("  lfq vmaps of earlier queues still there: %lld bytes",
			 el_lfq_vmap_bytes(NULL));
	return mem_now();
}

static void test_fits(void)
{
	struct lfq_stats st0, st;
	struct mem base = quiet_base(), made, top;
	struct el_seq_sum sum;
	uint64_t got, stray = 0;
	struct lfq *q;
	double secs = 0;
	int ids[2], err;

	q = el_queue(LFQ_TYPE_MPSC, SLOT, SEG, SEG_MIN, SEG_MAX_A);
	st0 = el_stats(q);
	made = mem_now();
	if (attach_burst(q, ids, "A")) {
		fail_rest(q, 6, "A");
		return;
	}
	err = wait_burst(q, &st, &secs);
	top = mem_now();
	tap_ok(!err && st.dropped * 1000000 <= (uint64_t)BURST * max_drop_ppm &&
	       st.produced + st.dropped == BURST &&
	       st.segments == (st.produced + SEG - 1) / SEG &&
	       st.segments_peak == st.segments,
	       "A: seg_max %u: %llu records placed in %.1f s, dropped %llu with the pool empty (at most %lu), %llu segments (the burst needs %u)",
	       SEG_MAX_A, (unsigned long long)st.produced, secs,
	       (unsigned long long)st.dropped,
	       (unsigned long)((uint64_t)BURST * max_drop_ppm / 1000000),
	       (unsigned long long)st.segments, BURST / SEG);
	got = drain(q, &stray);
	sum = sum_producers();
	tap_ok(got == st.produced && !sum.bad && sum.missing == st.dropped &&
	       !stray,
	       "A: drained %llu: every record once, in its producer's order; the gaps are the drops (%llu missing, %llu dropped, repeated or reordered %llu, stray %llu)",
	       (unsigned long long)got, (unsigned long long)sum.missing,
	       (unsigned long long)st.dropped,
	       (unsigned long long)sum.bad, (unsigned long long)stray);
	lfq_source_detach(q, ids[0]);
	lfq_source_detach(q, ids[1]);
	check_memory(q, "A", &st0, &st, &base, &made, &top, 1);
	lfq_close(q);
}

static void test_overflows(void)
{
	const uint64_t fit = (uint64_t)SEG_MAX_B * SEG;
	struct lfq_stats st0, st, after;
	struct mem base = quiet_base(), made, top;
	struct el_seq_sum sum;
	uint64_t got, stray = 0;
	struct lfq *q;
	double secs = 0;
	int ids[2], err;

	q = el_queue(LFQ_TYPE_MPSC, SLOT, SEG, SEG_MIN, SEG_MAX_B);
	st0 = el_stats(q);
	made = mem_now();
	if (attach_burst(q, ids, "B")) {
		fail_rest(q, 4, "B");
		return;
	}
	err = wait_burst(q, &st, &secs);
	top = mem_now();
	tap_ok(!err && st.produced == fit && st.dropped == BURST - fit &&
	       st.segments == SEG_MAX_B,
	       "B: seg_max %u holds %llu: %llu placed, dropped %llu == %u - %llu exactly, in %.1f s",
	       SEG_MAX_B, (unsigned long long)fit,
	       (unsigned long long)st.produced,
	       (unsigned long long)st.dropped, BURST,
	       (unsigned long long)fit, secs);
	got = drain(q, &stray);
	sum = sum_producers();
	after = el_stats(q);
	tap_ok(got == fit && !sum.bad && !stray &&
	       sum.missing == after.dropped && sum.seen == fit,
	       "B: drained %llu in each producer's order (repeated or reordered %llu); the producers' gaps add up to stats.dropped (%llu missing, %llu dropped)",
	       (unsigned long long)got, (unsigned long long)sum.bad,
	       (unsigned long long)sum.missing,
	       (unsigned long long)after.dropped);
	lfq_source_detach(q, ids[0]);
	lfq_source_detach(q, ids[1]);
	check_memory(q, "B", &st0, &st, &base, &made, &top, 0);
	lfq_close(q);
}

int main(int argc, char **argv)
{
	long long v;
	char *end;
	int c;

	while ((c = getopt(argc, argv, "D:")) != -1) {
		if (c != 'D')
			goto usage;
		errno = 0;
		max_drop_ppm = strtoul(optarg, &end, 10);
		if (errno || *end || max_drop_ppm > 1000000)
			goto usage;
	}
	tap_plan(2 + 7 + 5);
	idle_saved = el_param("seg_idle_ms");
	atexit(restore_idle);
	tap_ok(idle_saved >= 0 && !el_param_set("seg_idle_ms", IDLE_MS) &&
	       el_param("seg_idle_ms") == IDLE_MS,
	       "seg_idle_ms %lld -> %d for this test", idle_saved, IDLE_MS);
	have_memcg = !el_memcg_join(MEMCG_GROUP);
	test_fits();
	test_overflows();
	if (have_memcg)
		el_memcg_leave(MEMCG_GROUP);
	v = idle_saved;
	restore_idle();
	tap_ok(v >= 0 && idle_saved < 0 && el_param("seg_idle_ms") == v,
	       "seg_idle_ms restored to %lld", v);
	return tap_done();
usage:
	fprintf(stderr, "usage: %s [-D PPM]  (A's drop bound, default %u)\n",
		argv[0], MAX_DROP_PPM);
	return 2;
}
