// SPDX-License-Identifier: MIT
/*
 * ring_edges.c - unit cases for every edge of the SPSC ring as liblfq runs
 * it on process memory: geometry limits, empty, full with all N slots
 * usable, wrap, batches spanning the wrap, clamped commits and releases,
 * a hostile peer's indices, message sizes, and memfd attach checks.
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

static struct lfq *mk(uint32_t slot_size, uint32_t slot_count)
{
	struct lfq_params p = { LFQ_TYPE_SPSC, slot_size, slot_count, 0 };
	struct lfq *q = NULL;

	return lfq_mem_create(&p, &q) ? NULL : q;
}

static int try_geometry(uint32_t type, uint32_t size, uint32_t count,
			uint32_t flags)
{
	struct lfq_params p = { type, size, count, flags };
	struct lfq *q = NULL;
	int err = lfq_mem_create(&p, &q);

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
	uint32_t got = 99, i, n = 0;
	uint64_t v;
	int ok = 1;

	tap_ok(q && lfq_slot_size(q) == 64 && lfq_slot_count(q) == 64,
	       "queue created with its geometry");
	tap_ok(!lfq_peek(q, 1, &got) && got == 0 &&
	       lfq_pop(q, &v, sizeof(v)) == -EAGAIN,
	       "empty ring: peek gives NULL/0, pop gives EAGAIN");
	for (i = 0; i < 64; i++) {
		v = i;
		if (lfq_push(q, &v, sizeof(v)) == 0)
			n++;
	}
	tap_ok(n == 64, "all N=64 slots usable (pushed %u)", n);
	v = 64;
	tap_ok(lfq_push(q, &v, sizeof(v)) == -EAGAIN &&
	       !lfq_reserve(q, 1, &got) && got == 0,
	       "full ring: push EAGAIN, reserve NULL/0");
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
	uint32_t round, got, i;
	int ok = 1, spanned = 0;

	/* Odd batch sizes make every batch boundary land somewhere new. */
	for (round = 0; round < 20000 && ok; round++) {
		uint32_t want = 1 + round % 37;
		uint64_t *w = lfq_reserve(q, want, &got);

		for (i = 0; w && i < got; i++)
			w[i] = next_w++;
		if (w && (next_w - got) % 512 + got > 512)
			spanned = 1;
		lfq_commit(q, got);
		want = 1 + (round * 7) % 41;
		const uint64_t *r = lfq_peek(q, want, &got);

		for (i = 0; r && i < got; i++)
			if (r[i] != next_r++)
				ok = 0;
		lfq_release(q, got);
	}
	tap_ok(ok && spanned, "20000 batches (1..41) across the wrap, in order, "
	       "contiguous (%llu written)", (unsigned long long)next_w);
	lfq_close(q);
}

static void test_span_is_contiguous(void)
{
	struct lfq *q = mk(4096, 4);
	uint32_t got;
	unsigned char *w, buf[4096];
	const unsigned char *r;
	int i;

	/* Move head and tail to slot 3, then write slots 3,0,1 as one span. */
	for (i = 0; i < 3; i++) {
		memset(buf, 0x10 + i, sizeof(buf));
		lfq_push(q, buf, sizeof(buf));
		lfq_pop(q, buf, sizeof(buf));
	}
	w = lfq_reserve(q, 3, &got);
	tap_ok(w && got == 3, "a 3-slot reservation starting at the last slot");
	if (!w)
		return;
	memset(w, 0xa1, 4096);
	memset(w + 4096, 0xb2, 4096);
	memset(w + 8192, 0xc3, 4096);
	lfq_commit(q, 3);
	lfq_pop(q, buf, sizeof(buf));
	i = buf[0] == 0xa1 && buf[4095] == 0xa1;
	lfq_pop(q, buf, sizeof(buf));
	i &= buf[0] == 0xb2 && buf[4095] == 0xb2;
	r = lfq_peek(q, 1, &got);
	i &= r && r[0] == 0xc3;
	lfq_release(q, got);
	tap_ok(i, "bytes written past the end land at the ring's start "
	       "(slot area mapped twice)");
	lfq_close(q);
}

static void test_clamps(void)
{
	struct lfq *q = mk(64, 64);
	uint32_t got;
	uint64_t v = 7;
	struct lfq_stats st;

	lfq_reserve(q, 4, &got);
	lfq_commit(q, 100);
	lfq_get_stats(q, &st);
	tap_ok(got == 4 && st.produced == 4,
	       "commit of more than reserved publishes only the reservation");
	lfq_commit(q, 5);
	lfq_get_stats(q, &st);
	tap_ok(st.produced == 4, "commit without a reservation publishes nothing");
	lfq_peek(q, 2, &got);
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
	uint32_t got = 0;
	unsigned char *w;
	const unsigned char *r;
	unsigned char *lo, *hi;
	uint64_t v = 0;

	m = mmap(NULL, 3 * pg + 64 * 64, PROT_READ | PROT_WRITE, MAP_SHARED,
		 lfq_fd(q), 0);
	if (!tap_ok(m != MAP_FAILED, "hostile peer maps the memfd"))
		return;
	prod = (struct lfq_prod_ctl *)(m + pg);
	cons = (struct lfq_cons_ctl *)(m + 2 * pg);

	/* Our own view of the ring's slot area, to bound spans. */
	lfq_push(q, &v, sizeof(v));
	r = lfq_peek(q, 1, &got);
	lo = (unsigned char *)r;
	hi = lo + 2 * 64 * 64;
	lfq_release(q, 1);

	__atomic_store_n(&cons->tail, (uint64_t)1 << 63, __ATOMIC_RELEASE);
	w = lfq_reserve(q, 64, &got);
	tap_ok(!w && got == 0,
	       "tail far ahead of head reads as a full ring");
	__atomic_store_n(&cons->tail, 6, __ATOMIC_RELEASE);
	w = lfq_reserve(q, 64, &got);
	tap_ok(!w && got == 0, "tail slightly ahead of head reads as full");

	__atomic_store_n(&prod->head, 0xdeadbeefcafeull, __ATOMIC_RELEASE);
	r = lfq_peek(q, 1000, &got);
	tap_ok(r && got <= 64 && (unsigned char *)r >= lo &&
	       (unsigned char *)r + (size_t)got * 64 <= hi,
	       "head far ahead: at most N slots, inside the ring (got %u)", got);
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

	tap_ok(lfq_mem_attach(lfq_fd(q), &q2) == 0 &&
	       lfq_push(q, &v, sizeof(v)) == 0 &&
	       lfq_pop(q2, &out, sizeof(out)) == 0 && out == 42,
	       "second handle on the same memfd sees the first's messages");
	lfq_close(q2);
	q2 = NULL;

	fd = memfd_create("not-lfq", MFD_ALLOW_SEALING);
	bad = ftruncate(fd, 3 * pg + 4096);
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	tap_ok(!bad && lfq_mem_attach(fd, &q2) == -EPROTO && !q2,
	       "memfd without an lfq header rejected with EPROTO");
	close(fd);

	fd = memfd_create("unsealed", MFD_ALLOW_SEALING);
	bad = ftruncate(fd, 3 * pg + 4096);
	tap_ok(!bad && lfq_mem_attach(fd, &q2) == -EINVAL,
	       "memfd without size seals rejected with EINVAL");
	close(fd);
	tap_ok(lfq_attach_fd(lfq_fd(q), &q2) != 0,
	       "a memfd is not accepted as a /dev/lfq fd");
	lfq_close(q);
}

int main(void)
{
	tap_plan(29);
	test_geometry();
	test_empty_full();
	test_wrap_batches();
	test_span_is_contiguous();
	test_clamps();
	test_hostile_indices();
	test_attach_checks();
	return tap_done();
}
