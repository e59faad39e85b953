/* SPDX-License-Identifier: MIT */
/*
 * bench_inmem.h - the two measurements every in-memory peer goes through
 * (bench_inmem.c): streaming throughput with N producer threads and one
 * consumer, and a one-message ping-pong between two threads.
 */
#ifndef LFQ_BENCH_INMEM_H
#define LFQ_BENCH_INMEM_H

#include "peers.h"

#define INMEM_SLOTS	4096u	/* ring size of every peer */

/**
 * inmem_throughput() - one run: @producers threads push @msgs messages in
 * all into the @mpsc or the SPSC variant of the peer's queue, @batch at
 * a time; the consumer pops @batch at a time and checks every message's
 * tag (per-producer FIFO, no tear).
 * Return: messages per second, or a negative errno (-EPROTO: a message
 * was lost, reordered or corrupt; -ETIMEDOUT: no progress for 30 s).
 */
double inmem_throughput(const struct peer *p, uint32_t slot_size,
			unsigned int batch, unsigned int producers, int mpsc,
			uint64_t msgs);

/*
 * The loops inmem_record_peers() runs. The harness loop is
 * inmem_throughput()'s. The plain loop is what a user comparing queues
 * writes, the same for every peer: one producer thread pushes 0, 1, 2...
 * @batch at a time into the SPSC variant, spinning on a full queue; the
 * consumer spins on an empty one and sums the tags, checked after the
 * run (a lost, repeated or torn message gives -EPROTO). No pause, yield,
 * clock read or per-message check is in it.
 */
#define INMEM_HARNESS	1u
#define INMEM_PLAIN	2u

/**
 * inmem_record_peers() - bench_opts.repeats rounds in which each of
 * @peers, in turn, runs the loops @loops names (INMEM_HARNESS, then
 * INMEM_PLAIN, SPSC only) once, with @producers, @mpsc, @slot_size and
 * @batch as in inmem_throughput(), each run after a probe of the
 * machine's mode (struct bench_modes). Each peer's runs of a loop are
 * then recorded as one row, "throughput" or "plain-loop throughput", in
 * Mmsg/s (median, min..max, and the medians per mode) under @suite and
 * @scenario; with one producer also the ring's state ("full retries",
 * "empty polls", per message); and the case's probes as the row
 * "machine" / "cross-core rtt".
 * Return: 0, or the negative errno of a run that failed (its peer's row
 * for that loop is not recorded; every other row is).
 */
int inmem_record_peers(const char *suite, const char *scenario,
		       const struct peer *const *peers, size_t npeers,
		       uint32_t slot_size, unsigned int batch,
		       unsigned int producers, int mpsc, unsigned int loops);

/**
 * inmem_pingpong() - @n round trips of one message through two queues
 * between two threads on two CPUs; @rtt_ns receives each one's time.
 * Return: 0 or a negative errno.
 */
int inmem_pingpong(const struct peer *p, uint32_t slot_size, double *rtt_ns,
		   uint64_t n);

#endif /* LFQ_BENCH_INMEM_H */
