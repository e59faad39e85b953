// SPDX-License-Identifier: GPL-2.0
/*
 * proc_events.c - LFQ_SOURCE_PROC records checked against a workload the
 * test runs itself: a thread, a child that execs this program again
 * through a symlink with a long name (and exits 7), one that does so
 * through a path longer than the slot has room for, a child that exits 3,
 * a child killed by SIGKILL, and a child that drops to uid 1001 and forks
 * a grandchild that exits 5. For each: the FORK record (pid/tgid of the
 * parent, child_pid/child_tgid), the EXEC record (filename as executed,
 * comm its basename cut to 15 bytes), the EXIT record (exit_code the raw
 * status waitpid() returned), ppid and uid fields, time_ns inside the
 * run on CLOCK_MONOTONIC and in order per process, FORK before EXEC
 * before EXIT in queue order, nothing duplicated. A second queue with
 * LFQ_EVENT_PROC_SLOT_MIN-byte slots gets the exec filename cut to fit,
 * still NUL-terminated; after DETACH the first queue sees no more.
 *
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "tap.h"
#include "test_util.h"

#define MS		1000000ll
#define SLOT		256u
#define SLOTS		1024u
#define SMALL_SLOT	((uint32_t)LFQ_EVENT_PROC_SLOT_MIN)
#define SMALL_SLOTS	256u	/* 80 x 256: 5 pages */
#define EXEC_LINK	"/tmp/lfq-proc-exec-long-name"
#define LONG_DIR	"/tmp/lfq-proc-events-a-directory-with-a-long-name-"\
			"0123456789012345678901234567890123456789012345678901234567890123"\
			"0123456789012345678901234567890123456789012345678901234567890123"\
			"01234567890123456789"
#define LONG_LINK	LONG_DIR "/lfq-proc-exec-long-name"
#define NKIDS		5
#define EXEC_COMM	"lfq-proc-exec-l"	/* basename cut to 15 bytes */
#define UNPRIV_UID	1001

/* A copy of one record (the slot is reused once released). */
struct rec {
	union {
		struct lfq_event_proc p;
		unsigned char b[SLOT];
	};
	uint32_t index;		/* position in the queue */
};

#define MAX_RECS	4096
static struct rec recs[MAX_RECS], small[MAX_RECS];

static unsigned int ncpus;
static char my_comm[16];

/* Take every record in @q into @out; returns how many (all of them). */
static uint32_t collect(struct lfq *q, struct rec *out, uint32_t max)
{
	uint32_t size = lfq_slot_size(q), n = 0, i;
	const void *span;
	int got;

	while ((got = lfq_peek(q, 64, &span)) > 0) {
		for (i = 0; i < (uint32_t)got && n < max; i++, n++) {
			memset(&out[n], 0, sizeof(out[n]));
			memcpy(out[n].b, (const unsigned char *)span +
			       (size_t)i * size, size);
			out[n].index = n;
		}
		lfq_release(q, (uint32_t)got);
	}
	if (got != -EAGAIN) {
		tap_diag("lfq_peek: %d (%s), not -EAGAIN once drained", got,
			 ename(-got));
		exit(1);
	}
	return n;
}

/* The records of @type about @pid (FORK: whose child is @pid). */
static int find(const struct rec *r, uint32_t n, uint16_t type, pid_t pid,
		const struct rec **first)
{
	int count = 0;
	uint32_t i;

	*first = NULL;
	for (i = 0; i < n; i++) {
		const struct lfq_event_proc *p = &r[i].p;

		if (p->hdr.type != type)
			continue;
		if (type == LFQ_EVENT_FORK ? p->child_pid != (uint32_t)pid :
					     p->pid != (uint32_t)pid)
			continue;
		if (!count++)
			*first = &r[i];
	}
	return count;
}

static void read_comm(void)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, my_comm, sizeof(my_comm) - 1) : -1;

	if (len > 0 && my_comm[len - 1] == '\n')
		len--;
	my_comm[len > 0 ? len : 0] = 0;
	if (fd >= 0)
		close(fd);
}

static pid_t thread_tid;

static void *thread_fn(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	return NULL;
}

struct child {
	const char *what;
	pid_t pid;
	int status;		/* from waitpid() */
	pid_t ppid;		/* its parent */
	uint32_t uid;
	const char *comm;	/* at exit */
	const char *path;	/* the path it execs, or NULL */
};

/* The filename an EXEC record of @path holds in slots of @slot bytes. */
static const char *cut_path(const char *path, uint32_t slot)
{
	static char buf[PATH_MAX];
	size_t room = slot - sizeof(struct lfq_event_proc) - 1;

	snprintf(buf, sizeof(buf), "%.*s", (int)room, path);
	return buf;
}

/* Child D: uid 1001, forks G (exit 5), reports G's pid and status. */
static int unpriv_child(int wfd)
{
	int res[2], status;
	pid_t g;

	if (setgroups(0, NULL) || setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
	    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
		return 1;
	g = fork();
	if (g == 0)
		_exit(5);
	if (g < 0 || waitpid(g, &status, 0) != g)
		return 2;
	res[0] = g;
	res[1] = status;
	return write(wfd, res, sizeof(res)) == sizeof(res) ? 0 : 3;
}

/* Every check on one child's records; one TAP line per kind. */
static void check_child(const struct rec *r, uint32_t n, const struct child *c,
			pid_t parent, pid_t parent_ppid, uint32_t parent_uid,
			const char *parent_comm)
{
	const struct rec *f, *e, *x;
	int nf = find(r, n, LFQ_EVENT_FORK, c->pid, &f);
	int ne = find(r, n, LFQ_EVENT_EXEC, c->pid, &e);
	int nx = find(r, n, LFQ_EVENT_EXIT, c->pid, &x);

	if (!tap_ok(nf == 1 && f->p.pid == (uint32_t)parent &&
		    f->p.tgid == (uint32_t)parent &&
		    f->p.child_tgid == (uint32_t)c->pid &&
		    f->p.ppid == (uint32_t)parent_ppid &&
		    f->p.uid == parent_uid && !f->p.exit_code &&
		    !strcmp(f->p.comm, parent_comm) && !LFQ_EVENT_PROC_FILENAME(&f->p)[0],
		    "%s: one FORK, pid/tgid %d ppid %d uid %u comm \"%s\", child_pid/child_tgid %d",
		    c->what, parent, parent_ppid, parent_uid, parent_comm,
		    c->pid))
		tap_diag("  %d FORK; pid %u tgid %u ppid %u uid %u child %u/%u comm \"%.16s\" exit %d",
			 nf, f ? f->p.pid : 0, f ? f->p.tgid : 0,
			 f ? f->p.ppid : 0, f ? f->p.uid : 0,
			 f ? f->p.child_pid : 0, f ? f->p.child_tgid : 0,
			 f ? f->p.comm : "", f ? f->p.exit_code : 0);
	if (!tap_ok(nx == 1 && x->p.tgid == (uint32_t)c->pid &&
		    x->p.ppid == (uint32_t)c->ppid && x->p.uid == c->uid &&
		    x->p.exit_code == c->status && !x->p.child_pid &&
		    !strcmp(x->p.comm, c->comm),
		    "%s: one EXIT, exit_code 0x%x == waitpid() status, ppid %d uid %u comm \"%s\"",
		    c->what, c->status, c->ppid, c->uid, c->comm))
		tap_diag("  %d EXIT; pid %u tgid %u ppid %u uid %u exit 0x%x comm \"%.16s\"",
			 nx, x ? x->p.pid : 0, x ? x->p.tgid : 0,
			 x ? x->p.ppid : 0, x ? x->p.uid : 0,
			 x ? x->p.exit_code : 0, x ? x->p.comm : "");
	if (c->path) {
		const char *want = cut_path(c->path, SLOT);

		if (!tap_ok(ne == 1 && e->p.tgid == (uint32_t)c->pid &&
			    e->p.ppid == (uint32_t)parent &&
			    e->p.uid == c->uid &&
			    !strcmp(LFQ_EVENT_PROC_FILENAME(&e->p), want) &&
			    !strcmp(e->p.comm, EXEC_COMM) &&
			    e->p.hdr.size == sizeof(e->p) + strlen(want) + 1 &&
			    e->p.hdr.size <= SLOT,
			    "%s: one EXEC, filename the %zu-byte path%s, comm \"%s\" (basename cut to 15), size %zu",
			    c->what, strlen(c->path),
			    strlen(want) < strlen(c->path) ?
			    " cut to fit the slot" : "", EXEC_COMM,
			    sizeof(e->p) + strlen(want) + 1))
			tap_diag("  %d EXEC; pid %u ppid %u uid %u size %u filename \"%.64s\" comm \"%.16s\"",
				 ne, e ? e->p.pid : 0, e ? e->p.ppid : 0,
				 e ? e->p.uid : 0, e ? e->p.hdr.size : 0,
				 e ? LFQ_EVENT_PROC_FILENAME(&e->p) : "", e ? e->p.comm : "");
	} else {
		tap_ok(!ne, "%s: no EXEC record (%d found)", c->what, ne);
	}
	if (!f || !x) {
		tap_ok(0, "%s: FORK and EXIT in order (one is missing)",
		       c->what);
		return;
	}
	if (!tap_ok(f->index < x->index && f->p.hdr.time_ns <= x->p.hdr.time_ns &&
		    (!e || (f->index < e->index && e->index < x->index &&
			    f->p.hdr.time_ns <= e->p.hdr.time_ns &&
			    e->p.hdr.time_ns <= x->p.hdr.time_ns)),
		    "%s: FORK%s before EXIT in queue order and in time_ns",
		    c->what, e ? " before EXEC" : ""))
		tap_diag("  indices %u %d %u", f->index, e ? (int)e->index : -1,
			 x->index);
}

int main(int argc, char **argv)
{
	struct lfq *q, *q80;
	struct lfq_source src = { .size = sizeof(src),
				  .type = LFQ_SOURCE_PROC };
	struct child kids[NKIDS];
	struct child gchild, dchild;
	pthread_t th;
	char self[256];
	ssize_t len;
	int64_t t_start, t_end;
	int id, id80, pfd[2], res[2], i, hdr_bad = 0;
	uint32_t n, n80, k;
	const struct rec *f, *x, *e;
	struct lfq_stats st, st80;
	pid_t me = getpid(), late;
	long nc;

	/* The exec'd copy of this program. */
	if (argc > 1 && !strcmp(argv[1], "--exit7"))
		return 7;

	nc = sysconf(_SC_NPROCESSORS_CONF);
	ncpus = nc > 0 ? (unsigned int)nc : 1;
	read_comm();
	tap_plan(32);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		tap_diag("readlink /proc/self/exe: %s", strerror(errno));
		return 1;
	}
	self[len] = 0;
	unlink(EXEC_LINK);
	unlink(LONG_LINK);
	mkdir(LONG_DIR, 0755);
	if (symlink(self, EXEC_LINK) || symlink(self, LONG_LINK)) {
		tap_diag("symlink %s: %s", EXEC_LINK, strerror(errno));
		return 1;
	}

	q = mpsc_queue_or_exit(SLOT, SLOTS);
	q80 = mpsc_queue_or_exit(SMALL_SLOT, SMALL_SLOTS);
	t_start = now_ns();
	id = ioc_source_attach(lfq_fd(q), &src);
	id80 = ioc_source_attach(lfq_fd(q80), &src);
	tap_ok(id >= 0 && id80 >= 0,
	       "PROC attached to a %u-byte-slot queue (%d) and a %u-byte one (%d)",
	       SLOT, id, SMALL_SLOT, id80);

	/* The workload. */
	pthread_create(&th, NULL, thread_fn, NULL);
	pthread_join(th, NULL);

	memset(kids, 0, sizeof(kids));
	fflush(stdout);
	kids[0] = (struct child){ "exec child", fork(), 0, me, 0, EXEC_COMM,
				  EXEC_LINK };
	if (kids[0].pid == 0) {
		execl(EXEC_LINK, EXEC_LINK, "--exit7", (char *)NULL);
		_exit(99);
	}
	kids[4] = (struct child){ "long-path exec child", fork(), 0, me, 0,
				  EXEC_COMM, LONG_LINK };
	if (kids[4].pid == 0) {
		execl(LONG_LINK, "x", "--exit7", (char *)NULL);
		_exit(99);
	}
	kids[1] = (struct child){ "exit(3) child", fork(), 0, me, 0, my_comm,
				  NULL };
	if (kids[1].pid == 0)
		_exit(3);
	kids[2] = (struct child){ "SIGKILLed child", fork(), 0, me, 0, my_comm,
				  NULL };
	if (kids[2].pid == 0) {
		for (;;)
			pause();
	}
	if (pipe(pfd)) {
		tap_diag("pipe: %s", strerror(errno));
		return 1;
	}
	kids[3] = (struct child){ "uid 1001 child", fork(), 0, me, UNPRIV_UID,
				  my_comm, NULL };
	if (kids[3].pid == 0) {
		close(pfd[0]);
		_exit(unpriv_child(pfd[1]));
	}
	close(pfd[1]);
	if (read(pfd[0], res, sizeof(res)) != sizeof(res))
		res[0] = res[1] = -1;
	close(pfd[0]);
	msleep(20);
	kill(kids[2].pid, SIGKILL);
	for (i = 0; i < NKIDS; i++)
		if (waitpid(kids[i].pid, &kids[i].status, 0) != kids[i].pid)
			kids[i].status = -1;
	t_end = now_ns();

	/* Detached, the first queue must not see this one. */
	ioc_source_detach(lfq_fd(q), (unsigned long)id);
	late = fork();
	if (late == 0)
		_exit(0);
	waitpid(late, NULL, 0);

	n = collect(q, recs, MAX_RECS);
	n80 = collect(q80, small, MAX_RECS);
	tap_diag("%u records in the first queue, %u in the second", n, n80);
	tap_ok(WIFEXITED(kids[0].status) && WEXITSTATUS(kids[0].status) == 7 &&
	       WIFEXITED(kids[1].status) && WEXITSTATUS(kids[1].status) == 3 &&
	       WIFSIGNALED(kids[2].status) && WTERMSIG(kids[2].status) == SIGKILL &&
	       kids[3].status == 0 && kids[4].status == kids[0].status &&
	       res[0] > 0 && WIFEXITED(res[1]) &&
	       WEXITSTATUS(res[1]) == 5,
	       "workload ran: statuses 0x%x 0x%x 0x%x 0x%x, grandchild 0x%x",
	       kids[0].status, kids[1].status, kids[2].status, kids[3].status,
	       res[1]);

	/* The thread. */
	find(recs, n, LFQ_EVENT_FORK, thread_tid, &f);
	if (!tap_ok(f && f->p.pid == (uint32_t)me && f->p.tgid == (uint32_t)me &&
		    f->p.child_tgid == (uint32_t)me &&
		    f->p.ppid == (uint32_t)getppid(),
		    "thread: FORK with child_pid %d (the thread), child_tgid == tgid %d",
		    thread_tid, me))
		tap_diag("  child_tgid %u pid %u", f ? f->p.child_tgid : 0,
			 f ? f->p.pid : 0);
	find(recs, n, LFQ_EVENT_EXIT, thread_tid, &x);
	if (!tap_ok(x && x->p.tgid == (uint32_t)me && !x->p.exit_code &&
		    x->p.ppid == (uint32_t)getppid() && f &&
		    f->index < x->index,
		    "thread: EXIT with pid %d, tgid %d, after its FORK",
		    thread_tid, me))
		tap_diag("  tgid %u exit %d", x ? x->p.tgid : 0,
			 x ? x->p.exit_code : 0);

	for (i = 0; i < NKIDS; i++)
		check_child(recs, n, &kids[i], me, getppid(), getuid(), my_comm);

	/* The grandchild, forked by the uid 1001 child. */
	gchild = (struct child){ "grandchild of uid 1001", res[0], res[1],
				 kids[3].pid, UNPRIV_UID, my_comm, NULL };
	find(recs, n, LFQ_EVENT_FORK, gchild.pid, &f);
	find(recs, n, LFQ_EVENT_EXIT, gchild.pid, &x);
	if (!tap_ok(f && f->p.pid == (uint32_t)kids[3].pid &&
		    f->p.uid == UNPRIV_UID && f->p.ppid == (uint32_t)me &&
		    x && x->p.ppid == (uint32_t)kids[3].pid &&
		    x->p.uid == UNPRIV_UID && x->p.exit_code == gchild.status &&
		    f->index < x->index,
		    "grandchild: FORK by the uid 1001 child (uid %u), EXIT with ppid %d and status 0x%x",
		    UNPRIV_UID, kids[3].pid, gchild.status))
		tap_diag("  FORK pid %u uid %u ppid %u; EXIT ppid %u uid %u status 0x%x",
			 f ? f->p.pid : 0, f ? f->p.uid : 0,
			 f ? f->p.ppid : 0, x ? x->p.ppid : 0,
			 x ? x->p.uid : 0, x ? x->p.exit_code : 0);

	/* Header fields of every record of ours. */
	for (k = 0; k < n; k++) {
		const struct lfq_event_proc *p = &recs[k].p;
		int ours = p->tgid == (uint32_t)me;

		for (i = 0; i < NKIDS; i++)
			if (p->tgid == (uint32_t)kids[i].pid)
				ours = 1;
		if (p->tgid == (uint32_t)gchild.pid)
			ours = 1;
		if (p->hdr.type < LFQ_EVENT_EXEC || p->hdr.type > LFQ_EVENT_EXIT ||
		    p->hdr.size < sizeof(*p) + 1 || p->hdr.size > SLOT ||
		    p->hdr.cpu >= ncpus || p->args_size ||
		    (p->cut & ~LFQ_PROC_PATH_CUT) ||
		    !memchr(p->comm, 0, sizeof(p->comm)) ||
		    (p->hdr.type != LFQ_EVENT_EXEC && LFQ_EVENT_PROC_FILENAME(p)[0]) ||
		    (ours && ((int64_t)p->hdr.time_ns < t_start ||
			      (int64_t)p->hdr.time_ns > t_end))) {
			if (hdr_bad++ < 5)
				tap_diag("  record %u: type %u size %u cpu %u time %llu args %u cut %u",
					 k, p->hdr.type, p->hdr.size,
					 p->hdr.cpu,
					 (unsigned long long)p->hdr.time_ns,
					 p->args_size, p->cut);
		}
	}
	tap_ok(n > 0 && !hdr_bad,
	       "every record: a PROC type, size and cpu in range, comm terminated, no filename but on EXEC, ours timed within the run");

	dchild = (struct child){ "late child", late, 0, me, 0, my_comm, NULL };
	tap_ok(find(recs, n, LFQ_EVENT_FORK, late, &f) == 0 &&
	       find(recs, n, LFQ_EVENT_EXIT, late, &x) == 0,
	       "after DETACH the first queue has no record of a later child");
	tap_ok(find(small, n80, LFQ_EVENT_FORK, dchild.pid, &f) == 1 &&
	       find(small, n80, LFQ_EVENT_EXIT, dchild.pid, &x) == 1,
	       "the second queue (still attached) has the later child's FORK and EXIT");

	/* The small slots: the same events, the filename cut to fit. */
	k = 0;
	for (i = 0; i < NKIDS; i++)
		k += find(small, n80, LFQ_EVENT_FORK, kids[i].pid, &f) == 1 &&
		     find(small, n80, LFQ_EVENT_EXIT, kids[i].pid, &x) == 1;
	tap_ok(k == NKIDS, "%u-byte slots: FORK and EXIT of every child (%u of %d)",
	       SMALL_SLOT, k, NKIDS);
	find(small, n80, LFQ_EVENT_EXEC, kids[0].pid, &e);
	if (!tap_ok(e && !strncmp(LFQ_EVENT_PROC_FILENAME(&e->p), EXEC_LINK, 15) &&
		    LFQ_EVENT_PROC_FILENAME(&e->p)[15] == 0 &&
		    e->p.hdr.size <= SMALL_SLOT && !strcmp(e->p.comm, EXEC_COMM),
		    "%u-byte slots: the EXEC filename cut to its first 15 bytes, NUL-terminated in the slot",
		    SMALL_SLOT))
		tap_diag("  filename \"%.16s\" size %u", e ? LFQ_EVENT_PROC_FILENAME(&e->p) : "",
			 e ? e->p.hdr.size : 0);

	lfq_get_stats(q, &st);
	lfq_get_stats(q80, &st80);
	tap_ok(st.dropped == 0 && st80.dropped == 0,
	       "no record dropped (%llu, %llu)", (unsigned long long)st.dropped,
	       (unsigned long long)st80.dropped);
	expect(-ioc_source_detach(lfq_fd(q80), (unsigned long)id80), 0,
	       "DETACH of the second queue's PROC source");
	lfq_close(q);
	lfq_close(q80);
	unlink(EXEC_LINK);
	unlink(LONG_LINK);
	rmdir(LONG_DIR);
	return tap_done();
}
