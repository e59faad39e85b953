/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what every lfq-bench suite shares: the run's options, result
 * recording (one row per measured figure; bench_report.c owns the table,
 * the ratios, JSON and plots), progress lines, clocks, CPU pinning and
 * summary statistics.
 */
#ifndef LFQ_BENCH_H
#define LFQ_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How a figure compares: more is better (throughput) or less (latency). */
enum bench_better { BENCH_HIGHER = 1, BENCH_LOWER = 2 };

/**
 * struct bench_opts - the run, as the command line set it.
 * @quick:	few and short repetitions (make check proves the tool runs).
 * @repeats:	runs per throughput figure; the median is reported.
 * @msgs:	messages per throughput run.
 * @samples:	round trips per latency figure.
 * @cpus:	online CPUs, for pinning (0 and 1 when there are two).
 * @self:	argv[0], for suites that re-run this program (callgrind).
 * @in_vm:	set in lfq-bench-vm: suites label their rows "vm-...".
 */
struct bench_opts {
	int quick;
	unsigned int repeats;
	uint64_t msgs;
	uint64_t samples;
	int cpus;
	const char *self;
	int in_vm;
};

extern struct bench_opts bench_opts;

/**
 * struct bench_row - one measured figure.
 * @suite:	"spsc", "mpsc", "icount", "phys", "ipc", "stream".
 * @scenario:	the case, e.g. "64B b32" (same string for every system).
 * @system:	"lfq" or the peer, e.g. "rte_ring", "pipe".
 * @metric:	e.g. "throughput", "rtt p50".
 * @unit:	e.g. "Mmsg/s", "ns".
 * @better:	which way is better, for the ratio.
 * @value:	the median (or the single deterministic value).
 * @lo, @hi:	spread: min and max of the repeats (== @value if one run).
 * @moded:	the case ran in both of the machine's modes (struct
 *		bench_modes): @mode_value and @mode_runs split the repeats.
 * @mode_value:	the median of the runs in the fast ([0]) and the slow ([1])
 *		mode; a run during which the mode changed is in neither.
 * @mode_runs:	how many runs each median is of.
 */
struct bench_row {
	char suite[16];
	char scenario[48];
	char system[32];
	char metric[24];
	char unit[16];
	enum bench_better better;
	double value, lo, hi;
	int moded;
	double mode_value[2];
	unsigned int mode_runs[2];
};

/* Record one figure; the row, or NULL if the table is full. */
struct bench_row *bench_result(const char *suite, const char *scenario,
			       const char *system, const char *metric,
			       const char *unit, enum bench_better better,
			       double value, double lo, double hi);
/* Record the median/min/max of @n samples (sorted in place). */
struct bench_row *bench_result_samples(const char *suite,
				       const char *scenario,
				       const char *system, const char *metric,
				       const char *unit,
				       enum bench_better better, double *v,
				       size_t n);

/*
 * struct bench_modes - the machine's mode around each run of one case
 * (bench_modes.c). This machine's cross-core cache-line round trip swings
 * about fourfold between two modes as the host places its vCPUs, and
 * shared-memory queues slow down far more in the slow one than system
 * calls do, so a ratio between a run in each mode measures the machine.
 * A case probes the mode before each run and after the last; a run is
 * in the fast mode if both its probes are within BENCH_MODE_SPLIT times
 * the case's lowest probe, in the slow mode if both are above, and in
 * neither if the mode changed around it.
 * @probe:	probe[k] before run k, probe[@runs] after the last (ns).
 * @runs:	runs started so far.
 * @cap:	runs the case may start.
 * @split:	probes above it are the slow mode (set by bench_modes_done()).
 * @both:	the case saw both modes.
 */
struct bench_modes {
	double *probe;
	size_t runs, cap;
	double split;
	int both;
};

#define BENCH_MODE_SPLIT 2.0

int bench_modes_init(struct bench_modes *m, size_t runs);	/* 0, -ENOMEM */
size_t bench_modes_next(struct bench_modes *m);	/* probe; the run's index */
void bench_modes_done(struct bench_modes *m);	/* the last probe; split */
void bench_modes_split(struct bench_modes *m);	/* split, from the probes */
int bench_modes_of(const struct bench_modes *m, size_t run); /* 0, 1, -1 */
void bench_modes_free(struct bench_modes *m);
/*
 * Record the median/min/max of @n samples, @v[i] measured in run
 * @run[i] of @m, with the medians per mode (sorts @v).
 */
void bench_result_moded(const char *suite, const char *scenario,
			const char *system, const char *metric,
			const char *unit, enum bench_better better, double *v,
			const size_t *run, size_t n,
			const struct bench_modes *m);
/* The case's probes as the row "machine" / "cross-core rtt", in ns. */
void bench_modes_record(const struct bench_modes *m, const char *suite,
			const char *scenario);

/* Record "rtt p50" and "rtt p99" of @n round-trip times in ns, divided
 * by @scale into @unit (sorts @v). */
void bench_result_rtt(const char *suite, const char *scenario,
		      const char *system, double *v, size_t n, double scale,
		      const char *unit);

/* One progress line on stderr: "[suite] message". */
void bench_progress(const char *suite, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clocks and pinning. */
uint64_t bench_now_ns(void);
void bench_cpus_init(void);		/* sets bench_opts.cpus */
int bench_pin(int cpu);			/* pin the calling thread; 0 or -errno */
void bench_unpin(void);			/* undo bench_pin: every allowed CPU */
int bench_line_pingpong(double *rtt, uint64_t n);	/* bench_util.c */
double bench_mode_probe(void);		/* cross-core round trip, ns */
int bench_cpu(int i);			/* i-th CPU to use (wraps) */

/* Statistics on a sample array (sorted in place). */
double bench_median(double *v, size_t n);
double bench_percentile(double *v, size_t n, double p);

/* Rows recorded so far: the @i-th (NULL past the end), or one by key. */
const struct bench_row *bench_row_at(size_t i);
const struct bench_row *bench_find(const char *suite, const char *scenario,
				   const char *system, const char *metric);
/* How many times better @lfq is than @peer (> 1: lfq is better). */
double bench_advantage(const struct bench_row *lfq,
		       const struct bench_row *peer);

/* Report output (bench_report.c, bench_targets.c). */
void bench_report_markdown(FILE *out);
void bench_report_targets(FILE *out, int markdown);
void bench_report_table(FILE *out);
int bench_report_json(const char *path);
int bench_report_tsv(FILE *out);	/* machine lines, see bench_load_tsv */
int bench_load_tsv(const char *path);	/* rows from another run (the VM) */
int bench_report_plots(const char *dir);	/* gnuplot: SVG and PNG */

/* Suites: each records its rows; 0 or a negative errno. */
int suite_spsc(void);
int suite_mpsc(void);
int suite_mpmc(void);
int mpmc_processes(void);	/* suite_mpmc_proc.c: its process part */
int suite_icount(void);
int suite_phys(void);
int suite_ipc(void);
int suite_elastic(void);
int suite_stream(void);
int suite_flight(void);
int suite_vm(void);		/* host: boots the VM running lfq-bench-vm */
int icount_child(const char *spec);	/* suite_icount, under callgrind */

#endif /* LFQ_BENCH_H */
