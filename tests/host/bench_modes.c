// SPDX-License-Identifier: MIT
/*
 * bench_modes.c - lfq-bench's comparisons by the machine's mode
 * (tools/bench/bench_modes.c, bench_targets.c): runs classed fast, slow
 * or changing from the probes around them; rows with a median per mode;
 * targets compared within each mode (a case that changed mode must not
 * rank lfq's fast runs against a peer's slow ones); the mode fields
 * carried through the tab-separated lines that bring the VM's rows back.
 * Synthetic probes and figures: nothing here measures.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "tap.h"

struct bench_opts bench_opts;

/* The targets report, as text, in a buffer the caller frees. */
static char *targets(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	bench_report_targets(f, 0);
	fclose(f);
	return buf;
}

/* The report's line of @target for @scen containing @want ("met" ...). */
static int has_line(const char *report, const char *target,
		    const char *scen, const char *want)
{
	for (const char *p = report; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[256];

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (!strncmp(line, target, strlen(target)) &&
		    strstr(line, scen) && strstr(line, want))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* A finished case from @n + 1 probes (ns). */
static void modes_from(struct bench_modes *m, const double *probe, size_t n)
{
	bench_modes_init(m, n);
	for (size_t k = 0; k <= n; k++)
		m->probe[k] = probe[k];
	m->runs = n;
	bench_modes_split(m);
}

static void classify(void)
{
	/* fast, changing (up), slow, changing (down), fast, failed probe */
	static const double p[] = { 80, 75, 360, 370, 80, 90, -1 };
	struct bench_modes m;

	modes_from(&m, p, 6);
	tap_ok(m.split == 150 && m.both, "split is twice the lowest probe (%g), both modes seen",
	       m.split);
	tap_ok(bench_modes_of(&m, 0) == 0 && bench_modes_of(&m, 4) == 0,
	       "runs between two fast probes are fast");
	tap_ok(bench_modes_of(&m, 2) == 1, "a run between two slow probes is slow");
	tap_ok(bench_modes_of(&m, 1) == -1 && bench_modes_of(&m, 3) == -1,
	       "a run across a change of mode is in neither");
	tap_ok(bench_modes_of(&m, 5) == -1 && bench_modes_of(&m, 6) == -1,
	       "a failed probe, or a run past the last, is in neither");
	bench_modes_free(&m);

	{
		static const double q[] = { 350, 360, 400, 380 };

		modes_from(&m, q, 3);
		tap_ok(!m.both && bench_modes_of(&m, 0) == 0 &&
		       bench_modes_of(&m, 2) == 0,
		       "a case all in one mode (the slow one) is one mode");
		bench_modes_free(&m);
	}
}

/*
 * Case "A": the mode changes during the third run; lfq's and the peer's
 * runs are compared within each mode. Case "B": one mode only. Case "C":
 * lfq ran only fast, the peer only slow.
 */
static void compare(void)
{
	/* runs in order: lfq, peer, lfq, peer, lfq, peer */
	static const double pa[] = { 80, 80, 80, 360, 360, 360, 360 };
	static const double pc[] = { 80, 80, 360, 360 };
	double lfq_a[] = { 30, 12, 11 }, peer_a[] = { 20, 8, 9 };
	size_t lfq_run[] = { 0, 2, 4 }, peer_run[] = { 1, 3, 5 };
	double lfq_c[] = { 30 }, peer_c[] = { 10 };
	size_t lfq_crun[] = { 0 }, peer_crun[] = { 2 };
	const struct bench_row *r;
	struct bench_modes m;
	char *rep;

	modes_from(&m, pa, 6);
	bench_result_moded("spsc", "A", "lfq", "throughput", "Mmsg/s",
			   BENCH_HIGHER, lfq_a, lfq_run, 3, &m);
	bench_result_moded("spsc", "A", "ck_ring", "throughput", "Mmsg/s",
			   BENCH_HIGHER, peer_a, peer_run, 3, &m);
	bench_modes_record(&m, "spsc", "A");
	bench_modes_free(&m);
	r = bench_find("spsc", "A", "lfq", "throughput");
	tap_ok(r && r->moded && r->value == 12 && r->mode_runs[0] == 1 &&
	       r->mode_value[0] == 30 && r->mode_runs[1] == 1 &&
	       r->mode_value[1] == 11,
	       "lfq's row: median 12 of all; fast 30, slow 11, the run across the change in neither");
	r = bench_find("spsc", "A", "ck_ring", "throughput");
	tap_ok(r && r->moded && r->value == 9 && r->mode_runs[0] == 1 &&
	       r->mode_value[0] == 20 && r->mode_runs[1] == 2 &&
	       r->mode_value[1] == 8.5,
	       "the peer's row: median 9 of all; fast 20 (1 run), slow 8.5 (2)");
	r = bench_find("spsc", "A", "machine", "cross-core rtt");
	tap_ok(r && r->moded && r->mode_runs[0] == 3 && r->mode_runs[1] == 4,
	       "the machine row holds the probes, 3 fast and 4 slow");

	bench_result("spsc", "B", "lfq", "throughput", "Mmsg/s", BENCH_HIGHER,
		     40, 40, 40);
	bench_result("spsc", "B", "ck_ring", "throughput", "Mmsg/s",
		     BENCH_HIGHER, 20, 20, 20);

	modes_from(&m, pc, 3);
	bench_result_moded("spsc", "C", "lfq", "throughput", "Mmsg/s",
			   BENCH_HIGHER, lfq_c, lfq_crun, 1, &m);
	bench_result_moded("spsc", "C", "ck_ring", "throughput", "Mmsg/s",
			   BENCH_HIGHER, peer_c, peer_crun, 1, &m);
	bench_modes_free(&m);

	rep = targets();
	tap_ok(rep && has_line(rep, "SPSC >= 1.25x best peer", "A [fast]", "1.50x  met"),
	       "A, fast mode: lfq 30 against 20, 1.50x, met");
	tap_ok(rep && has_line(rep, "SPSC >= 1.25x best peer", "A [slow]", "1.29x"),
	       "A, slow mode: lfq 11 against 8.5, 1.29x");
	tap_ok(rep && !has_line(rep, "SPSC >= 1.25x best peer", "A ", "1.33x"),
	       "A: no line over all runs (12 against 9)");
	tap_ok(rep && has_line(rep, "SPSC >= 1.25x best peer", "B ", "met") &&
	       !strstr(rep, "B [fast]"),
	       "B, one mode: one line over all runs");
	tap_ok(rep && has_line(rep, "SPSC >= 1.25x best peer", "C [modes mixed]", "met"),
	       "C, no common mode: compared over all runs, and marked");
	for (char *l = rep, *e; l && *l; l = e ? e + 1 : NULL) {
		e = strchr(l, '\n');
		if (e)
			*e = 0;
		tap_diag("%s", l);
	}
	free(rep);
}

/* The rows written as LFQ-BENCH lines and read back keep their modes. */
static void tsv(void)
{
	char path[] = "/tmp/lfq-bench-modes.XXXXXX";
	int fd = mkstemp(path), n;
	const struct bench_row *a, *b = NULL;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	size_t i;

	if (!f) {
		tap_ok(0, "a temporary file");
		return;
	}
	bench_report_tsv(f);
	fclose(f);
	for (i = 0; bench_row_at(i); i++)
		;
	n = bench_load_tsv(path);
	unlink(path);
	a = bench_find("spsc", "A", "lfq", "throughput");
	for (size_t j = i; bench_row_at(j); j++)
		if (!strcmp(bench_row_at(j)->scenario, "A") &&
		    !strcmp(bench_row_at(j)->system, "lfq"))
			b = bench_row_at(j);
	tap_ok(n == (int)i && a && b && b->moded == a->moded &&
	       b->mode_value[0] == a->mode_value[0] &&
	       b->mode_runs[0] == a->mode_runs[0] &&
	       b->mode_runs[1] == a->mode_runs[1] &&
	       b->mode_value[1] == a->mode_value[1],
	       "%d rows read back, lfq's modes as written", n);

	/* A line of an older lfq-bench (ten fields) still loads. */
	snprintf(path, sizeof(path), "/tmp/lfq-bench-modes.XXXXXX");
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		tap_ok(0, "a temporary file");
		return;
	}
	fprintf(f, "LFQ-BENCH\tspsc\tD\tlfq\tthroughput\tMmsg/s\tH\t5\t4\t6\n");
	fclose(f);
	n = bench_load_tsv(path);
	unlink(path);
	a = bench_find("spsc", "D", "lfq", "throughput");
	tap_ok(n == 1 && a && a->value == 5 && a->lo == 4 && a->hi == 6 &&
	       !a->moded && !a->mode_runs[0] && !a->mode_runs[1],
	       "an old ten-field line loads, without modes");
}

/*
 * A mode in which the best peer has no run gets no line: case "E", the
 * strongest peer ran only in the slow mode, a weak one in both.
 */
static void best_peer_missing(void)
{
	static const double pe[] = { 80, 80, 80, 80, 360, 360, 360 };
	double lfq_e[] = { 30, 9 }, weak[] = { 10, 3 }, strong[] = { 20 };
	size_t lfq_run[] = { 0, 4 }, weak_run[] = { 1, 5 }, strong_run[] = { 4 };
	struct bench_modes m;
	char *rep;

	modes_from(&m, pe, 6);
	bench_result_moded("spsc", "E", "lfq", "throughput", "Mmsg/s",
			   BENCH_HIGHER, lfq_e, lfq_run, 2, &m);
	bench_result_moded("spsc", "E", "boost spsc", "throughput", "Mmsg/s",
			   BENCH_HIGHER, weak, weak_run, 2, &m);
	bench_result_moded("spsc", "E", "ck_ring", "throughput", "Mmsg/s",
			   BENCH_HIGHER, strong, strong_run, 1, &m);
	bench_modes_free(&m);
	rep = targets();
	tap_ok(rep && !has_line(rep, "SPSC >= 1.25x best peer", "E [fast]", "") &&
	       has_line(rep, "SPSC >= 1.25x best peer", "E [slow]", "ck_ring 20"),
	       "E: no fast line (the best peer ran only slow); the slow line against it");
	free(rep);
}

/* Sets a row's medians per mode, as bench_result_moded() would. */
static void set_modes(struct bench_row *r, double fast, unsigned int nf,
		      double slow, unsigned int ns)
{
	r->moded = 1;
	r->mode_value[0] = fast;
	r->mode_runs[0] = nf;
	r->mode_value[1] = slow;
	r->mode_runs[1] = ns;
}

/*
 * MPSC scaling compares two cases, each probed on its own. At batch 32
 * both ran in both modes: 1 producer 800 M msg/s fast, 300 slow (500
 * over all); 4 producers 320 fast, 250 slow (290 over all). Over all
 * runs that would read 0.58x; by mode it is 0.40x fast and 0.83x slow.
 * At batch 1 they ran in one mode each, different ones: over all runs,
 * marked.
 */
static void cross_case(void)
{
	struct bench_row *r;
	char *rep;

	r = bench_result("mpsc", "8B b32 1p", "lfq", "throughput", "Mmsg/s",
			 BENCH_HIGHER, 500, 300, 800);
	set_modes(r, 800, 2, 300, 2);
	r = bench_result("mpsc", "8B b32 1p", "machine", "cross-core rtt",
			 "ns", BENCH_LOWER, 230, 80, 360);
	set_modes(r, 80, 3, 360, 3);
	r = bench_result("mpsc", "8B b32 4p", "lfq", "throughput", "Mmsg/s",
			 BENCH_HIGHER, 290, 250, 320);
	set_modes(r, 320, 2, 250, 1);
	r = bench_result("mpsc", "8B b32 4p", "machine", "cross-core rtt",
			 "ns", BENCH_LOWER, 90, 70, 380);
	set_modes(r, 75, 4, 370, 2);
	bench_result("mpsc", "8B b1 1p", "lfq", "throughput", "Mmsg/s",
		     BENCH_HIGHER, 40, 40, 40);
	bench_result("mpsc", "8B b1 1p", "machine", "cross-core rtt", "ns",
		     BENCH_LOWER, 80, 80, 80);
	bench_result("mpsc", "8B b1 4p", "lfq", "throughput", "Mmsg/s",
		     BENCH_HIGHER, 30, 30, 30);
	bench_result("mpsc", "8B b1 4p", "machine", "cross-core rtt", "ns",
		     BENCH_LOWER, 360, 360, 360);
	rep = targets();
	tap_ok(rep && has_line(rep, "MPSC 4 producers", "8B b32 4p [mode matched]",
			       "lfq 1 producer 800") &&
	       has_line(rep, "MPSC 4 producers", "8B b32 4p", "0.40x  MISSED"),
	       "4 producers against 1 in the fast mode: 320 against 800, 0.40x");
	tap_ok(rep && has_line(rep, "MPSC 4 producers", "8B b32 4p [mode matched]",
			       "lfq 1 producer 300") &&
	       has_line(rep, "MPSC 4 producers", "8B b32 4p", "0.83x  met") &&
	       !has_line(rep, "MPSC 4 producers", "8B b32 4p", "0.58x"),
	       "and in the slow mode: 250 against 300, 0.83x; no line over all runs");
	tap_ok(rep && has_line(rep, "MPSC 4 producers", "8B b1 4p [modes differ]",
			       "0.75x"),
	       "no mode to match: over all runs, marked");
	free(rep);
}

int main(void)
{
	tap_plan(20);
	classify();
	compare();
	tsv();
	best_peer_missing();
	cross_case();
	return tap_failed ? 1 : 0;
}
