/* SPDX-License-Identifier: GPL-2.0 */
/*
 * elastic_util.h - what the elastic queue VM tests (tests/vm/elastic_*.c)
 * share: making an elastic queue, reading its counters, the module's
 * parameters (seg_idle_ms, user_bytes_max, user_names_max), the system's
 * memory figures (/proc/meminfo, the lfq vmaps in /proc/vmallocinfo, a
 * memory cgroup of the test's own), per-producer sequence accounting
 * without gaps or with counted ones, and running part of a test in a
 * child (another user, fewer capabilities) with its TAP lines numbered
 * in sequence.
 * Header-only, static inline: each program takes what it uses.
 */
#ifndef LFQ_TEST_ELASTIC_UTIL_H
#define LFQ_TEST_ELASTIC_UTIL_H

/* setresuid() and setgroups(): the including program defines _GNU_SOURCE. */
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define EL_PARAMS	"/sys/module/lfq/parameters/"

/* An elastic queue on /dev/lfq (both roles); exits the test if it can't. */
static inline struct lfq *el_queue(uint32_t type, uint32_t slot_size,
				   uint32_t slot_count, uint32_t seg_min,
				   uint32_t seg_max)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = slot_size,
		 .slot_count = slot_count, .flags = LFQ_CREATE_ELASTIC,
		 .seg_min = seg_min, .seg_max = seg_max);

	return queue_or_exit(&o);
}

/* The queue's counters, or the end of the test program. */
static inline struct lfq_stats el_stats(struct lfq *q)
{
	struct lfq_stats st;
	int err = lfq_get_stats(q, &st);

	if (err || st.size < LFQ_STATS_SIZE_VER3) {
		tap_diag("LFQ_IOC_STATS: %d (size %u)", err, st.size);
		exit(1);
	}
	return st;
}

/*
 * Wait up to @ms for the queue to hold @bytes again: the time waited (ms,
 * a multiple of 20), or -1 (and *@st holds the last counters).
 */
static inline int el_wait_bytes(struct lfq *q, uint64_t bytes, int ms,
				struct lfq_stats *st)
{
	int t;

	for (t = 0;; t += 20) {
		*st = el_stats(q);
		if (st->bytes == bytes)
			return t;
		if (t >= ms)
			return -1;
		msleep(20);
	}
}

/* A module parameter as a number (-1 if it cannot be read). */
static inline long long el_param(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), EL_PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Set a module parameter: 0 or a negative errno (and a diag). */
static inline int el_param_set(const char *name, long long v)
{
	char path[128];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), EL_PARAMS "%s", name);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%lld\n", v) < 0)
		err = -errno;
	if (f && fclose(f) && !err)
		err = -errno;
	if (err)
		tap_diag("set %s to %lld: %s", path, v, strerror(-err));
	return err;
}

/* A /proc/meminfo field in kB (e.g. "VmallocUsed"), or -1. */
static inline long long el_meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtoll(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * Bytes of the kernel virtual areas lfq.ko mapped (vmap: its queues'
 * pages and segments), from /proc/vmallocinfo (guard pages included), and
 * how many areas in *@areas; -1 if it cannot be read (not root).
 */
static inline long long el_lfq_vmap_bytes(long long *areas)
{
	char line[512];
	long long sum = 0, n = 0, size;
	FILE *f = fopen("/proc/vmallocinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[lfq]"))
			continue;
		if (sscanf(line, "%*s %lld", &size) == 1) {
			sum += size;
			n++;
		}
	}
	fclose(f);
	if (areas)
		*areas = n;
	return sum;
}

/*
 * Wait up to @ms for lfq.ko's vmaps to add up to @bytes again (queues
 * and segments are freed after a grace period, in a work item): the
 * time waited (ms, a multiple of 20), or -1.
 */
static inline int el_wait_vmap(long long bytes, int ms)
{
	int t;

	for (t = 0; el_lfq_vmap_bytes(NULL) != bytes; t += 20) {
		if (t >= ms)
			return -1;
		msleep(20);
	}
	return t;
}

/*
 * A memory cgroup for this process (cgroup v2 at /sys/fs/cgroup, mounted
 * if need be, memory controller enabled), as tests/vm/memcg.c makes one:
 * 0, or -1 (and a diag saying why) when the VM has none.
 */
#define EL_CG	"/sys/fs/cgroup"

static inline int el_write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(s, f) < 0)
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static inline int el_memcg_join(const char *group)
{
	char path[256], pid[32];
	int err;

	if (access(EL_CG "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", EL_CG, "cgroup2", 0, NULL)) {
		tap_diag("mount cgroup2: %s", strerror(errno));
		return -1;
	}
	err = el_write_str(EL_CG "/cgroup.subtree_control", "+memory");
	if (err) {
		tap_diag("enable the memory controller: %s", strerror(-err));
		return -1;
	}
	snprintf(path, sizeof(path), EL_CG "/%s", group);
	if (mkdir(path, 0755) && errno != EEXIST) {
		tap_diag("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), EL_CG "/%s/cgroup.procs", group);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	err = el_write_str(path, pid);
	if (err) {
		tap_diag("join %s: %s", path, strerror(-err));
		return -1;
	}
	return 0;
}

/* memory.current of @group in bytes, or -1. */
static inline long long el_memcg_current(const char *group)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), EL_CG "/%s/memory.current", group);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Back to the root group; remove @group. */
static inline void el_memcg_leave(const char *group)
{
	char path[256], pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	el_write_str(EL_CG "/cgroup.procs", pid);
	snprintf(path, sizeof(path), EL_CG "/%s", group);
	rmdir(path);
}

/*
 * Per-producer sequence accounting: every producer numbers its messages
 * 0, 1, 2...; the consumer must see each at most once, in increasing
 * order. A gap is a message dropped (allowed only where drops are
 * counted); a seq below the next one expected is a duplicate or a
 * reordering; one at or past the producer's count is out of range.
 */
struct el_seq {
	uint64_t count;		/* messages the producer makes */
	uint64_t next;		/* highest seq seen + 1 */
	uint64_t seen;
	uint64_t gaps;		/* seqs skipped */
	uint64_t bad;		/* repeated, reordered or out of range */
};

/* Note @seq from producer @t: 0 in order, 1 after a gap, -1 bad. */
static inline int el_seq_note(struct el_seq *t, uint64_t seq,
			      const char *who, unsigned int id)
{
	uint64_t gap;

	if (seq < t->next || seq >= t->count) {
		if (t->bad++ < 3)
			tap_diag("  %s %u: seq %llu after %llu (count %llu)",
				 who, id, (unsigned long long)seq,
				 (unsigned long long)t->next,
				 (unsigned long long)t->count);
		return -1;
	}
	gap = seq - t->next;
	t->gaps += gap;
	t->next = seq + 1;
	t->seen++;
	return gap ? 1 : 0;
}

/* Totals over @n producers. */
struct el_seq_sum {
	uint64_t count, seen, gaps, bad, missing;
	int complete;	/* every producer: seqs 0..count-1, each once */
	int ends;	/* every producer's last seq arrived */
};

static inline struct el_seq_sum el_seq_sum(const struct el_seq *t,
					   unsigned int n)
{
	struct el_seq_sum r = { .complete = 1, .ends = 1 };
	unsigned int i;

	for (i = 0; i < n; i++) {
		r.count += t[i].count;
		r.seen += t[i].seen;
		r.gaps += t[i].gaps;
		r.bad += t[i].bad;
		r.missing += t[i].count - t[i].seen;
		if (t[i].seen != t[i].count || t[i].gaps || t[i].bad)
			r.complete = 0;
		if (t[i].next != t[i].count)
			r.ends = 0;
	}
	return r;
}

/* Become @uid:@uid with no supplementary group (so no capability). */
static inline int el_become_user(uid_t uid)
{
	return setgroups(0, NULL) || setresgid(uid, uid, uid) ||
	       setresuid(uid, uid, uid) ? -1 : 0;
}

/*
 * Run @fn in a child that first calls @become(@uid): its TAP lines carry
 * on this process's numbering, and its passes and failures count here.
 * Returns the child's exit status (0 when it ran to the end), 101 when
 * @become failed.
 */
static inline int el_child(int (*become)(uid_t), uid_t uid,
			   void (*fn)(void *), void *arg)
{
	int p[2], status, counts[2] = { 0, 0 };
	pid_t pid;

	if (pipe(p))
		return 102;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (become(uid))
			_exit(101);
		fn(arg);
		counts[0] = tap_n;
		counts[1] = tap_failed;
		fflush(stdout);
		if (write(p[1], counts, sizeof(counts)) != sizeof(counts))
			_exit(103);
		_exit(0);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], counts, sizeof(counts)) == sizeof(counts)) {
		tap_n = counts[0];
		tap_failed = counts[1];
	}
	close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 102;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		tap_diag("  child (uid %u): wait status 0x%x", (unsigned)uid,
			 status);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 104;
	}
	return 0;
}

/* el_child() as @uid (see el_become_user()). */
static inline int el_as_user(uid_t uid, void (*fn)(void *), void *arg)
{
	return el_child(el_become_user, uid, fn, arg);
}

#endif /* LFQ_TEST_ELASTIC_UTIL_H */
