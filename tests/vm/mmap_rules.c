// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_rules.c - what mmap() of a /dev/lfq file allows, checked against
 * kmod/lfq_mmap.c:
 *
 *   unbound file -> EBADFD; MAP_PRIVATE -> EINVAL; a window that starts at
 *   or past the end of the layout, or runs past it -> EINVAL; a writable
 *   mapping that starts at the header page -> EPERM; such a read-only
 *   mapping cannot be made writable later (VM_MAYWRITE cleared: mprotect
 *   -> EACCES); any other page-aligned window of the layout may be mapped;
 *   the slot area shows the same pages twice; no mremap() growth.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define PG 4096ul

/* mmap() returning 0 (and the address in *out) or the errno. */
static int map(int fd, size_t len, int prot, int flags, uint64_t off,
	       void **out)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)off);

	if (p == MAP_FAILED)
		return errno;
	if (out)
		*out = p;
	else
		munmap(p, len);
	return 0;
}

/* Run fn(arg) in a child; return its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void write_byte(void *p)
{
	*(volatile unsigned char *)p = 1;
}

int main(void)
{
	struct lfq_create c = { .size = sizeof(c), .type = LFQ_TYPE_SPSC,
				.slot_size = 64, .slot_count = 1024 };
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_stats st = { .size = sizeof(st) };
	const struct lfq_ring_hdr *hdr;
	unsigned char *p, *d, *d2;
	uint64_t msz, dsz, doff;
	void *v;
	int fd, status, err;

	tap_plan(35);

	fd = open_lfq();
	expect(map(fd, PG, PROT_READ, MAP_SHARED, 0, NULL), EBADFD,
	       "mmap of an unbound fd");
	expect(map(fd, PG, PROT_READ, MAP_PRIVATE, 0, NULL), EBADFD,
	       "MAP_PRIVATE of an unbound fd (binding checked first)");
	if (ioctl(fd, LFQ_IOC_CREATE, &c) || ioctl(fd, LFQ_IOC_INFO, &info)) {
		tap_diag("CREATE/INFO: %s", strerror(errno));
		return 1;
	}
	msz = info.map_size;
	dsz = info.data_size;
	doff = info.data_offset;

	/* The header page. */
	err = map(fd, PG, PROT_READ, MAP_SHARED, info.hdr_offset, &v);
	expect(err, 0, "header page PROT_READ MAP_SHARED");
	if (!err) {
		hdr = v;
		if (!tap_ok(hdr->magic == LFQ_RING_MAGIC &&
			    hdr->layout_version == LFQ_RING_LAYOUT_ASYM &&
			    hdr->wake_mode == LFQ_WAKE_ASYMMETRIC &&
			    hdr->wake_mode == info.wake_mode &&
			    hdr->type == LFQ_TYPE_SPSC && hdr->flags == 0 &&
			    hdr->slot_size == 64 && hdr->slot_count == 1024 &&
			    hdr->prod_offset == info.prod_offset &&
			    hdr->cons_offset == info.cons_offset &&
			    hdr->data_offset == doff && hdr->data_size == dsz,
			    "header page content matches INFO (asymmetric: layout 3)"))
			tap_diag("  magic 0x%x version %u slot %u x %u",
				 hdr->magic, hdr->layout_version,
				 hdr->slot_size, hdr->slot_count);
		expect(mprotect(v, PG, PROT_READ | PROT_WRITE) ? errno : 0,
		       EACCES, "mprotect(PROT_WRITE) on the header mapping");
		status = in_child(write_byte, v);
		if (!tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
			    "a store to the header mapping faults (SIGSEGV)"))
			tap_diag("  wait status 0x%x", status);
		munmap(v, PG);
	} else {
		tap_ok(0, "header page content matches INFO");
		tap_ok(0, "mprotect(PROT_WRITE) on the header mapping");
		tap_ok(0, "a store to the header mapping faults (SIGSEGV)");
	}
	expect(map(fd, PG, PROT_READ | PROT_WRITE, MAP_SHARED, 0, NULL), EPERM,
	       "header page PROT_READ|PROT_WRITE");
	expect(map(fd, PG, PROT_WRITE, MAP_SHARED, 0, NULL), EPERM,
	       "header page PROT_WRITE");
	expect(map(fd, msz, PROT_READ | PROT_WRITE, MAP_SHARED, 0, NULL), EPERM,
	       "whole layout from offset 0, writable");
	err = map(fd, msz, PROT_READ, MAP_SHARED, 0, &v);
	expect(err, 0, "whole layout from offset 0, read-only");
	if (!err) {
		/* The whole VMA that holds the header stays read-only. */
		expect(mprotect((char *)v + PG, PG, PROT_READ | PROT_WRITE) ?
		       errno : 0, EACCES,
		       "mprotect(PROT_WRITE) on the prod page of that mapping");
		munmap(v, msz);
	} else {
		tap_ok(0, "mprotect(PROT_WRITE) on the prod page of that mapping");
	}

	/* Private mappings. */
	expect(map(fd, PG, PROT_READ, MAP_PRIVATE, 0, NULL), EINVAL,
	       "MAP_PRIVATE of the header page");
	expect(map(fd, dsz, PROT_READ | PROT_WRITE, MAP_PRIVATE, doff, NULL),
	       EINVAL, "MAP_PRIVATE of the slot area");
	expect(map(fd, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, info.prod_offset,
		   NULL), EINVAL, "MAP_PRIVATE of the prod page");

	/* Windows and offsets. */
	expect(map(fd, PG, PROT_READ, MAP_SHARED, msz, NULL), EINVAL,
	       "offset == map_size");
	expect(map(fd, PG, PROT_READ, MAP_SHARED, msz + 64 * PG, NULL), EINVAL,
	       "offset past map_size");
	expect(map(fd, PG, PROT_READ, MAP_SHARED, 1ull << 40, NULL), EINVAL,
	       "offset 2^40");
	expect(map(fd, 2 * dsz + PG, PROT_READ | PROT_WRITE, MAP_SHARED, doff,
		   NULL), EINVAL, "slot area window one page too long");
	expect(map(fd, msz, PROT_READ | PROT_WRITE, MAP_SHARED,
		   info.prod_offset, NULL), EINVAL,
	       "map_size bytes from the prod page (runs past the end)");
	expect(map(fd, msz + PG, PROT_READ, MAP_SHARED, 0, NULL), EINVAL,
	       "map_size + one page from offset 0");
	expect(map(fd, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   info.prod_offset + 64, NULL), EINVAL,
	       "offset not page aligned");
	expect(map(fd, PG, PROT_READ | PROT_WRITE, MAP_SHARED, msz - PG, NULL),
	       0, "last page of the layout");
	expect(map(fd, msz - PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   info.prod_offset, NULL), 0,
	       "everything after the header, writable");

	/* The prod page is the kernel's: STATS reads head from it. */
	err = map(fd, PG, PROT_READ | PROT_WRITE, MAP_SHARED, info.prod_offset,
		  &v);
	expect(err, 0, "prod page PROT_READ|PROT_WRITE");
	if (!err) {
		((struct lfq_prod_ctl *)v)->head = 42;
		st.size = sizeof(st);
		ioctl(fd, LFQ_IOC_STATS, &st);
		if (!tap_ok(st.produced == 42,
			    "a head stored in the prod mapping is what STATS reports"))
			tap_diag("  produced %llu", (unsigned long long)st.produced);
		((struct lfq_prod_ctl *)v)->head = 0;
		munmap(v, PG);
	} else {
		tap_ok(0, "a head stored in the prod mapping is what STATS reports");
	}

	/* The slot area twice: both halves are the same pages. */
	err = map(fd, 2 * dsz, PROT_READ | PROT_WRITE, MAP_SHARED, doff, &v);
	expect(err, 0, "slot area, both copies");
	if (!err) {
		uint64_t i, bad = 0;

		d = v;
		for (i = 0; i < dsz; i += 8)
			*(uint64_t *)(d + i) = i * 0x9e3779b97f4a7c15ull;
		for (i = 0; i < dsz; i += 8)
			bad += *(uint64_t *)(d + dsz + i) !=
			       i * 0x9e3779b97f4a7c15ull;
		d[2 * dsz - 1] = 0x5a;
		if (!tap_ok(!bad && d[dsz - 1] == 0x5a,
			    "second copy of the slot area aliases the first"))
			tap_diag("  %llu mismatching words",
				 (unsigned long long)bad);
		err = map(fd, dsz, PROT_READ, MAP_SHARED, doff + dsz, &v);
		d2 = v;
		if (!tap_ok(!err && !memcmp(d2, d, dsz),
			    "a separate mapping of the second copy shows the same bytes"))
			tap_diag("  mmap errno %d", err);
		if (!err)
			munmap(d2, dsz);
		p = mremap(d, 2 * dsz, 2 * dsz + PG, MREMAP_MAYMOVE);
		if (!tap_ok(p == MAP_FAILED && errno == EFAULT,
			    "mremap() cannot grow a queue mapping (EFAULT)"))
			tap_diag("  mremap %s errno %d",
				 p == MAP_FAILED ? "failed" : "succeeded", errno);
		if (p != MAP_FAILED)
			d = p;
		/* Zapped pages fault back in: they are the queue's own. */
		d[0] = 0x77;
		err = madvise(d, 2 * dsz, MADV_DONTNEED) ? errno : 0;
		if (!tap_ok(!err && d[0] == 0x77 && d[dsz] == 0x77 &&
			    d[dsz - 1] == 0x5a,
			    "after madvise(MADV_DONTNEED) the slot area reads back intact"))
			tap_diag("  madvise errno %d", err);
		memset(d, 0, dsz);
		munmap(d, 2 * dsz);
	} else {
		tap_ok(0, "after madvise(MADV_DONTNEED) the slot area reads back intact");
		tap_ok(0, "second copy of the slot area aliases the first");
		tap_ok(0, "a separate mapping of the second copy shows the same bytes");
		tap_ok(0, "mremap() cannot grow a queue mapping (EFAULT)");
	}

	/* Back doors to the header: /proc/self/mem (FOLL_FORCE) and
	 * remap_file_pages() of a writable window onto page 0. */
	err = map(fd, PG, PROT_READ, MAP_SHARED, 0, &v);
	if (!err) {
		uint32_t bad_magic = ~LFQ_RING_MAGIC;
		int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		ssize_t n = pwrite(mfd, &bad_magic, sizeof(bad_magic),
				   (off_t)(uintptr_t)v);

		if (!tap_ok(mfd >= 0 && n < 0 &&
			    ((const struct lfq_ring_hdr *)v)->magic ==
			    LFQ_RING_MAGIC,
			    "a /proc/self/mem write into the header mapping fails"))
			tap_diag("  open %d pwrite %zd errno %d", mfd, n, errno);
		close(mfd);
		munmap(v, PG);
	} else {
		tap_ok(0, "a /proc/self/mem write into the header mapping fails");
	}
	err = map(fd, PG, PROT_READ | PROT_WRITE, MAP_SHARED, info.prod_offset,
		  &v);
	if (!err) {
		int r = remap_file_pages(v, PG, 0, 0, 0);

		expect(r ? errno : 0, EPERM,
		       "remap_file_pages() of a writable prod window onto the header page");
		munmap(v, PG);
		err = map(fd, PG, PROT_READ, MAP_SHARED, 0, &v);
		if (!tap_ok(!err && ((const struct lfq_ring_hdr *)v)->magic ==
			    LFQ_RING_MAGIC, "the header is intact afterwards"))
			tap_diag("  mmap errno %d", err);
		if (!err)
			munmap(v, PG);
	} else {
		tap_ok(0, "remap_file_pages() of a writable prod window onto the header page");
		tap_ok(0, "the header is intact afterwards");
	}

	/* A second file's queue is another queue. */
	{
		int fd2 = open_lfq();

		c.slot_count = 128;
		ioctl(fd2, LFQ_IOC_CREATE, &c);
		expect(map(fd2, msz, PROT_READ, MAP_SHARED, 0, NULL), EINVAL,
		       "first queue's map_size on a smaller queue");
		close(fd2);
	}
	close(fd);

	/* A new queue's pages are zeroed (the ones above were scribbled on
	 * and are free now): everything after the header reads as 0. */
	{
		int fd3 = open_lfq();
		uint64_t i, nonzero = 0;

		c.slot_size = 4096;
		c.slot_count = 1024;
		info.size = sizeof(info);
		if (ioctl(fd3, LFQ_IOC_CREATE, &c) ||
		    ioctl(fd3, LFQ_IOC_INFO, &info))
			err = errno;
		else
			err = map(fd3, info.map_size - PG, PROT_READ, MAP_SHARED,
				  info.prod_offset, &v);
		if (!err) {
			for (i = 0; i < (info.map_size - PG) / 8; i++)
				nonzero += ((const uint64_t *)v)[i] != 0;
			munmap(v, info.map_size - PG);
		}
		if (!tap_ok(!err && !nonzero,
			    "a new 4 MiB queue's control pages and slot area are all zero"))
			tap_diag("  errno %d, %llu non-zero words", err,
				 (unsigned long long)nonzero);
		close(fd3);
	}
	return tap_done();
}
