// SPDX-License-Identifier: MIT
/*
 * suite_icount.c - suite 3: instructions per message (one push plus one
 * pop), counted by valgrind's callgrind, so the figure does not depend on
 * the machine or its load. For each peer and batch size lfq-bench re-runs
 * itself under callgrind as "--icount-child PEER,SLOT,BATCH,ROUNDS"; the child
 * pushes a batch and pops it back, ROUNDS times, single-threaded,
 * inside icount_loop(), the only function callgrind collects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bench_inmem.h"

static const struct peer *const icount_peers[] = {
	&peer_lfq, &peer_lfq_inline, &peer_lfq_sym, &peer_lfq_nowake,
	&peer_rte_ring,
	&peer_rte_ring_zc, &peer_ck_ring, &peer_boost,
};

#define NPEERS (sizeof(icount_peers) / sizeof(icount_peers[0]))

static uint64_t icount_rounds(void)
{
	return bench_opts.quick ? 2000 : 50000;
}

static const struct peer *peer_by_name(const char *name)
{
	for (size_t i = 0; i < NPEERS; i++)
		if (!strcmp(icount_peers[i]->name, name))
			return icount_peers[i];
	return NULL;
}

/* What callgrind counts; noinline so --toggle-collect can find it. */
__attribute__((noinline)) static int
icount_loop(const struct peer *p, void *prod, void *cons, unsigned int batch,
	    uint64_t rounds)
{
	peer_push_t push = peer_push_fn(p, batch);
	peer_pop_t pop = peer_pop_fn(p, batch);
	uint64_t tags[PEER_BATCH_MAX], seq = 0;
	int bad = 0;

	for (uint64_t r = 0; r < rounds; r++) {
		unsigned int in = push(prod, seq, batch);
		unsigned int out = pop(cons, tags, batch);

		bad |= in != batch || out != batch || tags[0] != seq;
		seq += batch;
	}
	return bad;
}

/* The child: "PEER,SLOT,BATCH,ROUNDS", run under callgrind. */
int icount_child(const char *spec)
{
	char name[32];
	unsigned int slot, batch;
	unsigned long long rounds;
	const struct peer *p;
	struct peer_queue *q;
	void *prod, *cons;
	int rc;

	if (sscanf(spec, "%31[^,],%u,%u,%llu", name, &slot, &batch, &rounds) != 4 ||
	    !(p = peer_by_name(name)) || batch > PEER_BATCH_MAX)
		return 2;
	rc = p->create(&q, slot, INMEM_SLOTS, 1, 0);
	if (rc)
		return 1;
	prod = p->producer(q, 0);
	cons = p->consumer(q);
	rc = prod && cons ? icount_loop(p, prod, cons, batch, rounds) : 1;
	free(prod);
	free(cons);
	p->destroy(q);
	return rc;
}

/* Instructions callgrind collected, from its output file. */
static double callgrind_total(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	double v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "summary:", 8) || !strncmp(line, "totals:", 7))
			v = strtod(strchr(line, ':') + 1, NULL);
	fclose(f);
	return v;
}

static double icount_run(const struct peer *p, unsigned int slot,
			 unsigned int batch)
{
	char out[64], spec[64], outarg[96], *argv[10];
	double total;
	int status;
	pid_t pid;

	snprintf(out, sizeof(out), "/tmp/lfq-bench-callgrind.%d", (int)getpid());
	snprintf(spec, sizeof(spec), "%s,%u,%u,%llu", p->name, slot, batch,
		 (unsigned long long)icount_rounds());
	snprintf(outarg, sizeof(outarg), "--callgrind-out-file=%s", out);
	argv[0] = "valgrind";
	argv[1] = "--tool=callgrind";
	argv[2] = outarg;
	argv[3] = "--toggle-collect=icount_loop";
	argv[4] = "-q";
	argv[5] = (char *)bench_opts.self;
	argv[6] = "--icount-child";
	argv[7] = spec;
	argv[8] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "lfq-bench: callgrind run for %s failed\n", spec);
		unlink(out);
		return -EIO;
	}
	total = callgrind_total(out);
	unlink(out);
	if (total <= 0)
		return -EIO;
	return total / ((double)icount_rounds() * batch);
}

int suite_icount(void)
{
	static const unsigned int slots[] = { 8, 64 }, batches[] = { 1, 32 };
	char scen[48];
	int rc = 0;

	for (size_t s = 0; s < 2; s++)
		for (size_t b = 0; b < 2; b++) {
			snprintf(scen, sizeof(scen), "%uB b%u", slots[s], batches[b]);
			for (size_t i = 0; i < NPEERS; i++) {
				double v = icount_run(icount_peers[i], slots[s],
						      batches[b]);

				if (v < 0) {
					rc = (int)v;
					continue;
				}
				bench_result("icount", scen, icount_peers[i]->name,
					     "instructions", "per msg", BENCH_LOWER,
					     v, v, v);
			}
		}
	return rc;
}
