// SPDX-License-Identifier: MIT
/*
 * suite_mpsc.c - suite 2: in-memory MPSC, 1, 2 and 4 producer threads and
 * one consumer, 8-byte messages in batches of 1 and 32. The consumer runs
 * on the first CPU and producers on the others, wrapping: on a 2-CPU
 * machine every count past one producer oversubscribes, so those figures
 * measure contention under preemption, not parallel speed-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_inmem.h"

static const struct peer *const mpsc_peers[] = {
	&peer_lfq, &peer_rte_ring, &peer_ck_ring, &peer_wfcqueue, &peer_mutex,
};

#define NPEERS (sizeof(mpsc_peers) / sizeof(mpsc_peers[0]))

static const unsigned int producer_counts[] = { 1, 2, 4 };
static const unsigned int batches[] = { 1, 32 };

int suite_mpsc(void)
{
	unsigned int reps = bench_opts.repeats;
	double *v = calloc(reps, sizeof(double));
	char scen[48];
	int rc = 0;

	if (!v)
		return -ENOMEM;
	for (size_t b = 0; b < 2; b++) {
		for (size_t c = 0; c < 3; c++) {
			unsigned int np = producer_counts[c];

			snprintf(scen, sizeof(scen), "8B b%u %up", batches[b], np);
			for (size_t i = 0; i < NPEERS; i++) {
				const struct peer *p = mpsc_peers[i];
				unsigned int r;

				for (r = 0; r < reps; r++) {
					/* 1 producer: still the MP variant */
					double mps = inmem_throughput(p, 8, batches[b],
								      np, 1,
								      bench_opts.msgs);
					if (mps < 0) {
						rc = (int)mps;
						break;
					}
					v[r] = mps / 1e6;
				}
				if (r == reps)
					bench_result_samples("mpsc", scen, p->name,
							     "throughput", "Mmsg/s",
							     BENCH_HIGHER, v, reps);
			}
		}
	}
	free(v);
	return rc;
}
