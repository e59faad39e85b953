// SPDX-License-Identifier: GPL-2.0
/*
 * sources_errno.c - every errno of LFQ_IOC_SOURCE_ATTACH and
 * LFQ_IOC_SOURCE_DETACH (see struct lfq_source in lfq.h), one TAP line
 * each: capabilities (EPERM from an unprivileged uid, for every type),
 * the argument's size, type and flags, the fields each type must leave
 * zero, producer sources on SPSC queues, SYNTH producer counts and
 * periods, record_size (SYSCALL and PROC), records that do not fit a
 * slot, ECHO targets (EBADF, EBADFD, EINVAL, EMSGSIZE, EBUSY, ELOOP),
 * DETACH ids, and
 * LFQ_SOURCES_MAX on one queue (ENOSPC; a freed id is reused). Also the
 * numbering of the largest SYNTH: LFQ_SYNTH_PRODUCERS_MAX producers,
 * threads first, then the hardirq and the softirq timer.
 *
 * Runs in the test VM with lfq.ko loaded, as root (uid 1001 exists).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "sources_util.h"
#include "tap.h"
#include "test_util.h"

#define UNPRIV_UID	1001	/* lfqa in the VM's /etc/passwd */

/* A bound /dev/lfq file (not mapped). */
static int raw_queue(uint32_t type, uint32_t slot_size, uint32_t slot_count)
{
	struct lfq_create c = { .size = sizeof(c), .type = type,
				.slot_size = slot_size,
				.slot_count = slot_count };
	int fd = open_lfq();

	if (ioctl(fd, LFQ_IOC_CREATE, &c)) {
		tap_diag("LFQ_IOC_CREATE %u x %u: %s", slot_count, slot_size,
			 strerror(errno));
		exit(1);
	}
	return fd;
}

/* Attach; expect @want (0: success, then detach again). */
__attribute__((format(printf, 4, 5)))
static void expect_attach(int fd, const struct lfq_source *s, int want,
			  const char *fmt, ...)
{
	char desc[200];
	va_list ap;
	int r = ioc_source_attach(fd, s);

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (r >= 0) {
		if (!tap_ok(!want && r < LFQ_SOURCES_MAX,
			    "%s -> id (0..%d)", desc, LFQ_SOURCES_MAX - 1))
			tap_diag("  got id %d, want %s", r, ename(want));
		ioc_source_detach(fd, (unsigned long)r);
		return;
	}
	expect(-r, want, "%s", desc);
}

/* A larger struct lfq_source: @tail bytes after it, all @fill. */
static void expect_big(int fd, size_t tail, unsigned char fill, int want,
		       const char *desc)
{
	unsigned char buf[sizeof(struct lfq_source) + 64];
	struct lfq_source s = synth(1, 0, 0, 1, 0);

	memset(buf, fill, sizeof(buf));
	s.size = (uint32_t)(sizeof(s) + tail);
	memcpy(buf, &s, sizeof(s));
	expect_attach(fd, (const struct lfq_source *)buf, want, "%s", desc);
}

/* Attach @s as uid UNPRIV_UID (no capabilities) in a child: its errno. */
static int attach_unprivileged(int fd, const struct lfq_source *s,
			       int *stats_err)
{
	int pfd[2], status, res[2] = { -1, -1 };
	pid_t pid;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct lfq_stats st = { .size = sizeof(st) };

		close(pfd[0]);
		if (setgroups(0, NULL) ||
		    setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
		    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
			_exit(1);
		int r = ioc_source_attach(fd, s);

		res[0] = r < 0 ? -r : 0;
		res[1] = ioctl(fd, LFQ_IOC_STATS, &st) ? errno : 0;
		if (r >= 0)	/* it attached: don't leave it behind */
			ioc_source_detach(fd, (unsigned long)r);
		if (write(pfd[1], res, sizeof(res)) != sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], res, sizeof(res)) != sizeof(res))
		res[0] = -1;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || status)
		res[0] = -1;
	*stats_err = res[1];
	return res[0];
}

static void test_errnos(void)
{
	int m = raw_queue(LFQ_TYPE_MPSC, 128, 64);	/* the main subject */
	int sp = raw_queue(LFQ_TYPE_SPSC, 64, 64);
	int m16 = raw_queue(LFQ_TYPE_MPSC, 16, 256);
	int m72 = raw_queue(LFQ_TYPE_MPSC, 72, 512);
	int m80 = raw_queue(LFQ_TYPE_MPSC, LFQ_EVENT_PROC_SLOT_MIN, 256);
	int tgt = raw_queue(LFQ_TYPE_MPSC, 64, 64);	/* ECHO targets */
	int tgt2 = raw_queue(LFQ_TYPE_MPSC, 128, 64);
	int tgt_sp = raw_queue(LFQ_TYPE_SPSC, 64, 64);
	int tgt32 = raw_queue(LFQ_TYPE_MPSC, 32, 128);
	int unbound = open_lfq(), unbound2 = open_lfq();
	struct lfq_source s, good = synth(1, 0, 0, 1, 0);
	int pfd[2], closed_fd, dupfd, ids[LFQ_SOURCES_MAX + 1], i, distinct,
	    stats_err = -1, r;
	const uint32_t types[] = { LFQ_SOURCE_SYNTH, LFQ_SOURCE_PROC,
				   LFQ_SOURCE_SYSCALL, LFQ_SOURCE_ECHO };
	static const char *const tname[] = { "", "SYNTH", "PROC", "SYSCALL",
					     "ECHO" };
	struct lfq_source priv[4];
	struct lfq *h;
	uint64_t seen[4][LFQ_SYNTH_PRODUCERS_MAX];
	const void *span;
	int numbering_ok, total, got, j;

	if (pipe(pfd)) {
		tap_diag("pipe: %s", strerror(errno));
		exit(1);
	}
	closed_fd = open("/dev/null", O_RDONLY);
	close(closed_fd);

	/* Capability: every type refused without CAP_PERFMON/SYS_ADMIN. */
	priv[0] = good;
	priv[1] = of_type(LFQ_SOURCE_PROC);
	priv[2] = of_type(LFQ_SOURCE_SYSCALL);
	priv[2].syscall_nr = __NR_getppid;
	priv[3] = of_type(LFQ_SOURCE_ECHO);
	priv[3].target_fd = tgt;
	for (i = 0; i < 4; i++) {
		int fd = types[i] == LFQ_SOURCE_ECHO ? sp : m;

		r = attach_unprivileged(fd, &priv[i], &stats_err);
		expect(r, EPERM, "%s attach as uid %d (no capabilities)",
		       tname[types[i]], UNPRIV_UID);
		if (i == 0)
			expect(stats_err, 0,
			       "the same unprivileged process can use the queue (LFQ_IOC_STATS)");
	}
	for (i = 0; i < 4; i++) {
		int fd = types[i] == LFQ_SOURCE_ECHO ? sp : m;

		expect_attach(fd, &priv[i], 0,
			      "the same %s attach as root (control)",
			      tname[types[i]]);
	}

	/* Argument size. */
	s = good;
	s.size = 0;
	expect_attach(m, &s, EINVAL, "size 0");
	s.size = LFQ_SOURCE_SIZE_VER0 - 8;
	expect_attach(m, &s, EINVAL, "size LFQ_SOURCE_SIZE_VER0 - 8");
	expect_big(m, 8, 0xff, E2BIG,
		   "size + 8 with non-zero trailing bytes");
	expect_big(m, 64, 0, 0, "size + 64, trailing bytes zero (accepted)");

	/* No queue. */
	expect_attach(unbound, &good, EBADFD, "SYNTH on a file with no queue");
	expect(-ioc_source_detach(unbound, 0), EBADFD,
	       "DETACH on a file with no queue");

	/* Type and flags. */
	s = good;
	s.type = 0;
	expect_attach(m, &s, EINVAL, "type 0");
	s.type = LFQ_SOURCE_ECHO + 1;
	expect_attach(m, &s, EINVAL, "type LFQ_SOURCE_ECHO + 1");
	s.type = 0xffffffffu;
	expect_attach(m, &s, EINVAL, "type 0xffffffff");
	s = good;
	s.flags = LFQ_SOURCE_FLAGS_ALL << 1;
	expect_attach(m, &s, EINVAL, "flags: the bit above LFQ_SOURCE_FLAGS_ALL");
	s.flags = 0x80000000u;
	expect_attach(m, &s, EINVAL, "flags 0x80000000");
	s.flags = LFQ_SOURCE_SYNTH_NMI;
	expect_attach(m, &s, EINVAL,
		      "LFQ_SOURCE_SYNTH_NMI on a SYNTH without hardirq timers");
	s = of_type(LFQ_SOURCE_PROC);
	s.flags = LFQ_SOURCE_SYNTH_NMI;
	expect_attach(m, &s, EINVAL, "LFQ_SOURCE_SYNTH_NMI on PROC");
	s = priv[2];
	s.flags = LFQ_SOURCE_SYNTH_NMI;
	expect_attach(m, &s, EINVAL, "LFQ_SOURCE_SYNTH_NMI on SYSCALL");
	s = priv[3];
	s.flags = LFQ_SOURCE_SYNTH_NMI;
	expect_attach(m, &s, EINVAL, "LFQ_SOURCE_SYNTH_NMI on ECHO");
	s = synth(1, 1, 1, 1, 100 * 1000);
	s.flags = LFQ_SOURCE_SYNTH_NMI;
	expect_attach(m, &s, 0,
		      "LFQ_SOURCE_SYNTH_NMI on a SYNTH with a hardirq timer (accepted)");

	/* Producer sources need an MPSC queue. */
	expect_attach(sp, &good, EINVAL, "SYNTH on an SPSC queue");
	s = of_type(LFQ_SOURCE_PROC);
	expect_attach(sp, &s, EINVAL, "PROC on an SPSC queue");
	s = priv[2];
	expect_attach(sp, &s, EINVAL, "SYSCALL on an SPSC queue");

	/* SYNTH producers and periods. */
	s = synth(0, 0, 0, 1, 0);
	expect_attach(m, &s, EINVAL, "SYNTH with zero producers");
	s = synth(0, 1, 0, 1, LFQ_SYNTH_TIMER_PERIOD_MIN_NS - 1);
	expect_attach(m, &s, EINVAL, "SYNTH hardirq timer, period MIN - 1 ns");
	s = synth(0, 0, 1, 1, 0);
	expect_attach(m, &s, EINVAL, "SYNTH softirq timer, period 0");
	s = synth(0, 1, 1, 1, LFQ_SYNTH_TIMER_PERIOD_MIN_NS);
	expect_attach(m, &s, 0, "SYNTH timers, period exactly MIN (accepted)");
	s = synth(LFQ_SYNTH_PRODUCERS_MAX + 1, 0, 0, 1, 0);
	expect_attach(m, &s, EINVAL, "SYNTH with MAX + 1 threads");
	s = synth(32, 32, 1, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL, "SYNTH with 32 + 32 + 1 producers");
	s = synth(0x80000000u, 0x80000000u, 0, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL,
		      "SYNTH with 2^31 + 2^31 producers (wraps to 0 in 32 bits)");
	s = synth(0xffffffffu, 0, 1, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL,
		      "SYNTH with 2^32 - 1 + 1 producers (wraps to 0 in 32 bits)");
	s = synth(1, 1, 0, 1, 100 * 1000);
	s.thread_period_ns = 0;
	s.syscall_nr = 1;
	expect_attach(m, &s, EINVAL, "SYNTH with syscall_nr set");
	s.syscall_nr = 0;
	s.target_fd = tgt;
	expect_attach(m, &s, EINVAL, "SYNTH with target_fd set");
	s = synth(0, 1, 0, 1, 100 * 1000);
	s.thread_period_ns = 1000;
	expect_attach(m, &s, EINVAL, "SYNTH with thread_period_ns but no threads");
	s = synth(1, 0, 0, 1, 100 * 1000);
	expect_attach(m, &s, EINVAL, "SYNTH with timer_period_ns but no timers");

	/* PROC, SYSCALL, ECHO: the fields they do not use must be zero. */
	s = of_type(LFQ_SOURCE_PROC);
	s.threads = 1;
	expect_attach(m, &s, EINVAL, "PROC with threads set");
	s = of_type(LFQ_SOURCE_PROC);
	s.count = 1;
	expect_attach(m, &s, EINVAL, "PROC with count set");
	s = of_type(LFQ_SOURCE_PROC);
	s.syscall_nr = __NR_getppid;
	expect_attach(m, &s, EINVAL, "PROC with syscall_nr set");
	s = of_type(LFQ_SOURCE_PROC);
	s.target_fd = tgt;
	expect_attach(m, &s, EINVAL, "PROC with target_fd set");
	s = priv[2];
	s.timer_period_ns = 100000;
	expect_attach(m, &s, EINVAL, "SYSCALL with timer_period_ns set");
	s = priv[2];
	s.target_fd = tgt;
	expect_attach(m, &s, EINVAL, "SYSCALL with target_fd set");
	s = priv[2];
	s.syscall_nr = -1;
	expect_attach(m, &s, EINVAL, "SYSCALL with syscall_nr -1");
	s.syscall_nr = 100000;
	expect_attach(m, &s, ENOENT,
		      "SYSCALL with syscall_nr 100000 (this kernel lacks it)");
	s = good;
	s.__reserved = 1;
	expect_attach(m, &s, EINVAL, "__reserved set");

	/* record_size: SYSCALL only; 8-aligned, >= its record, fits a slot. */
	s = priv[2];
	s.record_size = sizeof(struct lfq_event_syscall) + 4;
	expect_attach(m, &s, EINVAL, "SYSCALL record_size 36 (not a multiple of 8)");
	s.record_size = sizeof(struct lfq_event_syscall) - 8;
	expect_attach(m, &s, EINVAL,
		      "SYSCALL record_size 24 (< sizeof(struct lfq_event_syscall))");
	s.record_size = LFQ_SOURCE_RECORD_SIZE_MAX + 8;
	expect_attach(m, &s, EINVAL,
		      "SYSCALL record_size LFQ_SOURCE_RECORD_SIZE_MAX + 8 (hdr.size is 16 bits)");
	s.record_size = 0xfffffff8u;
	expect_attach(m, &s, EINVAL, "SYSCALL record_size 0xfffffff8");
	s.record_size = 136;
	expect_attach(m, &s, EMSGSIZE, "SYSCALL record_size 136 on 128-byte slots");
	s.record_size = 128;
	expect_attach(m, &s, 0, "SYSCALL record_size 128 on 128-byte slots (accepted)");
	s = good;
	s.record_size = 64;
	expect_attach(m, &s, EINVAL, "SYNTH with record_size set");
	/* PROC: record_size caps its records (path, argv): 8-aligned, >= 80. */
	s = of_type(LFQ_SOURCE_PROC);
	s.record_size = 128;
	expect_attach(m, &s, 0, "PROC record_size 128 on 128-byte slots (accepted)");
	s.record_size = 84;
	expect_attach(m, &s, EINVAL, "PROC record_size 84 (not a multiple of 8)");
	s.record_size = (uint32_t)LFQ_EVENT_PROC_SLOT_MIN - 8;
	expect_attach(m, &s, EINVAL,
		      "PROC record_size 72 (< LFQ_EVENT_PROC_SLOT_MIN)");
	s.record_size = 136;
	expect_attach(m, &s, EMSGSIZE, "PROC record_size 136 on 128-byte slots");
	s = priv[3];
	s.record_size = 64;
	expect_attach(sp, &s, EINVAL, "ECHO with record_size set");

	s = priv[3];
	s.threads = 1;
	expect_attach(sp, &s, EINVAL, "ECHO with threads set");
	s = priv[3];
	s.count = 1;
	expect_attach(sp, &s, EINVAL, "ECHO with count set");
	s = priv[3];
	s.syscall_nr = 1;
	expect_attach(sp, &s, EINVAL, "ECHO with syscall_nr set");

	/* Records that do not fit a slot. */
	expect_attach(m16, &good, EMSGSIZE, "SYNTH on 16-byte slots");
	s = priv[2];
	expect_attach(m16, &s, EMSGSIZE, "SYSCALL on 16-byte slots");
	s = of_type(LFQ_SOURCE_PROC);
	expect_attach(m72, &s, EMSGSIZE, "PROC on 72-byte slots (< LFQ_EVENT_PROC_SLOT_MIN)");
	expect_attach(m80, &s, 0, "PROC on LFQ_EVENT_PROC_SLOT_MIN-byte slots (accepted)");

	/* ECHO targets. */
	s = priv[3];
	s.target_fd = -1;
	expect_attach(sp, &s, EBADF, "ECHO with target_fd -1");
	s.target_fd = closed_fd;
	expect_attach(sp, &s, EBADF, "ECHO with a closed target_fd");
	s.target_fd = pfd[0];
	expect_attach(sp, &s, EINVAL, "ECHO into a pipe (not /dev/lfq)");
	s.target_fd = sp;
	expect_attach(sp, &s, EINVAL, "ECHO into its own queue");
	dupfd = dup(sp);
	s.target_fd = dupfd;
	expect_attach(sp, &s, EINVAL, "ECHO into its own queue through a dup()ed fd");
	close(dupfd);
	s.target_fd = unbound2;
	expect_attach(sp, &s, EBADFD, "ECHO into a /dev/lfq file with no queue");
	s.target_fd = tgt_sp;
	expect_attach(sp, &s, EINVAL, "ECHO into an SPSC queue");
	s.target_fd = tgt32;
	expect_attach(sp, &s, EMSGSIZE, "ECHO into 32-byte slots from 64-byte slots");
	s.target_fd = tgt;
	r = ioc_source_attach(sp, &s);
	tap_ok(r >= 0, "ECHO into an MPSC queue of 64-byte slots -> id %d", r);
	s.target_fd = tgt2;
	expect_attach(sp, &s, EBUSY, "a second ECHO on the same queue");
	if (r >= 0)
		ioc_source_detach(sp, (unsigned long)r);
	expect_attach(sp, &s, 0, "ECHO again after the first was detached");
	s.target_fd = tgt2;
	r = ioc_source_attach(tgt, &s);	/* the kernel consumes tgt now */
	s.target_fd = tgt;
	expect_attach(sp, &s, ELOOP,
		      "ECHO into a queue the kernel consumes (another ECHO's source)");
	if (r >= 0)
		ioc_source_detach(tgt, (unsigned long)r);
	expect_attach(sp, &s, 0, "the same ECHO once that one is detached");

	/* DETACH ids. */
	expect(-ioc_source_detach(m, LFQ_SOURCES_MAX), EINVAL,
	       "DETACH id LFQ_SOURCES_MAX");
	expect(-ioc_source_detach(m, (unsigned long)-1), EINVAL,
	       "DETACH id (unsigned long)-1");
	expect(-ioc_source_detach(m, 1ul << 32), EINVAL,
	       "DETACH id 2^32 (not truncated to 0)");
	expect(-ioc_source_detach(m, 5), ENOENT,
	       "DETACH of an id nothing is attached at");

	/*
	 * LFQ_SOURCES_MAX on one queue (after all the refused attaches
	 * above, which must not have used a place up).
	 */
	for (i = 0; i < LFQ_SOURCES_MAX; i++)
		ids[i] = ioc_source_attach(m, &good);
	distinct = 1;
	for (i = 0; i < LFQ_SOURCES_MAX; i++) {
		int k;

		if (ids[i] < 0 || ids[i] >= LFQ_SOURCES_MAX)
			distinct = 0;
		for (k = 0; k < i; k++)
			if (ids[k] == ids[i])
				distinct = 0;
	}
	if (!tap_ok(distinct, "%d sources attach to one queue, ids 0..%d distinct",
		    LFQ_SOURCES_MAX, LFQ_SOURCES_MAX - 1))
		for (i = 0; i < LFQ_SOURCES_MAX; i++)
			tap_diag("  id %d", ids[i]);
	s = of_type(LFQ_SOURCE_PROC);
	expect_attach(m, &s, ENOSPC, "a 9th source (PROC) on the queue");
	expect_attach(m, &good, ENOSPC, "a 9th source (SYNTH) on the queue");
	r = -1;
	if (distinct) {
		ioc_source_detach(m, (unsigned long)ids[3]);
		r = ioc_source_attach(m, &good);
	}
	tap_ok(distinct && r == ids[3],
	       "after one DETACH, the next attach gets the freed id (%d)", r);
	if (r >= 0)
		ids[3] = r;
	for (i = 0; i < LFQ_SOURCES_MAX; i++)
		if (ids[i] >= 0)
			ioc_source_detach(m, (unsigned long)ids[i]);

	/*
	 * The largest SYNTH: LFQ_SYNTH_PRODUCERS_MAX producers numbered
	 * threads first, then hardirq, then softirq timers.
	 */
	h = open_fd(m);
	if (!h)
		exit(1);
	drain_count(h, NULL);
	s = synth(LFQ_SYNTH_PRODUCERS_MAX - 2, 1, 1, 1, 100 * 1000);
	r = ioc_source_attach(m, &s);
	memset(seen, 0, sizeof(seen));
	total = 0;
	for (i = 0; i < 500 && total < LFQ_SYNTH_PRODUCERS_MAX; i++) {
		while ((got = lfq_peek(h, 64, &span)) > 0) {
			for (j = 0; j < got; j++) {
				const struct lfq_event_synth *e = (const void *)
					((const unsigned char *)span +
					 (size_t)j * 128);

				if (e->hdr.type == LFQ_EVENT_SYNTH &&
				    e->context <= 3 &&
				    e->producer < LFQ_SYNTH_PRODUCERS_MAX &&
				    e->seq == 0)
					seen[e->context][e->producer]++;
				total++;
			}
			lfq_release(h, (uint32_t)got);
		}
		drained_or_exit(got);
		msleep(10);
	}
	numbering_ok = r >= 0 && total == LFQ_SYNTH_PRODUCERS_MAX;
	for (j = 0; j < LFQ_SYNTH_PRODUCERS_MAX; j++) {
		uint32_t c = j < LFQ_SYNTH_PRODUCERS_MAX - 2 ?
			     LFQ_CONTEXT_THREAD :
			     j == LFQ_SYNTH_PRODUCERS_MAX - 2 ?
			     LFQ_CONTEXT_HARDIRQ : LFQ_CONTEXT_SOFTIRQ;

		if (seen[c][j] != 1)
			numbering_ok = 0;
	}
	if (!tap_ok(numbering_ok,
		    "SYNTH with %d threads + 1 hardirq + 1 softirq timer (MAX): one record each, producers 0..%d threads, %d hardirq, %d softirq",
		    LFQ_SYNTH_PRODUCERS_MAX - 2, LFQ_SYNTH_PRODUCERS_MAX - 3,
		    LFQ_SYNTH_PRODUCERS_MAX - 2, LFQ_SYNTH_PRODUCERS_MAX - 1))
		tap_diag("  id %d, %d records", r, total);
	if (r >= 0)
		ioc_source_detach(m, (unsigned long)r);
	lfq_close(h);

	close(pfd[0]);
	close(pfd[1]);
	close(m);
	close(sp);
	close(m16);
	close(m72);
	close(m80);
	close(tgt);
	close(tgt2);
	close(tgt_sp);
	close(tgt32);
	close(unbound);
	close(unbound2);
}

int main(void)
{
	tap_plan(90);
	test_errnos();
	return tap_done();
}
