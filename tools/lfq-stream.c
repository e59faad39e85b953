// SPDX-License-Identifier: MIT
/*
 * lfq-stream.c - a live viewer for the module's event sources: creates an
 * MPSC queue on /dev/lfq, attaches one source (proc, synth or syscall) and
 * prints its records as they arrive, as aligned columns or JSON lines,
 * with a status line (rate, total, drops) on stderr about once a second.
 * The ring is shared memory: each record is copied out of its slot once
 * and every length in it is bounded by the slot size. As a flight
 * recorder (--flight-recorder SIZE: a record queue in overwrite mode) it
 * reads nothing while it runs, and prints a snapshot of the last SIZE
 * bytes of events on SIGUSR1 and at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"

#define BATCH		64		/* slots per peek when printing */
#define WAIT_MAX_NS	200000000ll	/* wake at least this often */
#define NO_VALUE	(-1ll)		/* a column the record does not have */

static const char usage_text[] =
"Usage: lfq-stream [--json] [-t SECONDS] [-c COUNT] [-q] [-n SLOTS]\n"
"                  [-s SLOT_SIZE] [-e MIN:MAX] [-r BYTES] SOURCE\n"
"Sources:\n"
"  proc                  process exec, fork and exit, system-wide\n"
"  synth [--threads N] [--hardirq N | --nmi N] [--softirq N] [--count N]\n"
"        [--period-ns NS] [--timer-period-ns NS]\n"
"                        sequenced records from kernel threads and hrtimers\n"
"                        (--nmi: hardirq timers producing from an NMI they\n"
"                        raise; default: 1 thread, flat out; timers every\n"
"                        1 ms; --count is per producer, 0 = until detached)\n"
"  syscall NR [--data]   every entry of system call number NR (--data, with\n"
"                        -r: and the buffer its 2nd and 3rd arguments name,\n"
"                        as write(2) and pwrite64(2) do, up to 256 bytes)\n"
"Options:\n"
"  --json        one JSON object per line instead of columns\n"
"  -t SECONDS    stop after SECONDS\n"
"  -c COUNT      stop after COUNT events\n"
"  -q            print only the status lines and the final summary\n"
"  -n SLOTS      ring slots, a power of two (default 4096; with -e, per\n"
"                segment)\n"
"  -s SLOT_SIZE  bytes per slot, a multiple of 8 (default 256)\n"
"  -e MIN:MAX    an elastic queue: segments of SLOTS slots, MIN kept at\n"
"                rest, up to MAX under a burst (the status line shows them)\n"
"  -r BYTES      a record queue of BYTES (a power of two): each event\n"
"                takes the bytes it needs; exec events carry the whole\n"
"                path and argv, syscall events all six arguments; with\n"
"                -e, an elastic record queue of segments of BYTES\n"
"  --flight-recorder BYTES\n"
"                keep only the last BYTES (a power of two) of events, in a\n"
"                record queue whose producers overwrite the oldest; print\n"
"                them on SIGUSR1 and at the end (nothing before)\n"
"Needs the lfq module (/dev/lfq) and CAP_PERFMON or root. SIGINT/SIGTERM\n"
"detach the source, drain the ring and print a summary.\n";

struct opts {
	int json, quiet;
	double seconds;			/* 0: no limit */
	uint64_t count;			/* 0: no limit */
	struct lfq_create_opts queue;
	struct lfq_source src;
	const char *source_name;
	int recorder;			/* --flight-recorder */
};

/* One decoded detail: "key=value" in columns, "key":value in JSON. */
struct field {
	const char *key;
	enum {
		F_NUM,			/* @num */
		F_HEX,			/* @num, in hex in columns */
		F_TEXT,			/* at most @max bytes of @str */
		F_BARE,			/* F_TEXT with no "key=" in columns */
		F_BYTES,		/* @max bytes of @str, NULs and all */
		F_ARGV,			/* @max bytes of NUL-separated words */
	} kind;
	uint64_t num;
	const char *str;
	size_t max;
};

/* A record decoded from the local copy of its slot. */
struct event {
	uint64_t time_ns;
	uint32_t cpu;
	const char *name;
	long long pid, ppid, uid;	/* NO_VALUE when absent */
	const char *comm;		/* NULL when absent; at most 16 bytes */
	struct field f[10];
	int nf;
};

struct stream {
	struct lfq *q;
	const struct opts *o;
	int id;				/* the attached source */
	uint64_t t0_ns, deadline_ns, next_status_ns, last_status_ns;
	uint64_t events, last_events;
	void *snap;			/* recorder: a ring's bytes */
	uint64_t snapshots;
	int status_tty, stdout_tty;
	int status_len;			/* status chars on the tty; 0: none */
	char status[192];
};

/* A private copy of the record being decoded. */
union record {
	struct lfq_event hdr;
	struct lfq_event_proc proc;
	struct lfq_event_synth synth;
	struct lfq_event_syscall sys;
	char bytes[LFQ_SLOT_SIZE_MAX];
};

static volatile sig_atomic_t stop, dump;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void __attribute__((noreturn)) usage_error(const char *msg,
						  const char *arg)
{
	fprintf(stderr, "lfq-stream: %s%s%s\n%s", msg, arg ? ": " : "",
		arg ? arg : "", usage_text);
	exit(2);
}

/* Report @err (a negative errno) from @what, with @hint, and exit 1. */
static void __attribute__((noreturn)) fail(const char *what, int err,
					   const char *hint)
{
	if (err == -EPERM || err == -EACCES)
		hint = "needs CAP_PERFMON or CAP_SYS_ADMIN: run as root";
	fprintf(stderr, "lfq-stream: %s: %s%s%s%s\n", what, strerror(-err),
		hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	exit(1);
}

static uint64_t parse_u64(const char *s, const char *what, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max)
		usage_error("bad number for", what);
	return v;
}

static uint32_t parse_u32(const char *s, const char *what)
{
	return (uint32_t)parse_u64(s, what, UINT32_MAX);
}

/* Whether the pairs of "--name VALUE" in @argv name @name. */
static int has_opt(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i < argc; i += 2)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

/* synth's options: pairs of "--name VALUE". */
static void parse_synth(int argc, char **argv, struct lfq_source *src)
{
	int i;

	src->type = LFQ_SOURCE_SYNTH;
	for (i = 0; i < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];

		if (!v)
			usage_error("synth option needs a value", o);
		if (!strcmp(o, "--threads"))
			src->threads = parse_u32(v, o);
		else if (!strcmp(o, "--hardirq"))
			src->hardirq_timers = parse_u32(v, o);
		else if (!strcmp(o, "--nmi")) {
			src->hardirq_timers = parse_u32(v, o);
			if (!src->hardirq_timers)
				usage_error("--nmi needs at least 1 timer", NULL);
			src->flags |= LFQ_SOURCE_SYNTH_NMI;
		} else if (!strcmp(o, "--softirq"))
			src->softirq_timers = parse_u32(v, o);
		else if (!strcmp(o, "--count"))
			src->count = parse_u64(v, o, UINT64_MAX);
		else if (!strcmp(o, "--period-ns"))
			src->thread_period_ns = parse_u64(v, o, UINT64_MAX);
		else if (!strcmp(o, "--timer-period-ns"))
			src->timer_period_ns = parse_u64(v, o, UINT64_MAX);
		else
			usage_error("unknown synth option", o);
	}
	if (src->flags & LFQ_SOURCE_SYNTH_NMI &&
	    has_opt(argc, argv, "--hardirq"))
		usage_error("--nmi and --hardirq both set the hardirq timers", NULL);
	if (!src->threads && !src->hardirq_timers && !src->softirq_timers)
		src->threads = 1;
	if (!src->timer_period_ns &&
	    (src->hardirq_timers || src->softirq_timers))
		src->timer_period_ns = 1000000;
}

/* The SOURCE words after the options. */
static void parse_source(int argc, char **argv, struct opts *o)
{
	if (argc < 1)
		usage_error("no source given", NULL);
	o->source_name = argv[0];
	if (!strcmp(argv[0], "proc") && argc == 1) {
		o->src.type = LFQ_SOURCE_PROC;
	} else if (!strcmp(argv[0], "synth")) {
		parse_synth(argc - 1, argv + 1, &o->src);
	} else if (!strcmp(argv[0], "syscall") &&
		   (argc == 2 || (argc == 3 && !strcmp(argv[2], "--data")))) {
		o->src.type = LFQ_SOURCE_SYSCALL;
		o->src.syscall_nr = (int32_t)parse_u64(argv[1], "NR",
						       INT32_MAX);
		if (argc == 3)
			o->src.flags |= LFQ_SOURCE_SYSCALL_DATA;
	} else {
		usage_error("bad source", argv[0]);
	}
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "flight-recorder", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	const char *optstring = "+t:c:qn:s:e:r:h";	/* '+': stop at SOURCE */
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = 1; break;
		case 'q': o->quiet = 1; break;
		case 'c': o->count = parse_u64(optarg, "-c", UINT64_MAX); break;
		case 'n': o->queue.slot_count = parse_u32(optarg, "-n"); break;
		case 's': o->queue.slot_size = parse_u32(optarg, "-s"); break;
		case 'e':
			end = strchr(optarg, ':');
			if (!end)
				usage_error("bad -e (want MIN:MAX)", optarg);
			*end = '\0';
			o->queue.seg_min = parse_u32(optarg, "-e");
			o->queue.seg_max = parse_u32(end + 1, "-e");
			o->queue.flags |= LFQ_CREATE_ELASTIC;
			break;
		case 'r':
			o->queue.slot_count = parse_u32(optarg, "-r");
			o->queue.slot_size = 1;
			o->queue.flags |= LFQ_CREATE_RECORDS;
			break;
		case 'F':
			o->queue.slot_count = parse_u32(optarg,
							"--flight-recorder");
			o->queue.slot_size = 1;
			o->queue.flags |= LFQ_CREATE_RECORDS |
					  LFQ_CREATE_OVERWRITE;
			o->recorder = 1;
			break;
		case 't':
			o->seconds = strtod(optarg, &end);
			if (*end || end == optarg || !(o->seconds > 0))
				usage_error("bad number for", "-t");
			break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: usage_error("bad option", NULL);
		}
	}
	parse_source(argc - optind, argv + optind, o);
}

/* Print at most @max bytes of untrusted @s (to its NUL), sanitized. */
static int put_text(const char *s, size_t max, int json)
{
	size_t i, n = strnlen(s, max);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (json && (ch == '"' || ch == '\\'))
			printf("\\%c", ch);
		else if (ch >= 0x20 && ch < 0x7f)
			putchar(ch);
		else if (json)
			printf("\\u%04x", ch);	/* the byte's value */
		else
			putchar('?');
	}
	return (int)n;
}

/*
 * Print @n bytes of untrusted binary @s: printable ones as they are, the
 * rest (NUL included) as \xNN in columns, \u00NN in JSON.
 */
static void put_bytes(const char *s, size_t n, int json)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\' || (json && ch == '"'))
			printf("\\%c", ch);
		else if (ch >= 0x20 && ch < 0x7f)
			putchar(ch);
		else
			printf(json ? "\\u%04x" : "\\x%02x", ch);
	}
}

/*
 * Print @len bytes of NUL-separated words (an exec's argv), one space
 * between them, as execsnoop does; "..." after an argv that was cut.
 */
static void put_argv(const char *s, size_t len, int json)
{
	size_t at = 0;

	while (at < len) {
		if (at)
			putchar(' ');
		at += put_text(s + at, len - at, json) + 1;
	}
}

static void put_column(long long v, int width)
{
	if (v == NO_VALUE)
		printf(" %*s", width, "-");
	else
		printf(" %*lld", width, v);
}

static void print_header(void)
{
	printf("%12s %3s %-7s %7s %7s %5s %-16s %s\n", "TIME", "CPU", "EVENT",
	       "PID", "PPID", "UID", "COMM", "DETAIL");
}

/* Seconds from the start to the event (both CLOCK_MONOTONIC). */
static double since_start(const struct stream *s, const struct event *e)
{
	return (double)(int64_t)(e->time_ns - s->t0_ns) / 1e9;
}

static void print_text(const struct stream *s, const struct event *e)
{
	int i, n;

	printf("%12.6f %3u %-7s", since_start(s, e), e->cpu, e->name);
	put_column(e->pid, 7);
	put_column(e->ppid, 7);
	put_column(e->uid, 5);
	putchar(' ');
	if (e->comm)
		n = put_text(e->comm, 16, 0);
	else
		n = printf("-");
	printf("%*s", 16 - n, "");
	for (i = 0; i < e->nf; i++) {
		const struct field *f = &e->f[i];

		printf(" %s%s", f->kind == F_BARE ? "" : f->key,
		       f->kind == F_BARE ? "" : "=");
		if (f->kind == F_NUM)
			printf("%" PRIu64, f->num);
		else if (f->kind == F_HEX)
			printf("%#" PRIx64, f->num);
		else if (f->kind == F_ARGV)
			put_argv(f->str, f->max, 0);
		else if (f->kind == F_BYTES)
			put_bytes(f->str, f->max, 0);
		else
			put_text(f->str, f->max, 0);
		if (f->kind == F_ARGV && f->num)
			fputs(" ...", stdout);
	}
	putchar('\n');
}

static void print_json(const struct stream *s, const struct event *e)
{
	const char *keys[] = { "pid", "ppid", "uid" };
	const long long vals[] = { e->pid, e->ppid, e->uid };
	int i;

	printf("{\"time\":%.6f,\"cpu\":%u,\"event\":\"%s\"",
	       since_start(s, e), e->cpu, e->name);
	for (i = 0; i < 3; i++)
		if (vals[i] != NO_VALUE)
			printf(",\"%s\":%lld", keys[i], vals[i]);
	if (e->comm) {
		fputs(",\"comm\":\"", stdout);
		put_text(e->comm, 16, 1);
		putchar('"');
	}
	for (i = 0; i < e->nf; i++) {
		const struct field *f = &e->f[i];

		printf(",\"%s\":", f->key);
		if (f->kind == F_NUM || f->kind == F_HEX) {
			printf("%" PRIu64, f->num);
		} else if (f->kind == F_ARGV) {
			putchar('"');
			put_argv(f->str, f->max, 1);
			printf("\",\"%s_cut\":%s", f->key,
			       f->num ? "true" : "false");
		} else {
			putchar('"');
			if (f->kind == F_BYTES)
				put_bytes(f->str, f->max, 1);
			else
				put_text(f->str, f->max, 1);
			putchar('"');
		}
	}
	puts("}");
}

static void add_field(struct event *e, const char *key, int kind,
		      uint64_t num, const char *str, size_t max)
{
	if (e->nf < (int)(sizeof(e->f) / sizeof(e->f[0])))
		e->f[e->nf++] = (struct field){ key, kind, num, str, max };
}

static void decode_proc(const struct lfq_event_proc *p, size_t len,
			struct event *e)
{
	int st = p->exit_code;

	e->pid = p->tgid;
	e->ppid = p->ppid;
	e->uid = p->uid;
	e->comm = p->comm;
	if (p->pid != p->tgid)
		add_field(e, "tid", F_NUM, p->pid, NULL, 0);
	if (p->hdr.type == LFQ_EVENT_EXEC) {
		size_t room = len - sizeof(*p);
		/* Untrusted: the argv only where the record holds it. */
		size_t args = p->args_size < room ? p->args_size : 0;

		e->name = "exec";
		add_field(e, "filename", F_BARE, 0,
			  LFQ_EVENT_PROC_FILENAME(p), room - args);
		if (args)
			add_field(e, "args", F_ARGV,
				  !!(p->cut & LFQ_PROC_ARGS_CUT),
				  (const char *)p +
				  LFQ_EVENT_PROC_ARGS_OFFSET(len, args),
				  args);
	} else if (p->hdr.type == LFQ_EVENT_FORK) {
		e->name = "fork";
		add_field(e, p->child_tgid == p->tgid ? "thread" : "child",
			  F_NUM, p->child_pid, NULL, 0);
	} else {
		e->name = "exit";
		if (WIFSIGNALED(st))
			add_field(e, "sig", F_NUM, WTERMSIG(st), NULL, 0);
		else
			add_field(e, "code", F_NUM, WEXITSTATUS(st), NULL, 0);
	}
}

static void decode_synth(const struct lfq_event_synth *r, struct event *e)
{
	static const char *const ctx[] = {
		"?", "thread", "hardirq", "softirq", "nmi"
	};

	e->name = "synth";
	add_field(e, "producer", F_NUM, r->producer, NULL, 0);
	add_field(e, "context", F_TEXT, 0,
		  ctx[r->context < sizeof(ctx) / sizeof(ctx[0]) ?
		      r->context : 0], 8);
	add_field(e, "seq", F_NUM, r->seq, NULL, 0);
}

static void decode_syscall(const struct lfq_event_syscall *r, size_t len,
			   int data, struct event *e)
{
	static const char *const key[] = {
		"arg1", "arg2", "arg3", "arg4", "arg5"
	};
	int i;

	e->name = "syscall";
	e->pid = r->pid;
	add_field(e, "nr", F_NUM, (uint32_t)r->nr, NULL, 0);
	add_field(e, "arg0", F_HEX, r->arg0, NULL, 0);
	/* A record queue's record carries all six. */
	if (len >= LFQ_EVENT_SYSCALL_FULL)
		for (i = 0; i < 5; i++)
			add_field(e, key[i], F_HEX,
				  LFQ_EVENT_SYSCALL_ARGS(r)[i], NULL, 0);
	/* LFQ_SOURCE_SYSCALL_DATA: the buffer, where the record holds it. */
	if (data && len >= LFQ_EVENT_SYSCALL_DATA_MIN &&
	    LFQ_EVENT_SYSCALL_DATA(r)->size == len - LFQ_EVENT_SYSCALL_DATA_MIN) {
		add_field(e, "data_size", F_NUM, LFQ_EVENT_SYSCALL_DATA(r)->size,
			  NULL, 0);
		if (LFQ_EVENT_SYSCALL_DATA(r)->flags)
			add_field(e, "data_flags", F_NUM,
				  LFQ_EVENT_SYSCALL_DATA(r)->flags, NULL, 0);
		add_field(e, "data", F_BYTES, 0,
			  (const char *)LFQ_EVENT_SYSCALL_DATA_BYTES(r),
			  LFQ_EVENT_SYSCALL_DATA(r)->size < 64 ?
			  LFQ_EVENT_SYSCALL_DATA(r)->size : 64);
	}
}

/*
 * Copy one slot (a record queue: one record of @slot_size bytes) out of
 * the shared ring (once: a writer cannot change it under the decoder),
 * decode it within min(hdr.size, slot size), print it.
 */
static void show_record(struct stream *s, const void *slot, size_t slot_size)
{
	static union record r;
	size_t len;
	struct event e = { .pid = NO_VALUE, .ppid = NO_VALUE, .uid = NO_VALUE };
	int type;

	if (slot_size > sizeof(r))
		slot_size = sizeof(r);
	memcpy(&r, slot, slot_size);
	len = r.hdr.size < slot_size ? r.hdr.size : slot_size;
	type = r.hdr.type;
	e.time_ns = r.hdr.time_ns;
	e.cpu = r.hdr.cpu;
	if ((type == LFQ_EVENT_EXEC || type == LFQ_EVENT_FORK ||
	     type == LFQ_EVENT_EXIT) && len >= sizeof(r.proc)) {
		decode_proc(&r.proc, len, &e);
	} else if (type == LFQ_EVENT_SYNTH && len >= sizeof(r.synth)) {
		decode_synth(&r.synth, &e);
	} else if (type == LFQ_EVENT_SYSCALL && len >= sizeof(r.sys)) {
		decode_syscall(&r.sys, len,
			       !!(s->o->src.flags & LFQ_SOURCE_SYSCALL_DATA), &e);
	} else {
		e.name = "bad";
		add_field(&e, "type", F_NUM, (uint64_t)type, NULL, 0);
		add_field(&e, "size", F_NUM, r.hdr.size, NULL, 0);
	}
	if (s->o->json)
		print_json(s, &e);
	else
		print_text(s, &e);
}

/* Take the status line off the terminal; 1 if it was there. */
static int status_hide(struct stream *s)
{
	if (!s->status_len)
		return 0;
	fprintf(stderr, "\r%*s\r", s->status_len, "");
	s->status_len = 0;
	return 1;
}

static void status_draw(struct stream *s)
{
	int n;

	if (!s->status_tty || !s->status[0])
		return;
	n = fprintf(stderr, "\r%s", s->status) - 1;
	if (n < 0)
		n = 0;
	if (n < s->status_len)
		fprintf(stderr, "%*s", s->status_len - n, "");
	s->status_len = n;
}

static struct lfq_stats counters(struct stream *s)
{
	struct lfq_stats st;
	int err = lfq_get_stats(s->q, &st);

	if (err)
		fail("reading the queue's counters", err, NULL);
	return st;
}

static uint64_t dropped(struct stream *s)
{
	return counters(s).dropped;
}

/* About once a second: rate, total and drops on stderr. */
static void status_tick(struct stream *s, uint64_t now)
{
	double dt = (now - s->last_status_ns) / 1e9;
	struct lfq_stats st;
	int n;

	if (now < s->next_status_ns)
		return;
	st = counters(s);
	n = snprintf(s->status, sizeof(s->status),
		     "%.0f s: %.0f events/s, %" PRIu64 " total, %" PRIu64
		     " dropped",
		     (now - s->t0_ns) / 1e9, (s->events - s->last_events) / dt,
		     s->events, (uint64_t)st.dropped);
	/* Elastic: segments live (peak), grows/shrinks, memory held. */
	if (s->o->queue.flags & LFQ_CREATE_ELASTIC && n > 0 &&
	    (size_t)n < sizeof(s->status))
		snprintf(s->status + n, sizeof(s->status) - n,
			 ", %" PRIu64 " segments (peak %" PRIu64 "), %" PRIu64
			 " grows, %" PRIu64 " shrinks, %" PRIu64 " KiB",
			 (uint64_t)st.segments, (uint64_t)st.segments_peak,
			 (uint64_t)st.grows, (uint64_t)st.shrinks,
			 (uint64_t)st.bytes >> 10);
	if (s->status_tty)
		status_draw(s);
	else
		fprintf(stderr, "# %s\n", s->status);
	s->last_events = s->events;
	s->last_status_ns = now;
	s->next_status_ns = now + 1000000000u;
}

static int count_one(void *ctx, const void *rec, uint32_t len)
{
	(void)ctx;
	(void)rec;
	(void)len;
	return 0;
}

static int show_one(void *ctx, const void *rec, uint32_t len)
{
	show_record(ctx, rec, len);
	return 0;
}

/* drain_batch() of a record queue: lfq_record_consume() hands them over. */
static uint32_t drain_records(struct stream *s, uint32_t want)
{
	int redraw = !s->o->quiet && s->stdout_tty && status_hide(s);
	int n;

	n = lfq_record_consume(s->q, want, s->o->quiet ? count_one : show_one,
			       s);
	if (n < 0)
		fail("reading the ring", n, NULL);
	if (!s->o->quiet)
		fflush(stdout);
	if (redraw)
		status_draw(s);
	s->events += (uint32_t)n;
	return (uint32_t)n;
}

/* Print and release up to one batch (fewer to honour -c); 0 when empty. */
static uint32_t drain_batch(struct stream *s)
{
	/* -q only counts: take whatever is there. */
	uint32_t want = s->o->quiet ? lfq_slot_count(s->q) : BATCH, got, i;
	const char *span;
	const void *first;
	int n;

	if (s->o->count && s->o->count - s->events < want)
		want = (uint32_t)(s->o->count - s->events);
	if (!want)
		return 0;
	if (s->o->queue.flags & LFQ_CREATE_RECORDS)
		return drain_records(s, want);
	n = lfq_peek(s->q, want, &first);
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		fail("reading the ring", n, NULL);
	span = first;
	got = (uint32_t)n;
	if (!s->o->quiet) {
		/* Events and the status share the terminal: status last. */
		int redraw = s->stdout_tty && status_hide(s);

		for (i = 0; i < got; i++)
			show_record(s, span + (size_t)i * lfq_slot_size(s->q),
				    lfq_slot_size(s->q));
		fflush(stdout);
		if (redraw)
			status_draw(s);
	}
	lfq_release(s->q, got);
	s->events += got;
	return got;
}

static int limit_reached(const struct stream *s, uint64_t now)
{
	return (s->o->count && s->events >= s->o->count) ||
	       (s->deadline_ns && now >= s->deadline_ns);
}

/* Sleep until there is data, a signal, the deadline or 200 ms pass. */
static void wait_data(struct stream *s, uint64_t now)
{
	int64_t t = WAIT_MAX_NS;
	int err;

	if (s->deadline_ns && (int64_t)(s->deadline_ns - now) < t)
		t = (int64_t)(s->deadline_ns - now);
	if (t <= 0 || stop)
		return;
	err = lfq_wait_data(s->q, 1, t);
	if (err && err != -ETIMEDOUT && err != -EINTR && err != -EAGAIN)
		fail("waiting for events", err, NULL);
}

/*
 * The flight recorder's dump: the records in the ring, oldest first,
 * copied without consuming them (lfq_record_snapshot()).
 */
static void print_snapshot(struct stream *s, const char *why)
{
	int redraw = s->stdout_tty && status_hide(s), n;

	n = lfq_record_snapshot(s->q, s->snap, s->o->queue.slot_count,
				s->o->quiet ? count_one : show_one, s);
	if (n < 0)
		fail("taking a snapshot", n, NULL);
	fflush(stdout);
	s->snapshots++;
	fprintf(stderr, "# lfq-stream: snapshot %" PRIu64 " (%s): %d events,"
		" %" PRIu64 " overwritten so far\n", s->snapshots, why, n,
		(uint64_t)counters(s).overwritten);
	s->events = (uint64_t)n;
	if (redraw)
		status_draw(s);
}

/* The recorder reads nothing until SIGUSR1 or the end. */
static void record(struct stream *s)
{
	uint64_t now = now_ns();
	struct timespec nap = { 0, 100000000 };

	while (!stop && !(s->deadline_ns && now >= s->deadline_ns)) {
		if (dump) {
			dump = 0;
			print_snapshot(s, "SIGUSR1");
		}
		nanosleep(&nap, NULL);	/* a signal cuts it short */
		now = now_ns();
	}
}

static void run(struct stream *s)
{
	uint64_t now = now_ns();

	if (s->o->recorder) {
		record(s);
		return;
	}

	while (!stop && !limit_reached(s, now)) {
		if (!drain_batch(s))
			wait_data(s, now);
		now = now_ns();
		status_tick(s, now);
	}
}

/* Detach, drain what the source left in the ring, print the summary. */
static int finish(struct stream *s)
{
	int err = lfq_source_detach(s->q, s->id);
	double secs = (now_ns() - s->t0_ns) / 1e9;
	uint64_t d;

	if (s->o->recorder)
		print_snapshot(s, "end");
	else
		while (drain_batch(s))
			;
	d = dropped(s);
	status_hide(s);
	fprintf(stderr, "# lfq-stream: %" PRIu64 " events, %" PRIu64
		" dropped, %.0f events/s, %s\n", s->events, d,
		secs > 0 ? s->events / secs : 0.0,
		err ? "detach failed" : "detached");
	if (err)
		fail("detaching the source", err, NULL);
	return 0;
}

/* What to tell the user when attaching a source of @type fails with @err. */
static const char *attach_hint(int err, uint32_t type)
{
	static char limits[80];

	if (err == -ENOENT)
		return "this kernel lacks that syscall or tracepoint";
	if (err == -EMSGSIZE)
		return "a record does not fit a slot: raise -s (or -r)";
	if (err != -EINVAL || type != LFQ_SOURCE_SYNTH)
		return NULL;
	snprintf(limits, sizeof(limits),
		 "synth: 1..%d producers, timer periods >= %llu ns",
		 LFQ_SYNTH_PRODUCERS_MAX, LFQ_SYNTH_TIMER_PERIOD_MIN_NS);
	return limits;
}

/* Create the queue, install the signal handlers, attach the source. */
static void start(struct stream *s, const struct opts *o)
{
	/* No SA_RESTART: a signal ends the wait in LFQ_IOC_WAIT at once. */
	struct sigaction sa = { .sa_handler = on_signal };
	char what[64];
	int err;

	s->o = o;
	err = lfq_create(&o->queue, &s->q);
	if (err == -ENOENT)
		fail(LFQ_DEVICE_PATH, err, "the lfq module is not loaded");
	if (err) {
		if (o->queue.flags & LFQ_CREATE_RECORDS)
			snprintf(what, sizeof(what),
				 "creating a record queue of %u bytes",
				 o->queue.slot_count);
		else
			snprintf(what, sizeof(what),
				 "creating a queue of %u slots of %u bytes",
				 o->queue.slot_count, o->queue.slot_size);
		fail(what, err, NULL);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o->recorder) {
		sigaction(SIGUSR1, &sa, NULL);
		s->snap = aligned_alloc(8, o->queue.slot_count);
		if (!s->snap)
			fail("allocating the snapshot buffer", -ENOMEM, NULL);
	}
	s->t0_ns = now_ns();
	s->id = lfq_source_attach(s->q, &o->src);
	if (s->id < 0) {
		snprintf(what, sizeof(what), "attaching the %s source",
			 o->source_name);
		fail(what, s->id, attach_hint(s->id, o->src.type));
	}
	s->last_status_ns = s->t0_ns;
	s->next_status_ns = s->t0_ns + 1000000000u;
	if (o->seconds)
		s->deadline_ns = s->t0_ns + (uint64_t)(o->seconds * 1e9);
	s->status_tty = isatty(STDERR_FILENO);
	s->stdout_tty = isatty(STDOUT_FILENO);
}

int main(int argc, char **argv)
{
	LFQ_OPTS(lfq_create_opts, queue, .type = LFQ_TYPE_MPSC,
		 .slot_size = 256, .slot_count = 4096);
	struct stream s = { 0 };
	struct opts o = { .queue = queue };

	parse_args(argc, argv, &o);
	start(&s, &o);
	if (!o.quiet && !o.json) {
		print_header();
		fflush(stdout);
	}
	run(&s);
	return finish(&s);
}
