// SPDX-License-Identifier: MIT
/*
 * suite_flight.c - lfq-bench suite "flight", run inside the test VM by
 * lfq-bench-vm (as root, lfq.ko loaded): flight recorders, lfq's
 * overwrite mode against perf's overwrite ring buffer, the one that runs
 * on Debian's 6.1 kernel (BPF_F_RB_OVERWRITE came with 6.18), fed by the
 * same trigger in one run, with nobody reading while it runs.
 *
 * The systems.
 *   lfq_overwrite: an LFQ_SOURCE_SYSCALL source writing 32-byte records
 *                  (type, size, cpu, time, pid, nr, arg0) into one MPSC
 *                  record queue in overwrite mode (LFQ_CREATE_OVERWRITE)
 *                  of RING_BYTES: 40 ring bytes per record.
 *   perf_overwrite: a perf event on the tracepoint syscalls:sys_enter_<the
 *                  trigger>, one per CPU, every hit sampled (TID, TIME,
 *                  CPU, and the raw record: nr and the six arguments),
 *                  each CPU's ring of RING_BYTES / CPUs mapped without
 *                  PROT_WRITE and written backward (write_backward): the
 *                  kernel overwrites the oldest records, the flight
 *                  recorder mode of `perf record --overwrite`.
 *   The same trigger with nothing attached gives the "untraced" rows.
 *
 * The trigger: 1 or 2 threads, pinned to CPUs 0 and 1, call
 * syscall(SYS_getppid) in a loop for the run's time (0.3 s quick, 2 s
 * full). What a flight recorder costs is paid by the traced program:
 * "trigger calls/s" is the figure (higher is better). After the run the
 * newest records are read as a flight recorder's dump does (lfq:
 * lfq_record_snapshot(); perf: the rings paused with
 * PERF_EVENT_IOC_PAUSE_OUTPUT, their records copied out from their
 * head): "records kept" and "ring bytes/rec" (the rings' bytes over the
 * records kept: what a record of history costs in memory; perf's rings
 * are per CPU, so with one CPU tracing half of them stay empty) say how
 * much history the same bytes hold, "dump us" what the dump costs, "drop
 * %" the trigger calls with no record (lfq drops one when the oldest
 * record is still being written).
 * Runs alternate the systems' order; medians of bench_opts.repeats runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "liblfq.h"

#define SUITE		"flight"
#define TRIGGER_NR	SYS_getppid
#define TRIGGER_TP	"syscalls/sys_enter_getppid"
#define RING_BYTES	(256u * 1024)
#define LFQ_REC		32u		/* the SYSCALL record asked for */
#define PRODUCERS_MAX	2
#define CPUS_MAX	2

enum { SYS_NONE, SYS_LFQ, SYS_PERF, NSYS };
static const char *const sys_name[NSYS] = {
	"untraced", "lfq_overwrite", "perf_overwrite"
};

/* One measured run's figures. */
struct flight {
	double calls_s;			/* trigger calls per second */
	double kept;			/* records in the dump */
	double bytes_rec;		/* ring bytes per record */
	double dump_us;			/* the dump's time */
	double drop_pct;		/* trigger calls without a record */
};

struct trigger {
	pthread_barrier_t *go;
	atomic_int *stop;
	int i;
	uint64_t calls;
};

static void *trigger_fn(void *p)
{
	struct trigger *t = p;
	uint64_t n = 0;

	bench_pin(bench_cpu(t->i));
	pthread_barrier_wait(t->go);
	while (!atomic_load_explicit(t->stop, memory_order_relaxed)) {
		syscall(TRIGGER_NR);
		n++;
	}
	t->calls = n;
	return NULL;
}

/* Run the trigger on @producers CPUs; returns calls, *@secs the time. */
static uint64_t trigger_run(int producers, double *secs)
{
	struct trigger t[PRODUCERS_MAX];
	pthread_t th[PRODUCERS_MAX];
	pthread_barrier_t go;
	atomic_int stop = 0;
	long ms = bench_opts.quick ? 300 : 2000;
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000l };
	uint64_t t0, calls = 0;
	int i;

	pthread_barrier_init(&go, NULL, (unsigned int)producers + 1);
	for (i = 0; i < producers; i++) {
		t[i] = (struct trigger){ &go, &stop, i, 0 };
		pthread_create(&th[i], NULL, trigger_fn, &t[i]);
	}
	pthread_barrier_wait(&go);
	t0 = bench_now_ns();
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) == EINTR)
		;
	atomic_store(&stop, 1);
	for (i = 0; i < producers; i++) {
		pthread_join(th[i], NULL);
		calls += t[i].calls;
	}
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	pthread_barrier_destroy(&go);
	return calls;
}

/* ---------------------------------------------------------------- lfq */

static int count_rec(void *ctx, const void *p, uint32_t len)
{
	(void)p;
	*(uint64_t *)ctx += len == LFQ_REC;
	return 0;
}

static int run_lfq(int producers, struct flight *f)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = RING_BYTES,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE);
	struct lfq_source s = { .type = LFQ_SOURCE_SYSCALL,
				.syscall_nr = TRIGGER_NR,
				.record_size = LFQ_REC };
	static uint64_t buf[RING_BYTES / 8];
	struct lfq_stats st;
	uint64_t calls, kept = 0, t0;
	struct lfq *q;
	double secs;
	int id, n, err = lfq_create(&o, &q);

	if (err)
		return err;
	id = lfq_source_attach(q, &s);
	if (id < 0) {
		lfq_close(q);
		return id;
	}
	calls = trigger_run(producers, &secs);
	lfq_source_detach(q, id);
	t0 = bench_now_ns();
	n = lfq_record_snapshot(q, buf, sizeof(buf), count_rec, &kept);
	f->dump_us = (double)(bench_now_ns() - t0) / 1e3;
	err = n < 0 ? n : lfq_get_stats(q, &st);
	lfq_close(q);
	if (err)
		return err;
	f->calls_s = (double)calls / secs;
	f->kept = (double)kept;
	f->bytes_rec = kept ? (double)RING_BYTES / (double)kept : 0;
	f->drop_pct = calls ? 100.0 * (double)st.dropped / (double)calls : 0;
	return kept == (uint64_t)n ? 0 : -EPROTO;
}

/* --------------------------------------------------------------- perf */

/* The tracepoint's id, from tracefs (mounted here if it is not). */
static int tracepoint_id(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[128];
	unsigned int i;
	int id = -ENOENT;
	FILE *fp;

	for (i = 0; i < 2 && id < 0; i++) {
		snprintf(path, sizeof(path), "%s/events/%s/id", dirs[i],
			 TRIGGER_TP);
		fp = fopen(path, "r");
		if (!fp && i == 0 &&
		    !mount("tracefs", dirs[0], "tracefs", 0, NULL))
			fp = fopen(path, "r");
		if (fp) {
			if (fscanf(fp, "%d", &id) != 1)
				id = -EINVAL;
			fclose(fp);
		}
	}
	return id;
}

/*
 * A paused backward ring's records, copied out as a dump does (into @out,
 * as lfq_record_snapshot() copies lfq's): from its head, the newest first.
 */
static uint64_t perf_walk(const struct perf_event_mmap_page *pg,
			  const unsigned char *data, uint64_t size,
			  unsigned char *out)
{
	uint64_t head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	uint64_t off = 0, n = 0, at, k;
	struct perf_event_header h;

	while (off + sizeof(h) <= size) {
		memcpy(&h, data + ((head + off) & (size - 1)), sizeof(h));
		if (!h.size || off + h.size > size)
			break;
		/* A record may wrap the ring's end: byte runs. */
		at = (head + off) & (size - 1);
		k = size - at < h.size ? size - at : h.size;
		memcpy(out + off, data + at, k);
		memcpy(out + off + k, data, h.size - k);
		n += h.type == PERF_RECORD_SAMPLE;
		off += h.size;
	}
	return n;
}

static int run_perf(int producers, int tp, struct flight *f)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT, .size = sizeof(a),
		.config = (uint64_t)tp, .sample_period = 1,
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			       PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
		.write_backward = 1, .disabled = 1,
	};
	static unsigned char out[RING_BYTES / CPUS_MAX];
	uint64_t size = RING_BYTES / CPUS_MAX, calls, kept = 0, t0;
	size_t len = (size_t)(size + (uint64_t)getpagesize());
	void *map[CPUS_MAX] = { NULL };
	int fd[CPUS_MAX], cpu, err = 0;
	double secs;

	for (cpu = 0; cpu < CPUS_MAX; cpu++) {
		fd[cpu] = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1,
				       PERF_FLAG_FD_CLOEXEC);
		if (fd[cpu] < 0) {
			err = -errno;
			break;
		}
		/* No PROT_WRITE: the overwrite mode. */
		map[cpu] = mmap(NULL, len, PROT_READ, MAP_SHARED, fd[cpu], 0);
		if (map[cpu] == MAP_FAILED) {
			err = -errno;
			map[cpu] = NULL;
			break;
		}
	}
	if (!err)
		for (cpu = 0; cpu < CPUS_MAX; cpu++)
			ioctl(fd[cpu], PERF_EVENT_IOC_ENABLE, 0);
	if (!err) {
		calls = trigger_run(producers, &secs);
		t0 = bench_now_ns();
		for (cpu = 0; cpu < CPUS_MAX; cpu++) {
			ioctl(fd[cpu], PERF_EVENT_IOC_PAUSE_OUTPUT, 1);
			kept += perf_walk(map[cpu], (unsigned char *)map[cpu] +
					  getpagesize(), size, out);
			ioctl(fd[cpu], PERF_EVENT_IOC_PAUSE_OUTPUT, 0);
		}
		f->dump_us = (double)(bench_now_ns() - t0) / 1e3;
		f->calls_s = (double)calls / secs;
		f->kept = (double)kept;
		f->bytes_rec = kept ? (double)RING_BYTES / (double)kept : 0;
		f->drop_pct = 0;	/* perf's overwrite never refuses */
	}
	while (cpu-- > 0) {
		if (map[cpu])
			munmap(map[cpu], len);
		close(fd[cpu]);
	}
	return err;
}

/* ---------------------------------------------------------------------- */

int suite_flight(void)
{
	unsigned int nrep = bench_opts.repeats ? bench_opts.repeats : 1;
	double *v[PRODUCERS_MAX][NSYS][5];
	unsigned int rep, p, k, m;
	int tp, sys, err = 0;
	char scen[32];
	struct flight f;

	if (bench_opts.cpus < 2) {
		bench_progress(SUITE, "needs 2 CPUs, has %d", bench_opts.cpus);
		return -ENODEV;
	}
	tp = tracepoint_id();
	if (tp < 0) {
		bench_progress(SUITE, "no tracepoint %s: %s", TRIGGER_TP,
			       strerror(-tp));
		return tp;
	}
	for (p = 0; p < PRODUCERS_MAX; p++)
		for (k = 0; k < NSYS; k++)
			for (m = 0; m < 5; m++)
				if (!(v[p][k][m] = calloc(nrep, sizeof(double))))
					err = -ENOMEM;
	bench_progress(SUITE, "%u KiB of ring each (perf: %u KiB per CPU), %s runs",
		       RING_BYTES / 1024, RING_BYTES / 1024 / CPUS_MAX,
		       bench_opts.quick ? "0.3 s" : "2 s");
	for (rep = 0; rep < nrep && !err; rep++)
		for (p = 0; p < PRODUCERS_MAX && !err; p++)
			for (k = 0; k < NSYS && !err; k++) {
				/* Alternate lfq and perf from run to run. */
				sys = k == 0 ? SYS_NONE :
				      (int)(1 + (k - 1 + rep) % 2);
				memset(&f, 0, sizeof(f));
				if (sys == SYS_NONE) {
					double secs;
					uint64_t c = trigger_run((int)p + 1,
								 &secs);

					f.calls_s = (double)c / secs;
				} else if (sys == SYS_LFQ) {
					err = run_lfq((int)p + 1, &f);
				} else {
					err = run_perf((int)p + 1, tp, &f);
				}
				if (err) {
					bench_progress(SUITE, "%s: %s",
						       sys_name[sys],
						       strerror(-err));
					break;
				}
				v[p][sys][0][rep] = f.calls_s / 1e6;
				v[p][sys][1][rep] = f.kept;
				v[p][sys][2][rep] = f.bytes_rec;
				v[p][sys][3][rep] = f.dump_us;
				v[p][sys][4][rep] = f.drop_pct;
				bench_progress(SUITE, "%ucpu %-15s %8.4f Mcall/s %7.0f kept %5.1f B/rec %8.1f us dump %5.2f%% drop",
					       p + 1, sys_name[sys],
					       f.calls_s / 1e6, f.kept,
					       f.bytes_rec, f.dump_us,
					       f.drop_pct);
			}
	for (p = 0; p < PRODUCERS_MAX && !err; p++) {
		snprintf(scen, sizeof(scen), "32B %ucpu", p + 1);
		for (k = 0; k < NSYS; k++) {
			bench_result_samples(SUITE, scen, sys_name[k],
					     "trigger calls/s", "M/s",
					     BENCH_HIGHER, v[p][k][0], nrep);
			if (k == SYS_NONE)
				continue;
			bench_result_samples(SUITE, scen, sys_name[k],
					     "records kept", "records",
					     BENCH_HIGHER, v[p][k][1], nrep);
			bench_result_samples(SUITE, scen, sys_name[k],
					     "ring bytes/rec", "B",
					     BENCH_LOWER, v[p][k][2], nrep);
			bench_result_samples(SUITE, scen, sys_name[k],
					     "dump", "us", BENCH_LOWER,
					     v[p][k][3], nrep);
			bench_result_samples(SUITE, scen, sys_name[k],
					     "drop %", "%", BENCH_LOWER,
					     v[p][k][4], nrep);
		}
	}
	for (p = 0; p < PRODUCERS_MAX; p++)
		for (k = 0; k < NSYS; k++)
			for (m = 0; m < 5; m++)
				free(v[p][k][m]);
	return err;
}
