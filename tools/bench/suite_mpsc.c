// SPDX-License-Identifier: MIT
/*
 * suite_mpsc.c - suite 2: in-memory MPSC, 1, 2 and 4 producer threads and
 * one consumer, 8-byte messages in batches of 1 and 32. The consumer runs
 * on the first CPU and producers on the others, wrapping: on a 2-CPU
 * machine every count past one producer oversubscribes, so those figures
 * measure contention under preemption, not parallel speed-up.
 */
#include <stdio.h>

#include "bench.h"
#include "bench_inmem.h"

static const struct peer *const mpsc_peers[] = {
	&peer_lfq, &peer_lfq_rec, &peer_rte_ring, &peer_ck_ring, &peer_wfcqueue,
	&peer_mutex,
};

#define NPEERS (sizeof(mpsc_peers) / sizeof(mpsc_peers[0]))

static const unsigned int producer_counts[] = { 1, 2, 4 };
static const unsigned int batches[] = { 1, 32 };

int suite_mpsc(void)
{
	char scen[48];
	int rc = 0;

	for (size_t b = 0; b < 2; b++) {
		for (size_t c = 0; c < 3; c++) {
			int err;

			snprintf(scen, sizeof(scen), "8B b%u %up", batches[b],
				 producer_counts[c]);
			/* 1 producer: still each queue's MP variant */
			err = inmem_record_peers("mpsc", scen, mpsc_peers,
						 NPEERS, 8, batches[b],
						 producer_counts[c], 1,
						 INMEM_HARNESS);
			if (err)
				rc = err;
		}
	}
	return rc;
}
