// SPDX-License-Identifier: GPL-2.0
/*
 * named.c - named queues end to end (lfq_names.c through liblfq): attach
 * by name across processes; the name keeps a queue (and the module) alive;
 * unlink while attached (the attachment works on, the name is gone, a new
 * queue takes it); permissions across users (uid 1001 and 1002, switched
 * with setresuid in children: owner/group/other classes, supplementary
 * groups, CAP_IPC_OWNER and CAP_FOWNER overrides, exact -EACCES/-EPERM);
 * the debugfs view; and create/unlink racing open/close/list/debugfs.
 *
 * Runs in the test VM as root with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define DEBUGFS_QUEUES	"/sys/kernel/debug/lfq/queues"
#define UA		1001	/* lfqa */
#define UB		1002	/* lfqb */

static const LFQ_OPTS(lfq_create_opts, spsc64, .type = LFQ_TYPE_SPSC,
		      .slot_size = 64, .slot_count = 1024);

/* What a child running as another user does; returns its errno. */
enum op_kind { OP_CREATE, OP_OPEN, OP_UNLINK, OP_LIST_OWNER };

struct op {
	enum op_kind kind;
	const char *name;
	unsigned int arg;	/* CREATE: mode; OPEN: LFQ_ROLE_* */
};

static int do_op(const struct op *op)
{
	struct lfq_list_entry e[64];
	struct lfq *q = NULL;
	int err, n, i;

	switch (op->kind) {
	case OP_CREATE:
		err = create_named(spsc64, op->name, op->arg, 0, &q);
		lfq_close(q);
		return -err;
	case OP_OPEN:
		err = open_named(op->name, op->arg, &q);
		lfq_close(q);
		return -err;
	case OP_UNLINK:
		return -lfq_unlink(op->name);
	case OP_LIST_OWNER:	/* 0 when @name is listed as owned by UA:UA */
		n = lfq_list(e, 64, NULL);
		for (i = 0; i < n; i++)
			if (!strcmp(e[i].name, op->name))
				return e[i].uid == UA && e[i].gid == UA ? 0 : 99;
		return n < 0 ? -n : ENOENT;
	}
	return 98;
}

/*
 * Run @op in a child with uid @uid, gid @gid and the supplementary group
 * @group (or none when 0): the errno it got, 0 on success.
 */
static int as_user(uid_t uid, gid_t gid, gid_t group, struct op op)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setgroups(group ? 1 : 0, &group) ||
		    setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(101);
		_exit(do_op(&op));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 102;
	return WEXITSTATUS(status);
}

/* The LIST entry of @name; 0, or -ENOENT. */
static int list_find(const char *name, struct lfq_list_entry *out)
{
	struct lfq_list_entry e[64];
	int n = lfq_list(e, 64, NULL), i;

	for (i = 0; i < n; i++) {
		if (!strcmp(e[i].name, name)) {
			*out = e[i];
			return 0;
		}
	}
	return n < 0 ? n : -ENOENT;
}

static void test_cross_process(void)
{
	struct lfq *q = NULL, *r = NULL, *x = NULL;
	char msg[64];
	int err, status, id, i, ok;
	pid_t pid;

	/* The creator produces; the consumer role stays free for others. */
	err = create_named(spsc64, "t-xproc", 0600, LFQ_ROLE_PRODUCER, &q);
	if (!tap_ok(!err && lfq_role(q) == LFQ_ROLE_PRODUCER,
		    "create t-xproc (0600) as its producer"))
		exit(1);
	id = lfq_id(q);
	for (i = 0, ok = 1; i < 100; i++) {
		memset(msg, 0, sizeof(msg));
		*(int *)msg = i;
		ok &= lfq_push(q, msg, sizeof(msg)) == 0;
	}
	tap_ok(ok, "parent pushed 100 messages");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct lfq *c = NULL, *c2 = NULL;

		/* A new process finds the queue by name only. */
		if (open_named("t-xproc", LFQ_ROLE_CONSUMER, &c) ||
		    lfq_id(c) != id || lfq_role(c) != LFQ_ROLE_CONSUMER)
			_exit(10);
		for (i = 0; i < 50; i++) {
			if (lfq_pop(c, msg, sizeof(msg)) || *(int *)msg != i)
				_exit(11);
		}
		if (open_named("t-xproc", LFQ_ROLE_CONSUMER, &c2) != -EBUSY)
			_exit(12);
		if (open_named("t-xproc", LFQ_ROLE_PRODUCER, &c2) != -EBUSY)
			_exit(13);
		_exit(0);	/* dies holding the consumer role */
	}
	ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status);
	if (!tap_ok(ok && WEXITSTATUS(status) == 0,
		    "a child attached by name (same id) as consumer, popped 50 in order; a second consumer and a second SPSC producer got EBUSY"))
		tap_diag("  child status 0x%x", status);
	err = open_named("t-xproc", LFQ_ROLE_CONSUMER, &r);
	for (i = 50, ok = !err; ok && i < 100; i++)
		ok = lfq_pop(r, msg, sizeof(msg)) == 0 && *(int *)msg == i;
	tap_ok(ok, "after the child's exit a new consumer attached and resumed at slot 50");

	/* The name keeps the queue: close every handle, then attach again. */
	memset(msg, 0, sizeof(msg));
	strcpy(msg, "kept");
	lfq_push(q, msg, sizeof(msg));
	lfq_close(q);
	lfq_close(r);
	err = open_named("t-xproc", LFQ_ROLE_CONSUMER, &x);
	memset(msg, 0, sizeof(msg));
	ok = !err && lfq_id(x) == id && lfq_pop(x, msg, sizeof(msg)) == 0 &&
	     !strcmp(msg, "kept");
	tap_ok(ok, "with every handle closed the name kept the queue and its data");
	lfq_close(x);
	expect(-lfq_unlink("t-xproc"), 0, "unlink t-xproc");
}

static void test_module_ref(void)
{
	struct lfq *q = NULL;
	int r0, r1, r2;

	r0 = lfq_module_refcnt();
	if (create_named(spsc64, "t-ref", 0600, 0, &q)) {
		tap_ok(0, "create t-ref");
		return;
	}
	lfq_close(q);
	r1 = lfq_module_refcnt();
	expect(-lfq_unlink("t-ref"), 0, "unlink t-ref");
	r2 = lfq_module_refcnt();
	if (!tap_ok(r0 >= 0 && r1 == r0 + 1 && r2 == r0,
		    "a name holds one module reference (refcnt %d -> %d -> %d)",
		    r0, r1, r2))
		tap_diag("  refcnt %d %d %d", r0, r1, r2);
}

static void test_unlink_attached(void)
{
	struct lfq *h1 = NULL, *h2 = NULL, *h3 = NULL, *x = NULL;
	struct lfq_list_entry e;
	char msg[64] = "m1";
	int id1, err;

	err = create_named(spsc64, "t-unl", 0600, LFQ_ROLE_PRODUCER, &h1);
	if (!tap_ok(!err, "create t-unl as its producer"))
		return;
	id1 = lfq_id(h1);
	expect(-open_named("t-unl", LFQ_ROLE_CONSUMER, &h2), 0,
	       "open t-unl as consumer");
	tap_ok(list_find("t-unl", &e) == 0 && e.attached == 2 &&
	       e.producers == 1 && e.consumers == 1 && e.id == (uint32_t)id1,
	       "LIST: t-unl with 2 files attached, 1 producer, 1 consumer");
	expect(-lfq_unlink("t-unl"), 0, "unlink t-unl while two handles are attached");
	expect(-open_named("t-unl", LFQ_ROLE_CONSUMER, &x), ENOENT,
	       "open t-unl after unlink");
	expect(-lfq_unlink("t-unl"), ENOENT, "unlink t-unl twice");
	tap_ok(list_find("t-unl", &e) == -ENOENT, "LIST no longer shows t-unl");
	tap_ok(lfq_push(h1, msg, sizeof(msg)) == 0 &&
	       lfq_pop(h2, msg, sizeof(msg)) == 0 && !strcmp(msg, "m1"),
	       "the attachments still work after the unlink");

	err = create_named(spsc64, "t-unl", 0600, 0, &h3);
	tap_ok(!err && lfq_id(h3) != id1,
	       "create t-unl again: a new queue (id %d, was %d)",
	       h3 ? lfq_id(h3) : -1, id1);
	strcpy(msg, "old");
	lfq_push(h1, msg, sizeof(msg));
	tap_ok(h3 && lfq_pop(h3, msg, sizeof(msg)) == -EAGAIN,
	       "the new t-unl does not see the old queue's message");
	memset(msg, 0, sizeof(msg));
	tap_ok(lfq_pop(h2, msg, sizeof(msg)) == 0 && !strcmp(msg, "old"),
	       "the old queue still carries it");
	expect(-lfq_unlink("t-unl"), 0, "unlink the new t-unl");
	lfq_close(h1);
	lfq_close(h2);
	lfq_close(h3);

	/* The library's own checks, before any ioctl. */
	expect(-create_named(spsc64, "0123456789abcdef0123456789abcdef",
			     0600, 0, &x), ENAMETOOLONG,
	       "lfq_create with a 32-character name");
	expect(-open_named("", LFQ_ROLE_CONSUMER, &x), EINVAL,
	       "lfq_open of the name \"\"");
	expect(-lfq_unlink(NULL), EINVAL, "lfq_unlink(NULL)");
	expect(-open_named("a\xff", LFQ_ROLE_CONSUMER, &x), EINVAL,
	       "lfq_open of a name with a non-ASCII byte");
}

#define OP(k, n, a) ((struct op){ .kind = (k), .name = (n), .arg = (a) })
#define P	LFQ_ROLE_PRODUCER
#define C	LFQ_ROLE_CONSUMER

static void test_users(void)
{
	struct lfq_list_entry e;
	struct lfq *q = NULL;

	expect(as_user(UA, UA, 0, OP(OP_CREATE, "t-perm", 0640)), 0,
	       "uid 1001 creates t-perm, mode 0640");
	tap_ok(list_find("t-perm", &e) == 0 && e.uid == UA && e.gid == UA &&
	       e.mode == 0640 && e.attached == 0,
	       "LIST: t-perm owned by 1001:1001, mode 0640, no file attached");
	expect(as_user(UB, UB, 0, OP(OP_CREATE, "t-perm", 0666)), EEXIST,
	       "uid 1002 creates t-perm too");
	expect(as_user(UA, UA, 0, OP(OP_OPEN, "t-perm", P)), 0,
	       "owner opens as producer (rw-)");
	expect(as_user(UA, UA, 0, OP(OP_OPEN, "t-perm", C)), 0,
	       "owner opens as consumer");
	expect(as_user(UB, UA, 0, OP(OP_OPEN, "t-perm", C)), 0,
	       "group member (gid 1001) opens as consumer (r--)");
	expect(as_user(UB, UA, 0, OP(OP_OPEN, "t-perm", P)), EACCES,
	       "group member opens as producer");
	expect(as_user(UB, UA, 0, OP(OP_OPEN, "t-perm", P | C)), EACCES,
	       "group member opens as producer and consumer");
	expect(as_user(UB, UB, UA, OP(OP_OPEN, "t-perm", C)), 0,
	       "supplementary group 1001 opens as consumer");
	expect(as_user(UB, UB, 0, OP(OP_OPEN, "t-perm", C)), EACCES,
	       "other (1002:1002) opens as consumer (---)");
	expect(as_user(UB, UB, 0, OP(OP_OPEN, "t-perm", P)), EACCES,
	       "other opens as producer");
	expect(as_user(UB, UB, 0, OP(OP_UNLINK, "t-perm", 0)), EPERM,
	       "other unlinks t-perm");
	expect(as_user(UB, UA, 0, OP(OP_UNLINK, "t-perm", 0)), EPERM,
	       "group member unlinks t-perm");
	expect(as_user(UB, UB, 0, OP(OP_LIST_OWNER, "t-perm", 0)), 0,
	       "other lists t-perm, owned by 1001:1001");
	expect(-open_named("t-perm", P | C, &q), 0,
	       "root (CAP_IPC_OWNER) opens it as producer and consumer");
	lfq_close(q);
	expect(as_user(UA, UA, 0, OP(OP_UNLINK, "t-perm", 0)), 0,
	       "owner unlinks t-perm");

	/* The owner's class decides, even when the group's bits would allow. */
	expect(as_user(UA, UA, 0, OP(OP_CREATE, "t-perm2", 0060)), 0,
	       "uid 1001 creates t-perm2, mode 0060");
	expect(as_user(UA, UA, 0, OP(OP_OPEN, "t-perm2", C)), EACCES,
	       "owner opens t-perm2 as consumer (owner bits ---)");
	expect(as_user(UB, UA, 0, OP(OP_OPEN, "t-perm2", P | C)), 0,
	       "group member opens t-perm2 as producer and consumer (rw-)");
	expect(as_user(UB, UB, 0, OP(OP_OPEN, "t-perm2", P)), EACCES,
	       "other opens t-perm2 as producer");
	expect(-lfq_unlink("t-perm2"), 0, "root (CAP_FOWNER) unlinks t-perm2");

	expect(as_user(UA, UA, 0, OP(OP_CREATE, "t-perm3", 0604)), 0,
	       "uid 1001 creates t-perm3, mode 0604");
	expect(as_user(UB, UB, 0, OP(OP_OPEN, "t-perm3", C)), 0,
	       "other opens t-perm3 as consumer (r--)");
	expect(as_user(UB, UB, 0, OP(OP_OPEN, "t-perm3", P)), EACCES,
	       "other opens t-perm3 as producer");
	expect(as_user(UA, UA, 0, OP(OP_UNLINK, "t-perm3", 0)), 0,
	       "owner unlinks t-perm3");

	expect(as_user(UA, UA, 0, OP(OP_CREATE, "t-perm0", 0)), 0,
	       "uid 1001 creates t-perm0, mode 0");
	expect(as_user(UA, UA, 0, OP(OP_OPEN, "t-perm0", C)), EACCES,
	       "owner opens t-perm0 (mode 0)");
	expect(-open_named("t-perm0", C, &q), 0,
	       "root opens t-perm0 (mode 0)");
	lfq_close(q);
	expect(as_user(UA, UA, 0, OP(OP_UNLINK, "t-perm0", 0)), 0,
	       "owner unlinks t-perm0 (unlink does not need the mode)");
}

/* The debugfs line of queue @id, split into fields; 0 or -ENOENT. */
static int debugfs_line(int id, char f[13][64], int *header_ok)
{
	char line[512];
	FILE *fp = fopen(DEBUGFS_QUEUES, "r");
	int found = -ENOENT, first = 1;

	*header_ok = 0;
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		if (first) {
			*header_ok = !strncmp(line, "id ", 3) &&
				     strstr(line, " name ") && strstr(line, " dropped");
			first = 0;
			continue;
		}
		if (sscanf(line, "%63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s",
			   f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8],
			   f[9], f[10], f[11], f[12]) == 13 && atoi(f[0]) == id)
			found = 0;
		if (!found)
			break;
	}
	fclose(fp);
	return found;
}

/* No kernel pointer: no run of 12 or more hex digits anywhere. */
static int debugfs_no_pointers(void)
{
	FILE *fp = fopen(DEBUGFS_QUEUES, "r");
	int c, run = 0, ok = 1;

	if (!fp)
		return 0;
	while ((c = fgetc(fp)) != EOF) {
		run = ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ? run + 1 : 0;
		if (run >= 12)
			ok = 0;
	}
	fclose(fp);
	return ok;
}

static void test_debugfs(void)
{
	LFQ_OPTS(lfq_create_opts, mpsc128, .type = LFQ_TYPE_MPSC,
		 .slot_size = 128, .slot_count = 64);
	struct lfq *named = NULL, *anon = NULL, *gone = NULL;
	char f[13][64], msg[64] = "x";
	struct stat st;
	int hdr, err;

	if (stat(DEBUGFS_QUEUES, &st)) {
		tap_ok(0, DEBUGFS_QUEUES " exists (%s)", strerror(errno));
		return;
	}
	tap_ok((st.st_mode & 0777) == 0444, DEBUGFS_QUEUES " is read-only (0%o)",
	       st.st_mode & 0777);
	err = create_named(spsc64, "t-dbg", 0640, 0, &named);
	err |= lfq_create(&mpsc128, &anon);
	err |= create_named(spsc64, "t-dbg-gone", 0600, 0, &gone);
	err |= lfq_unlink("t-dbg-gone");
	if (!tap_ok(!err, "a named, an anonymous and an unlinked queue"))
		return;
	lfq_push(named, msg, sizeof(msg));
	lfq_push(named, msg, sizeof(msg));
	lfq_pop(named, msg, sizeof(msg));

	err = debugfs_line(lfq_id(named), f, &hdr);
	tap_ok(hdr, "debugfs: a header line naming the columns");
	if (!tap_ok(!err && !strcmp(f[1], "t-dbg") && !strcmp(f[2], "spsc") &&
		    !strcmp(f[3], "64") && !strcmp(f[4], "1024") &&
		    !strcmp(f[6], "0") && !strcmp(f[7], "0") &&
		    !strcmp(f[8], "0640") && !strcmp(f[9], "1") &&
		    !strcmp(f[10], "2") && !strcmp(f[11], "1") &&
		    !strcmp(f[12], "0"),
		    "debugfs: t-dbg: spsc 64x1024, 0:0, 0640, 1 file, 2 produced, 1 consumed"))
		tap_diag("  err %d: %s %s %s %s %s %s %s %s %s %s %s %s", err,
			 f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9],
			 f[10], f[11], f[12]);
	err = debugfs_line(lfq_id(anon), f, &hdr);
	tap_ok(!err && !strcmp(f[1], "-") && !strcmp(f[2], "mpsc") &&
	       !strcmp(f[3], "128") && !strcmp(f[6], "-") && !strcmp(f[8], "-"),
	       "debugfs: the anonymous queue: no name, owner or mode");
	err = debugfs_line(lfq_id(gone), f, &hdr);
	tap_ok(!err && !strcmp(f[1], "-") && !strcmp(f[9], "1"),
	       "debugfs: the unlinked queue: no name, still 1 file");
	tap_ok(debugfs_no_pointers(), "debugfs: nothing that looks like a kernel pointer");
	lfq_close(gone);
	err = debugfs_line(lfq_id(anon), f, &hdr);
	lfq_close(anon);
	tap_ok(!err && debugfs_line(lfq_id(anon), f, &hdr) == -ENOENT,
	       "debugfs: a closed anonymous queue is gone");
	lfq_close(named);
	tap_ok(debugfs_line(lfq_id(named), f, &hdr) == 0 &&
	       !strcmp(f[1], "t-dbg") && !strcmp(f[9], "0"),
	       "debugfs: t-dbg stays while named, with no file");
	expect(-lfq_unlink("t-dbg"), 0, "unlink t-dbg");
}

/* Children hammering one name until @deadline; exit 0 if all went right. */
static int race_creator(double deadline, long *n)
{
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_MPSC, .slot_size = 64,
		 .slot_count = 64);
	struct lfq *q;
	int err;

	/* MPSC, created as a producer: openers may take both roles. */
	for (*n = 0; now_s() < deadline; ++*n) {
		err = create_named(p, "t-race", 0666, LFQ_ROLE_PRODUCER, &q);
		if (err)
			return 20;
		if (*n & 1)
			lfq_close(q);	/* unlink with and without a holder */
		err = lfq_unlink("t-race");
		if (!(*n & 1))
			lfq_close(q);
		if (err)
			return 21;
	}
	return 0;
}

static int race_opener(double deadline, long *n)
{
	char msg[64] = "r";
	struct lfq *q;
	int err;

	for (*n = 0; now_s() < deadline; ++*n) {
		err = open_named("t-race", LFQ_ROLE_PRODUCER |
				 LFQ_ROLE_CONSUMER, &q);
		if (err == -ENOENT || err == -EBUSY)	/* gone; consumer taken */
			continue;
		if (err)
			return 30;
		if (lfq_push(q, msg, sizeof(msg)) || lfq_pop(q, msg, sizeof(msg)))
			err = 31;
		lfq_close(q);
		if (err)
			return err;
	}
	return 0;
}

/* Attach and detach only: a second user of an SPSC ring must not use it. */
static int race_attacher(double deadline, long *n)
{
	struct lfq *q;
	int err;

	for (*n = 0; now_s() < deadline; ++*n) {
		q = NULL;
		err = open_named("t-race", LFQ_ROLE_CONSUMER, &q);
		if (err && err != -ENOENT && err != -EBUSY)
			return 35;
		lfq_close(q);
	}
	return 0;
}

static int race_lister(double deadline, long *n)
{
	struct lfq_list_entry e[8];
	char buf[4096];
	int got, fd;

	for (*n = 0; now_s() < deadline; ++*n) {
		got = lfq_list(e, 8, NULL);
		if (got < 0 || got > 1 || (got == 1 && strcmp(e[0].name, "t-race")))
			return 40;
		fd = open(DEBUGFS_QUEUES, O_RDONLY);
		if (fd < 0)
			return 41;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	return 0;
}

static void test_races(void)
{
	static int (*const fn[])(double, long *) = {
		race_creator, race_opener, race_attacher, race_lister,
	};
	static const char *const what[] = {
		"create/unlink", "open/push/pop/close", "open/close",
		"LIST and debugfs reads",
	};
	double deadline = now_s() + 3;
	int i, status, r0 = lfq_module_refcnt();
	pid_t pid[4];
	struct lfq *q;
	long n;

	fflush(stdout);
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			int rc = fn[i](deadline, &n);

			printf("# %s: %ld rounds, rc %d\n", what[i], n, rc);
			fflush(stdout);
			_exit(rc);
		}
	}
	for (i = 0; i < 4; i++) {
		status = -1;
		waitpid(pid[i], &status, 0);
		if (!tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "race: %s", what[i]))
			tap_diag("  status 0x%x", status);
	}
	expect(-open_named("t-race", LFQ_ROLE_CONSUMER, &q), ENOENT,
	       "race: the name is gone at the end");
	tap_ok(lfq_module_refcnt() == r0, "race: module refcnt back to %d", r0);
}

int main(void)
{
	unsigned int total = 1;

	tap_plan(70);
	if (lfq_list(NULL, 0, &total) < 0 || total) {
		tap_diag("named queues exist before the test (%u)", total);
		return 1;
	}
	test_cross_process();
	test_module_ref();
	test_unlink_attached();
	test_users();
	test_debugfs();
	test_races();
	tap_ok(lfq_list(NULL, 0, &total) == 0 && total == 0,
	       "no named queue is left");
	return tap_done();
}
