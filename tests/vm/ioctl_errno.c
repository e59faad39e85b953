// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_errno.c - every /dev/lfq ioctl fed bad input, checked against the
 * exact errno kmod/lfq_ioctl.c (and lfq_queue.c/lfq_layout.h) returns:
 *
 *   unbound file: INFO/WAIT/WAKE/STATS -> EBADFD, unknown cmd -> ENOTTY
 *   CREATE: bound -> EBUSY (checked before the argument is read);
 *	size < VER0 -> EINVAL; size > PAGE_SIZE -> E2BIG; unknown non-zero
 *	tail -> E2BIG; zero tail -> accepted; bad pointer -> EFAULT;
 *	flags/__reserved/type/geometry -> EINVAL
 *   INFO/STATS (output, INFO with the file's role): size < VER0 -> EINVAL; larger size -> only the
 *	known bytes written, ->size = known size; unwritable -> EFAULT
 *   WAIT: bad flags, min_count 0 or > slot_count, __reserved -> EINVAL
 *   WAKE: 0, unknown bits, > U32_MAX -> EINVAL
 *   CREATE with a name (lfq_names.c): no NUL in the array -> ENAMETOOLONG;
 *	empty, leading '.', a character outside [A-Za-z0-9._-], non-zero
 *	bytes after the NUL, mode bits outside 0777, a mode on an anonymous
 *	queue, unknown role bits -> EINVAL; name taken -> EEXIST
 *   OPEN: bound -> EBUSY first; sizes and pointers as CREATE; role 0 or
 *	unknown, flags, __reserved -> EINVAL; name as above; unknown name ->
 *	ENOENT; a taken role -> EBUSY
 *   UNLINK: any file; sizes and pointers as CREATE; flags -> EINVAL; name
 *	as above; unknown -> ENOENT
 *   LIST: any file; size, flags, __reserved -> EINVAL; entry_size below
 *	VER0 or not a multiple of 8 -> EINVAL, above PAGE_SIZE -> E2BIG;
 *	entries or the struct unwritable -> EFAULT; bigger elements get
 *	their tails zeroed; count < total writes count
 *
 * Runs in the test VM with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq.h"
#include "tap.h"
#include "test_util.h"

#define PG 4096

/* ioctl() returning 0 or the errno it failed with. */
static int io(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static int io_val(int fd, unsigned long cmd, unsigned long arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* A CREATE on a fresh unbound file; returns the errno (0: it bound). */
static int try_create(const struct lfq_create *c)
{
	int fd = open_lfq();
	int err = io(fd, LFQ_IOC_CREATE, (void *)c);

	close(fd);
	return err;
}

static struct lfq_create geo(uint32_t slot_size, uint32_t slot_count)
{
	return (struct lfq_create){
		.size = sizeof(struct lfq_create),
		.type = LFQ_TYPE_SPSC,
		.slot_size = slot_size,
		.slot_count = slot_count,
	};
}

/* Two pages: the first read-write, the second PROT_NONE. */
static unsigned char *guard_pages(void)
{
	unsigned char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + PG, PG, PROT_NONE)) {
		tap_diag("guard pages: %s", strerror(errno));
		exit(1);
	}
	memset(p, 0, PG);
	return p;
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
	/* Command validity is checked before binding. */
	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0x0c), NULL), ENOTTY,
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
	c.type = 3;
	expect(try_create(&c), EINVAL, "CREATE type 3");
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
	if (!tap_ok(info.size == LFQ_INFO_SIZE_VER2 && info.flags == 0 &&
		    info.type == LFQ_TYPE_SPSC && info.slot_size == 64 &&
		    info.slot_count == 1024 && info.hdr_offset == 0 &&
		    info.prod_offset == PG && info.cons_offset == 2 * PG &&
		    info.data_offset == 3 * PG && info.data_size == 65536 &&
		    info.map_size == 3 * PG + 2 * 65536 &&
		    info.commit_size == 0 && info.commit_offset == 3 * PG &&
		    info.role == LFQ_ROLE_ALL && info.__reserved == 0,
		    "INFO reports the geometry, layout and role (both)"))
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
	     *(uint32_t *)buf == LFQ_INFO_SIZE_VER2 &&
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
	ok = *(uint32_t *)buf == LFQ_INFO_SIZE_VER2;
	for (i = LFQ_INFO_SIZE_VER2; i < (int)sizeof(buf); i++)
		ok &= buf[i] == 0xa5;
	memcpy(&info, buf, sizeof(info));
	ok &= info.slot_count == 1024 && info.slot_size == 64;
	if (!tap_ok(ok, "INFO size 256: size=96 back, fields filled, tail untouched"))
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
	unsigned char buf[128] __attribute__((aligned(8)));
	struct lfq_stats st;
	int i, ok;

	st = (struct lfq_stats){ .size = sizeof(st) };
	expect(io(fd, LFQ_IOC_STATS, &st), 0, "STATS");
	/* test_wake() made exactly three successful WAKE calls. */
	if (!tap_ok(st.size == LFQ_STATS_SIZE_VER2 && st.wake_calls == 3 &&
		    st.produced == 0 && st.consumed == 0 && st.wakeups == 0 &&
		    st.dropped == 0,
		    "STATS: size 80, 3 wake_calls, nothing produced or dropped"))
		tap_diag("  size %u wake_calls %llu wakeups %llu produced %llu consumed %llu",
			 st.size, (unsigned long long)st.wake_calls,
			 (unsigned long long)st.wakeups,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);

	memset(buf, 0xa5, sizeof(buf));
	*(uint32_t *)buf = sizeof(buf);
	expect(io(fd, LFQ_IOC_STATS, buf), 0, "STATS size 128");
	memcpy(&st, buf, sizeof(st));
	ok = st.size == LFQ_STATS_SIZE_VER2 && st.__reserved == 0 &&
	     st.wake_calls == 3 && st.produced == 0;
	for (i = LFQ_STATS_SIZE_VER2; i < (int)sizeof(buf); i++)
		ok &= buf[i] == 0xa5;
	if (!tap_ok(ok, "STATS size 128: size=80 back, known fields filled, tail untouched"))
		tap_diag("  size %u wake_calls %llu", st.size,
			 (unsigned long long)st.wake_calls);

	st = (struct lfq_stats){ .size = LFQ_STATS_SIZE_VER0 - 1 };
	expect(io(fd, LFQ_IOC_STATS, &st), EINVAL, "STATS size VER0-1");
	expect(io(fd, LFQ_IOC_STATS, NULL), EFAULT, "STATS(NULL)");
}

/* Copy @name zero-padded into a name array, unchecked (may fill it all). */
static void set_name(char dst[LFQ_NAME_MAX], const char *name)
{
	memset(dst, 0, LFQ_NAME_MAX);
	memcpy(dst, name, strnlen(name, LFQ_NAME_MAX));
}

/* A named CREATE argument. */
static struct lfq_create geo_named(const char *name, uint32_t mode)
{
	struct lfq_create c = geo(64, 1024);

	set_name(c.name, name);
	c.mode = mode;
	return c;
}

static struct lfq_open open_arg(const char *name, uint32_t role)
{
	struct lfq_open o = { .size = sizeof(o), .role = role };

	set_name(o.name, name);
	return o;
}

static struct lfq_unlink unlink_arg(const char *name)
{
	struct lfq_unlink u = { .size = sizeof(u) };

	set_name(u.name, name);
	return u;
}

/* LFQ_IOC_UNLINK of @name on a fresh file: the errno. */
static int try_unlink(const char *name)
{
	struct lfq_unlink u = unlink_arg(name);
	int fd = open_lfq();
	int err = io(fd, LFQ_IOC_UNLINK, &u);

	close(fd);
	return err;
}

/* LFQ_IOC_OPEN on a fresh file: the errno. */
static int try_open(const struct lfq_open *o)
{
	int fd = open_lfq();
	int err = io(fd, LFQ_IOC_OPEN, (void *)o);

	close(fd);
	return err;
}

static void test_create_named(void)
{
	static const char *const bad[] = {
		"a/b", "a b", ".hidden", ".", "..", "caf\xc3\xa9", "tab\t",
		"nl\n", "x:y", "*", "a\\b", "\x7f",
	};
	char name31[32];
	struct lfq_create c;
	unsigned int i;
	int fd;

	memset(name31, 'n', 31);
	name31[31] = '\0';

	c = geo_named("", 0600);
	expect(try_create(&c), EINVAL, "CREATE anonymous with mode 0600");
	c = geo_named("t-errno", 01000);
	expect(try_create(&c), EINVAL, "CREATE named, mode 01000 (sticky)");
	c = geo_named("t-errno", 04644);
	expect(try_create(&c), EINVAL, "CREATE named, mode 04644 (setuid)");
	c = geo_named("t-errno", 0x80000000u);
	expect(try_create(&c), EINVAL, "CREATE named, mode 0x80000000");
	c = geo_named("t-errno", 0600);
	c.role = 4;
	expect(try_create(&c), EINVAL, "CREATE named, role 0x4");
	c.role = LFQ_ROLE_ALL | 0x80000000u;
	expect(try_create(&c), EINVAL, "CREATE named, role ALL|0x80000000");
	c = geo_named("", 0);
	memset(c.name, 'a', sizeof(c.name));
	expect(try_create(&c), ENAMETOOLONG,
	       "CREATE name of 32 characters (no NUL in the array)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = geo_named(bad[i], 0600);
		expect(try_create(&c), EINVAL, "CREATE name #%u with a bad character", i);
	}
	c = geo_named("", 0);
	c.name[5] = 'x';
	expect(try_create(&c), EINVAL, "CREATE empty name, non-zero byte after the NUL");
	c = geo_named("ab", 0600);
	c.name[3] = 'c';
	expect(try_create(&c), EINVAL, "CREATE name \"ab\\0c\" (junk after the NUL)");
	c = geo_named("t-errno", 0600);
	c.type = 3;
	expect(try_create(&c), EINVAL, "CREATE named, bad type");
	expect(try_unlink("t-errno"), ENOENT, "failed CREATEs left no name");

	/* Accepted: 31 characters, every allowed character, mode 0. */
	c = geo_named(name31, 0600);
	expect(try_create(&c), 0, "CREATE name of 31 characters");
	expect(try_unlink(name31), 0, "UNLINK it");
	c = geo_named("Az09._-", 0);
	expect(try_create(&c), 0, "CREATE name \"Az09._-\", mode 0");
	expect(try_unlink("Az09._-"), 0, "UNLINK it");
	c = geo_named("-lead", 0777);
	expect(try_create(&c), 0, "CREATE name \"-lead\", mode 0777");
	expect(try_unlink("-lead"), 0, "UNLINK it");

	/* Collisions: the first holder keeps the name; a bound fd is EBUSY. */
	fd = open_lfq();
	c = geo_named("t-errno", 0600);
	expect(io(fd, LFQ_IOC_CREATE, &c), 0, "CREATE t-errno");
	expect(try_create(&c), EEXIST, "CREATE t-errno again");
	c = geo_named("t-errno", 0644);
	c.type = LFQ_TYPE_MPSC;
	expect(try_create(&c), EEXIST, "CREATE t-errno again, other geometry");
	c = geo_named("t-errno2", 0600);
	expect(io(fd, LFQ_IOC_CREATE, &c), EBUSY,
	       "CREATE another name on a bound fd");
	expect(try_unlink("t-errno2"), ENOENT, "the EBUSY CREATE named nothing");
	close(fd);
	expect(try_unlink("t-errno"), 0, "UNLINK t-errno after its fd closed");
	expect(try_unlink("t-errno"), ENOENT, "UNLINK t-errno twice");
}

static void test_open_unlink(void)
{
	unsigned char big[2 * PG] __attribute__((aligned(8)));
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_create c = geo_named("t-open", 0600);

	c.role = LFQ_ROLE_PRODUCER;	/* the consumer role stays free */
	struct lfq_open o;
	struct lfq_unlink u;
	unsigned char *g;
	int owner, fd;
	uint32_t id;

	owner = open_lfq();
	expect(io(owner, LFQ_IOC_CREATE, &c), 0, "CREATE t-open");
	expect(io(owner, LFQ_IOC_INFO, &info), 0, "INFO t-open");
	id = info.id;

	fd = open_lfq();
	expect(io(fd, LFQ_IOC_OPEN, NULL), EFAULT, "OPEN(NULL)");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.size = LFQ_OPEN_SIZE_VER0 - 1;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN size VER0-1");
	o.size = 0;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN size 0");
	memset(big, 0, sizeof(big));
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.size = PG + 1;
	memcpy(big, &o, sizeof(o));
	expect(io(fd, LFQ_IOC_OPEN, big), E2BIG, "OPEN size PAGE_SIZE+1");
	o.size = 56;
	memcpy(big, &o, sizeof(o));
	big[55] = 1;
	expect(io(fd, LFQ_IOC_OPEN, big), E2BIG,
	       "OPEN size 56 with a non-zero unknown byte");
	o = open_arg("t-open", 0);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role 0");
	o.role = 4;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role 0x4");
	o.role = LFQ_ROLE_CONSUMER | 0x80000000u;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role CONSUMER|0x80000000");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.flags = 1;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN flags 1");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.__reserved = 1;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN __reserved 1");
	o = open_arg("", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN empty name");
	memset(o.name, 'a', sizeof(o.name));
	expect(io(fd, LFQ_IOC_OPEN, &o), ENAMETOOLONG, "OPEN name without a NUL");
	o = open_arg("t/open", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN name with '/'");
	o = open_arg(".t-open", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN name with a leading '.'");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.name[10] = 'z';
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN name with junk after the NUL");
	o = open_arg("t-nosuch", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), ENOENT, "OPEN unknown name");
	g = guard_pages();
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	memcpy(g + PG - 8, &o, 8);
	expect(io(fd, LFQ_IOC_OPEN, g + PG - 8), EFAULT,
	       "OPEN whose name crosses into a PROT_NONE page");
	expect(io(fd, LFQ_IOC_INFO, &info), EBADFD,
	       "failed OPENs left the file unbound");
	o = open_arg("t-open", LFQ_ROLE_PRODUCER | LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EBUSY,
	       "OPEN t-open as producer too (SPSC: the creator produces)");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), 0, "OPEN t-open as consumer");
	info.id = ~0u;
	expect(io(fd, LFQ_IOC_INFO, &info), 0, "INFO on the opened file");
	tap_ok(info.id == id && info.role == LFQ_ROLE_CONSUMER &&
	       info.size == LFQ_INFO_SIZE_VER2,
	       "OPEN bound the creator's queue (id %u) as its consumer", id);
	expect(io(fd, LFQ_IOC_OPEN, &o), EBUSY, "OPEN on a bound file");
	expect(io(fd, LFQ_IOC_OPEN, NULL), EBUSY,
	       "OPEN(NULL) on a bound file (bound is checked first)");
	c = geo(64, 1024);
	expect(io(fd, LFQ_IOC_CREATE, &c), EBUSY, "CREATE on an opened file");

	/* UNLINK works on any file, bound or not. */
	expect(io(fd, LFQ_IOC_UNLINK, NULL), EFAULT, "UNLINK(NULL)");
	u = unlink_arg("t-open");
	u.size = LFQ_UNLINK_SIZE_VER0 - 1;
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK size VER0-1");
	u = unlink_arg("t-open");
	u.flags = 1;
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK flags 1");
	u = unlink_arg("t-open");
	u.size = 48;
	memset(big, 0, sizeof(big));
	memcpy(big, &u, sizeof(u));
	big[44] = 1;
	expect(io(fd, LFQ_IOC_UNLINK, big), E2BIG,
	       "UNLINK size 48 with a non-zero unknown byte");
	u = unlink_arg("");
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK empty name");
	memset(u.name, 'a', sizeof(u.name));
	expect(io(fd, LFQ_IOC_UNLINK, &u), ENAMETOOLONG,
	       "UNLINK name without a NUL");
	u = unlink_arg("t open");
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK name with a space");
	u = unlink_arg("t-nosuch");
	expect(io(fd, LFQ_IOC_UNLINK, &u), ENOENT, "UNLINK unknown name");
	memcpy(g + PG - 8, &u, 8);
	expect(io(fd, LFQ_IOC_UNLINK, g + PG - 8), EFAULT,
	       "UNLINK whose name crosses into a PROT_NONE page");
	u = unlink_arg("t-open");
	expect(io(fd, LFQ_IOC_UNLINK, &u), 0, "UNLINK t-open on a bound fd");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	expect(try_open(&o), ENOENT, "OPEN t-open after UNLINK");
	expect(io(owner, LFQ_IOC_INFO, &info), 0,
	       "the creator's file still works after UNLINK");
	munmap(g, 2 * PG);
	close(fd);
	close(owner);
}

/* LFQ_IOC_LIST on a fresh file; the errno. */
static int try_list(struct lfq_list *l)
{
	int fd = open_lfq();
	int err = io(fd, LFQ_IOC_LIST, l);

	close(fd);
	return err;
}

static void test_list(void)
{
	unsigned char buf[3 * 160] __attribute__((aligned(8)));
	unsigned char big[64] __attribute__((aligned(8)));
	struct lfq_list_entry e[4];
	struct lfq_create c;
	struct lfq_list l;
	int fds[3], i, ok;
	unsigned char *g;

#define L(n, p) (struct lfq_list){ .size = sizeof(l), \
				   .entry_size = sizeof(e[0]), .count = (n), \
				   .entries = (uintptr_t)(p) }
	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t-list%d", i);
		c = geo_named(name, 0640);
		fds[i] = open_lfq();
		expect(io(fds[i], LFQ_IOC_CREATE, &c), 0, "CREATE %s", name);
	}

	l = L(0, NULL);
	l.total = 12345;	/* output only: ignored on input */
	expect(try_list(&l), 0, "LIST count 0, entries NULL");
	if (!tap_ok(l.total == 3 && l.count == 0 && l.size == LFQ_LIST_SIZE_VER0 &&
		    l.entry_size == LFQ_LIST_ENTRY_SIZE_VER1,
		    "LIST count 0: total 3, count 0, sizes reported"))
		tap_diag("  total %u count %u size %u entry_size %u", l.total,
			 l.count, l.size, l.entry_size);

	memset(e, 0xa5, sizeof(e));
	l = L(4, e);
	expect(try_list(&l), 0, "LIST count 4");
	ok = l.count == 3 && l.total == 3;
	for (i = 0; ok && i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t-list%d", i);
		ok = !strcmp(e[i].name, name) && e[i].mode == 0640 &&
		     e[i].uid == 0 && e[i].gid == 0 && e[i].attached == 1 &&
		     e[i].slot_size == 64 && e[i].slot_count == 1024 &&
		     e[i].type == LFQ_TYPE_SPSC && e[i].__reserved == 0 &&
		     e[i].producers == 1 && e[i].consumers == 1 &&
		     (i == 0 || e[i].id > e[i - 1].id);
	}
	ok &= e[3].id == 0xa5a5a5a5u;
	if (!tap_ok(ok, "LIST: 3 entries in id order, fields right, 4th untouched"))
		tap_diag("  count %u total %u first %.32s", l.count, l.total,
			 e[0].name);

	l = L(2, e);
	expect(try_list(&l), 0, "LIST count 2 of 3");
	tap_ok(l.count == 2 && l.total == 3, "LIST count 2: 2 written, total 3");

	/* A bigger element: the tail of each is zeroed. */
	memset(buf, 0xa5, sizeof(buf));
	l = L(3, buf);
	l.entry_size = 160;
	expect(try_list(&l), 0, "LIST entry_size 160");
	ok = l.count == 3 && l.entry_size == LFQ_LIST_ENTRY_SIZE_VER1;
	for (i = 0; i < 3; i++) {
		struct lfq_list_entry x;
		int j;

		memcpy(&x, buf + i * 160, sizeof(x));
		ok &= !strncmp(x.name, "t-list", 6) && x.orphaned == 0;
		for (j = LFQ_LIST_ENTRY_SIZE_VER1; j < 160; j++)
			ok &= buf[i * 160 + j] == 0;
	}
	tap_ok(ok, "LIST entry_size 160: stride 160, tails zeroed, entry_size 152 back");

	/* A caller that knows only VER0: 144-byte elements, nothing past. */
	memset(buf, 0xa5, sizeof(buf));
	l = L(3, buf);
	l.entry_size = LFQ_LIST_ENTRY_SIZE_VER0;
	expect(try_list(&l), 0, "LIST entry_size 144 (VER0)");
	ok = l.count == 3 && l.entry_size == LFQ_LIST_ENTRY_SIZE_VER1;
	for (i = 0; i < 3; i++)
		ok &= !strncmp((char *)buf + i * LFQ_LIST_ENTRY_SIZE_VER0,
			       "t-list", 6);
	ok &= buf[3 * LFQ_LIST_ENTRY_SIZE_VER0] == 0xa5;
	tap_ok(ok, "LIST entry_size 144: stride 144, nothing written past 3 elements");

	l = L(4, e);
	l.size = LFQ_LIST_SIZE_VER0 - 1;
	expect(try_list(&l), EINVAL, "LIST size VER0-1");
	l = L(4, e);
	l.flags = 1;
	expect(try_list(&l), EINVAL, "LIST flags 1");
	l = L(4, e);
	l.__reserved = 1;
	expect(try_list(&l), EINVAL, "LIST __reserved 1");
	l = L(4, e);
	l.entry_size = LFQ_LIST_ENTRY_SIZE_VER0 - 8;
	expect(try_list(&l), EINVAL, "LIST entry_size VER0-8");
	l.entry_size = 0;
	expect(try_list(&l), EINVAL, "LIST entry_size 0");
	l.entry_size = LFQ_LIST_ENTRY_SIZE_VER0 + 4;
	expect(try_list(&l), EINVAL, "LIST entry_size VER0+4 (not a multiple of 8)");
	l.entry_size = PG + 8;
	expect(try_list(&l), E2BIG, "LIST entry_size PAGE_SIZE+8");
	l = L(4, e);
	l.entry_size = PG;
	l.count = 0;
	expect(try_list(&l), 0, "LIST entry_size PAGE_SIZE, count 0");
	memset(big, 0, sizeof(big));
	l = L(4, e);
	l.size = sizeof(big);
	memcpy(big, &l, sizeof(l));
	big[40] = 1;
	expect(try_list((void *)big), E2BIG, "LIST size 64 with a non-zero unknown byte");
	big[40] = 0;
	expect(try_list((void *)big), 0, "LIST size 64 with a zero tail");
	expect(try_list(NULL), EFAULT, "LIST(NULL)");
	l = L(1, NULL);
	expect(try_list(&l), EFAULT, "LIST count 1, entries NULL");
	l = L(4, 8);
	expect(try_list(&l), EFAULT, "LIST entries (void *)8");
	g = guard_pages();
	l = L(3, g + PG - sizeof(e[0]));
	expect(try_list(&l), EFAULT, "LIST whose 2nd entry is in a PROT_NONE page");
	l = L(1, g);
	mprotect(g, PG, PROT_READ);
	expect(try_list(&l), EFAULT, "LIST into a read-only page");
	mprotect(g, PG, PROT_READ | PROT_WRITE);
	l = L(1, e);
	memcpy(g, &l, sizeof(l));
	mprotect(g, PG, PROT_READ);
	expect(try_list((struct lfq_list *)g), EFAULT,
	       "LIST whose struct is read-only (count/total go back)");
	munmap(g, 2 * PG);
#undef L

	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t-list%d", i);
		expect(try_unlink(name), 0, "UNLINK %s", name);
		close(fds[i]);
	}
	l = (struct lfq_list){ .size = sizeof(l), .entry_size = sizeof(e[0]) };
	expect(try_list(&l), 0, "LIST after the unlinks");
	tap_ok(l.total == 0, "LIST total 0 again");
}

static void test_unknown(int fd)
{
	struct lfq_create c = geo(64, 1024);

	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0x00), NULL), ENOTTY, "cmd nr 0x00");
	expect(io(fd, _IO(LFQ_IOC_MAGIC, 0x0c), NULL), ENOTTY, "cmd nr 0x0c");
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

	tap_plan(210);
	test_unbound();
	test_create();
	test_create_named();
	test_open_unlink();
	test_list();

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
