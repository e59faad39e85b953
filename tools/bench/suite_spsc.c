// SPDX-License-Identifier: MIT
/*
 * suite_spsc.c - suite 1: in-memory SPSC between two threads on two cores.
 * Every SPSC peer streams 8- and 64-byte messages in batches of 1 and 32
 * (throughput: median of bench_opts.repeats runs, min..max as spread; the
 * peers take turns within each repeat) through the harness loop (a
 * per-message order check, a pause between retries) and through the
 * plain loop (busy spin, a sum checked after the run: the loop a user
 * comparing queues writes), then bounces one message through two queues
 * (round trip: median and p99 of bench_opts.samples).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_inmem.h"

static const struct peer *const spsc_peers[] = {
	&peer_lfq, &peer_lfq_inline, &peer_lfq_sym, &peer_lfq_nowake,
	&peer_lfq_rec, &peer_rte_ring,
	&peer_rte_ring_zc, &peer_ck_ring, &peer_boost, &peer_wfcqueue, &peer_mutex,
};

#define NPEERS (sizeof(spsc_peers) / sizeof(spsc_peers[0]))

static const uint32_t slot_sizes[] = { 8, 64 };
static const unsigned int batches[] = { 1, 32 };

int suite_spsc(void)
{
	uint64_t n = bench_opts.samples;
	double *v = calloc(n, sizeof(double));
	char scen[48];
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (size_t s = 0; s < 2; s++) {
		for (size_t b = 0; b < 2; b++) {
			int err;

			snprintf(scen, sizeof(scen), "%uB b%u", slot_sizes[s],
				 batches[b]);
			err = inmem_record_peers("spsc", scen, spsc_peers, NPEERS,
						 slot_sizes[s], batches[b], 1, 0,
						 INMEM_HARNESS | INMEM_PLAIN);
			if (err)
				rc = err;
		}
		snprintf(scen, sizeof(scen), "%uB", slot_sizes[s]);
		for (size_t i = 0; i < NPEERS; i++) {
			const struct peer *p = spsc_peers[i];
			int err = inmem_pingpong(p, slot_sizes[s], v, n);

			if (err) {
				rc = err;
				continue;
			}
			bench_result_rtt("spsc", scen, p->name, v, n, 1, "ns");
		}
	}
	free(v);
	return rc;
}
