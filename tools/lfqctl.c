// SPDX-License-Identifier: MIT
/*
 * lfqctl.c - manage named /dev/lfq queues from the shell: create, list,
 * stat, watch, unlink, attach-test (attach as producer and consumer and
 * round-trip one message), and snapshot (copy an overwrite-mode queue's
 * records as a reader, LFQ_IOC_SNAPSHOT). Listing, stat and watch need no
 * access to the queue: they read LFQ_IOC_LIST. Exit status: 0 success, 1
 * failure (the reason on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"

static const char usage_text[] =
"Usage: lfqctl COMMAND [ARGS]\n"
"  create NAME [--type spsc|mpsc|mpmc] [--slot-size N] [--slots N] [--mode OCTAL]\n"
"              [--block] [--elastic MIN:MAX] [--records BYTES] [--overwrite]\n"
"                             create a named queue (default spsc, 64 bytes x\n"
"                             1024 slots, mode 0600); it lives until unlinked.\n"
"                             --elastic: segments of --slots slots, MIN kept\n"
"                             at rest, MAX at most; --records: a record queue\n"
"                             of a BYTES ring (records of any size; with\n"
"                             --elastic, segments of BYTES);\n"
"                             --overwrite: with --records, a flight recorder\n"
"                             (producers overwrite the oldest records)\n"
"  attach-test NAME           attach as producer and as consumer, push one\n"
"                             message and pop it back (the queue must be empty)\n"
"  snapshot [--raw] [--] NAME copy an overwrite-mode queue's records without\n"
"                             consuming them: one line each (length, then text\n"
"                             or hex), or --raw: the LFQ_IOC_SNAPSHOT bytes\n"
"  list [--json]              every named queue\n"
"  stat [--json] [--] NAME    one queue's geometry, owner and counters\n"
"  watch NAME [--interval-ms MS] [--count N]\n"
"                             counters and rates every interval (1000 ms)\n"
"                             until SIGINT, or N lines\n"
"  unlink NAME                remove the name; attached users keep the queue\n";

static const char *prog = "lfqctl";

static int usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* Report a failed call: "lfqctl: WHAT NAME: strerror". Returns 1. */
static int fail(const char *what, const char *name, int err)
{
	fprintf(stderr, "%s: %s%s%s: %s\n", prog, what, name[0] ? " " : "",
		name, strerror(-err));
	return 1;
}

static const char *type_name(uint32_t type)
{
	return type == LFQ_TYPE_MPSC ? "mpsc" : type == LFQ_TYPE_SPSC ?
	       "spsc" : type == LFQ_TYPE_MPMC ? "mpmc" : "?";
}

static int parse_u32(const char *s, int base, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * All named queues: a malloc'ed array (free it) and its length in *n, or
 * NULL with a negative errno in *n.
 */
static struct lfq_list_entry *list_all(int *n)
{
	struct lfq_list_entry *e = NULL;
	unsigned int cap = 16, total = 0;
	int got;

	for (;;) {
		free(e);
		e = calloc(cap, sizeof(*e));
		if (!e) {
			*n = -ENOMEM;
			return NULL;
		}
		got = lfq_list(e, cap, &total);
		if (got < 0) {
			free(e);
			*n = got;
			return NULL;
		}
		if (total <= cap) {
			*n = got;
			return e;
		}
		cap = total + 16;	/* names came while we looked: grow */
	}
}

/* The entry of @name into *@out: 0, or -ENOENT, or another error. */
static int find_entry(const char *name, struct lfq_list_entry *out)
{
	struct lfq_list_entry *e;
	int n, i;

	e = list_all(&n);
	if (!e)
		return n;
	for (i = 0; i < n; i++) {
		if (!strncmp(e[i].name, name, LFQ_NAME_MAX)) {
			*out = e[i];
			free(e);
			return 0;
		}
	}
	free(e);
	return -ENOENT;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "slot-size", required_argument, NULL, 's' },
		{ "slots", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "block", no_argument, NULL, 'b' },
		{ "elastic", required_argument, NULL, 'e' },
		{ "records", required_argument, NULL, 'r' },
		{ "overwrite", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 1024, .mode = 0600);
	struct lfq *q;
	char *colon;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "spsc"))
				p.type = LFQ_TYPE_SPSC;
			else if (!strcmp(optarg, "mpsc"))
				p.type = LFQ_TYPE_MPSC;
			else if (!strcmp(optarg, "mpmc"))
				p.type = LFQ_TYPE_MPMC;
			else
				return usage();
			break;
		case 's':
			if (parse_u32(optarg, 0, &p.slot_size))
				return usage();
			break;
		case 'n':
			if (parse_u32(optarg, 0, &p.slot_count))
				return usage();
			break;
		case 'm':
			if (parse_u32(optarg, 8, &p.mode))
				return usage();
			break;
		case 'b':
			p.flags |= LFQ_CREATE_BLOCK;
			break;
		case 'e':
			colon = strchr(optarg, ':');
			if (!colon)
				return usage();
			*colon = '\0';
			if (parse_u32(optarg, 10, &p.seg_min) ||
			    parse_u32(colon + 1, 10, &p.seg_max))
				return usage();
			p.flags |= LFQ_CREATE_ELASTIC;
			break;
		case 'r':
			if (parse_u32(optarg, 0, &p.slot_count))
				return usage();
			p.slot_size = 1;
			p.flags |= LFQ_CREATE_RECORDS;
			break;
		case 'o':
			p.flags |= LFQ_CREATE_OVERWRITE;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	p.name = argv[optind];
	err = lfq_create(&p, &q);
	if (err)
		return fail("create", argv[optind], err);
	if ((p.flags & LFQ_CREATE_RECORDS) && (p.flags & LFQ_CREATE_ELASTIC))
		printf("created %s: id %d, %s, records, elastic: %u to %u segments of %u bytes, mode %04o\n",
		       argv[optind], lfq_id(q), type_name(p.type), p.seg_min,
		       p.seg_max, p.slot_count, p.mode);
	else if (p.flags & LFQ_CREATE_RECORDS)
		printf("created %s: id %d, %s, records in a %u-byte ring%s, mode %04o\n",
		       argv[optind], lfq_id(q), type_name(p.type),
		       p.slot_count, p.flags & LFQ_CREATE_OVERWRITE ?
		       " (overwrite)" : "", p.mode);
	else if (p.flags & LFQ_CREATE_ELASTIC)
		printf("created %s: id %d, %s, elastic: %u to %u segments of %u slots of %u bytes, mode %04o\n",
		       argv[optind], lfq_id(q), type_name(p.type), p.seg_min,
		       p.seg_max, p.slot_count, p.slot_size, p.mode);
	else
		printf("created %s: id %d, %s, %u slots of %u bytes, mode %04o\n",
		       argv[optind], lfq_id(q), type_name(p.type),
		       p.slot_count, p.slot_size, p.mode);
	lfq_close(q);		/* the name keeps the queue */
	return 0;
}

static int cmd_unlink(int argc, char **argv)
{
	int err;

	if (argc != 2)
		return usage();
	err = lfq_unlink(argv[1]);
	if (err)
		return fail("unlink", argv[1], err);
	printf("unlinked %s\n", argv[1]);
	return 0;
}

static int cmd_attach_test(int argc, char **argv)
{
	LFQ_OPTS(lfq_open_opts, po, .role = LFQ_ROLE_PRODUCER);
	LFQ_OPTS(lfq_open_opts, co, .role = LFQ_ROLE_CONSUMER);
	struct lfq *prod = NULL, *cons = NULL;
	struct lfq_stats st = { .size = sizeof(st) };
	const char *name;
	char *msg = NULL, *back = NULL;
	size_t len;
	int err, rc = 1;

	if (argc != 2)
		return usage();
	name = argv[1];
	po.name = name;
	co.name = name;
	err = lfq_open(&po, &prod);
	if (err)
		return fail("attach as producer to", name, err);
	err = lfq_open(&co, &cons);
	if (err) {
		rc = fail("attach as consumer to", name, err);
		goto out;
	}
	err = lfq_get_stats(cons, &st);
	if (err) {
		rc = fail("stats of", name, err);
		goto out;
	}
	if (st.produced != st.consumed) {
		fprintf(stderr, "%s: attach-test %s: %" PRIu64
			" messages pending; the test needs an empty queue\n",
			prog, name, (uint64_t)(st.produced - st.consumed));
		goto out;
	}
	len = lfq_slot_size(prod);
	msg = calloc(1, len);
	back = calloc(1, len);
	if (!msg || !back) {
		rc = fail("attach-test", name, -ENOMEM);
		goto out;
	}
	snprintf(msg, len, "lfqctl %d", (int)getpid());
	err = lfq_push(prod, msg, len);
	if (err) {
		rc = fail("push into", name, err);
		goto out;
	}
	err = lfq_pop(cons, back, len);
	if (err) {
		rc = fail("pop from", name, err);
		goto out;
	}
	if (memcmp(msg, back, len)) {
		fprintf(stderr, "%s: attach-test %s: popped a different message\n",
			prog, name);
		goto out;
	}
	printf("attach-test %s: id %d, attached as producer and consumer, 1 message of %zu bytes round-tripped\n",
	       name, lfq_id(prod), len);
	rc = 0;
out:
	free(msg);
	free(back);
	lfq_close(prod);
	lfq_close(cons);
	return rc;
}

/* How a queue fences its wakeups (LFQ_WAKE_* in lfq_ring.h). */
static const char *wake_mode_name(uint32_t mode)
{
	return mode == LFQ_WAKE_ASYMMETRIC ? "asymmetric" : "symmetric";
}

static void print_entry_json(const struct lfq_list_entry *e)
{
	/* Names are [A-Za-z0-9._-]: nothing to escape. */
	printf("{\"name\":\"%.*s\",\"id\":%u,\"type\":\"%s\",\"flags\":%u,"
	       "\"slot_size\":%u,\"slot_count\":%u,\"uid\":%u,\"gid\":%u,"
	       "\"mode\":\"%04o\",\"attached\":%u,\"producers\":%u,"
	       "\"consumers\":%u,\"produced\":%" PRIu64
	       ",\"consumed\":%" PRIu64 ",\"depth\":%" PRIu64
	       ",\"full_events\":%" PRIu64 ",\"empty_events\":%" PRIu64
	       ",\"wakeups\":%" PRIu64 ",\"wake_calls\":%" PRIu64
	       ",\"waits\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"orphaned\":%" PRIu64 ",\"lost\":%" PRIu64
	       ",\"wake_mode\":\"%s\""
	       ",\"seg_min\":%u,\"seg_max\":%u"
	       ",\"segments\":%" PRIu64 ",\"segments_peak\":%" PRIu64
	       ",\"grows\":%" PRIu64 ",\"shrinks\":%" PRIu64
	       ",\"pool\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
	       LFQ_NAME_MAX, e->name, e->id, type_name(e->type), e->flags,
	       e->slot_size, e->slot_count, e->uid, e->gid, e->mode,
	       e->attached, e->producers, e->consumers,
	       (uint64_t)e->produced, (uint64_t)e->consumed,
	       (uint64_t)(e->produced - e->consumed),
	       (uint64_t)e->full_events, (uint64_t)e->empty_events,
	       (uint64_t)e->wakeups, (uint64_t)e->wake_calls,
	       (uint64_t)e->waits, (uint64_t)e->dropped,
	       (uint64_t)e->orphaned, (uint64_t)e->lost,
	       wake_mode_name(e->wake_mode),
	       e->seg_min, e->seg_max,
	       (uint64_t)e->segments, (uint64_t)e->segments_peak,
	       (uint64_t)e->grows, (uint64_t)e->shrinks, (uint64_t)e->pool,
	       (uint64_t)e->bytes);
}

/* --json as the only option, or none. */
static int json_opt(int argc, char **argv, int nargs, int *json)
{
	int i, pos = 0, opts = 1;

	*json = 0;
	for (i = 1; i < argc; i++) {
		if (opts && !strcmp(argv[i], "--"))
			opts = 0;
		else if (opts && !strcmp(argv[i], "--json"))
			*json = 1;
		else if ((opts && argv[i][0] == '-') || ++pos > nargs)
			return -1;
	}
	return pos == nargs ? 0 : -1;
}

/* The first argument after the command that is not an option ("--" ends them). */
static const char *first_arg(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (argv[i][0] != '-')
			return argv[i];
	}
	return NULL;
}

static int cmd_list(int argc, char **argv)
{
	struct lfq_list_entry *e;
	int n, i, json;

	if (json_opt(argc, argv, 0, &json))
		return usage();
	e = list_all(&n);
	if (!e)
		return fail("list", "", n);
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf(i ? ",\n " : "");
			print_entry_json(&e[i]);
		}
		printf("]\n");
	} else {
		printf("%-6s %-31s %-4s %9s %10s %6s %6s %4s %5s %12s %12s %10s\n",
		       "ID", "NAME", "TYPE", "SLOT_SIZE", "SLOTS", "UID", "GID",
		       "MODE", "FILES", "PRODUCED", "CONSUMED", "DROPPED");
		for (i = 0; i < n; i++)
			printf("%-6u %-31.*s %-4s %9u %10u %6u %6u %04o %5u %12" PRIu64
			       " %12" PRIu64 " %10" PRIu64 "\n",
			       e[i].id, LFQ_NAME_MAX, e[i].name,
			       type_name(e[i].type), e[i].slot_size,
			       e[i].slot_count, e[i].uid, e[i].gid, e[i].mode,
			       e[i].attached, (uint64_t)e[i].produced,
			       (uint64_t)e[i].consumed, (uint64_t)e[i].dropped);
	}
	free(e);
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	struct lfq_list_entry e;
	const char *name;
	int json, err;

	if (json_opt(argc, argv, 1, &json))
		return usage();
	name = first_arg(argc, argv);
	err = find_entry(name, &e);
	if (err)
		return fail("stat", name, err);
	if (json) {
		print_entry_json(&e);
		printf("\n");
		return 0;
	}
	printf("%-13s %.*s\n", "name", LFQ_NAME_MAX, e.name);
	printf("%-13s %u\n", "id", e.id);
	printf("%-13s %s%s%s%s\n", "type", type_name(e.type),
	       e.flags & LFQ_CREATE_ELASTIC ? " elastic" : "",
	       e.flags & LFQ_CREATE_RECORDS ? " records" : "",
	       e.flags & LFQ_CREATE_BLOCK ? " (blocking producers)" : "");
	printf("%-13s %u\n", "slot_size", e.slot_size);
	printf("%-13s %s\n", "wake_mode", wake_mode_name(e.wake_mode));
	printf("%-13s %u%s\n", "slot_count", e.slot_count,
	       e.flags & LFQ_CREATE_ELASTIC ? " per segment" : "");
	if (e.flags & LFQ_CREATE_ELASTIC) {
		printf("%-13s %u..%u\n", "seg_min_max", e.seg_min, e.seg_max);
		printf("%-13s %" PRIu64 " (peak %" PRIu64 ")\n", "segments",
		       (uint64_t)e.segments, (uint64_t)e.segments_peak);
		printf("%-13s %" PRIu64 "\n", "grows", (uint64_t)e.grows);
		printf("%-13s %" PRIu64 "\n", "shrinks", (uint64_t)e.shrinks);
		printf("%-13s %" PRIu64 "\n", "pool", (uint64_t)e.pool);
	}
	printf("%-13s %" PRIu64 "\n", "bytes", (uint64_t)e.bytes);
	printf("%-13s %u\n", "uid", e.uid);
	printf("%-13s %u\n", "gid", e.gid);
	printf("%-13s %04o\n", "mode", e.mode);
	printf("%-13s %u\n", "attached", e.attached);
	printf("%-13s %u\n", "producers", e.producers);
	printf("%-13s %u\n", "consumers", e.consumers);
	printf("%-13s %" PRIu64 "\n", "produced", (uint64_t)e.produced);
	printf("%-13s %" PRIu64 "\n", "consumed", (uint64_t)e.consumed);
	printf("%-13s %" PRIu64 "\n", "depth",
	       (uint64_t)(e.produced - e.consumed));
	printf("%-13s %" PRIu64 "\n", "full_events", (uint64_t)e.full_events);
	printf("%-13s %" PRIu64 "\n", "empty_events", (uint64_t)e.empty_events);
	printf("%-13s %" PRIu64 "\n", "wakeups", (uint64_t)e.wakeups);
	printf("%-13s %" PRIu64 "\n", "wake_calls", (uint64_t)e.wake_calls);
	printf("%-13s %" PRIu64 "\n", "waits", (uint64_t)e.waits);
	printf("%-13s %" PRIu64 "\n", "dropped", (uint64_t)e.dropped);
	printf("%-13s %" PRIu64 "\n", "orphaned", (uint64_t)e.orphaned);
	printf("%-13s %" PRIu64 "\n", "lost", (uint64_t)e.lost);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct lfq_list_entry prev, cur;
	uint32_t interval_ms = 1000, count = 0, lines = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *name;
	double t0, tprev, t;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_u32(optarg, 10, &interval_ms) || !interval_ms)
				return usage();
			break;
		case 'c':
			if (parse_u32(optarg, 10, &count))
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	name = argv[optind];
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = find_entry(name, &prev);
	if (err)
		return fail("watch", name, err);
	t0 = tprev = mono_s();
	printf("%9s %14s %14s %10s %12s %12s %10s %5s %9s %12s\n", "TIME",
	       "PRODUCED", "CONSUMED", "DEPTH", "PROD/S", "CONS/S", "DROPPED",
	       "FILES", "SEGMENTS", "BYTES");
	fflush(stdout);
	while (!stop && (!count || lines < count)) {
		struct timespec ts = { interval_ms / 1000,
				       (long)(interval_ms % 1000) * 1000000 };

		/* SIGINT cuts the sleep short (no SA_RESTART). */
		if (nanosleep(&ts, NULL) && stop)
			break;
		err = find_entry(name, &cur);
		if (err)
			return fail("watch", name, err);
		t = mono_s();
		printf("%9.3f %14" PRIu64 " %14" PRIu64 " %10" PRIu64
		       " %12.0f %12.0f %10" PRIu64 " %5u %9" PRIu64 " %12"
		       PRIu64 "\n", t - t0,
		       (uint64_t)cur.produced, (uint64_t)cur.consumed,
		       (uint64_t)(cur.produced - cur.consumed),
		       (double)(cur.produced - prev.produced) / (t - tprev),
		       (double)(cur.consumed - prev.consumed) / (t - tprev),
		       (uint64_t)cur.dropped, cur.attached,
		       (uint64_t)cur.segments, (uint64_t)cur.bytes);
		fflush(stdout);
		prev = cur;
		tprev = t;
		lines++;
	}
	return 0;
}

/* One record of a snapshot as a line: its length, then text or hex. */
static void print_record(uint64_t i, const unsigned char *p, uint32_t len)
{
	uint32_t k, shown = len < 64 ? len : 64, text = 1;

	for (k = 0; k < shown; k++)
		text &= isprint(p[k]) || (p[k] == 0 && k == len - 1);
	printf("%" PRIu64 " %u ", i, len);
	for (k = 0; k < shown; k++) {
		if (text && p[k])
			putchar(p[k]);
		else if (!text)
			printf("%02x", p[k]);
	}
	puts(shown < len ? " ..." : "");
}

static int cmd_snapshot(int argc, char **argv)
{
	struct lfq_open o = { .size = sizeof(o), .role = LFQ_ROLE_READER };
	struct lfq_snapshot s = { .size = sizeof(s) };
	struct lfq_list_entry e;
	const char *name = NULL;
	unsigned char *buf;
	uint64_t off, n = 0;
	int i, raw = 0, fd, err;
	uint32_t len;
	long got;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--raw") && !name)
			raw = 1;
		else if (!strcmp(argv[i], "--") && i == argc - 2)
			continue;
		else if (!name && i == argc - 1)
			name = argv[i];
		else
			return usage();
	}
	if (!name || strlen(name) >= LFQ_NAME_MAX)
		return usage();
	err = find_entry(name, &e);
	if (err)
		return fail("snapshot", name, err);
	if (!(e.flags & LFQ_CREATE_OVERWRITE))
		return fail("snapshot (not an overwrite-mode queue)", name,
			    -EOPNOTSUPP);
	strcpy(o.name, name);
	fd = open("/dev/lfq", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("open /dev/lfq for", name, -errno);
	if (ioctl(fd, LFQ_IOC_OPEN, &o)) {
		err = -errno;
		close(fd);
		return fail("open", name, err);
	}
	/* The ring's bytes always hold what a snapshot copies. */
	buf = aligned_alloc(8, e.slot_count);
	if (!buf) {
		close(fd);
		return fail("snapshot", name, -ENOMEM);
	}
	s.buf = (uintptr_t)buf;
	s.buf_size = e.slot_count;
	got = ioctl(fd, LFQ_IOC_SNAPSHOT, &s);
	err = got < 0 ? -errno : 0;
	close(fd);
	if (err) {
		free(buf);
		return fail("snapshot", name, err);
	}
	if (raw) {
		err = fwrite(buf, 1, (size_t)got, stdout) == (size_t)got ? 0 : -EIO;
		free(buf);
		return err ? fail("write snapshot of", name, err) : 0;
	}
	for (off = 0; off < (uint64_t)got; off += LFQ_SNAPSHOT_NEXT(len)) {
		len = (uint32_t)*(uint64_t *)(buf + off);
		print_record(n++, buf + off + 8, len);
	}
	fprintf(stderr, "%s: %" PRIu64 " records, %ld bytes\n", name, n, got);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "attach-test"))
		return cmd_attach_test(argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "stat"))
		return cmd_stat(argc, argv);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "unlink"))
		return cmd_unlink(argc, argv);
	if (!strcmp(cmd, "snapshot"))
		return cmd_snapshot(argc, argv);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage();
}
