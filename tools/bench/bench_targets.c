// SPDX-License-Identifier: MIT
/*
 * bench_targets.c - the targets set for lfq (issue 5's, as issue 18
 * revised them: instructions, IPC round trip, streaming, and the SPSC
 * figures in both loops), checked against the rows of this run and
 * reported (never enforced: a miss is a finding, and the exit status
 * stays 0). Each line names the target, the case, lfq's
 * figure, what it is compared with, the ratio and whether it is met; a
 * case that ran in both of the machine's modes has a line per mode.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

struct target_ctx {
	FILE *out;
	int md;
	unsigned int met, missed;
};

static void line(struct target_ctx *t, const char *target, const char *scen,
		 double lfq, const char *other, double ratio, double want)
{
	int ok = ratio >= want;

	ok ? t->met++ : t->missed++;
	if (t->md)
		fprintf(t->out, "| %s | %s | %.4g | %s | %.2fx | %s |\n", target,
			scen, lfq, other, ratio, ok ? "met" : "**missed**");
	else
		fprintf(t->out, "%-34s %-18s %10.4g  vs %-28s %6.2fx  %s\n",
			target, scen, lfq, other, ratio, ok ? "met" : "MISSED");
}

/*
 * Modes (struct bench_modes): a row of a case that ran in both of the
 * machine's modes is compared within each mode, lfq's runs in the fast
 * mode with the peer's in the fast mode and likewise in the slow one, a
 * line per mode, since a ratio across modes measures the machine. Other
 * rows, and a case in which lfq and the peer never ran in the same mode
 * (marked "modes differ"), are compared over all their runs (mode -1).
 */
static const char *const mode_tag[] = { " [fast]", " [slow]" };

/* A row's figure in mode @m (-1: all runs), 0 if it has no run there. */
static double fig(const struct bench_row *r, int m)
{
	if (m < 0)
		return r->value;
	return r->mode_runs[m] ? r->mode_value[m] : 0;
}

/* bench_advantage() in mode @m: 0 if either row has no run there. */
static double adv(const struct bench_row *l, const struct bench_row *r, int m)
{
	double a = fig(l, m), b = fig(r, m);

	if (a <= 0 || b <= 0)
		return 0;
	return r->better == BENCH_HIGHER ? a / b : b / a;
}

/*
 * lfq's figure for a case in mode @m: the better of its two APIs over
 * the same queue with default settings (wakeups on), out-of-line (row
 * "lfq") and lfq_inline.h ("lfq inline", where the suite has it); @l is
 * the "lfq" row. @scen gets the case, marked when the inline API gave
 * the figure.
 */
static const struct bench_row *lfq_best(const struct bench_row *l, int m,
					char *scen, size_t len)
{
	const struct bench_row *in = bench_find(l->suite, l->scenario,
						"lfq inline", l->metric);

	if (in && (fig(l, m) <= 0 || adv(in, l, m) > 1.0)) {
		snprintf(scen, len, "%s (inline)%s", l->scenario,
			 m < 0 ? "" : mode_tag[m]);
		return in;
	}
	snprintf(scen, len, "%s%s", l->scenario, m < 0 ? "" : mode_tag[m]);
	return l;
}

/*
 * The other system of a comparison in mode @m: @system, or (NULL) the
 * best peer of the case, lfq's own variants aside. In a mode (@m >= 0)
 * every candidate must have runs there, or there is none: the best of
 * the peers measured in a mode is not the best peer.
 */
static const struct bench_row *other_row(const struct bench_row *l,
					 const char *system, int m)
{
	const struct bench_row *r, *best = NULL;

	for (size_t j = 0; (r = bench_row_at(j)); j++) {
		if (strcmp(r->suite, l->suite) || strcmp(r->metric, l->metric) ||
		    strcmp(r->scenario, l->scenario))
			continue;
		if (system ? strcmp(r->system, system) :
			     !strncmp(r->system, "lfq", 3))
			continue;
		if (m >= 0 && fig(r, m) <= 0)
			return NULL;
		if (!best || (r->better == BENCH_HIGHER ?
			      fig(r, m) > fig(best, m) :
			      fig(r, m) < fig(best, m)))
			best = r;
	}
	return best;
}

/*
 * One case's lines: a line per mode where the case ran in two and lfq
 * and the other side have runs in it, else one over all runs (marked
 * "modes mixed" in a two-mode case: lfq and the other side never ran in
 * one mode, or a peer has no run in either). Each line counts as a
 * target.
 */
static void compare(struct target_ctx *t, const char *target,
		    const struct bench_row *l, const char *system, double want)
{
	const struct bench_row *lb, *o;
	char other[64], scen[72];
	int lines = 0;

	for (int m = 0; l->moded && m < 2; m++) {
		lb = lfq_best(l, m, scen, sizeof(scen));
		o = other_row(l, system, m);
		if (!o || fig(lb, m) <= 0)
			continue;
		snprintf(other, sizeof(other), "%s %.4g", o->system, fig(o, m));
		line(t, target, scen, fig(lb, m), other, adv(lb, o, m), want);
		lines++;
	}
	if (lines)
		return;
	lb = lfq_best(l, -1, scen, sizeof(scen));
	o = other_row(l, system, -1);
	if (!o)
		return;
	if (l->moded)
		snprintf(scen + strlen(scen), sizeof(scen) - strlen(scen),
			 " [modes mixed]");
	snprintf(other, sizeof(other), "%s %.4g", o->system, o->value);
	line(t, target, scen, lb->value, other, adv(lb, o, -1), want);
}

/*
 * lfq against @system (NULL: the best peer of each case) in every case of
 * @suite/@metric whose name contains @only.
 */
static void vs(struct target_ctx *t, const char *target, const char *suite,
	       const char *metric, const char *only, const char *system,
	       double want)
{
	const struct bench_row *l;

	for (size_t i = 0; (l = bench_row_at(i)); i++) {
		if (strcmp(l->suite, suite) || strcmp(l->metric, metric) ||
		    strcmp(l->system, "lfq") || (only && !strstr(l->scenario, only)))
			continue;
		compare(t, target, l, system, want);
	}
}

/* Whether two probe medians (ns) are of different modes. */
static int probes_differ(double a, double b)
{
	return a > b * BENCH_MODE_SPLIT || b > a * BENCH_MODE_SPLIT;
}

/* One mode of a case: its probes' median (ns) and lfq's figure there. */
struct level {
	double probe, fig;
};

/*
 * The modes of the case of lfq's row @r (@mach: the case's "machine" row)
 * in which @r has runs: two for a case that ran in both, else one (over
 * all runs). Returns how many.
 */
static int case_levels(const struct bench_row *r, const struct bench_row *mach,
		       struct level *out)
{
	int n = 0;

	if (mach && mach->moded) {
		for (int m = 0; m < 2; m++)
			if (mach->mode_runs[m] && fig(r, m) > 0)
				out[n++] = (struct level){ mach->mode_value[m],
							   fig(r, m) };
		return n;
	}
	out[0] = (struct level){ mach ? mach->value : 0, r->value };
	return 1;
}

/*
 * lfq's MPSC figure with 4 producers against its own with 1: two cases,
 * each probed on its own. A line for every pair of their modes whose
 * probes match (tagged when either case ran in two modes); with no pair,
 * one line over all runs, marked when their probes differ.
 */
static void mpsc_scaling(struct target_ctx *t)
{
	static const char *const b[] = { "b1", "b32" };
	const struct bench_row *one, *four, *m1, *m4;
	char s1[48], s4[48], scen[72], other[64];
	struct level l1[2], l4[2];

	for (size_t i = 0; i < 2; i++) {
		int n1, n4, lines = 0;

		snprintf(s1, sizeof(s1), "8B %s 1p", b[i]);
		snprintf(s4, sizeof(s4), "8B %s 4p", b[i]);
		one = bench_find("mpsc", s1, "lfq", "throughput");
		four = bench_find("mpsc", s4, "lfq", "throughput");
		m1 = bench_find("mpsc", s1, "machine", "cross-core rtt");
		m4 = bench_find("mpsc", s4, "machine", "cross-core rtt");
		if (!one || !four)
			continue;
		n1 = case_levels(one, m1, l1);
		n4 = case_levels(four, m4, l4);
		for (int a = 0; a < n1; a++)
			for (int c = 0; c < n4; c++) {
				if (l1[a].probe <= 0 || l4[c].probe <= 0 ||
				    probes_differ(l1[a].probe, l4[c].probe))
					continue;
				snprintf(scen, sizeof(scen), "%s%s", s4,
					 m1->moded || m4->moded ?
					 " [mode matched]" : "");
				snprintf(other, sizeof(other),
					 "lfq 1 producer %.4g", l1[a].fig);
				line(t, "MPSC 4 producers >= 0.8x 1", scen,
				     l4[c].fig, other, l4[c].fig / l1[a].fig,
				     0.8);
				lines++;
			}
		if (lines)
			continue;
		snprintf(scen, sizeof(scen), "%s%s", s4,
			 m1 && m4 ? " [modes differ]" : "");
		snprintf(other, sizeof(other), "lfq 1 producer %.4g", one->value);
		line(t, "MPSC 4 producers >= 0.8x 1", scen, four->value, other,
		     one->value > 0 ? four->value / one->value : 0, 0.8);
	}
}

void bench_report_targets(FILE *out, int markdown)
{
	struct target_ctx t = { .out = out, .md = markdown };

	if (markdown)
		fprintf(out, "| target | case | lfq | compared with | ratio | |\n"
			     "|---|---|---|---|---|---|\n");
	vs(&t, "SPSC >= 1.25x best peer", "spsc", "throughput", NULL, NULL,
	   1.25);
	vs(&t, "SPSC >= 1.25x best (plain loop)", "spsc",
	   "plain-loop throughput", NULL, NULL, 1.25);
	vs(&t, "instructions <= best peer", "icount", "instructions", "b32",
	   NULL, 1.0);
	vs(&t, "instructions <= 1.25x ck_ring", "icount", "instructions",
	   "b1", "ck_ring", 1 / 1.25);
	mpsc_scaling(&t);
	vs(&t, "MPSC ahead of every peer", "mpsc", "throughput", NULL, NULL,
	   1.0);
	vs(&t, "IPC >= 20x a pipe", "ipc", "throughput", NULL, "pipe", 20);
	vs(&t, "IPC >= 20x a pipe (VM)", "vm-ipc", "throughput", NULL, "pipe",
	   20);
	vs(&t, "IPC rtt <= 2x raw ping-pong", "ipc", "rtt p50", "busy",
	   "cache line", 1 / 2.0);
	vs(&t, "IPC rtt <= 2x raw (VM)", "vm-ipc", "rtt p50", "busy",
	   "cache line", 1 / 2.0);
	vs(&t, "stream >= 1.5x BPF ringbuf", "stream", "records/s", "default",
	   NULL, 1.5);
	vs(&t, "elastic steady >= 0.95x fixed", "elastic", "throughput",
	   "steady", "lfq fixed", 0.95);
	fprintf(out, "%s%u targets met, %u missed\n", markdown ? "\n" : "",
		t.met, t.missed);
}
