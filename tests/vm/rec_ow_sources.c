// SPDX-License-Identifier: MIT
/*
 * rec_ow_sources.c - kernel producers into record queues in overwrite
 * mode (LFQ_CREATE_OVERWRITE, the flight recorder) against the real
 * module: SYNTH producers in a kernel thread, hardirq (or NMI) and
 * softirq context overwrite the oldest records of a small ring; what a
 * snapshot copies and what the consumer gets is whole and in order per
 * producer, and every record is delivered, overwritten or dropped, each
 * counted. Also the tools: lfq-stream --flight-recorder (a dump on
 * SIGUSR1 and at the end), lfqctl snapshot of a named queue, and
 * lfq-stream -r printing an exec's argv.
 *
 *   rec_ow_sources --exec-probe ARGS...   (the exec child: exits at once)
 *   rec_ow_sources --repeat N             (the NMI overwrite race with a
 *                                          consumer, N times: a stress run)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "synth_tally.h"
#include "tap.h"
#include "test_util.h"

#define RING		65536u
#define SYNTH_COUNT	20000u

static uint64_t snap_buf[RING / 8];

static struct lfq *ow_queue(const char *name)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = RING,
		 .flags = LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE,
		 .name = name, .mode = name ? 0600 : 0);
	struct lfq *q = NULL;
	int err = lfq_create(&o, &q);

	if (err) {
		tap_diag("create an overwrite-mode queue: %s", ename(-err));
		exit(1);
	}
	return q;
}

/* What a failure left: the indices and the headers at the tail. */
static void dump_ring(struct lfq *q, const struct synth_tally *t)
{
	const struct lfq_prod_ctl *prod;
	const struct lfq_cons_ctl *cons;
	struct lfq_info in;
	unsigned char *m = mmap_queue(lfq_fd(q), &in, PROT_READ);
	uint64_t tail, head, pos, h;
	int i;

	tap_diag("  bad %llu order %llu", (unsigned long long)t->bad,
		 (unsigned long long)t->order);
	if (!m)
		return;
	prod = (const void *)(m + in.prod_offset);
	cons = (const void *)(m + in.cons_offset);
	tail = cons->tail;
	head = prod->head;
	tap_diag("  head %llu tail %llu (head - tail %llu)",
		 (unsigned long long)head, (unsigned long long)tail,
		 (unsigned long long)(head - tail));
	for (i = 0, pos = tail; i < 4; i++) {
		memcpy(&h, m + in.data_offset + (pos & (RING - 1)), 8);
		tap_diag("  header at %llu: %#llx", (unsigned long long)pos,
			 (unsigned long long)h);
		pos += 8 + (((h & 0x3fffffff) + 7) & ~7ull);
	}
}

/*
 * SYNTH into a 64 KiB ring: with @consume 0 nobody reads until the
 * producers are done (they overwrite all along), else a consumer takes
 * runs meanwhile. Snapshots are taken meanwhile too.
 */
static void synth(int nmi, int consume)
{
	struct lfq *q = ow_queue(NULL);
	struct lfq_source src = {
		.type = LFQ_SOURCE_SYNTH, .threads = 2, .hardirq_timers = 1,
		.softirq_timers = 1, .count = SYNTH_COUNT,
		.timer_period_ns = 20000,
		.flags = nmi ? LFQ_SOURCE_SYNTH_NMI : 0,
	};
	struct synth_tally t = { 0 }, s;
	uint64_t snaps = 0, snap_bad = 0, total = 4ull * SYNTH_COUNT, seen = 0;
	struct lfq_stats st;
	int64_t t0 = now_ns();
	int id = lfq_source_attach(q, &src), n;

	if (nmi && id == -EOPNOTSUPP) {
		tap_skip("SYNTH NMI producers: this kernel cannot send itself an NMI");
		tap_skip("and snapshots meanwhile");
		lfq_close(q);
		return;
	}
	if (id < 0) {
		tap_ok(0, "attach SYNTH to an overwrite-mode queue: %s",
		       ename(-id));
		lfq_close(q);
		return;
	}
	while (now_ns() - t0 < 60000000000ll) {
		lfq_get_stats(q, &st);
		n = consume ? lfq_record_consume(q, 8, synth_rec, &t) : 0;
		memset(&s, 0, sizeof(s));
		if (lfq_record_snapshot(q, snap_buf, sizeof(snap_buf),
					synth_rec, &s) < 0 || s.bad || s.order)
			snap_bad++;
		snaps++;
		/* Snapshots see the interrupt producers' records too. */
		seen += s.ctx[nmi ? LFQ_CONTEXT_NMI : LFQ_CONTEXT_HARDIRQ];
		/* Records in the ring are the ones not yet taken. */
		if (st.produced >= RING && n <= 0 &&
		    t.got + st.overwritten + st.dropped + s.got >= total)
			break;
		msleep(consume ? 1 : 20);
	}
	lfq_source_detach(q, id);
	while (lfq_record_consume(q, 256, synth_rec, &t) > 0)
		;
	lfq_get_stats(q, &st);
	if (!tap_ok(t.got + st.overwritten + st.dropped == total && !t.bad &&
		    !t.order && st.overwritten > 0,
		    "overwrite mode, SYNTH %s, %s: %llu delivered whole and in order, %llu overwritten, %llu dropped: all %llu counted",
		    nmi ? "with an NMI-raising timer" : "with a hardirq timer",
		    consume ? "a consumer meanwhile" : "no reader until the end",
		    (unsigned long long)t.got,
		    (unsigned long long)st.overwritten,
		    (unsigned long long)st.dropped,
		    (unsigned long long)total))
		dump_ring(q, &t);
	seen += t.ctx[nmi ? LFQ_CONTEXT_NMI : LFQ_CONTEXT_HARDIRQ];
	tap_ok(!snap_bad && snaps > 0 && seen,
	       "%llu snapshots while the producers overwrote: every record whole and in order; %llu records from %s context seen",
	       (unsigned long long)snaps, (unsigned long long)seen,
	       nmi ? "NMI" : "hardirq");
	lfq_close(q);
}

/* Run @cmd, its stdout into @out (a file), stderr into @err. */
static pid_t spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (!pid) {
		if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Lines of file @path that contain @needle. */
static int count_lines(const char *path, const char *needle)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, needle);
	fclose(f);
	return n;
}

/* Copy of the first line of @path with @needle in @line; 0 if found. */
static int find_line(const char *path, const char *needle, char *line,
		     size_t size)
{
	FILE *f = fopen(path, "r");
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, (int)size, f))
		found = strstr(line, needle) ? 0 : -1;
	fclose(f);
	return found;
}

/*
 * lfq-stream --flight-recorder: the dump on SIGUSR1 has the last records
 * (at most a ring's worth), the end prints one more.
 */
static void flight_recorder(void)
{
	char *argv[] = { "/lfq/bin/lfq-stream", "--json",
			 "--flight-recorder", "16384", "synth", "--threads",
			 "2", "--count", "20000", NULL };
	const char *out = "/tmp/fr.out", *err = "/tmp/fr.err";
	char line[512];
	int snap1, lines, st;
	pid_t pid = spawn(argv, out, err);

	msleep(3000);		/* 40000 records: the ring overflowed */
	kill(pid, SIGUSR1);
	msleep(500);
	lines = count_lines(out, "\"event\":\"synth\"");
	snap1 = !find_line(err, "snapshot 1 (SIGUSR1)", line, sizeof(line));
	kill(pid, SIGINT);
	st = child_status(pid);
	tap_ok(st == 0 && snap1 && lines > 16384 / 48 &&
	       lines <= 16384 / 40,
	       "lfq-stream --flight-recorder 16384: SIGUSR1 prints the last %d events (a 16 KiB ring's worth of 32-byte records behind their headers), exit status %d",
	       lines, st);
	tap_ok(count_lines(err, "snapshot 2 (end)") == 1 &&
	       count_lines(out, "\"event\":\"synth\"") == 2 * lines,
	       "and at the end the same records again (the producers were done): %d lines in all",
	       count_lines(out, "\"event\":\"synth\""));
	if (!snap1 || lines <= 0)
		tap_diag("  stderr: %s", find_line(err, "", line, sizeof(line)) ?
			 "(none)" : line);
}

/* lfqctl snapshot of a named overwrite-mode queue, and of another. */
static void lfqctl_snapshot(void)
{
	char *argv[] = { "/lfq/bin/lfqctl", "snapshot", "t-ow-ctl", NULL };
	char *argv2[] = { "/lfq/bin/lfqctl", "snapshot", "t-ow-plain", NULL };
	struct lfq_source src = {
		.type = LFQ_SOURCE_SYNTH, .threads = 1, .count = 5000,
	};
	LFQ_OPTS(lfq_create_opts, plain, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = RING, .flags = LFQ_CREATE_RECORDS,
		 .name = "t-ow-plain", .mode = 0600);
	struct synth_tally t = { 0 };
	struct lfq *q = ow_queue("t-ow-ctl"), *p = NULL;
	struct lfq_stats st;
	int id = lfq_source_attach(q, &src), n, lines, stq, stp;
	int64_t t0 = now_ns();

	do {
		msleep(50);
		lfq_get_stats(q, &st);
	} while (id >= 0 && st.produced < RING * 2 &&
		 now_ns() - t0 < 30000000000ll);
	if (id >= 0)
		lfq_source_detach(q, id);
	n = lfq_record_snapshot(q, snap_buf, sizeof(snap_buf), synth_rec, &t);
	stq = child_status(spawn(argv, "/tmp/ctl.out", "/tmp/ctl.err"));
	lines = count_lines("/tmp/ctl.out", " 32 ");
	tap_ok(id >= 0 && n > 0 && !t.bad && !stq && lines == n &&
	       count_lines("/tmp/ctl.err", "records") == 1,
	       "lfqctl snapshot t-ow-ctl prints the %d records lfq_record_snapshot() copies (%d lines), as a reader beside the consumer",
	       n, lines);
	if (!lfq_create(&plain, &p)) {
		stp = child_status(spawn(argv2, "/tmp/ctl.out", "/tmp/ctl.err"));
		stp = stp > 0 && WIFEXITED(stp) ? WEXITSTATUS(stp) : -1;
		tap_ok(stp == 1 && count_lines("/tmp/ctl.err",
					       "not an overwrite") == 1,
		       "lfqctl snapshot of a queue not in overwrite mode fails (status %d)",
		       stp);
		lfq_unlink("t-ow-plain");
		lfq_close(p);
	} else {
		tap_ok(0, "create t-ow-plain");
	}
	lfq_unlink("t-ow-ctl");
	lfq_close(q);
}

/* lfq-stream -r prints an exec's argv, execsnoop-style. */
static void stream_argv(void)
{
	char *argv[] = { "/lfq/bin/lfq-stream", "--json", "-r", "262144",
			 "-t", "4", "proc", NULL };
	char *probe[] = { "/lfq/rec_ow_sources", "--exec-probe", "alpha",
			  "two words", "omega", NULL };
	const char *out = "/tmp/argv.out";
	char line[4096];
	pid_t pid = spawn(argv, out, "/tmp/argv.err"), c;
	int st, found;

	msleep(1500);
	c = fork();
	if (!c) {
		execv(probe[0], probe);
		_exit(127);
	}
	child_status(c);
	st = child_status(pid);
	found = !find_line(out, "--exec-probe alpha two words omega", line,
			   sizeof(line));
	tap_ok(!st && found && strstr(line, "\"event\":\"exec\"") &&
	       strstr(line, "\"args_cut\":false"),
	       "lfq-stream -r prints an exec's whole argv: %s",
	       found ? "found" : "not found");
	if (!found)
		tap_diag("  %d exec lines", count_lines(out, "\"exec\""));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exec-probe"))
		return 0;
	if (argc > 2 && !strcmp(argv[1], "--repeat")) {
		tap_plan(2 * atoi(argv[2]));
		for (int i = atoi(argv[2]); i > 0; i--)
			synth(1, 1);
		return tap_done();
	}
	tap_plan(11);
	synth(0, 0);
	synth(1, 0);
	synth(1, 1);
	flight_recorder();
	lfqctl_snapshot();
	stream_argv();
	return tap_done();
}
