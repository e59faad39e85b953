// SPDX-License-Identifier: MIT
/*
 * bench_report.c - owns lfq-bench's results: the rows every suite records,
 * the table with lfq's ratio to each peer, the JSON file, the tab-separated
 * machine lines that carry rows out of the VM, and the gnuplot plots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define BENCH_ROWS_MAX 1024

static struct bench_row rows[BENCH_ROWS_MAX];
static size_t nrows;

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

struct bench_row *bench_result(const char *suite, const char *scenario,
			       const char *system, const char *metric,
			       const char *unit, enum bench_better better,
			       double value, double lo, double hi)
{
	struct bench_row *r;

	if (nrows == BENCH_ROWS_MAX) {
		fprintf(stderr, "lfq-bench: too many results, dropping %s/%s\n",
			suite, scenario);
		return NULL;
	}
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	copy_field(r->suite, sizeof(r->suite), suite);
	copy_field(r->scenario, sizeof(r->scenario), scenario);
	copy_field(r->system, sizeof(r->system), system);
	copy_field(r->metric, sizeof(r->metric), metric);
	copy_field(r->unit, sizeof(r->unit), unit);
	r->better = better;
	r->value = value;
	r->lo = lo;
	r->hi = hi;
	bench_progress(suite, "%-14s %-12s %-14s %10.3f %s", scenario, system,
		       metric, value, unit);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

double bench_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct bench_row *bench_result_samples(const char *suite,
				       const char *scenario,
				       const char *system, const char *metric,
				       const char *unit,
				       enum bench_better better, double *v,
				       size_t n)
{
	double med = bench_median(v, n);

	return bench_result(suite, scenario, system, metric, unit, better, med,
			    n ? v[0] : 0, n ? v[n - 1] : 0);
}

void bench_result_rtt(const char *suite, const char *scenario,
		      const char *system, double *v, size_t n, double scale,
		      const char *unit)
{
	double p50 = bench_median(v, n), p99 = bench_percentile(v, n, 0.99);

	if (!n)
		return;
	bench_result(suite, scenario, system, "rtt p50", unit, BENCH_LOWER,
		     p50 / scale, v[0] / scale, v[n - 1] / scale);
	bench_result(suite, scenario, system, "rtt p99", unit, BENCH_LOWER,
		     p99 / scale, v[0] / scale, v[n - 1] / scale);
}

void bench_progress(const char *suite, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%s] ", suite);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * lfq's advantage over a peer, > 1 when lfq is better: lfq/peer for
 * throughput, peer/lfq for latency and instruction counts. The lfq row of
 * a (suite, scenario, metric) group is the one whose system is "lfq".
 */
static const struct bench_row *lfq_row_for(const struct bench_row *r)
{
	return bench_find(r->suite, r->scenario, "lfq", r->metric);
}

double bench_advantage(const struct bench_row *lfq,
		       const struct bench_row *r)
{
	if (!lfq || lfq == r || lfq->value <= 0 || r->value <= 0)
		return 0;
	return r->better == BENCH_HIGHER ? lfq->value / r->value
					 : r->value / lfq->value;
}

const struct bench_row *bench_row_at(size_t i)
{
	return i < nrows ? &rows[i] : NULL;
}

const struct bench_row *bench_find(const char *suite, const char *scenario,
				   const char *system, const char *metric)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];

		if (!strcmp(r->suite, suite) && !strcmp(r->scenario, scenario) &&
		    !strcmp(r->system, system) && !strcmp(r->metric, metric))
			return r;
	}
	return NULL;
}

void bench_report_table(FILE *out)
{
	const char *suite = "";

	for (size_t i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		double x = bench_advantage(lfq_row_for(r), r);
		char ratio[16] = "";

		if (strcmp(suite, r->suite)) {
			suite = r->suite;
			fprintf(out, "\n== %s ==\n%-16s %-16s %-14s %12s %-8s %21s  %s\n",
				suite, "case", "system", "metric", "median",
				"unit", "[min .. max]", "lfq advantage");
		}
		if (x > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", x);
		fprintf(out, "%-16s %-16s %-14s %12.3f %-8s [%8.3f .. %8.3f]  %s",
			r->scenario, r->system, r->metric, r->value, r->unit,
			r->lo, r->hi, ratio);
		if (r->moded)
			fprintf(out, "  fast %.4g (%u runs), slow %.4g (%u)",
				r->mode_value[0], r->mode_runs[0],
				r->mode_value[1], r->mode_runs[1]);
		fputc('\n', out);
	}
}

/* A row's medians per mode, for the markdown table ("" if one mode). */
static void md_modes(FILE *out, const struct bench_row *r)
{
	for (int m = 0; r->moded && m < 2; m++) {
		if (!r->mode_runs[m])
			fprintf(out, "%s%s: none", m ? "; " : "",
				m ? "slow" : "fast");
		else
			fprintf(out, "%s%s: %.4g (%u)", m ? "; " : "",
				m ? "slow" : "fast", r->mode_value[m],
				r->mode_runs[m]);
	}
}

/* The table again, as one markdown table per suite. */
void bench_report_markdown(FILE *out)
{
	const char *suite = "";

	for (size_t i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		double x = bench_advantage(lfq_row_for(r), r);

		if (strcmp(suite, r->suite)) {
			suite = r->suite;
			fprintf(out, "\n#### %s\n\n| case | system | metric | median | "
				     "min .. max | lfq advantage | by mode (runs) |\n"
				     "|---|---|---|---:|---:|---:|---|\n", suite);
		}
		fprintf(out, "| %s | %s | %s | %.4g %s | %.4g .. %.4g | ",
			r->scenario, r->system, r->metric, r->value, r->unit,
			r->lo, r->hi);
		if (x > 0)
			fprintf(out, "%.2fx | ", x);
		else
			fprintf(out, "%s | ", strcmp(r->system, "lfq") ? "" : "(lfq)");
		md_modes(out, r);
		fprintf(out, " |\n");
	}
}

static void json_str(FILE *f, const char *key, const char *s, int comma)
{
	fprintf(f, "\"%s\": \"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fprintf(f, "\"%s", comma ? ", " : "");
}

int bench_report_json(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\"results\": [\n");
	for (size_t i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		double x = bench_advantage(lfq_row_for(r), r);

		fprintf(f, "  {");
		json_str(f, "suite", r->suite, 1);
		json_str(f, "case", r->scenario, 1);
		json_str(f, "system", r->system, 1);
		json_str(f, "metric", r->metric, 1);
		json_str(f, "unit", r->unit, 1);
		json_str(f, "better", r->better == BENCH_HIGHER ? "higher" : "lower", 1);
		fprintf(f, "\"value\": %.6g, \"min\": %.6g, \"max\": %.6g", r->value,
			r->lo, r->hi);
		if (x > 0)
			fprintf(f, ", \"lfq_advantage\": %.4g", x);
		if (r->moded)
			fprintf(f, ", \"fast_mode\": {\"median\": %.6g, \"runs\": %u}"
				   ", \"slow_mode\": {\"median\": %.6g, \"runs\": %u}",
				r->mode_value[0], r->mode_runs[0],
				r->mode_value[1], r->mode_runs[1]);
		fprintf(f, "}%s\n", i + 1 < nrows ? "," : "");
	}
	fprintf(f, "]}\n");
	return fclose(f) ? -errno : 0;
}

#define TSV_TAG "LFQ-BENCH"

int bench_report_tsv(FILE *out)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];

		fprintf(out, TSV_TAG "\t%s\t%s\t%s\t%s\t%s\t%c\t%.9g\t%.9g\t%.9g"
			"\t%d\t%.9g\t%u\t%.9g\t%u\n",
			r->suite, r->scenario, r->system, r->metric, r->unit,
			r->better == BENCH_HIGHER ? 'H' : 'L', r->value, r->lo,
			r->hi, r->moded, r->mode_value[0], r->mode_runs[0],
			r->mode_value[1], r->mode_runs[1]);
	}
	return fflush(out) ? -errno : 0;
}

/*
 * Loads the TSV_TAG lines of a file (a VM console log, say): ten fields,
 * and the five of the modes (struct bench_row) where the line has them.
 */
int bench_load_tsv(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *tag = strstr(line, TSV_TAG "\t"), *save = NULL, *fld[15];
		struct bench_row *r;
		int k = 0;

		if (!tag)
			continue;
		tag[strcspn(tag, "\r\n")] = 0;
		for (char *t = strtok_r(tag, "\t", &save); t && k < 15;
		     t = strtok_r(NULL, "\t", &save))
			fld[k++] = t;
		if (k != 10 && k != 15)
			continue;
		r = bench_result(fld[1], fld[2], fld[3], fld[4], fld[5],
				 fld[6][0] == 'H' ? BENCH_HIGHER : BENCH_LOWER,
				 strtod(fld[7], NULL), strtod(fld[8], NULL),
				 strtod(fld[9], NULL));
		if (r && k == 15) {
			r->moded = atoi(fld[10]);
			r->mode_value[0] = strtod(fld[11], NULL);
			r->mode_runs[0] = (unsigned int)strtoul(fld[12], NULL, 10);
			r->mode_value[1] = strtod(fld[13], NULL);
			r->mode_runs[1] = (unsigned int)strtoul(fld[14], NULL, 10);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* ------------------------------------------------------------- plots */

static int seen(const char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/*
 * One clustered bar chart per (suite, metric): cases along x, one bar per
 * system, min..max as error bars. Data and script go to @dir, gnuplot
 * renders NAME.svg and NAME.png next to them.
 */
static int plot_one(const char *dir, const char *suite, const char *metric)
{
	const char *scen[64], *sys[16], *unit = "";
	size_t ns = 0, nsys = 0;
	char base[256], path[300], cmd[700];
	FILE *f;
	int rc;

	for (size_t i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];

		if (strcmp(r->suite, suite) || strcmp(r->metric, metric))
			continue;
		unit = r->unit;
		if (!seen(scen, ns, r->scenario) && ns < 64)
			scen[ns++] = r->scenario;
		if (!seen(sys, nsys, r->system) && nsys < 16)
			sys[nsys++] = r->system;
	}
	snprintf(base, sizeof(base), "%.200s/%.15s-%.23s", dir, suite, metric);
	for (char *p = base + strlen(dir) + 1; *p; p++)
		if (*p == ' ' || *p == '/')
			*p = '_';
	snprintf(path, sizeof(path), "%s.dat", base);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	for (size_t c = 0; c < ns; c++) {
		fprintf(f, "\"%s\"", scen[c]);
		for (size_t s = 0; s < nsys; s++) {
			const struct bench_row *r = bench_find(suite, scen[c],
							       sys[s], metric);

			if (r)
				fprintf(f, " %g %g %g", r->value, r->lo, r->hi);
			else
				fprintf(f, " NaN NaN NaN");
		}
		fputc('\n', f);
	}
	fclose(f);

	snprintf(path, sizeof(path), "%s.gp", base);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "set style data histogram\nset style histogram errorbars gap 1 lw 1\n"
		   "set style fill solid 0.8 border -1\nset key outside right top\n"
		   "set grid ytics\nset xtics rotate by -30 noenhanced\n"
		   "set ylabel '%s (%s)' noenhanced\nset title '%s: %s' noenhanced\n"
		   "set yrange [0:*]\n",
		metric, unit, suite, metric);
	for (int t = 0; t < 2; t++) {
		fprintf(f, "set terminal %s size 1000,500\nset output '%s.%s'\nplot ",
			t ? "pngcairo" : "svg", base, t ? "png" : "svg");
		for (size_t s = 0; s < nsys; s++)
			fprintf(f, "%s'%s.dat' using %zu:%zu:%zu:xtic(1) title '%s' noenhanced",
				s ? ", " : "", base, 2 + 3 * s, 3 + 3 * s, 4 + 3 * s,
				sys[s]);
		fprintf(f, "\n");
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>&1", path);
	rc = system(cmd);
	return rc ? -EIO : 0;
}

int bench_report_plots(const char *dir)
{
	const char *done[64];
	char key[64];
	size_t nd = 0;
	int rc = 0;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	for (size_t i = 0; i < nrows; i++) {
		char *k;

		snprintf(key, sizeof(key), "%.15s\t%.23s", rows[i].suite,
			 rows[i].metric);
		if (seen(done, nd, key) || nd == 64)
			continue;
		k = strdup(key);
		if (!k)
			return -ENOMEM;
		done[nd++] = k;
		if (plot_one(dir, rows[i].suite, rows[i].metric))
			rc = -EIO;
	}
	for (size_t i = 0; i < nd; i++)
		free((void *)done[i]);
	return rc;
}
