// SPDX-License-Identifier: MIT
/*
 * suite_phys.c - suite 4: what the hardware allows, measured in the same
 * run as lfq. A cache line bounced between two threads on two CPUs is the
 * floor for any cross-core round trip; memcpy bandwidth over a ring-sized
 * buffer is the ceiling for moving message bytes. lfq's own one-message
 * round trip and 64-byte batched stream are measured beside them, so the
 * "lfq advantage" column reads as the fraction of the limit lfq reaches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_inmem.h"

/* GB/s copying a buffer the size of a 4096 x 64-byte ring. */
static double memcpy_gbps(void)
{
	size_t len = (size_t)INMEM_SLOTS * 64, rounds = bench_opts.quick ? 200 : 4000;
	unsigned char *a = aligned_alloc(64, len), *b = aligned_alloc(64, len);
	uint64_t t0;

	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	memset(a, 1, len);
	memset(b, 2, len);
	t0 = bench_now_ns();
	for (size_t r = 0; r < rounds; r++) {
		memcpy(r & 1 ? a : b, r & 1 ? b : a, len);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
	}
	t0 = bench_now_ns() - t0;
	free(a);
	free(b);
	return (double)len * (double)rounds / (double)t0;
}

int suite_phys(void)
{
	unsigned int reps = bench_opts.repeats;
	uint64_t n = bench_opts.samples;
	double *v = calloc(n > reps ? n : reps, sizeof(double));
	int rc;

	if (!v)
		return -ENOMEM;
	rc = bench_line_pingpong(v, n);
	if (!rc) {
		bench_result_rtt("phys", "cross-core rtt", "cache line", v, n,
				 1, "ns");
		rc = inmem_pingpong(&peer_lfq, 8, v, n);
	}
	if (!rc) {
		bench_result_rtt("phys", "cross-core rtt", "lfq", v, n, 1, "ns");
	}
	for (unsigned int r = 0; !rc && r < reps; r++) {
		v[r] = memcpy_gbps();
		if (v[r] < 0)
			rc = (int)v[r];
	}
	if (!rc)
		bench_result_samples("phys", "bytes moved", "memcpy", "bandwidth",
				     "GB/s", BENCH_HIGHER, v, reps);
	for (unsigned int r = 0; !rc && r < reps; r++) {
		v[r] = inmem_throughput(&peer_lfq, 64, 32, 1, 0, bench_opts.msgs);
		if (v[r] < 0)
			rc = (int)v[r];
		v[r] *= 64 / 1e9;
	}
	if (!rc)
		bench_result_samples("phys", "bytes moved", "lfq", "bandwidth",
				     "GB/s", BENCH_HIGHER, v, reps);
	free(v);
	return rc;
}
