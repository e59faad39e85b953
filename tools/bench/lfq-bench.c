// SPDX-License-Identifier: MIT
/*
 * lfq-bench.c - the benchmark's command line: picks the suites, runs them
 * (the VM ones through tools/vm/run-vm.sh), then prints the table of every
 * figure with lfq's advantage over each peer, and writes JSON and plots.
 *
 * Built twice from the same sources: lfq-bench for the host (every peer
 * linked in) and, with LFQ_BENCH_VM, the static lfq-bench-vm that the test
 * VM runs against /dev/lfq (its rows travel back as tab-separated lines).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct bench_opts bench_opts;

struct suite {
	const char *name;
	int (*run)(void);
	const char *what;
};

static const struct suite suites[] = {
#ifndef LFQ_BENCH_VM
	{ "spsc", suite_spsc, "in-memory SPSC, two threads on two cores" },
	{ "mpsc", suite_mpsc, "in-memory MPSC, 1/2/4 producers" },
	{ "mpmc", suite_mpmc, "in-memory MPMC, 1x1 to 4x4 threads" },
	{ "icount", suite_icount, "callgrind instructions per push+pop" },
	{ "phys", suite_phys, "cache-line ping-pong and memcpy bandwidth" },
	{ "ipc", suite_ipc, "processes: lfq (memfd) vs pipe, socketpair, mq" },
	{ "elastic", suite_elastic, "elastic (in-process) vs the same queue fixed" },
	{ "vm", suite_vm, "boots the test VM for vm-ipc and stream" },
#else
	{ "ipc", suite_ipc, "processes: lfq (/dev/lfq) vs pipe, socketpair, mq" },
	{ "stream", suite_stream, "kernel to user: lfq vs BPF ring buffer" },
	{ "flight", suite_flight, "flight recorders: lfq overwrite vs perf's" },
#endif
};

#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lfq-bench [--quick|--full] [--suites LIST] [--json FILE]\n"
		"                 [--plots DIR] [--tsv] [--load FILE]\n"
		"  --quick        short runs (proves every suite runs)\n"
		"  --full         the full measurement (default)\n"
		"  --suites LIST  comma-separated (none: only report --load\n"
		"                 rows), default all:");
	for (size_t i = 0; i < NSUITES; i++)
		fprintf(f, "%s%s", i ? "," : " ", suites[i].name);
	fprintf(f, "\n");
	for (size_t i = 0; i < NSUITES; i++)
		fprintf(f, "                   %-7s %s\n", suites[i].name,
			suites[i].what);
	fprintf(f,
		"  --json FILE    write every figure and ratio as JSON\n"
		"  --plots DIR    write gnuplot SVG and PNG plots into DIR\n"
		"  --tsv          print machine lines (LFQ-BENCH\\t...) on stdout\n"
		"  --markdown FILE  write the tables and targets as markdown\n"
		"  --load FILE    add the LFQ-BENCH lines of FILE to the report\n");
}

static int wanted(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (!list)
		return 1;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'f' },
		{ "suites", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "plots", required_argument, NULL, 'p' },
		{ "tsv", no_argument, NULL, 't' },
		{ "markdown", required_argument, NULL, 'm' },
		{ "load", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
#ifndef LFQ_BENCH_VM
		{ "icount-child", required_argument, NULL, 'I' },
#endif
		{ NULL, 0, NULL, 0 },
	};
	const char *list = NULL, *json = NULL, *plots = NULL, *md = NULL;
	const char *loads[16];
	int tsv = 0, c, failed = 0, nloads = 0;

	bench_opts.self = argv[0];
	while ((c = getopt_long(argc, argv, "qfs:j:p:tm:l:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			bench_opts.quick = 1;
			break;
		case 'f':
			bench_opts.quick = 0;
			break;
		case 's':
			list = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'p':
			plots = optarg;
			break;
		case 't':
			tsv = 1;
			break;
		case 'm':
			md = optarg;
			break;
		case 'l':
			if (nloads == 16) {
				fprintf(stderr, "lfq-bench: at most 16 --load\n");
				return 2;
			}
			loads[nloads++] = optarg;
			break;
#ifndef LFQ_BENCH_VM
		case 'I':	/* suite_icount's child, under callgrind */
			return icount_child(optarg);
#endif
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
#ifdef LFQ_BENCH_VM
	bench_opts.in_vm = 1;
#endif
	bench_cpus_init();
	bench_opts.repeats = bench_opts.quick ? 1 : 5;
	bench_opts.msgs = bench_opts.quick ? 200000 : 5000000;
	bench_opts.samples = bench_opts.quick ? 2000 : 200000;
	if (list)
		for (const char *p = list; *p;) {
			size_t len = strcspn(p, ","), i;

			for (i = 0; i < NSUITES; i++)
				if (strlen(suites[i].name) == len &&
				    !strncmp(p, suites[i].name, len))
					break;
			if (i == NSUITES && !(len == 4 && !strncmp(p, "none", 4))) {
				fprintf(stderr, "lfq-bench: unknown suite %.*s\n",
					(int)len, p);
				return 2;
			}
			p += len + (p[len] ? 1 : 0);
		}

	for (size_t i = 0; i < NSUITES; i++) {
		int rc;

		if (!wanted(list, suites[i].name))
			continue;
		bench_progress(suites[i].name, "%s (%s mode)", suites[i].what,
			       bench_opts.quick ? "quick" : "full");
		rc = suites[i].run();
		bench_unpin();
		if (rc < 0) {
			fprintf(stderr, "lfq-bench: suite %s failed: %s\n",
				suites[i].name, strerror(-rc));
			failed++;
		}
	}

	/* Rows from other runs (the VM's) come after this run's. */
	for (int i = 0; i < nloads; i++)
		if (bench_load_tsv(loads[i]) < 0) {
			fprintf(stderr, "lfq-bench: cannot read %s\n", loads[i]);
			failed++;
		}
	if (tsv) {
		bench_report_tsv(stdout);
	} else {
		bench_report_table(stdout);
		printf("\n== targets (reported, not enforced) ==\n");
		bench_report_targets(stdout, 0);
	}
	if (md) {
		FILE *f = fopen(md, "w");

		if (f) {
			bench_report_markdown(f);
			fprintf(f, "\n### Targets\n\n");
			bench_report_targets(f, 1);
		}
		if (!f || fclose(f)) {
			fprintf(stderr, "lfq-bench: cannot write %s\n", md);
			failed++;
		}
	}
	if (json && bench_report_json(json)) {
		fprintf(stderr, "lfq-bench: cannot write %s\n", json);
		failed++;
	}
	if (plots && bench_report_plots(plots)) {
		fprintf(stderr, "lfq-bench: plotting into %s failed\n", plots);
		failed++;
	}
	return failed ? 1 : 0;
}
