// SPDX-License-Identifier: MIT
/*
 * suite_mpmc.c - suite "mpmc": in-memory work distribution, P producer
 * threads and C consumer threads on one queue (1x1, 1x2, 2x2, 4x4),
 * 8-byte messages in batches of 1 and 32. lfq's MPMC queue (a memfd
 * queue, a handle per thread; and its MPMC record queue, "lfq records",
 * a record per message) against rte_ring MP/MC and its HTS and RTS
 * sync modes, ck_ring MPMC, liburcu's cds_lfq (an RCU Michael-Scott list
 * queue: a node allocated per message and freed after a grace period, as
 * its users do) and a mutex+condvar ring.
 *
 * Every peer runs the same loop: producers push their own sequence,
 * yielding when the queue is full; consumers pop, yielding when it is
 * empty, and check that each producer's messages come in order (within
 * one consumer) and their count and sum once all are joined. Threads are
 * not pinned: with two CPUs, every case past 1x1 has more threads than
 * CPUs and measures behaviour under preemption, not scaling. A run is
 * time-boxed (see MPMC_BOX_NS), and lfq-bench says which were. The
 * process part (work distribution to worker processes, against a pipe
 * and a POSIX message queue) is in suite_mpmc_proc.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ck_ring.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu/urcu-bp.h>
#include <urcu/rculfqueue.h>

#include "bench.h"
#include "liblfq.h"

#define MPMC_SLOTS	4096u
#define MPMC_BATCH_MAX	32u
#define MPMC_THREADS	4u

/* One queue under test; a handle per thread (NULL: the queue itself). */
struct mpmc_peer {
	const char *name;
	void *(*create)(unsigned int flags);
	void (*destroy)(void *q);
	void *(*handle)(void *q);
	void (*put)(void *h);
	unsigned int flags;
	/* Up to @n values in, or out; how many were. Never wait long. */
	unsigned int (*push)(void *h, const uint64_t *v, unsigned int n);
	unsigned int (*pop)(void *h, uint64_t *v, unsigned int n);
};

/* ----------------------------------------------------------------- lfq */

static void *lfq_q_create(unsigned int flags)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = 8,
		 .slot_count = MPMC_SLOTS, .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q;

	(void)flags;
	return lfq_create(&o, &q) ? NULL : q;
}

static void lfq_q_destroy(void *q)
{
	lfq_close(q);
}

static void *lfq_q_handle(void *q)
{
	LFQ_OPTS(lfq_open_opts, o, .fd = lfq_fd(q));
	struct lfq *h;

	return lfq_open(&o, &h) ? NULL : h;
}

static unsigned int lfq_q_push(void *h, const uint64_t *v, unsigned int n)
{
	void *span;
	int got = lfq_reserve(h, n, &span);

	if (got <= 0)
		return 0;
	memcpy(span, v, (size_t)got * 8);
	lfq_commit(h, (uint32_t)got);
	return (unsigned int)got;
}

static unsigned int lfq_q_pop(void *h, uint64_t *v, unsigned int n)
{
	const void *span;
	int got = lfq_peek(h, n, &span);

	if (got <= 0)
		return 0;
	memcpy(v, span, (size_t)got * 8);
	lfq_release(h, (uint32_t)got);
	return (unsigned int)got;
}

/*
 * lfq's MPMC record queue: a record of 8 bytes per message (16 in the
 * ring with its header), as many bytes as the slot queue's 4096 records
 * need; records are reserved and taken one at a time (the record API
 * has no multi-record reservation; lfq_record_consume() takes a run).
 */
static void *lfq_rec_q_create(unsigned int flags)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPMC, .slot_size = 1,
		 .slot_count = MPMC_SLOTS * 16, .flags = LFQ_CREATE_RECORDS,
		 .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q;

	(void)flags;
	return lfq_create(&o, &q) ? NULL : q;
}

static unsigned int lfq_rec_q_push(void *h, const uint64_t *v, unsigned int n)
{
	unsigned int i;
	void *p;

	for (i = 0; i < n && !lfq_record_reserve(h, 8, &p); i++) {
		memcpy(p, &v[i], 8);
		lfq_record_commit(h);
	}
	return i;
}

struct lfq_rec_q_out {
	uint64_t *v;
	unsigned int n;
};

static int lfq_rec_q_take(void *ctx, const void *rec, uint32_t len)
{
	struct lfq_rec_q_out *o = ctx;

	o->v[o->n] = ~0ull;		/* a wrong length fails the check */
	if (len == 8)
		memcpy(&o->v[o->n], rec, 8);
	o->n++;
	return 0;
}

static unsigned int lfq_rec_q_pop(void *h, uint64_t *v, unsigned int n)
{
	struct lfq_rec_q_out o = { v, 0 };

	return lfq_record_consume(h, n, lfq_rec_q_take, &o) > 0 ? o.n : 0;
}

/* ------------------------------------------------------------ rte_ring */

static void *rte_q_create(unsigned int flags)
{
	ssize_t sz = rte_ring_get_memsize_elem(8, MPMC_SLOTS);
	struct rte_ring *r;

	if (sz < 0 || posix_memalign((void **)&r, 128, (size_t)sz))
		return NULL;
	if (rte_ring_init(r, "mpmc", MPMC_SLOTS, flags)) {
		free(r);
		return NULL;
	}
	return r;
}

static unsigned int rte_q_push(void *h, const uint64_t *v, unsigned int n)
{
	return rte_ring_enqueue_burst_elem(h, v, 8, n, NULL);
}

static unsigned int rte_q_pop(void *h, uint64_t *v, unsigned int n)
{
	return rte_ring_dequeue_burst_elem(h, v, 8, n, NULL);
}

/* ------------------------------------------------------------- ck_ring */

struct ck_q {
	ck_ring_t ring;
	ck_ring_buffer_t *buf;
};

static void *ck_q_create(unsigned int flags)
{
	struct ck_q *q;

	(void)flags;
	if (posix_memalign((void **)&q, 128, sizeof(*q)))
		return NULL;
	q->buf = calloc(MPMC_SLOTS, sizeof(*q->buf));
	if (!q->buf) {
		free(q);
		return NULL;
	}
	ck_ring_init(&q->ring, MPMC_SLOTS);
	return q;
}

static void ck_q_destroy(void *p)
{
	struct ck_q *q = p;

	free(q->buf);
	free(q);
}

/* ck_ring has no burst MPMC calls: one at a time, as its users do. */
static unsigned int ck_q_push(void *p, const uint64_t *v, unsigned int n)
{
	struct ck_q *q = p;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!ck_ring_enqueue_mpmc(&q->ring, q->buf,
					  (void *)(uintptr_t)v[i]))
			break;
	return i;
}

static unsigned int ck_q_pop(void *p, uint64_t *v, unsigned int n)
{
	struct ck_q *q = p;
	unsigned int i;
	void *e;

	for (i = 0; i < n; i++) {
		if (!ck_ring_dequeue_mpmc(&q->ring, q->buf, &e))
			break;
		v[i] = (uint64_t)(uintptr_t)e;
	}
	return i;
}

/* ------------------------------------------------------- cds_lfq (RCU) */

struct cds_msg {
	struct cds_lfq_node_rcu node;
	struct rcu_head rcu;
	uint64_t v;
};

/* An unbounded list: bounded like the rings, by a count of nodes. */
struct cds_q {
	struct cds_lfq_queue_rcu q;
	_Atomic long in_flight;
};

static void *cds_q_create(unsigned int flags)
{
	struct cds_q *q = malloc(sizeof(*q));

	(void)flags;
	if (!q)
		return NULL;
	cds_lfq_init_rcu(&q->q, urcu_bp_call_rcu);
	atomic_init(&q->in_flight, 0);
	return q;
}

static void cds_q_destroy(void *p)
{
	struct cds_q *q = p;

	urcu_bp_barrier();	/* every node's call_rcu has run */
	cds_lfq_destroy_rcu(&q->q);
	free(q);
}

static void cds_node_free(struct rcu_head *head)
{
	free((char *)head - offsetof(struct cds_msg, rcu));
}

static unsigned int cds_q_push(void *p, const uint64_t *v, unsigned int n)
{
	struct cds_q *q = p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct cds_msg *e;

		if (atomic_load_explicit(&q->in_flight, memory_order_relaxed) >=
		    MPMC_SLOTS)
			break;
		e = malloc(sizeof(*e));
		if (!e)
			break;
		e->v = v[i];
		cds_lfq_node_init_rcu(&e->node);
		atomic_fetch_add_explicit(&q->in_flight, 1,
					  memory_order_relaxed);
		urcu_bp_read_lock();
		cds_lfq_enqueue_rcu(&q->q, &e->node);
		urcu_bp_read_unlock();
	}
	return i;
}

static unsigned int cds_q_pop(void *p, uint64_t *v, unsigned int n)
{
	struct cds_q *q = p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct cds_lfq_node_rcu *node;
		struct cds_msg *e;

		urcu_bp_read_lock();
		node = cds_lfq_dequeue_rcu(&q->q);
		urcu_bp_read_unlock();
		if (!node)
			break;
		e = (struct cds_msg *)((char *)node -
					offsetof(struct cds_msg, node));
		v[i] = e->v;
		atomic_fetch_sub_explicit(&q->in_flight, 1,
					  memory_order_relaxed);
		urcu_bp_call_rcu(&e->rcu, cds_node_free);
	}
	return i;
}

/* ------------------------------------------------------ mutex+condvar */

struct mutex_q {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	uint64_t ring[MPMC_SLOTS];
	uint64_t head, tail;	/* under @lock */
};

static void *mutex_q_create(unsigned int flags)
{
	struct mutex_q *q = calloc(1, sizeof(*q));

	(void)flags;
	if (q) {
		pthread_mutex_init(&q->lock, NULL);
		pthread_cond_init(&q->not_empty, NULL);
		pthread_cond_init(&q->not_full, NULL);
	}
	return q;
}

static void mutex_q_destroy(void *p)
{
	struct mutex_q *q = p;

	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Sleeps (1 ms at most, so a run can end) while full or empty. */
static void mutex_q_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(c, m, &ts);
}

static unsigned int mutex_q_push(void *p, const uint64_t *v, unsigned int n)
{
	struct mutex_q *q = p;
	unsigned int i, room;

	pthread_mutex_lock(&q->lock);
	if (q->head - q->tail == MPMC_SLOTS)
		mutex_q_wait(&q->not_full, &q->lock);
	room = MPMC_SLOTS - (unsigned int)(q->head - q->tail);
	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		q->ring[(q->head + i) & (MPMC_SLOTS - 1)] = v[i];
	q->head += n;
	if (n)
		pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return n;
}

static unsigned int mutex_q_pop(void *p, uint64_t *v, unsigned int n)
{
	struct mutex_q *q = p;
	unsigned int i, avail;

	pthread_mutex_lock(&q->lock);
	if (q->head == q->tail)
		mutex_q_wait(&q->not_empty, &q->lock);
	avail = (unsigned int)(q->head - q->tail);
	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++)
		v[i] = q->ring[(q->tail + i) & (MPMC_SLOTS - 1)];
	q->tail += n;
	if (n)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return n;
}

static void rte_q_destroy(void *q)
{
	free(q);
}

static const struct mpmc_peer mpmc_peers[] = {
	{ "lfq", lfq_q_create, lfq_q_destroy, lfq_q_handle, lfq_q_destroy, 0,
	  lfq_q_push, lfq_q_pop },
	{ "lfq records", lfq_rec_q_create, lfq_q_destroy, lfq_q_handle,
	  lfq_q_destroy, 0, lfq_rec_q_push, lfq_rec_q_pop },
	{ "rte_ring", rte_q_create, rte_q_destroy, NULL, NULL, 0,
	  rte_q_push, rte_q_pop },
	{ "rte_ring hts", rte_q_create, rte_q_destroy, NULL, NULL,
	  RING_F_MP_HTS_ENQ | RING_F_MC_HTS_DEQ, rte_q_push, rte_q_pop },
	{ "rte_ring rts", rte_q_create, rte_q_destroy, NULL, NULL,
	  RING_F_MP_RTS_ENQ | RING_F_MC_RTS_DEQ, rte_q_push, rte_q_pop },
	{ "ck_ring", ck_q_create, ck_q_destroy, NULL, NULL, 0,
	  ck_q_push, ck_q_pop },
	{ "cds_lfq", cds_q_create, cds_q_destroy, NULL, NULL, 0,
	  cds_q_push, cds_q_pop },
	{ "mutex+condvar", mutex_q_create, mutex_q_destroy, NULL, NULL, 0,
	  mutex_q_push, mutex_q_pop },
};

#define NPEERS (sizeof(mpmc_peers) / sizeof(mpmc_peers[0]))

/* ------------------------------------------------------------- the run */

/*
 * Each run is time-boxed: a queue whose threads wait for a preempted
 * peer (rte_ring's MP/MC tail update, under oversubscription) may move a
 * few hundred messages a second, and would take hours. At the box's end
 * the threads stop where they are; the figure is what was consumed until
 * then, and the run is reported as boxed.
 */
#define MPMC_BOX_NS(quick)	((quick) ? 300000000ull : 2000000000ull)

struct mpmc_run {
	const struct mpmc_peer *p;
	void *q;
	unsigned int batch, consumers;
	uint64_t per_producer, total;
	_Atomic int go, stop;
	_Atomic uint64_t produced, popped, sum, bad;
};

struct mpmc_thread {
	struct mpmc_run *run;
	unsigned int id;
	pthread_t th;
};

static void *mpmc_producer(void *arg)
{
	struct mpmc_thread *t = arg;
	struct mpmc_run *r = t->run;
	void *h = r->p->handle ? r->p->handle(r->q) : r->q;
	uint64_t v[MPMC_BATCH_MAX], seq = 0;

	if (!h) {
		atomic_fetch_add(&r->bad, 1);
		return NULL;
	}
	/* Pairs with mpmc_once()'s release of go, after the queue is made. */
	while (!atomic_load_explicit(&r->go, memory_order_acquire))
		sched_yield();
	while (seq < r->per_producer &&
	       !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		unsigned int n = r->batch, done;

		if (n > r->per_producer - seq)
			n = (unsigned int)(r->per_producer - seq);
		for (unsigned int i = 0; i < n; i++)
			v[i] = (uint64_t)t->id << 48 | (seq + i);
		done = r->p->push(h, v, n);
		seq += done;
		if (!done)
			sched_yield();
	}
	atomic_fetch_add(&r->produced, seq);
	if (r->p->put)
		r->p->put(h);
	return NULL;
}

/* Check @got values against this consumer's last seen per producer. */
static uint64_t mpmc_check(uint64_t *last, const uint64_t *v,
			   unsigned int got, uint64_t *sum)
{
	uint64_t bad = 0;

	for (unsigned int i = 0; i < got; i++) {
		uint64_t pr = v[i] >> 48, s = v[i] & ((1ull << 48) - 1);

		/* Per producer, in order within one consumer. */
		if (pr >= MPMC_THREADS ||
		    (last[pr] != UINT64_MAX && s <= last[pr]))
			bad++;
		else
			last[pr] = s;
		*sum += v[i];
	}
	return bad;
}

static void *mpmc_consumer(void *arg)
{
	struct mpmc_thread *t = arg;
	struct mpmc_run *r = t->run;
	void *h = r->p->handle ? r->p->handle(r->q) : r->q;
	uint64_t v[MPMC_BATCH_MAX], last[MPMC_THREADS], sum = 0, bad = 0;

	if (!h) {
		atomic_fetch_add(&r->bad, 1);
		return NULL;
	}
	for (unsigned int i = 0; i < MPMC_THREADS; i++)
		last[i] = UINT64_MAX;
	/* Pairs with mpmc_once()'s release of go, after the queue is made. */
	while (!atomic_load_explicit(&r->go, memory_order_acquire))
		sched_yield();
	while (atomic_load_explicit(&r->popped, memory_order_relaxed) <
	       r->total && !atomic_load_explicit(&r->stop,
						 memory_order_relaxed)) {
		unsigned int got = r->p->pop(h, v, r->batch);

		if (!got) {
			sched_yield();
			continue;
		}
		bad += mpmc_check(last, v, got, &sum);
		atomic_fetch_add_explicit(&r->popped, got,
					  memory_order_relaxed);
	}
	atomic_fetch_add(&r->sum, sum);
	atomic_fetch_add(&r->bad, bad);
	if (r->p->put)
		r->p->put(h);
	return NULL;
}

/*
 * Messages per second of one run, or a negative errno; *@boxed is set
 * when the time box ended it. A run that ends checks that every message
 * arrived once (count and sum); a boxed one that none arrived twice or
 * out of order in a consumer, and drains the rest before the queue goes.
 */
static double mpmc_once(const struct mpmc_peer *p, unsigned int np,
			unsigned int nc, unsigned int batch, uint64_t msgs,
			int *boxed)
{
	struct mpmc_thread th[2 * MPMC_THREADS];
	struct mpmc_run r = {
		.p = p, .batch = batch, .consumers = nc,
		.per_producer = msgs / np, .total = msgs / np * np,
	};
	uint64_t t0, t1, want = 0, popped, v[MPMC_BATCH_MAX];
	uint64_t last[MPMC_THREADS], sum;
	unsigned int i, got;
	void *h;

	r.q = p->create(p->flags);
	if (!r.q)
		return -ENOMEM;
	for (i = 0; i < np + nc; i++) {
		th[i].run = &r;
		th[i].id = i < np ? i : i - np;
		if (pthread_create(&th[i].th, NULL,
				   i < np ? mpmc_producer : mpmc_consumer,
				   &th[i])) {
			atomic_store(&r.stop, 1);
			atomic_store(&r.go, 1);
			while (i--)
				pthread_join(th[i].th, NULL);
			p->destroy(r.q);
			return -EAGAIN;
		}
	}
	t0 = bench_now_ns();
	/* Pairs with each thread's acquire of go. */
	atomic_store_explicit(&r.go, 1, memory_order_release);
	while (atomic_load(&r.popped) < r.total &&
	       bench_now_ns() - t0 < MPMC_BOX_NS(bench_opts.quick))
		usleep(1000);
	/* Stop the threads where they are, if the box ended the run. */
	atomic_store(&r.stop, 1);
	for (i = 0; i < np + nc; i++)
		pthread_join(th[i].th, NULL);
	t1 = bench_now_ns();
	popped = atomic_load(&r.popped);
	*boxed = popped < r.total;
	/* What the box left in the queue goes, checked, before the queue. */
	h = p->handle ? p->handle(r.q) : r.q;
	for (i = 0; i < MPMC_THREADS; i++)
		last[i] = UINT64_MAX;
	sum = 0;
	while (h && (got = p->pop(h, v, MPMC_BATCH_MAX)))
		atomic_fetch_add(&r.bad, mpmc_check(last, v, got, &sum));
	if (h && p->put)
		p->put(h);
	p->destroy(r.q);
	/* Every tag once: producer << 48 for each, plus 0..n-1 each. */
	for (i = 0; i < np; i++)
		want += ((uint64_t)i << 48) * r.per_producer;
	want += (uint64_t)np * (r.per_producer * (r.per_producer - 1) / 2);
	if (!h || atomic_load(&r.bad) ||
	    (!*boxed && (popped != r.total || atomic_load(&r.sum) != want)) ||
	    popped > atomic_load(&r.produced))
		return -EPROTO;
	return (double)popped * 1e9 / (double)(t1 - t0);
}

static const unsigned int mpmc_shapes[][2] = {
	{ 1, 1 }, { 1, 2 }, { 2, 2 }, { 4, 4 },
};

int suite_mpmc(void)
{
	unsigned int reps = bench_opts.repeats;
	uint64_t msgs = bench_opts.msgs / 10;
	double *v = calloc(NPEERS * reps, sizeof(double));
	size_t *run = calloc(NPEERS * reps, sizeof(*run));
	static const unsigned int batches[] = { 1, 32 };
	char scen[48];
	int rc = 0;

	if (!v || !run) {
		free(v);
		free(run);
		return -ENOMEM;
	}
	for (size_t b = 0; b < 2; b++) {
		for (size_t s = 0; s < 4; s++) {
			unsigned int np = mpmc_shapes[s][0];
			unsigned int nc = mpmc_shapes[s][1];
			int err[NPEERS] = { 0 }, boxed[NPEERS] = { 0 }, box = 0;
			struct bench_modes modes;

			if (bench_modes_init(&modes, NPEERS * reps)) {
				rc = -ENOMEM;
				continue;
			}
			snprintf(scen, sizeof(scen), "8B b%u %up%uc",
				 batches[b], np, nc);
			/*
			 * Taking turns: every peer once per repeat, each run
			 * after a probe of the machine's mode.
			 */
			for (unsigned int k = 0; k < reps; k++)
				for (size_t i = 0; i < NPEERS; i++) {
					double mps;

					if (err[i])
						continue;
					run[i * reps + k] =
						bench_modes_next(&modes);
					mps = mpmc_once(&mpmc_peers[i], np, nc,
							batches[b], msgs, &box);
					if (mps < 0)
						err[i] = (int)mps;
					boxed[i] += box;
					v[i * reps + k] = mps / 1e6;
				}
			bench_modes_done(&modes);
			for (size_t i = 0; i < NPEERS; i++) {
				if (err[i]) {
					fprintf(stderr,
						"lfq-bench: mpmc %s %s: %s\n",
						scen, mpmc_peers[i].name,
						strerror(-err[i]));
					rc = err[i];
					continue;
				}
				if (boxed[i])
					fprintf(stderr,
						"lfq-bench: mpmc %s %s: %d of %u runs ended by the time box\n",
						scen, mpmc_peers[i].name,
						boxed[i], reps);
				bench_result_moded("mpmc", scen,
						   mpmc_peers[i].name,
						   "throughput", "Mmsg/s",
						   BENCH_HIGHER, v + i * reps,
						   run + i * reps, reps,
						   &modes);
			}
			bench_modes_record(&modes, "mpmc", scen);
			bench_modes_free(&modes);
		}
	}
	free(v);
	free(run);
	return mpmc_processes() ?: rc;
}
