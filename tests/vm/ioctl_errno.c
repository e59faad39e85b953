// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_errno.c - the /dev/lfq ioctl rules every command shares, and the
 * commands on one queue (CREATE, INFO, WAIT, WAKE, STATS), fed bad input
 * and checked against the exact errno the kernel returns. The shared
 * rules are kmod/dev/lfq_ioctl.c's dispatch table, applied in a fixed
 * order (its top comment), then each handler's own checks
 * (kmod/dev/lfq_ioc_queue.c, kmod/core/lfq_queue.c, lfq_layout.h):
 *
 *   order: unknown cmd -> ENOTTY, before anything else; CREATE/OPEN on a
 *	bound file -> EBUSY and any other queue command on an unbound one
 *	-> EBADFD, before the capability and the argument are looked at;
 *	SOURCE_ATTACH without CAP_PERFMON -> EPERM, before the argument;
 *	the argument struct (EFAULT/EINVAL/E2BIG) before the file's role
 *	(CLAIM on a non-producer -> EPERM); the role before the handler's
 *	own checks
 *   unbound file: INFO/WAIT/WAKE/STATS -> EBADFD, poll -> POLLERR only
 *   unknown cmd: another nr, magic, or direction/size bits -> ENOTTY
 *   CREATE: size < VER0 -> EINVAL; size > PAGE_SIZE -> E2BIG; unknown
 *	non-zero tail -> E2BIG; zero tail -> accepted; bad pointer ->
 *	EFAULT; flags/__reserved/type/geometry -> EINVAL
 *   INFO/STATS (output, INFO with the file's role): size < VER0 ->
 *	EINVAL; larger size -> only the known bytes written, ->size = known
 *	size; unwritable -> EFAULT
 *   WAIT: bad flags, min_count 0 or > slot_count, __reserved -> EINVAL
 *   WAKE: 0, unknown bits, > U32_MAX -> EINVAL
 *
 * The name commands (CREATE with a name, OPEN, UNLINK, LIST) are
 * ioctl_errno_names.c's. Raw ioctls only (tests/lib/errno_ioctl.h): this
 * is the kernel ABI, not liblfq's. Runs in the test VM with lfq.ko
 * loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errno_ioctl.h"
#include "lfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define UNPRIV_UID 65534	/* nobody: no capabilities */

/*
 * @cmd with @arg on @fd from a child that dropped root (and with it
 * CAP_PERFMON and CAP_SYS_ADMIN): the errno, or -1 if the child failed.
 */
static int io_unprivileged(int fd, unsigned long cmd, void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) ||
		    setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
		    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
			_exit(255);
		_exit(io(fd, cmd, arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 255)
		return -1;
	return WEXITSTATUS(status);
}

/* The dispatcher's fixed order: each step beats the ones after it. */
static void test_order(void)
{
	struct lfq_create c = geo(64, 1024);
	struct lfq_claim cl = { .size = sizeof(cl) };
	int unbound = open_lfq(), bound = open_lfq(), cons = open_lfq();

	c.type = LFQ_TYPE_MPSC;
	expect(io(bound, LFQ_IOC_CREATE, &c), 0, "CREATE MPSC 64x1024");
	c.role = LFQ_ROLE_CONSUMER;
	expect(io(cons, LFQ_IOC_CREATE, &c), 0,
	       "CREATE MPSC 64x1024, consumer role only");

	/* Binding before the argument and the capability. */
	expect(io(unbound, LFQ_IOC_WAIT, NULL), EBADFD,
	       "WAIT(NULL) on an unbound fd (binding before the argument)");
	expect(io(unbound, LFQ_IOC_SOURCE_ATTACH, NULL), EBADFD,
	       "SOURCE_ATTACH(NULL) on an unbound fd");
	expect(io_unprivileged(unbound, LFQ_IOC_SOURCE_ATTACH, NULL), EBADFD,
	       "SOURCE_ATTACH(NULL) on an unbound fd, unprivileged (binding before the capability)");
	/* The capability before the argument. */
	expect(io_unprivileged(bound, LFQ_IOC_SOURCE_ATTACH, NULL), EPERM,
	       "SOURCE_ATTACH(NULL) unprivileged (capability before the argument)");
	expect(io(bound, LFQ_IOC_SOURCE_ATTACH, NULL), EFAULT,
	       "SOURCE_ATTACH(NULL) as root");
	/* The argument before the role, the role before the handler. */
	expect(io(cons, LFQ_IOC_CLAIM, NULL), EFAULT,
	       "CLAIM(NULL) on a consumer-only file (argument before the role)");
	cl.size = LFQ_CLAIM_SIZE_VER0 - 1;
	expect(io(cons, LFQ_IOC_CLAIM, &cl), EINVAL,
	       "CLAIM size VER0-1 on a consumer-only file");
	cl.size = sizeof(cl);
	expect(io(cons, LFQ_IOC_CLAIM, &cl), EPERM,
	       "CLAIM on a consumer-only file");
	cl.__reserved = 1;
	expect(io(cons, LFQ_IOC_CLAIM, &cl), EPERM,
	       "CLAIM __reserved 1 on a consumer-only file (role before the handler)");
	expect(io(bound, LFQ_IOC_CLAIM, &cl), EINVAL,
	       "CLAIM __reserved 1 on a producer file (the handler's check)");
	close(cons);
	close(bound);
	close(unbound);
}

static void test_unbound(void)
{
	int fd = open_lfq();
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_wait w = { .size = sizeof(w), .flags = LFQ_WAIT_DATA,
			      .min_count = 1 };
	struct lfq_stats st = { .size = sizeof(st) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

	expect(io(fd, LFQ_IOC_INFO, &info), EBADFD, "INFO on an unbound fd");
	expect(io(fd, LFQ_IOC_WAIT, &w), EBADFD, "WAIT on an unbound fd");
	expect(io_val(fd, LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER), EBADFD,
	       "WAKE on an unbound fd");
	expect(io(fd, LFQ_IOC_STATS, &st), EBADFD, "STATS on an unbound fd");
	expect(io(fd, LFQ_IOC_SNAPSHOT, NULL), EBADFD,
	       "SNAPSHOT on an unbound fd");
	/* Command validity is checked before binding. */
	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0x0e), NULL), ENOTTY,
	       "unknown cmd on an unbound fd");
	/* Bad pointers on an unbound fd: the binding check comes first. */
	expect(io(fd, LFQ_IOC_INFO, NULL), EBADFD,
	       "INFO(NULL) on an unbound fd");
	if (!tap_ok(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLERR,
		    "poll on an unbound fd reports POLLERR only"))
		tap_diag("  revents 0x%x errno %d", pfd.revents, errno);
	close(fd);
}

static void test_create(void)
{
	unsigned char big[2 * PG] __attribute__((aligned(8)));
	struct lfq_create c;
	unsigned char *g;
	int fd;

	/* Geometry: every rule in lfq_geometry_check(). */
	c = geo(0, 1024);
	expect(try_create(&c), EINVAL, "CREATE slot_size 0");
	c = geo(7, 1024);
	expect(try_create(&c), EINVAL, "CREATE slot_size 7");
	c = geo(12, 1024);
	expect(try_create(&c), EINVAL, "CREATE slot_size 12 (not a multiple of 8)");
	c = geo(65536 + 8, 64);
	expect(try_create(&c), EINVAL, "CREATE slot_size 65544 (> 65536)");
	c = geo(131072, 32);
	expect(try_create(&c), EINVAL, "CREATE slot_size 131072");
	c = geo(4096, 0);
	expect(try_create(&c), EINVAL, "CREATE slot_count 0");
	c = geo(4096, 1);
	expect(try_create(&c), EINVAL, "CREATE slot_count 1");
	c = geo(4096, 3);
	expect(try_create(&c), EINVAL, "CREATE slot_count 3");
	c = geo(64, 1000);
	expect(try_create(&c), EINVAL, "CREATE slot_count 1000 (not a power of 2)");
	c = geo(8, 1u << 25);
	expect(try_create(&c), EINVAL, "CREATE slot_count 2^25 (> 2^24)");
	c = geo(8, 0x80000000u);
	expect(try_create(&c), EINVAL, "CREATE slot_count 2^31");
	c = geo(8, 2);
	expect(try_create(&c), EINVAL, "CREATE 8x2 (16 bytes, not a page multiple)");
	c = geo(8, 256);
	expect(try_create(&c), EINVAL, "CREATE 8x256 (2 KiB, not a page multiple)");
	c = geo(72, 64);
	expect(try_create(&c), EINVAL, "CREATE 72x64 (4608 bytes, not a page multiple)");
	c = geo(65536, 8192);
	expect(try_create(&c), EINVAL, "CREATE 65536x8192 (512 MiB > 256 MiB)");
	c = geo(32768, 16384);
	expect(try_create(&c), EINVAL, "CREATE 32768x16384 (512 MiB > 256 MiB)");
	c = geo(65536, 1u << 24);
	expect(try_create(&c), EINVAL, "CREATE 65536x2^24 (2^40 bytes, no u32 wrap)");
	c = geo(64, 1024);
	c.type = 0;
	expect(try_create(&c), EINVAL, "CREATE type 0");
	c.type = 4;
	expect(try_create(&c), EINVAL, "CREATE type 4");
	c = geo(64, 1024);
	c.flags = 2;
	expect(try_create(&c), EINVAL, "CREATE flags 0x2 (unknown)");
	c.flags = 0x80000000u;
	expect(try_create(&c), EINVAL, "CREATE flags 0x80000000");
	c = geo(64, 1024);
	c.__reserved = 1;
	expect(try_create(&c), EINVAL, "CREATE __reserved 1");

	/* Boundaries that must be accepted. */
	c = geo(8, 512);
	expect(try_create(&c), 0, "CREATE 8x512 (smallest slot, one page)");
	c = geo(65536, 2);
	expect(try_create(&c), 0, "CREATE 65536x2 (largest slot, fewest slots)");
	c = geo(16, 1u << 24);
	expect(try_create(&c), 0, "CREATE 16x2^24 (most slots, exactly 256 MiB)");
	c = geo(64, 1024);
	c.flags = LFQ_CREATE_BLOCK;
	expect(try_create(&c), 0, "CREATE flags LFQ_CREATE_BLOCK");

	/* MPMC record queues: fixed, not in overwrite mode. */
	c = geo(1, 8192);
	c.type = LFQ_TYPE_MPMC;
	c.flags = LFQ_CREATE_RECORDS;
	expect(try_create(&c), 0, "CREATE MPMC records, 8 KiB");
	c.flags = LFQ_CREATE_RECORDS | LFQ_CREATE_BLOCK;
	expect(try_create(&c), 0, "CREATE MPMC records, blocking");
	c.flags = LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE;
	expect(try_create(&c), EINVAL, "CREATE MPMC records in overwrite mode");
	c = geo(1, 8192);
	c.type = LFQ_TYPE_MPMC;
	c.flags = LFQ_CREATE_RECORDS;
	c.slot_size = 8;
	expect(try_create(&c), EINVAL, "CREATE MPMC records, slot_size 8");

	/* Struct size handling (copy_struct_from_user semantics). */
	c = geo(64, 1024);
	c.size = 0;
	expect(try_create(&c), EINVAL, "CREATE size 0");
	c.size = LFQ_CREATE_SIZE_VER0 - 1;
	expect(try_create(&c), EINVAL, "CREATE size VER0-1");
	c.size = 4;
	expect(try_create(&c), EINVAL, "CREATE size 4");

	memset(big, 0, sizeof(big));
	c = geo(64, 1024);
	c.size = 128;
	memcpy(big, &c, sizeof(c));
	big[127] = 1;
	expect(try_create((void *)big), E2BIG,
	       "CREATE size 128 with a non-zero unknown byte");
	big[127] = 0;
	big[sizeof(c)] = 0x80;
	expect(try_create((void *)big), E2BIG,
	       "CREATE size 128 with the first unknown byte non-zero");
	big[sizeof(c)] = 0;
	expect(try_create((void *)big), 0, "CREATE size 128 with a zero tail");
	c.size = LFQ_CREATE_SIZE_VER0;
	memcpy(big, &c, sizeof(c));
	big[LFQ_CREATE_SIZE_VER0] = 'x';	/* past a VER0 size: unread */
	expect(try_create((void *)big), 0,
	       "CREATE size VER0 ignores the bytes past it (anonymous)");
	memset(big, 0, sizeof(big));
	c.size = PG;
	memcpy(big, &c, sizeof(c));
	expect(try_create((void *)big), 0,
	       "CREATE size PAGE_SIZE with a zero tail");
	c.size = PG + 1;
	memcpy(big, &c, sizeof(c));
	expect(try_create((void *)big), E2BIG,
	       "CREATE size PAGE_SIZE+1 (above the kernel's cap)");
	c.size = 0xffffffffu;
	memcpy(big, &c, sizeof(c));
	expect(try_create((void *)big), E2BIG, "CREATE size 0xffffffff");

	/* Bad pointers. */
	fd = open_lfq();
	expect(io(fd, LFQ_IOC_CREATE, NULL), EFAULT, "CREATE(NULL)");
	expect(io(fd, LFQ_IOC_CREATE, (void *)8), EFAULT, "CREATE((void *)8)");
	g = guard_pages();
	expect(io(fd, LFQ_IOC_CREATE, g + PG), EFAULT,
	       "CREATE with the struct in a PROT_NONE page");
	c = geo(64, 1024);
	c.size = sizeof(c) + 8;
	memcpy(g + PG - sizeof(c), &c, sizeof(c));
	expect(io(fd, LFQ_IOC_CREATE, g + PG - sizeof(c)), EFAULT,
	       "CREATE whose unknown tail lies in a PROT_NONE page");
	c = geo(64, 1024);
	memcpy(g + PG - 8, &c, 8);
	expect(io(fd, LFQ_IOC_CREATE, g + PG - 8), EFAULT,
	       "CREATE whose known fields cross into a PROT_NONE page");
	/* Failed CREATEs left the file unbound. */
	c = geo(64, 1024);
	expect(io(fd, LFQ_IOC_CREATE, &c), 0,
	       "CREATE after failed attempts binds the file");
	expect(io(fd, LFQ_IOC_CREATE, &c), EBUSY, "CREATE twice");
	expect(io(fd, LFQ_IOC_CREATE, NULL), EBUSY,
	       "CREATE(NULL) on a bound fd (bound is checked first)");
	c.slot_size = 7;
	expect(io(fd, LFQ_IOC_CREATE, &c), EBUSY,
	       "CREATE bad geometry on a bound fd");
	munmap(g, 2 * PG);
	close(fd);
}

static void test_info(int fd)
{
	unsigned char buf[256];
	struct lfq_info info;
	unsigned char *g;
	int i, ok;

	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	expect(io(fd, LFQ_IOC_INFO, &info), 0, "INFO");
	if (!tap_ok(info.size == LFQ_INFO_SIZE_VER3 && info.flags == 0 &&
		    info.type == LFQ_TYPE_SPSC && info.slot_size == 64 &&
		    info.slot_count == 1024 && info.hdr_offset == 0 &&
		    info.prod_offset == PG && info.cons_offset == 2 * PG &&
		    info.data_offset == 3 * PG && info.data_size == 65536 &&
		    info.map_size == 3 * PG + 2 * 65536 &&
		    info.commit_size == 0 && info.commit_offset == 3 * PG &&
		    info.role == LFQ_ROLE_ALL &&
		    info.wake_mode == LFQ_WAKE_ASYMMETRIC,
		    "INFO reports the geometry, layout, role (both) and the "
		    "wakeup fencing (asymmetric, the default)"))
		tap_diag("  size %u flags %u type %u slot %u x %u map %llu hdr %llu prod %llu cons %llu data %llu+%llu",
			 info.size, info.flags, info.type, info.slot_size,
			 info.slot_count, (unsigned long long)info.map_size,
			 (unsigned long long)info.hdr_offset,
			 (unsigned long long)info.prod_offset,
			 (unsigned long long)info.cons_offset,
			 (unsigned long long)info.data_offset,
			 (unsigned long long)info.data_size);

	/* A caller built before commit_offset: gets VER0's bytes only. */
	memset(buf, 0xa5, sizeof(buf));
	*(uint32_t *)buf = LFQ_INFO_SIZE_VER0;
	ok = io(fd, LFQ_IOC_INFO, buf) == 0 &&
	     *(uint32_t *)buf == LFQ_INFO_SIZE_VER3 &&
	     ((struct lfq_info *)buf)->data_size == 65536;
	for (i = LFQ_INFO_SIZE_VER0; i < (int)sizeof(buf); i++)
		ok &= buf[i] == 0xa5;
	tap_ok(ok, "INFO with a VER0-sized struct: VER0 fields, nothing past them");

	info.size = LFQ_INFO_SIZE_VER0 - 1;
	expect(io(fd, LFQ_IOC_INFO, &info), EINVAL, "INFO size VER0-1");
	info.size = 0;
	expect(io(fd, LFQ_IOC_INFO, &info), EINVAL, "INFO size 0");

	/* A bigger buffer: only the known bytes are written. */
	memset(buf, 0xa5, sizeof(buf));
	*(uint32_t *)buf = sizeof(buf);
	expect(io(fd, LFQ_IOC_INFO, buf), 0, "INFO size 256");
	ok = *(uint32_t *)buf == LFQ_INFO_SIZE_VER3;
	for (i = LFQ_INFO_SIZE_VER3; i < (int)sizeof(buf); i++)
		ok &= buf[i] == 0xa5;
	memcpy(&info, buf, sizeof(info));
	ok &= info.slot_count == 1024 && info.slot_size == 64;
	if (!tap_ok(ok, "INFO size 256: size=144 back, fields filled, tail untouched"))
		tap_diag("  size back %u", *(uint32_t *)buf);

	expect(io(fd, LFQ_IOC_INFO, NULL), EFAULT, "INFO(NULL)");
	g = guard_pages();
	*(uint32_t *)(g + PG - 8) = sizeof(info);
	expect(io(fd, LFQ_IOC_INFO, g + PG - 8), EFAULT,
	       "INFO whose output crosses into a PROT_NONE page");
	*(uint32_t *)g = sizeof(info);
	mprotect(g, PG, PROT_READ);
	expect(io(fd, LFQ_IOC_INFO, g), EFAULT, "INFO into a read-only page");
	munmap(g, 2 * PG);
}

static void test_wait(int fd)
{
	unsigned char big[64] __attribute__((aligned(8)));
	struct lfq_wait w;
	unsigned char *g;

#define W(f, m) (struct lfq_wait){ .size = sizeof(w), .flags = (f), \
				   .min_count = (m), .timeout_ns = 0 }
	w = W(0, 1);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT flags 0");
	w = W(LFQ_WAIT_DATA | LFQ_WAIT_SPACE, 1);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT flags DATA|SPACE");
	w = W(1u << 2, 1);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT flags 0x4");
	w = W(LFQ_WAIT_DATA | (1u << 31), 1);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT flags DATA|0x80000000");
	w = W(LFQ_WAIT_DATA, 0);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT min_count 0");
	w = W(LFQ_WAIT_SPACE, 1025);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT min_count slot_count+1");
	w = W(LFQ_WAIT_DATA, 0xffffffffu);
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT min_count 0xffffffff");
	w = W(LFQ_WAIT_DATA, 1);
	w.__reserved = 1;
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT __reserved 1");
	w = W(LFQ_WAIT_DATA, 1);
	w.size = LFQ_WAIT_SIZE_VER0 - 1;
	expect(io(fd, LFQ_IOC_WAIT, &w), EINVAL, "WAIT size VER0-1");

	/* Valid waits that only check (timeout 0) on an empty ring. */
	w = W(LFQ_WAIT_SPACE, 1024);
	w.available = 12345;
	expect(io(fd, LFQ_IOC_WAIT, &w), 0,
	       "WAIT SPACE min_count slot_count on an empty ring");
	if (!tap_ok(w.available == 1024, "WAIT reports 1024 free"))
		tap_diag("  available %llu", (unsigned long long)w.available);
	w = W(LFQ_WAIT_DATA, 1);
	w.available = 12345;
	expect(io(fd, LFQ_IOC_WAIT, &w), EAGAIN,
	       "WAIT DATA timeout 0 on an empty ring");
	if (!tap_ok(w.available == 0, "WAIT EAGAIN reports 0 available"))
		tap_diag("  available %llu", (unsigned long long)w.available);

	memset(big, 0, sizeof(big));
	w = W(LFQ_WAIT_DATA, 1);
	w.size = sizeof(big);
	memcpy(big, &w, sizeof(w));
	big[40] = 1;
	expect(io(fd, LFQ_IOC_WAIT, big), E2BIG,
	       "WAIT size 64 with a non-zero unknown byte");
	big[40] = 0;
	expect(io(fd, LFQ_IOC_WAIT, big), EAGAIN,
	       "WAIT size 64 with a zero tail is accepted");

	expect(io(fd, LFQ_IOC_WAIT, NULL), EFAULT, "WAIT(NULL)");
	g = guard_pages();
	w = W(LFQ_WAIT_DATA, 1);
	memcpy(g, &w, sizeof(w));
	mprotect(g, PG, PROT_READ);
	expect(io(fd, LFQ_IOC_WAIT, g), EFAULT,
	       "WAIT whose available field is read-only");
	munmap(g, 2 * PG);
#undef W
}

static void test_wake(int fd)
{
	expect(io_val(fd, LFQ_IOC_WAKE, 0), EINVAL, "WAKE 0");
	expect(io_val(fd, LFQ_IOC_WAKE, 4), EINVAL, "WAKE 0x4");
	expect(io_val(fd, LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER | 8), EINVAL,
	       "WAKE CONSUMER|0x8");
	expect(io_val(fd, LFQ_IOC_WAKE, 0x80000000ul), EINVAL,
	       "WAKE 0x80000000");
	expect(io_val(fd, LFQ_IOC_WAKE, (1ul << 32) | LFQ_WAKE_CONSUMER),
	       EINVAL, "WAKE (1<<32)|CONSUMER (> U32_MAX)");
	expect(io_val(fd, LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER), 0, "WAKE CONSUMER");
	expect(io_val(fd, LFQ_IOC_WAKE, LFQ_WAKE_PRODUCER), 0, "WAKE PRODUCER");
	expect(io_val(fd, LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER | LFQ_WAKE_PRODUCER),
	       0, "WAKE CONSUMER|PRODUCER");
}

static void test_stats(int fd)
{
	unsigned char buf[256] __attribute__((aligned(8)));
	struct lfq_stats st;
	int i, ok;

	st = (struct lfq_stats){ .size = sizeof(st) };
	expect(io(fd, LFQ_IOC_STATS, &st), 0, "STATS");
	/* test_wake() made exactly three successful WAKE calls. */
	if (!tap_ok(st.size == LFQ_STATS_SIZE_VER6 && st.wake_calls == 3 &&
		    st.produced == 0 && st.consumed == 0 && st.wakeups == 0 &&
		    st.dropped == 0,
		    "STATS: size 152, 3 wake_calls, nothing produced or dropped"))
		tap_diag("  size %u wake_calls %llu wakeups %llu produced %llu consumed %llu",
			 st.size, (unsigned long long)st.wake_calls,
			 (unsigned long long)st.wakeups,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);

	memset(buf, 0xa5, sizeof(buf));
	*(uint32_t *)buf = sizeof(buf);
	expect(io(fd, LFQ_IOC_STATS, buf), 0, "STATS size 256");
	memcpy(&st, buf, sizeof(st));
	ok = st.size == LFQ_STATS_SIZE_VER6 && st.__reserved == 0 &&
	     st.wake_calls == 3 && st.produced == 0;
	for (i = LFQ_STATS_SIZE_VER6; i < (int)sizeof(buf); i++)
		ok &= buf[i] == 0xa5;
	if (!tap_ok(ok, "STATS size 256: size=152 back, known fields filled, tail untouched"))
		tap_diag("  size %u wake_calls %llu", st.size,
			 (unsigned long long)st.wake_calls);

	st = (struct lfq_stats){ .size = LFQ_STATS_SIZE_VER0 - 1 };
	expect(io(fd, LFQ_IOC_STATS, &st), EINVAL, "STATS size VER0-1");
	expect(io(fd, LFQ_IOC_STATS, NULL), EFAULT, "STATS(NULL)");
}

static void test_unknown(int fd)
{
	struct lfq_create c = geo(64, 1024);

	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0x00), NULL), ENOTTY, "cmd nr 0x00");
	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0x0e), NULL), ENOTTY, "cmd nr 0x0e");
	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0xff), NULL), ENOTTY, "cmd nr 0xff");
	expect(io(fd, _IOWR(LFQ_IOC_MAGIC, 0x08, struct lfq_open), NULL),
	       ENOTTY, "_IOWR(OPEN)");
	expect(io(fd, _IOWR(LFQ_IOC_MAGIC, 0x0a, struct lfq_list), NULL),
	       ENOTTY, "_IOWR(LIST)");
	expect(io(fd, _IO(LFQ_IOC_MAGIC + 1, 0x02), NULL), ENOTTY,
	       "INFO's nr with another magic");
	expect(io(fd, _IOWR(LFQ_IOC_MAGIC, 0x02, struct lfq_info), NULL),
	       ENOTTY, "_IOWR(INFO) (direction/size bits differ)");
	expect(io(fd, _IOW(LFQ_IOC_MAGIC, 0x01, struct lfq_create), &c),
	       ENOTTY, "_IOW(CREATE)");
}

int main(void)
{
	struct lfq_create c = geo(64, 1024);
	int fd;

	tap_plan(118);
	test_unbound();
	test_order();
	test_create();

	fd = open_lfq();
	if (io(fd, LFQ_IOC_CREATE, &c)) {
		tap_diag("CREATE 64x1024: %s", strerror(errno));
		return 1;
	}
	test_info(fd);
	test_wait(fd);
	test_wake(fd);
	test_stats(fd);
	test_unknown(fd);
	close(fd);
	return tap_done();
}
