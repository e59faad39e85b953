// SPDX-License-Identifier: MIT
/*
 * bench_inmem.c - runs an in-memory peer (peers.h) through a throughput
 * stream and a ping-pong, with threads pinned one per CPU: the consumer
 * (or the pinging side) on the first CPU, producers from the second on
 * (wrapping, so more producers than CPUs oversubscribe).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bench_inmem.h"

#define TAG_PRODUCER_SHIFT	48
#define TAG_SEQ_MASK		((1ull << TAG_PRODUCER_SHIFT) - 1)
#define STALL_NS		30000000000ull
#define PRODUCERS_MAX		16
#define PROGRESS_SHIFT		10

/*
 * Waiting for the other side: pause between retries; and, only when the
 * run has more threads than CPUs, yield every 64 retries so that a thread
 * sharing its CPU with the one it waits for lets that one run. With a CPU
 * per thread a yield only costs: it is a system call, and it costs queues
 * that re-read the other side's index on every call (ck_ring, rte_ring,
 * boost) far more than lfq, which caches it (docs/PERFORMANCE.md: "the
 * two loops"; ck_ring went from 6.8 to 58 M msg/s at 8 B batch 1 when
 * the yield went).
 */
static inline void wait_other(unsigned int *spins, int oversubscribed)
{
	if (!oversubscribed || ++*spins < 64) {
		__builtin_ia32_pause();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/*
 * The queue of a throughput run and its consumer handle, the consumer
 * pinned to the first CPU: 0 or a negative errno (nothing left behind).
 */
static int consumer_setup(const struct peer *p, uint32_t slot_size,
			  unsigned int producers, int mpsc,
			  struct peer_queue **q, void **h)
{
	int rc = p->create(q, slot_size, INMEM_SLOTS, producers, mpsc);

	if (rc)
		return rc;
	*h = p->consumer(*q);
	if (!*h) {
		p->destroy(*q);
		return -ENOMEM;
	}
	bench_pin(bench_cpu(0));
	return 0;
}

struct tput_run {
	const struct peer *p;
	struct peer_queue *q;
	unsigned int batch, producers;
	uint64_t per_producer;
	int oversubscribed;	/* more threads than CPUs: wait_other() */
	_Atomic int go, ready, stop;
};

struct tput_producer {
	struct tput_run *run;
	unsigned int id;
	uint64_t full;		/* pushes that found the queue full */
	pthread_t thread;
};

static void *tput_produce(void *arg)
{
	struct tput_producer *tp = arg;
	struct tput_run *run = tp->run;
	void *h = run->p->producer(run->q, tp->id);
	peer_push_t push = peer_push_fn(run->p, run->batch);
	uint64_t seq = 0, base = (uint64_t)tp->id << TAG_PRODUCER_SHIFT;
	unsigned int spins = 0;

	bench_pin(bench_cpu(1 + (int)tp->id));
	atomic_fetch_add(&run->ready, 1);
	while (!atomic_load_explicit(&run->go, memory_order_acquire))
		cpu_relax();
	while (h && seq < run->per_producer &&
	       !atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		uint64_t left = run->per_producer - seq;
		unsigned int k = left < run->batch ? (unsigned int)left : run->batch;
		unsigned int got = push(h, base | seq, k);

		if (!got) {
			tp->full++;
			wait_other(&spins, run->oversubscribed);
		}
		seq += got;
	}
	free(h);
	return NULL;
}

/*
 * Which side waits on the other: failed pushes (the queue full) and
 * failed pops (empty) per message. A queue that re-reads the other
 * side's index on every call pays for its side's retries in cache-line
 * transfers, so a loop that keeps the ring full (a slow consumer) or
 * empty (a slow producer) ranks the queues differently: the harness's
 * checking consumer and the plain loop's summing one differ exactly so.
 */
struct retries {
	double full, empty;
};

static double tput_inner(const struct peer *p, uint32_t slot_size,
			 unsigned int batch, unsigned int producers, int mpsc,
			 uint64_t msgs, _Atomic uint64_t *progress,
			 struct retries *rt)
{
	struct tput_producer prod[PRODUCERS_MAX];
	uint64_t next[PRODUCERS_MAX] = { 0 }, tags[PEER_BATCH_MAX];
	uint64_t total, done = 0, bad = 0, t0, last, now, idle = 0;
	uint64_t reported = 0, empty = 0, full = 0;
	struct tput_run run = { .p = p, .batch = batch, .producers = producers };
	peer_pop_t pop = peer_pop_fn(p, batch);
	uint64_t expect = 0;	/* one producer: its next tag */
	unsigned int spins = 0;
	void *h;
	int rc;

	if (!producers || producers > PRODUCERS_MAX || batch > PEER_BATCH_MAX)
		return -EINVAL;
	run.per_producer = msgs / producers;
	run.oversubscribed = producers + 1 > (unsigned int)bench_opts.cpus;
	total = run.per_producer * producers;
	rc = consumer_setup(p, slot_size, producers, mpsc, &run.q, &h);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < producers; i++) {
		prod[i] = (struct tput_producer){ .run = &run, .id = i };
		pthread_create(&prod[i].thread, NULL, tput_produce, &prod[i]);
	}
	while (atomic_load(&run.ready) != (int)producers)
		cpu_relax();
	t0 = last = bench_now_ns();
	atomic_store_explicit(&run.go, 1, memory_order_release);
	while (done < total) {
		unsigned int got = pop(h, tags, batch);

		if (producers == 1) {
			/*
			 * One producer: its tags are 0, 1, 2... in order, a
			 * compare in a register each. The per-producer table
			 * below costs a load and a store per message, which
			 * slowed the peers whose consumer is their bottleneck
			 * (ck_ring, boost) more than lfq: docs/PERFORMANCE.md,
			 * "the two loops".
			 */
			for (unsigned int i = 0; i < got; i++)
				bad += tags[i] != expect++;
		} else {
			for (unsigned int i = 0; i < got; i++) {
				uint64_t id = tags[i] >> TAG_PRODUCER_SHIFT;

				if (id >= producers ||
				    (tags[i] & TAG_SEQ_MASK) != next[id])
					bad++;
				else
					next[id]++;
			}
		}
		done += got;
		/*
		 * For the parent, which reads it only to report a run it had
		 * to kill: every 2^10 messages, and whenever the queue runs
		 * empty with something new to report, so that a run killed
		 * while crawling still reports what it did. Only this thread
		 * writes the line and the parent reads it every 2 ms: it
		 * costs the loop next to nothing.
		 */
		if ((got && ((done ^ (done - got)) >> PROGRESS_SHIFT)) ||
		    (!got && !idle && done != reported)) {
			atomic_store_explicit(progress, done,
					      memory_order_relaxed);
			reported = done;
		}
		if (got) {
			idle = 0;
			continue;
		}
		empty++;
		wait_other(&spins, run.oversubscribed);
		if (++idle % 65536)
			continue;
		now = bench_now_ns();
		if (now - last > STALL_NS)
			break;
	}
	now = bench_now_ns();
	atomic_store(&run.stop, 1);
	for (unsigned int i = 0; i < producers; i++) {
		pthread_join(prod[i].thread, NULL);
		full += prod[i].full;
	}
	rt->full = (double)full / (double)(done ? done : 1);
	rt->empty = (double)empty / (double)(done ? done : 1);
	free(h);
	p->destroy(run.q);
	if (bad || done != total) {
		fprintf(stderr, "lfq-bench: %s: %llu of %llu messages, %llu bad\n",
			p->name, (unsigned long long)done,
			(unsigned long long)total, (unsigned long long)bad);
		return done != total ? -ETIMEDOUT : -EPROTO;
	}
	return (double)total * 1e9 / (double)(now - t0);
}

/*
 * The plain loop: what a user comparing queues writes, the same for every
 * peer. One producer pushes 0, 1, 2... @batch at a time and spins on a
 * full queue; the consumer spins on an empty one and sums the tags. No
 * pause, no yield, no per-message check, no clock read, no shared
 * progress counter in the loop: the sum is checked after the run (it
 * catches a lost, repeated or torn message; order is the harness loop's
 * business). SPSC only.
 */
struct plain_run {
	const struct peer *p;
	struct peer_queue *q;
	unsigned int batch;
	uint64_t msgs;
	uint64_t full;		/* pushes that found the queue full */
	_Atomic int go, ready;
};

static void *plain_produce(void *arg)
{
	struct plain_run *run = arg;
	void *h = run->p->producer(run->q, 0);
	peer_push_t push = peer_push_fn(run->p, run->batch);
	uint64_t seq = 0, n = run->msgs, full = 0;

	bench_pin(bench_cpu(1));
	atomic_fetch_add(&run->ready, 1);
	/* Pairs with plain_inner()'s release of go (after t0 is read). */
	while (!atomic_load_explicit(&run->go, memory_order_acquire))
		;
	while (h && seq < n) {
		uint64_t left = n - seq;
		unsigned int got = push(h, seq, left < run->batch ?
						(unsigned int)left : run->batch);

		/* Counted without a branch: the loop stays what it was. */
		full += !got;
		seq += got;
	}
	run->full = full;
	free(h);
	return NULL;
}

static double plain_inner(const struct peer *p, uint32_t slot_size,
			  unsigned int batch, uint64_t msgs, struct retries *rt)
{
	peer_pop_t pop = peer_pop_fn(p, batch);
	struct plain_run run = { .p = p, .batch = batch, .msgs = msgs };
	uint64_t tags[PEER_BATCH_MAX], done = 0, sum = 0, empty = 0, t0, t1;
	pthread_t t;
	void *h;
	int rc;

	if (!batch || batch > PEER_BATCH_MAX)
		return -EINVAL;
	rc = consumer_setup(p, slot_size, 1, 0, &run.q, &h);
	if (rc)
		return rc;
	pthread_create(&t, NULL, plain_produce, &run);
	while (atomic_load(&run.ready) != 1)
		;
	t0 = bench_now_ns();
	/* Pairs with plain_produce()'s acquire of go. */
	atomic_store_explicit(&run.go, 1, memory_order_release);
	while (done < msgs) {
		unsigned int got = pop(h, tags, batch);

		for (unsigned int i = 0; i < got; i++)
			sum += tags[i];
		done += got;
		empty += !got;
	}
	t1 = bench_now_ns();
	pthread_join(t, NULL);
	rt->full = (double)run.full / (double)msgs;
	rt->empty = (double)empty / (double)msgs;
	free(h);
	p->destroy(run.q);
	/* 0 + 1 + ... + (msgs - 1), and every message's words agreed. */
	if (sum != msgs * (msgs - 1) / 2) {
		fprintf(stderr, "lfq-bench: %s: plain loop: the tags' sum is %llu, not %llu\n",
			p->name, (unsigned long long)sum,
			(unsigned long long)(msgs * (msgs - 1) / 2));
		return -EPROTO;
	}
	return (double)msgs * 1e9 / (double)(t1 - t0);
}

/*
 * What a measuring child shares with its parent: the consumer's count so
 * far (read if the child has to be killed), and the result.
 */
struct tput_shared {
	_Atomic uint64_t progress;
	double result;
	struct retries retries;
};

/*
 * Each run happens in a child process the parent kills after a deadline:
 * queues whose producers wait for each other (rte_ring MP, ck_ring MPMC
 * publish in reservation order) can all but stop when a producer is
 * preempted mid-enqueue, which oversubscribed CPUs make likely, and such
 * a peer cannot be interrupted from inside. A killed run reports the rate
 * it reached (a lower bound), and says so on stderr.
 */
static double inmem_run(const struct peer *p, uint32_t slot_size,
			unsigned int batch, unsigned int producers, int mpsc,
			uint64_t msgs, int plain, struct retries *rt)
{
	struct tput_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t t0 = bench_now_ns(), limit = 10;
	double result;
	int status;
	pid_t pid;

	if (sh == MAP_FAILED)
		return -errno;
	atomic_init(&sh->progress, 0);
	sh->result = -EIO;
	pid = fork();
	if (pid < 0) {
		munmap(sh, sizeof(*sh));
		return -errno;
	}
	if (!pid) {
		sh->result = plain ? plain_inner(p, slot_size, batch, msgs,
						 &sh->retries) :
			     tput_inner(p, slot_size, batch, producers, mpsc,
					msgs, &sh->progress, &sh->retries);
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (bench_now_ns() - t0 > limit * 1000000000ull) {
			uint64_t done = atomic_load(&sh->progress);

			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "lfq-bench: %s with %u producers: killed "
				"after %llu s at %llu of %llu messages\n",
				p->name, producers, (unsigned long long)limit,
				(unsigned long long)done,
				(unsigned long long)msgs);
			sh->result = done ? (double)done * 1e9 /
					    (double)(bench_now_ns() - t0) : -ETIMEDOUT;
			break;
		}
		usleep(2000);
	}
	result = sh->result;
	if (rt)
		*rt = sh->retries;
	munmap(sh, sizeof(*sh));
	return result;
}

double inmem_throughput(const struct peer *p, uint32_t slot_size,
			unsigned int batch, unsigned int producers, int mpsc,
			uint64_t msgs)
{
	return inmem_run(p, slot_size, batch, producers, mpsc, msgs, 0, NULL);
}

/*
 * Each repeat runs every peer once, in turn, rather than each peer's
 * repeats back to back: the speed of this (virtual) machine's cache-line
 * transfers drifts by several times over minutes (its CPUs' placement on
 * the host changes), and a peer measured all in one stretch would carry
 * that stretch's speed into its ratios. Turns alone do not pair a peer's
 * runs with lfq's when the mode changes within a repeat, so the mode is
 * probed around every run (struct bench_modes), every row carries its
 * medians per mode, and the case's probes are the row "machine".
 */
int inmem_record_peers(const char *suite, const char *scenario,
		       const struct peer *const *peers, size_t npeers,
		       uint32_t slot_size, unsigned int batch,
		       unsigned int producers, int mpsc, unsigned int loops)
{
	static const char *const metric[] = {
		"throughput", "plain-loop throughput",
	};
	static const char *const full_metric[] = {
		"full retries", "plain-loop full retries",
	};
	static const char *const empty_metric[] = {
		"empty polls", "plain-loop empty polls",
	};
	unsigned int reps = bench_opts.repeats;
	double *v = calloc(npeers * 2 * reps, sizeof(*v));
	double *vf = calloc(npeers * 2 * reps, sizeof(*vf));
	double *ve = calloc(npeers * 2 * reps, sizeof(*ve));
	size_t *run = calloc(npeers * 2 * reps, sizeof(*run));
	int *err = calloc(npeers * 2, sizeof(*err)), rc = 0;
	struct bench_modes modes = { 0 };

	if (!v || !vf || !ve || !run || !err ||
	    bench_modes_init(&modes, npeers * 2 * reps)) {
		free(v);
		free(vf);
		free(ve);
		free(run);
		free(err);
		bench_modes_free(&modes);
		return -ENOMEM;
	}
	for (unsigned int r = 0; r < reps; r++) {
		for (size_t i = 0; i < npeers; i++) {
			for (int plain = 0; plain < 2; plain++) {
				size_t k = (i * 2 + plain) * reps + r;
				struct retries rt = { 0 };
				double mps;

				if (err[i * 2 + plain] ||
				    !(loops & (1u << plain)))
					continue;
				run[k] = bench_modes_next(&modes);
				mps = inmem_run(peers[i], slot_size, batch,
						producers, mpsc,
						bench_opts.msgs, plain, &rt);
				if (mps < 0)
					err[i * 2 + plain] = (int)mps;
				v[k] = mps / 1e6;
				vf[k] = rt.full;
				ve[k] = rt.empty;
			}
		}
	}
	bench_modes_done(&modes);
	for (size_t i = 0; i < npeers; i++) {
		for (int plain = 0; plain < 2; plain++) {
			size_t k = (i * 2 + plain) * reps;

			if (err[i * 2 + plain]) {
				rc = err[i * 2 + plain];
				continue;
			}
			if (!(loops & (1u << plain)))
				continue;
			bench_result_moded(suite, scenario, peers[i]->name,
					   metric[plain], "Mmsg/s",
					   BENCH_HIGHER, v + k, run + k, reps,
					   &modes);
			/* Only one producer has one ring state to report. */
			if (producers != 1)
				continue;
			bench_result_moded(suite, scenario, peers[i]->name,
					   full_metric[plain], "per msg",
					   BENCH_LOWER, vf + k, run + k, reps,
					   &modes);
			bench_result_moded(suite, scenario, peers[i]->name,
					   empty_metric[plain], "per msg",
					   BENCH_LOWER, ve + k, run + k, reps,
					   &modes);
		}
	}
	bench_modes_record(&modes, suite, scenario);
	free(v);
	free(vf);
	free(ve);
	free(run);
	free(err);
	bench_modes_free(&modes);
	return rc;
}

struct pong_run {
	const struct peer *p;
	struct peer_queue *ping, *pong;
	uint64_t n;
	_Atomic int ready;
	int bad;
};

/* The far side: returns every message it gets, until @n came back. */
static void *pong_side(void *arg)
{
	struct pong_run *r = arg;
	void *in = r->p->consumer(r->ping), *out = r->p->producer(r->pong, 0);
	peer_push_t push = peer_push_fn(r->p, 1);
	peer_pop_t pop = peer_pop_fn(r->p, 1);
	uint64_t tag;

	bench_pin(bench_cpu(1));
	atomic_store(&r->ready, 1);
	for (uint64_t i = 0; in && out && i < r->n; i++) {
		while (!pop(in, &tag, 1))
			cpu_relax();
		if (tag != i)
			r->bad = 1;
		while (!push(out, tag, 1))
			cpu_relax();
	}
	free(in);
	free(out);
	return NULL;
}

int inmem_pingpong(const struct peer *p, uint32_t slot_size, double *rtt_ns,
		   uint64_t n)
{
	struct pong_run r = { .p = p, .n = n };
	peer_push_t push = peer_push_fn(p, 1);
	peer_pop_t pop = peer_pop_fn(p, 1);
	uint64_t warm = n / 10 + 100, tag;
	void *out = NULL, *in = NULL;
	pthread_t t;
	int rc;

	r.n = n + warm;
	rc = p->create(&r.ping, slot_size, INMEM_SLOTS, 1, 0);
	if (rc)
		return rc;
	rc = p->create(&r.pong, slot_size, INMEM_SLOTS, 1, 0);
	if (rc) {
		p->destroy(r.ping);
		return rc;
	}
	out = p->producer(r.ping, 0);
	in = p->consumer(r.pong);
	bench_pin(bench_cpu(0));
	pthread_create(&t, NULL, pong_side, &r);
	while (!atomic_load(&r.ready))
		cpu_relax();
	for (uint64_t i = 0; out && in && i < r.n; i++) {
		uint64_t t0 = bench_now_ns();

		while (!push(out, i, 1))
			cpu_relax();
		while (!pop(in, &tag, 1))
			cpu_relax();
		if (i >= warm)
			rtt_ns[i - warm] = (double)(bench_now_ns() - t0);
		if (tag != i)
			r.bad = 1;
	}
	pthread_join(t, NULL);
	rc = !out || !in ? -ENOMEM : r.bad ? -EPROTO : 0;
	free(out);
	free(in);
	p->destroy(r.ping);
	p->destroy(r.pong);
	return rc;
}
