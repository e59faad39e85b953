// SPDX-License-Identifier: GPL-2.0
/*
 * named_ctl.c - lfqctl end to end: runs the static tools/lfqctl binary
 * (/lfq/bin/lfqctl in the VM payload) as root and as uid 1002 and checks
 * its output and exit status for create, list (table and JSON), stat
 * (table and JSON), attach-test, watch (counted and stopped by SIGINT),
 * unlink, and its usage and error paths.
 *
 * Runs in the test VM as root with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define LFQCTL	"/lfq/bin/lfqctl"
#define OUT_MAX	8192

static char out[OUT_MAX];

/* Start lfqctl with @argv as @uid (0: root), stdout+stderr into *@fd. */
static pid_t start_ctl(uid_t uid, char *const argv[], int *fd)
{
	char path[] = "/tmp/lfqctl-out-XXXXXX";
	pid_t pid;

	*fd = mkstemp(path);
	if (*fd < 0)
		return -1;
	unlink(path);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(126);
		dup2(*fd, 1);
		dup2(*fd, 2);
		execv(LFQCTL, argv);
		_exit(127);
	}
	return pid;
}

/* Wait for @pid and read its output into out[]; its exit status. */
static int finish_ctl(pid_t pid, int fd)
{
	int status = -1;
	ssize_t n;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run "lfqctl ARGS... NULL" as @uid: its exit status, output in out[]. */
static int ctl(uid_t uid, ...)
{
	char *argv[16] = { "lfqctl" };
	va_list ap;
	int i = 1, fd;
	pid_t pid;

	va_start(ap, uid);
	while (i < 15 && (argv[i] = va_arg(ap, char *)))
		i++;
	va_end(ap);
	argv[i] = NULL;
	pid = start_ctl(uid, argv, &fd);
	return finish_ctl(pid, fd);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The value of "KEY   VALUE" in stat's table, or "" if missing. */
static const char *stat_value(const char *key)
{
	static char val[64];
	char k[64];
	const char *p = out;

	val[0] = '\0';
	while (*p) {
		if (sscanf(p, "%63s %63s", k, val) == 2 && !strcmp(k, key))
			return val;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	val[0] = '\0';
	return val;
}

/* The list table's row of @name, split into 12 fields; 0 if found. */
static int list_row(const char *name, char f[12][40])
{
	const char *p = strchr(out, '\n');	/* skip the header */

	while (p && *++p) {
		if (sscanf(p, "%39s %39s %39s %39s %39s %39s %39s %39s %39s %39s %39s %39s",
			   f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
			   f[8], f[9], f[10], f[11]) == 12 && !strcmp(f[1], name))
			return 0;
		p = strchr(p, '\n');
	}
	return -1;
}

#define CHECK(cond, ...) do { if (!tap_ok((cond), __VA_ARGS__)) \
	tap_diag("  output: %s", out); } while (0)

/*
 * An elastic queue's counters, as lfqctl (table and --json) and the
 * debugfs list show them: three segments' worth pushed with no consumer,
 * so 3 live (peak 3), 2 grows, no shrink.
 */
static void check_elastic(void)
{
	LFQ_OPTS(lfq_open_opts, po, .name = "t-ctl-el",
		 .role = LFQ_ROLE_PRODUCER);
	char msg[64] = "elastic", line[512];
	struct lfq *q = NULL;
	int rc, i, pushed = 0, id = -1, seen = 0;
	FILE *d;

	rc = ctl(0, "create", "t-ctl-el", "--type", "mpsc", "--slots", "64",
		 "--elastic", "2:8", NULL);
	CHECK(rc == 0 && sscanf(out, "created t-ctl-el: id %d, mpsc, elastic: 2 to 8 segments of 64 slots of 64 bytes", &id) == 1,
	      "create t-ctl-el --type mpsc --slots 64 --elastic 2:8 (rc %d)", rc);
	if (!lfq_open(&po, &q))
		for (i = 0; i < 2 * 64 + 1; i++)
			pushed += !lfq_push(q, msg, sizeof(msg));
	rc = ctl(0, "stat", "t-ctl-el", NULL);
	CHECK(rc == 0 && pushed == 129 &&
	      !strcmp(stat_value("seg_min_max"), "2..8") &&
	      !strcmp(stat_value("segments"), "3") && strstr(out, "(peak 3)") &&
	      !strcmp(stat_value("grows"), "2") &&
	      !strcmp(stat_value("shrinks"), "0") &&
	      !strcmp(stat_value("produced"), "129"),
	      "stat t-ctl-el: %d pushed, seg_min_max 2..8, segments 3 (peak 3), 2 grows, 0 shrinks",
	      pushed);
	rc = ctl(0, "stat", "t-ctl-el", "--json", NULL);
	CHECK(rc == 0 && strstr(out, "\"seg_min\":2,\"seg_max\":8") &&
	      strstr(out, "\"segments\":3,\"segments_peak\":3,\"grows\":2,\"shrinks\":0") &&
	      strstr(out, "\"orphaned\":0,\"lost\":0,"),
	      "stat t-ctl-el --json: seg_min, seg_max, the segment counters and lost");
	/* The debugfs list: "3/8" segments in t-ctl-el's row. */
	d = fopen("/sys/kernel/debug/lfq/queues", "r");
	while (d && fgets(line, sizeof(line), d))
		seen |= strstr(line, " t-ctl-el ") && strstr(line, " 3/8 ");
	if (d)
		fclose(d);
	if (d)
		CHECK(seen, "debugfs lfq/queues: t-ctl-el's row shows 3/8 segments");
	else
		tap_skip("no debugfs mounted");
	lfq_close(q);
	CHECK(ctl(0, "unlink", "t-ctl-el", NULL) == 0, "unlink t-ctl-el");
}

int main(void)
{
	char f[12][40];
	char *watch_argv[] = { "lfqctl", "watch", "t-ctl", "--interval-ms",
			       "300", NULL };
	LFQ_OPTS(lfq_open_opts, ctl2_prod, .name = "t-ctl2",
		 .role = LFQ_ROLE_PRODUCER);
	struct lfq *q = NULL;
	char msg[64] = "pending";
	int rc, fd, id = -1;
	pid_t pid;

	tap_plan(35 + 5);
	if (access(LFQCTL, X_OK)) {
		tap_diag("%s: %s", LFQCTL, strerror(errno));
		return 1;
	}

	rc = ctl(0, "create", "t-ctl", "--type", "mpsc", "--slot-size", "128",
		 "--slots", "256", "--mode", "0660", NULL);
	CHECK(rc == 0 && sscanf(out, "created t-ctl: id %d, mpsc, 256 slots of 128 bytes, mode 0660", &id) == 1,
	      "create t-ctl --type mpsc --slot-size 128 --slots 256 --mode 0660 (rc %d)", rc);
	rc = ctl(0, "create", "t-ctl", NULL);
	CHECK(rc == 1 && strstr(out, "create t-ctl: File exists"),
	      "create t-ctl again: exit 1, File exists");
	rc = ctl(0, "create", ".bad", NULL);
	CHECK(rc == 1 && strstr(out, "Invalid argument"),
	      "create .bad: exit 1, Invalid argument");
	rc = ctl(0, "create", "0123456789abcdef0123456789abcdef", NULL);
	CHECK(rc == 1 && strstr(out, "File name too long"),
	      "create with a 32-character name: exit 1, File name too long");
	rc = ctl(0, "create", "t-x", "--slots", "1000", NULL);
	CHECK(rc == 1 && strstr(out, "Invalid argument"),
	      "create --slots 1000: exit 1, Invalid argument");
	CHECK(ctl(0, "create", "t-x", "--type", "ring", NULL) == 2 &&
	      strstr(out, "Usage:"), "create --type ring: usage, exit 2");
	CHECK(ctl(0, "create", NULL) == 2, "create without a name: exit 2");
	CHECK(ctl(0, "frobnicate", NULL) == 2, "unknown command: exit 2");
	CHECK(ctl(0, NULL) == 2, "no command: exit 2");
	CHECK(ctl(0, "--help", NULL) == 0 && strstr(out, "attach-test"),
	      "--help: exit 0, usage on stdout");

	rc = ctl(0, "list", NULL);
	CHECK(rc == 0 && !strncmp(out, "ID ", 3) && list_row("t-ctl", f) == 0 &&
	      atoi(f[0]) == id && !strcmp(f[2], "mpsc") &&
	      !strcmp(f[3], "128") && !strcmp(f[4], "256") &&
	      !strcmp(f[5], "0") && !strcmp(f[6], "0") &&
	      !strcmp(f[7], "0660") && !strcmp(f[8], "0") &&
	      !strcmp(f[9], "0") && !strcmp(f[10], "0") && !strcmp(f[11], "0"),
	      "list: t-ctl row: id, mpsc, 128, 256, 0, 0, 0660, 0 files, zero counters");
	rc = ctl(0, "list", "--json", NULL);
	CHECK(rc == 0 && out[0] == '[' && strstr(out, "\"name\":\"t-ctl\"") &&
	      strstr(out, "\"type\":\"mpsc\"") && strstr(out, "\"mode\":\"0660\"") &&
	      strstr(out, "\"slot_size\":128,\"slot_count\":256"),
	      "list --json: a JSON array with t-ctl's object");
	CHECK(ctl(0, "list", "extra", NULL) == 2, "list with an argument: exit 2");

	rc = ctl(0, "attach-test", "t-ctl", NULL);
	CHECK(rc == 0 && strstr(out, "attach-test t-ctl: id ") &&
	      strstr(out, "1 message of 128 bytes round-tripped"),
	      "attach-test t-ctl: exit 0, one message round-tripped");
	rc = ctl(0, "stat", "t-ctl", NULL);
	CHECK(rc == 0 && !strcmp(stat_value("name"), "t-ctl") &&
	      atoi(stat_value("id")) == id && !strcmp(stat_value("type"), "mpsc") &&
	      !strcmp(stat_value("produced"), "1") &&
	      !strcmp(stat_value("consumed"), "1") &&
	      !strcmp(stat_value("depth"), "0") &&
	      !strcmp(stat_value("mode"), "0660") &&
	      !strcmp(stat_value("attached"), "0"),
	      "stat t-ctl: 1 produced, 1 consumed, depth 0, mode 0660, nothing attached");
	rc = ctl(0, "stat", "t-ctl", "--json", NULL);
	CHECK(rc == 0 && out[0] == '{' &&
	      strstr(out, "\"produced\":1,\"consumed\":1,\"depth\":0") &&
	      strstr(out, "\"name\":\"t-ctl\"") && lines(out) == 1,
	      "stat --json: one object with the counters");

	/* Another user: listing is open, attaching and unlinking are not. */
	rc = ctl(1002, "attach-test", "t-ctl", NULL);
	CHECK(rc == 1 && strstr(out, "attach as producer to t-ctl: Permission denied"),
	      "attach-test as uid 1002 (mode 0660, root's): exit 1, Permission denied");
	rc = ctl(1002, "unlink", "t-ctl", NULL);
	CHECK(rc == 1 && strstr(out, "unlink t-ctl: Operation not permitted"),
	      "unlink as uid 1002: exit 1, Operation not permitted");
	rc = ctl(1002, "stat", "t-ctl", NULL);
	CHECK(rc == 0 && !strcmp(stat_value("uid"), "0"),
	      "stat as uid 1002: exit 0, owner uid 0");

	rc = ctl(0, "watch", "t-ctl", "--interval-ms", "200", "--count", "3", NULL);
	CHECK(rc == 0 && lines(out) == 4 && strstr(out, "PRODUCED"),
	      "watch --count 3: header and 3 lines, exit 0");
	pid = start_ctl(0, watch_argv, &fd);
	msleep(1500);
	kill(pid, SIGINT);
	rc = finish_ctl(pid, fd);
	CHECK(rc == 0 && lines(out) >= 3,
	      "watch stopped by SIGINT after 1.5 s: exit 0, %d lines", lines(out));
	CHECK(ctl(0, "watch", "t-none", "--count", "1", NULL) == 1 &&
	      strstr(out, "No such file or directory"),
	      "watch an unknown name: exit 1");

	/* A name that starts with '-' comes after "--". */
	rc = ctl(0, "create", "--", "-t-dash", NULL);
	if (!rc)
		rc = ctl(0, "stat", "--json", "--", "-t-dash", NULL);
	CHECK(rc == 0 && strstr(out, "\"name\":\"-t-dash\"") &&
	      ctl(0, "stat", "-t-dash", NULL) == 2 &&
	      ctl(0, "unlink", "-t-dash", NULL) == 0,
	      "create/stat -- -t-dash: a name starting with '-' after \"--\" (without it, stat: usage, exit 2)");

	rc = ctl(0, "create", "t-ctl2", NULL);
	CHECK(rc == 0, "create t-ctl2 with the defaults");
	rc = ctl(0, "stat", "t-ctl2", NULL);
	CHECK(rc == 0 && !strcmp(stat_value("type"), "spsc") &&
	      !strcmp(stat_value("slot_size"), "64") &&
	      !strcmp(stat_value("slot_count"), "1024") &&
	      !strcmp(stat_value("mode"), "0600"),
	      "t-ctl2: spsc, 64 x 1024, mode 0600");
	if (lfq_open(&ctl2_prod, &q) == 0)
		lfq_push(q, msg, sizeof(msg));
	lfq_close(q);
	rc = ctl(0, "attach-test", "t-ctl2", NULL);
	CHECK(rc == 1 && strstr(out, "1 messages pending"),
	      "attach-test on a queue holding a message: exit 1, refuses");
	q = NULL;
	lfq_open(&ctl2_prod, &q);
	rc = ctl(0, "attach-test", "t-ctl2", NULL);
	CHECK(rc == 1 && strstr(out, "attach as producer to t-ctl2: Device or resource busy"),
	      "attach-test while we hold the SPSC producer role: exit 1, busy");
	rc = ctl(0, "stat", "t-ctl2", NULL);
	CHECK(rc == 0 && !strcmp(stat_value("attached"), "1") &&
	      !strcmp(stat_value("producers"), "1") &&
	      !strcmp(stat_value("consumers"), "0") &&
	      !strcmp(stat_value("depth"), "1"),
	      "stat t-ctl2: our producer attached, depth 1 (attach-test took nothing)");
	lfq_close(q);

	rc = ctl(0, "unlink", "t-ctl", NULL);
	CHECK(rc == 0 && strstr(out, "unlinked t-ctl"), "unlink t-ctl");
	rc = ctl(0, "stat", "t-ctl", NULL);
	CHECK(rc == 1 && strstr(out, "stat t-ctl: No such file or directory"),
	      "stat t-ctl after unlink: exit 1, No such file or directory");
	rc = ctl(0, "unlink", "t-ctl", NULL);
	CHECK(rc == 1 && strstr(out, "No such file or directory"),
	      "unlink t-ctl twice: exit 1");
	rc = ctl(0, "list", NULL);
	CHECK(rc == 0 && list_row("t-ctl", f) && !list_row("t-ctl2", f),
	      "list: t-ctl2 but no t-ctl");
	rc = ctl(0, "unlink", "t-ctl2", NULL);
	CHECK(rc == 0, "unlink t-ctl2");

	check_elastic();
	rc = ctl(0, "list", NULL);
	CHECK(rc == 0 && lines(out) == 1, "list: only the header is left");
	rc = ctl(0, "list", "--json", NULL);
	CHECK(rc == 0 && !strcmp(out, "[]\n"), "list --json: []");
	return tap_done();
}
