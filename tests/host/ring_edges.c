// SPDX-License-Identifier: MIT
/*
 * ring_edges.c - unit cases for every edge of the SPSC ring as liblfq runs
 * it on process memory: geometry limits, empty, full with all N slots
 * usable, wrap, batches spanning the wrap, clamped commits and releases,
 * a hostile peer's indices, message sizes, and the checks of opening by fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

/* lfq_open() by fd, with @role (which must be 0 by fd). */
static int open_by_fd(int fd, uint32_t role, struct lfq **out)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = fd, .role = role);

	return lfq_open(&o, out);
}

static struct lfq *mk(uint32_t slot_size, uint32_t slot_count)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC,
		 .slot_size = slot_size, .slot_count = slot_count,
		 .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q = NULL;

	return lfq_create(&o, &q) ? NULL : q;
}

static int try_geometry(uint32_t type, uint32_t size, uint32_t count,
			uint32_t flags)
{
	LFQ_OPTS(lfq_create_opts, o, .type = type, .slot_size = size,
		 .slot_count = count, .flags = flags,
		 .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q = NULL;
	int err = lfq_create(&o, &q);

	lfq_close(q);
	return err;
}

static void test_geometry(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	tap_ok(try_geometry(LFQ_TYPE_SPSC, 8, pg / 8, 0) == 0,
	       "smallest slot (8 B) accepted");
	tap_ok(try_geometry(LFQ_TYPE_SPSC, 65536, 2, 0) == 0,
	       "largest slot (64 KiB) with the smallest count (2) accepted");
	tap_ok(try_geometry(LFQ_TYPE_SPSC, 0, 4096, 0) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 4, 4096, 0) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 12, 4096, 0) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 65544, 2, 0) == -EINVAL,
	       "slot sizes 0, 4, 12 and 65544 rejected with EINVAL");
	tap_ok(try_geometry(LFQ_TYPE_SPSC, 4096, 1, 0) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 4096, 3, 0) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 8, 1u << 25, 0) == -EINVAL,
	       "slot counts 1, 3 and 2^25 rejected with EINVAL");
	tap_ok(try_geometry(LFQ_TYPE_SPSC, 64, 16, 0) == -EINVAL,
	       "slot area not a whole number of pages rejected");
	tap_ok(try_geometry(LFQ_TYPE_SPSC, 65536, 8192, 0) == -EINVAL,
	       "slot area over 256 MiB rejected");
	tap_ok(try_geometry(0, 64, 64, 0) == -EINVAL &&
	       try_geometry(99, 64, 64, 0) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 64, 64, 2) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 64, 64, 0x80000000u) == -EINVAL &&
	       try_geometry(LFQ_TYPE_SPSC, 64, 64, LFQ_CREATE_BLOCK) == 0,
	       "unknown type and unknown flags rejected, LFQ_CREATE_BLOCK taken");
}

static void test_empty_full(void)
{
	struct lfq *q = mk(64, 64);
	const void *peeked;
	void *span;
	uint32_t i, n = 0;
	uint64_t v;
	int ok = 1;

	tap_ok(q && lfq_slot_size(q) == 64 && lfq_slot_count(q) == 64,
	       "queue created with its geometry");
	tap_ok(lfq_peek(q, 1, &peeked) == -EAGAIN &&
	       lfq_pop(q, &v, sizeof(v)) == -EAGAIN,
	       "empty ring: peek and pop give EAGAIN");
	for (i = 0; i < 64; i++) {
		v = i;
		if (lfq_push(q, &v, sizeof(v)) == 0)
			n++;
	}
	tap_ok(n == 64, "all N=64 slots usable (pushed %u)", n);
	v = 64;
	tap_ok(lfq_push(q, &v, sizeof(v)) == -EAGAIN &&
	       lfq_reserve(q, 1, &span) == -EAGAIN,
	       "full ring: push and reserve give EAGAIN");
	tap_ok(lfq_wait_space(q, 1, 0) == -EAGAIN &&
	       lfq_wait_data(q, 64, 0) == 0,
	       "zero-timeout waits report full and readable");
	for (i = 0; i < 64; i++) {
		if (lfq_pop(q, &v, sizeof(v)) || v != i)
			ok = 0;
	}
	tap_ok(ok && lfq_pop(q, &v, sizeof(v)) == -EAGAIN,
	       "FIFO order out of a full ring, then empty again");
	lfq_close(q);
}

static void test_wrap_batches(void)
{
	struct lfq *q = mk(8, 512);
	uint64_t next_w = 0, next_r = 0;
	uint32_t round, n, i;
	int ok = 1, spanned = 0, got;

	/* Odd batch sizes make every batch boundary land somewhere new. */
	for (round = 0; round < 20000 && ok; round++) {
		uint32_t want = 1 + round % 37;
		const void *peeked;
		const uint64_t *r;
		uint64_t *w;
		void *span;

		/* Full or empty (-EAGAIN) may happen; another error may not. */
		got = lfq_reserve(q, want, &span);
		ok &= got > 0 || got == -EAGAIN;
		n = got > 0 ? (uint32_t)got : 0;
		w = span;
		for (i = 0; i < n; i++)
			w[i] = next_w++;
		if (n && (next_w - n) % 512 + n > 512)
			spanned = 1;
		lfq_commit(q, n);
		want = 1 + (round * 7) % 41;
		got = lfq_peek(q, want, &peeked);
		ok &= got > 0 || got == -EAGAIN;
		n = got > 0 ? (uint32_t)got : 0;
		r = peeked;
		for (i = 0; i < n; i++)
			if (r[i] != next_r++)
				ok = 0;
		lfq_release(q, n);
	}
	tap_ok(ok && spanned, "20000 batches (1..41) across the wrap, in order, "
	       "contiguous (%llu written)", (unsigned long long)next_w);
	lfq_close(q);
}

static void test_span_is_contiguous(void)
{
	struct lfq *q = mk(4096, 4);
	unsigned char *w, buf[4096];
	const unsigned char *r;
	const void *peeked;
	void *span;
	int i, got;

	/* Move head and tail to slot 3, then write slots 3,0,1 as one span. */
	for (i = 0; i < 3; i++) {
		memset(buf, 0x10 + i, sizeof(buf));
		lfq_push(q, buf, sizeof(buf));
		lfq_pop(q, buf, sizeof(buf));
	}
	got = lfq_reserve(q, 3, &span);
	w = span;
	if (!tap_ok(got == 3, "a 3-slot reservation starting at the last slot "
		    "(%d)", got)) {
		tap_ok(0, "bytes written past the end: no reservation");
		lfq_close(q);
		return;
	}
	memset(w, 0xa1, 4096);
	memset(w + 4096, 0xb2, 4096);
	memset(w + 8192, 0xc3, 4096);
	lfq_commit(q, 3);
	lfq_pop(q, buf, sizeof(buf));
	i = buf[0] == 0xa1 && buf[4095] == 0xa1;
	lfq_pop(q, buf, sizeof(buf));
	i &= buf[0] == 0xb2 && buf[4095] == 0xb2;
	got = lfq_peek(q, 1, &peeked);
	r = peeked;
	i &= got == 1 && r[0] == 0xc3;
	lfq_release(q, 1);
	tap_ok(i, "bytes written past the end land at the ring's start "
	       "(slot area mapped twice)");
	lfq_close(q);
}

static void test_clamps(void)
{
	struct lfq *q = mk(64, 64);
	const void *peeked;
	void *span;
	uint64_t v = 7;
	struct lfq_stats st;
	int got;

	got = lfq_reserve(q, 4, &span);
	lfq_commit(q, 100);
	lfq_get_stats(q, &st);
	tap_ok(got == 4 && st.produced == 4,
	       "commit of more than reserved publishes only the reservation");
	lfq_commit(q, 5);
	lfq_get_stats(q, &st);
	tap_ok(st.produced == 4, "commit without a reservation publishes nothing");
	got = lfq_peek(q, 2, &peeked);
	lfq_release(q, 50);
	lfq_get_stats(q, &st);
	tap_ok(got == 2 && st.consumed == 2,
	       "release of more than peeked frees only what was peeked");
	tap_ok(lfq_push(q, &v, 65) == -EMSGSIZE &&
	       lfq_pop(q, &v, 65) == -EMSGSIZE,
	       "messages larger than a slot rejected with EMSGSIZE");
	tap_ok(lfq_wait_data(q, 0, 0) == -EINVAL &&
	       lfq_wait_data(q, 65, 0) == -EINVAL,
	       "wait with min_count 0 or > slot_count rejected");
	tap_ok(lfq_reserve(q, 0, &span) == -EINVAL &&
	       lfq_peek(q, 0, &peeked) == -EINVAL,
	       "reserve and peek of 0 slots rejected with EINVAL");
	lfq_close(q);
}

/*
 * A hostile peer sharing the memfd writes garbage indices; our side must
 * clamp, never index outside the ring, and recover when sanity returns.
 */
static void test_hostile_indices(void)
{
	struct lfq *q = mk(64, 64);
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *m;
	struct lfq_cons_ctl *cons;
	struct lfq_prod_ctl *prod;
	const unsigned char *r;
	unsigned char *lo, *hi;
	const void *peeked;
	void *span;
	uint64_t v = 0;
	int got;

	m = mmap(NULL, 3 * pg + 64 * 64, PROT_READ | PROT_WRITE, MAP_SHARED,
		 lfq_fd(q), 0);
	if (!tap_ok(m != MAP_FAILED, "hostile peer maps the memfd"))
		return;
	prod = (struct lfq_prod_ctl *)(m + pg);
	cons = (struct lfq_cons_ctl *)(m + 2 * pg);

	/* Our own view of the ring's slot area, to bound spans. */
	lfq_push(q, &v, sizeof(v));
	lfq_peek(q, 1, &peeked);
	lo = (unsigned char *)peeked;
	hi = lo + 2 * 64 * 64;
	lfq_release(q, 1);

	__atomic_store_n(&cons->tail, (uint64_t)1 << 63, __ATOMIC_RELEASE);
	tap_ok(lfq_reserve(q, 64, &span) == -EAGAIN,
	       "tail far ahead of head reads as a full ring");
	__atomic_store_n(&cons->tail, 6, __ATOMIC_RELEASE);
	tap_ok(lfq_reserve(q, 64, &span) == -EAGAIN,
	       "tail slightly ahead of head reads as full");

	__atomic_store_n(&prod->head, 0xdeadbeefcafeull, __ATOMIC_RELEASE);
	got = lfq_peek(q, 1000, &peeked);
	r = peeked;
	tap_ok(got > 0 && got <= 64 && (unsigned char *)r >= lo &&
	       (unsigned char *)r + (size_t)got * 64 <= hi,
	       "head far ahead: at most N slots, inside the ring (got %d)", got);
	lfq_release(q, 0);

	/* Restore a consistent state: both at 1. */
	__atomic_store_n(&prod->head, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&cons->tail, 1, __ATOMIC_RELEASE);
	lfq_close(q);
	munmap(m, 3 * pg + 64 * 64);
}

static void test_attach_checks(void)
{
	struct lfq *q = mk(64, 64), *q2 = NULL;
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t v = 42, out = 0;
	int fd, bad;

	tap_ok(open_by_fd(lfq_fd(q), 0, &q2) == 0 &&
	       lfq_fd(q2) != lfq_fd(q) && !lfq_is_kernel(q2) &&
	       lfq_type(q2) == LFQ_TYPE_SPSC && lfq_role(q2) == LFQ_ROLE_ALL &&
	       lfq_slot_size(q2) == 64 && lfq_slot_count(q2) == 64 &&
	       lfq_push(q, &v, sizeof(v)) == 0 &&
	       lfq_pop(q2, &out, sizeof(out)) == 0 && out == 42,
	       "second handle on the same memfd (its own fd, both roles, the "
	       "same geometry) sees the first's messages");
	lfq_close(q2);
	q2 = NULL;

	fd = memfd_create("not-lfq", MFD_ALLOW_SEALING);
	bad = ftruncate(fd, 3 * pg + 4096);
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	tap_ok(!bad && open_by_fd(fd, 0, &q2) == -EPROTO && !q2,
	       "memfd without an lfq header rejected with EPROTO");
	close(fd);

	fd = memfd_create("unsealed", MFD_ALLOW_SEALING);
	bad = ftruncate(fd, 3 * pg + 4096);
	tap_ok(!bad && open_by_fd(fd, 0, &q2) == -EINVAL && !q2,
	       "memfd without size seals rejected with EINVAL");
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	tap_ok(open_by_fd(lfq_fd(q), LFQ_ROLE_CONSUMER, &q2) == -EINVAL &&
	       fd >= 0 && open_by_fd(fd, 0, &q2) == -ENOTTY && !q2,
	       "by fd: a role is rejected (EINVAL); a character device not "
	       "/dev/lfq is not taken for one (ENOTTY)");
	close(fd);
	lfq_close(q);
}

int main(void)
{
	tap_plan(30);
	test_geometry();
	test_empty_full();
	test_wrap_batches();
	test_span_is_contiguous();
	test_clamps();
	test_hostile_indices();
	test_attach_checks();
	return tap_done();
}
