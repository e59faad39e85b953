// SPDX-License-Identifier: MIT
/*
 * bench_modes.c - the machine's mode around each run of a case (struct
 * bench_modes in bench.h): probed before every run and after the last,
 * each run classed fast, slow or changing, and rows recorded with a
 * median per mode, so that bench_targets.c can compare systems only
 * within one mode.
 */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

/*
 * The median of 1000 cache-line round trips between the two benchmark
 * CPUs, in ns (-1 if it could not run); a probe costs well under a
 * millisecond. Leaves the caller unpinned.
 */
double bench_mode_probe(void)
{
	double v[1000];
	double med;

	if (bench_line_pingpong(v, 1000))
		return -1;
	med = bench_median(v, 1000);
	bench_unpin();
	return med;
}

int bench_modes_init(struct bench_modes *m, size_t runs)
{
	*m = (struct bench_modes){ .cap = runs };
	m->probe = calloc(runs + 1, sizeof(*m->probe));
	return m->probe ? 0 : -ENOMEM;
}

void bench_modes_free(struct bench_modes *m)
{
	free(m->probe);
	m->probe = NULL;
}

/*
 * Called right before each run: probes, and returns the run's index, to
 * be given with its result to bench_result_moded(). Past the runs the
 * case was sized for it probes nothing and returns @cap, an index no run
 * has (bench_modes_of() classes it in neither mode).
 */
size_t bench_modes_next(struct bench_modes *m)
{
	if (m->runs >= m->cap)
		return m->cap;
	m->probe[m->runs] = bench_mode_probe();
	return m->runs++;
}

/* The mode of one probe: 0 fast, 1 slow, -1 none (it failed). */
static int probe_mode(const struct bench_modes *m, double p)
{
	if (p <= 0)
		return -1;
	return p > m->split;
}

/*
 * The split between the modes of a case whose @runs runs are done and
 * probed (@runs + 1 probes): twice its lowest probe. Sets @both.
 */
void bench_modes_split(struct bench_modes *m)
{
	double lo = 0;

	for (size_t k = 0; k <= m->runs; k++)
		if (m->probe[k] > 0 && (lo <= 0 || m->probe[k] < lo))
			lo = m->probe[k];
	m->split = lo * BENCH_MODE_SPLIT;
	m->both = 0;
	for (size_t k = 0; k <= m->runs; k++)
		m->both |= probe_mode(m, m->probe[k]) == 1;
}

/* Called after the last run: its closing probe, then the split. */
void bench_modes_done(struct bench_modes *m)
{
	m->probe[m->runs] = bench_mode_probe();
	bench_modes_split(m);
}

int bench_modes_of(const struct bench_modes *m, size_t run)
{
	int a, b;

	if (run >= m->runs)
		return -1;
	a = probe_mode(m, m->probe[run]);
	b = probe_mode(m, m->probe[run + 1]);
	return a == b ? a : -1;
}

/*
 * The medians per mode of a row's @n values @v, value i measured in mode
 * @mode[i] (0 fast, 1 slow, -1 neither).
 */
static void row_modes(struct bench_row *r, const double *v, const int *mode,
		      size_t n, int both)
{
	double *w = malloc((n ? n : 1) * sizeof(*w));

	if (!w)
		return;
	r->moded = both;
	for (int md = 0; md < 2; md++) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (mode[i] == md)
				w[k++] = v[i];
		r->mode_runs[md] = (unsigned int)k;
		r->mode_value[md] = bench_median(w, k);
	}
	free(w);
}

/*
 * Record @n samples with the mode of each (sorts @v): the row of
 * bench_result_samples() with its medians per mode.
 */
static void result_modes(const char *suite, const char *scenario,
			 const char *system, const char *metric,
			 const char *unit, enum bench_better better, double *v,
			 const int *mode, size_t n, int both)
{
	double *orig = malloc((n ? n : 1) * sizeof(*orig));
	struct bench_row *r;

	/* The split needs the samples in their order: a copy. */
	for (size_t i = 0; orig && i < n; i++)
		orig[i] = v[i];
	r = bench_result_samples(suite, scenario, system, metric, unit, better,
				 v, n);
	if (r && orig)
		row_modes(r, orig, mode, n, both);
	free(orig);
}

void bench_result_moded(const char *suite, const char *scenario,
			const char *system, const char *metric,
			const char *unit, enum bench_better better, double *v,
			const size_t *run, size_t n,
			const struct bench_modes *m)
{
	int *mode = malloc((n ? n : 1) * sizeof(*mode));

	if (!mode) {
		bench_result_samples(suite, scenario, system, metric, unit,
				     better, v, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		mode[i] = bench_modes_of(m, run[i]);
	result_modes(suite, scenario, system, metric, unit, better, v, mode, n,
		     m->both);
	free(mode);
}

/* The probes that ran (a failed one reads -1), in the row "machine". */
void bench_modes_record(const struct bench_modes *m, const char *suite,
			const char *scenario)
{
	double *v = malloc((m->runs + 1) * sizeof(*v));
	int *mode = malloc((m->runs + 1) * sizeof(*mode));
	size_t n = 0;

	for (size_t k = 0; v && mode && k <= m->runs; k++) {
		if (m->probe[k] <= 0)
			continue;
		v[n] = m->probe[k];
		mode[n++] = probe_mode(m, m->probe[k]);
	}
	if (v && mode && n)
		result_modes(suite, scenario, "machine", "cross-core rtt", "ns",
			     BENCH_LOWER, v, mode, n, m->both);
	free(v);
	free(mode);
}
