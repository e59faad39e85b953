// SPDX-License-Identifier: MIT
/*
 * mpsc_stress_mt.c - the MPSC ring protocol (kmod/proto/lfq_mpsc.h) under
 * many producers: 1, 2, 4 and 8 producer threads (oversubscribed on small
 * machines) and 4 producer processes, 10^8 messages in all, per-producer
 * FIFO order and checksums verified, nothing lost or duplicated; random
 * discards counted exactly; a sleeping consumer woken through the
 * need_data handshake with no lost wakeup; a consumer forging its tail
 * (tail = head, all the time) cannot make two producers write one slot
 * (lfq_mpsc_lap_free()). Prints the throughput per
 * producer count beside an SPSC run of the same message size.
 * Built twice: normally, and with ThreadSanitizer (LFQ_TSAN, fewer
 * messages).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lfq_mpsc.h"
#include "liblfq.h"
#include "memfd_ring.h"
#include "tap.h"
#include "test_util.h"

#ifdef LFQ_TSAN
#define PER_CONFIG	200000ull
#else
#define PER_CONFIG	20000000ull
#endif
#define SLOTS		4096u
#define SLOT_SIZE	16u	/* word 0: producer << 48 | seq; word 1: check */
#define MAX_PRODUCERS	8

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *t)
{
	return syscall(SYS_futex, w, op, val, t, NULL, 0);
}

struct run {
	struct memfd_ring ring;
	unsigned int producers;
	uint64_t per_producer;
	int discard_one_in;	/* 0: never */
	int sleepy;		/* consumer sleeps on need_data when empty */
	uint64_t discards[MAX_PRODUCERS];
	uint64_t wakes;
};

struct producer_arg {
	struct run *run;
	unsigned int id;
};

/* Wake the consumer that armed need_data: the waker clears the flag. */
static void wake_consumer(struct run *run)
{
	if (lfq_xchg(run->ring.loc.need_data, 0)) {
		__atomic_fetch_add(&run->wakes, 1, __ATOMIC_RELAXED);
		futex(run->ring.loc.need_data, FUTEX_WAKE, INT_MAX, NULL);
	}
}

static void produce(struct run *run, unsigned int id, uint64_t *discards)
{
	struct lfq_prod_ctl *ctl = run->ring.loc.prod;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	uint64_t seq = 0, rnd = id * 7919 + 1;

	lfq_mpsc_prod_init(&p, &run->ring.loc);
	/* Half the producers keep a claim record, as liblfq's do. */
	if (id & 1)
		lfq_mpsc_prod_set_claim(&p, &ctl->claims[id % LFQ_MPSC_CLAIMS]);
	while (seq < run->per_producer) {
		uint64_t *m = lfq_mpsc_reserve(&p, 1, &r);
		int wake;

		if (!m) {
			sched_yield();	/* full: let the consumer run */
			continue;
		}
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		if (run->discard_one_in && (rnd >> 33) % run->discard_one_in == 0) {
			wake = lfq_mpsc_discard(&p, &r);
			(*discards)++;
		} else {
			m[0] = (uint64_t)id << 48 | seq;
			m[1] = check_word(m[0]);
			wake = lfq_mpsc_commit(&p, &r);
			seq++;
		}
		if (wake)
			wake_consumer(run);
	}
}

static void *producer_thread(void *arg)
{
	struct producer_arg *a = arg;

	produce(a->run, a->id, &a->run->discards[a->id]);
	return NULL;
}

/* Consume everything; returns the number of verification errors. */
static uint64_t consume(struct run *run, uint64_t *consumed,
			uint64_t *discarded)
{
	uint64_t next[MAX_PRODUCERS] = { 0 }, bad = 0, n = 0;
	uint64_t total = run->producers * run->per_producer;
	struct lfq_mpsc_cons c;

	lfq_mpsc_cons_init(&c, &run->ring.loc);
	while (n < total) {
		uint32_t got, i;
		const uint64_t *m = lfq_mpsc_peek(&c, 64, &got);

		if (!m) {
			struct timespec ts = { 5, 0 };

			if (!run->sleepy)
				continue;
			if (lfq_mpsc_arm_data_wait(&run->ring.loc, 1, 1))
				continue;
			/* Sleeps while the flag is armed; 5 s means lost. */
			if (futex(run->ring.loc.need_data, FUTEX_WAIT, 1, &ts) &&
			    errno == ETIMEDOUT) {
				tap_diag("consumer stalled 5 s at %llu/%llu",
					 (unsigned long long)n,
					 (unsigned long long)total);
				return bad + 1;
			}
			continue;
		}
		for (i = 0; i < got; i++, n++) {
			uint64_t w = m[2 * i], id = w >> 48;

			if (id >= run->producers || m[2 * i + 1] != check_word(w) ||
			    (w & ((1ull << 48) - 1)) != next[id]++)
				bad++;
		}
		lfq_mpsc_release(&c, got);
	}
	*consumed = n;
	*discarded = c.discarded;
	return bad;
}

static double run_threads(unsigned int producers, int discard_one_in,
			  int sleepy, const char *what)
{
	struct run *run = calloc(1, sizeof(*run));
	struct producer_arg args[MAX_PRODUCERS];
	pthread_t t[MAX_PRODUCERS];
	uint64_t consumed = 0, discarded = 0, want_discards = 0, bad;
	double t0, dt;
	unsigned int i;
	int ok;

	if (memfd_ring_init(&run->ring, SLOTS, SLOT_SIZE, 0)) {
		tap_ok(0, "%s: ring setup", what);
		return 0;
	}
	run->producers = producers;
	run->per_producer = PER_CONFIG / producers;
	run->discard_one_in = discard_one_in;
	run->sleepy = sleepy;
	t0 = now_s();
	for (i = 0; i < producers; i++) {
		args[i] = (struct producer_arg){ run, i };
		pthread_create(&t[i], NULL, producer_thread, &args[i]);
	}
	bad = consume(run, &consumed, &discarded);
	for (i = 0; i < producers; i++)
		pthread_join(t[i], NULL);
	dt = now_s() - t0;
	for (i = 0; i < producers; i++)
		want_discards += run->discards[i];
	/* Discards behind the last message may still sit unskipped. */
	if (discarded < want_discards) {
		struct lfq_mpsc_cons c;
		uint32_t got;

		/* Resumes at the tail the consumer left. */
		lfq_mpsc_cons_init(&c, &run->ring.loc);
		lfq_mpsc_peek(&c, 1, &got);
		discarded += c.discarded;
	}
	ok = !bad && consumed == producers * run->per_producer &&
	     discarded == want_discards &&
	     run->ring.loc.prod->head == consumed + discarded;
	tap_ok(ok, "%s: %llu messages, %llu discarded, %.1f M msg/s%s "
	       "(bad %llu)", what, (unsigned long long)consumed,
	       (unsigned long long)discarded, consumed / dt / 1e6,
	       sleepy ? "" : "", (unsigned long long)bad);
	if (sleepy)
		tap_diag("  consumer wakeups: %llu",
			 (unsigned long long)run->wakes);
	munmap(run->ring.base, run->ring.len);
	free(run);
	return ok ? consumed / dt : 0;
}

static void run_processes(unsigned int producers)
{
	struct run *run = mmap(NULL, sizeof(*run), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t consumed = 0, discarded = 0, bad;
	pid_t pid[MAX_PRODUCERS];
	unsigned int i;
	int status, failed = 0;

	memset(run, 0, sizeof(*run));
	memfd_ring_init(&run->ring, SLOTS, SLOT_SIZE, 0);
	run->producers = producers;
	run->per_producer = PER_CONFIG / 4 / producers;
	run->sleepy = 1;
	for (i = 0; i < producers; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			produce(run, i, &run->discards[i]);
			_exit(0);
		}
	}
	bad = consume(run, &consumed, &discarded);
	for (i = 0; i < producers; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] || status)
			failed++;
	tap_ok(!bad && !failed && consumed == producers * run->per_producer,
	       "%u producer processes: %llu messages, FIFO per producer, "
	       "checksums ok (bad %llu)", producers,
	       (unsigned long long)consumed, (unsigned long long)bad);
	munmap(run->ring.base, run->ring.len);
	munmap(run, sizeof(*run));
}

/* SPSC through liblfq with the same message size, for comparison. */
struct spsc_arg {
	struct lfq *q;
	uint64_t n;
};

static void *spsc_producer(void *arg)
{
	struct spsc_arg *a = arg;
	uint64_t m[2], seq = 0;

	while (seq < a->n) {
		m[0] = seq;
		m[1] = check_word(seq);
		if (lfq_push(a->q, m, sizeof(m)) == 0)
			seq++;
	}
	return NULL;
}

static double run_spsc(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC,
		 .slot_size = SLOT_SIZE, .slot_count = SLOTS,
		 .backend = LFQ_BACKEND_MEMFD);
	struct spsc_arg a = { .n = PER_CONFIG };
	uint64_t m[2], seq = 0, bad = 0;
	pthread_t t;
	double t0, dt;

	a.q = queue_or_exit(&o);
	lfq_set_wakeups(a.q, 0);
	t0 = now_s();
	pthread_create(&t, NULL, spsc_producer, &a);
	while (seq < a.n) {
		if (lfq_pop(a.q, m, sizeof(m)))
			continue;
		bad += m[0] != seq || m[1] != check_word(seq);
		seq++;
	}
	pthread_join(t, NULL);
	dt = now_s() - t0;
	lfq_close(a.q);
	tap_ok(!bad, "SPSC reference, same run: %llu messages, %.1f M msg/s",
	       (unsigned long long)seq, seq / dt / 1e6);
	return seq / dt;
}

/*
 * The CVE-2024-41009 class: a liar thread keeps storing tail = head, so
 * the ring always looks empty, while producer threads reserve single
 * slots, write them, sometimes yield holding them, and check that nobody
 * else wrote their slot before they commit. Without lfq_mpsc_lap_free()
 * the others lap the ring onto a held slot (and TSan sees the race).
 */
#define FORGED_SLOTS	256u	/* the least whose slot area is whole pages */
#define FORGED_THREADS	4u

/*
 * Producers make at least @attempts reservations each, and go on until
 * the ring has made FORGED_LAPS laps or FORGED_MAX_NS have passed: how
 * often the liar gets the CPU is up to the scheduler (TSan, 2 CPUs).
 */
#define FORGED_LAPS	4ull
#define FORGED_MAX_NS	(30ll * 1000000000)

struct forged {
	struct memfd_ring ring;
	uint64_t attempts;
	int64_t deadline_ns;
	int stop;
	uint64_t reserved[FORGED_THREADS], refused[FORGED_THREADS];
	uint64_t overwritten[FORGED_THREADS];
};

struct forged_arg {
	struct forged *f;
	unsigned int id;
};

static void *forged_liar(void *arg)
{
	struct forged *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED))
		lfq_store_release(&f->ring.loc.cons->tail,
				  lfq_load_relaxed(&f->ring.loc.prod->head));
	return NULL;
}

/*
 * Now and then, hold index @index, written and not committed, until the
 * others have gone a lap round to its slot (head one lap on: the next
 * reservation is its next lap, which the guard refuses), or for 100 ms at
 * most. With the liar's tail always at head only a held slot can refuse
 * anyone, and a sched_yield() was not always long enough for the others
 * to get there (ThreadSanitizer on a loaded machine: no refusal in a
 * run). Not every time: each such hold waits for a lap of the others.
 */
static void forged_hold(struct forged *f, uint64_t index)
{
	int64_t until = now_ns() + 100000000;

	while ((int64_t)(lfq_load_relaxed(&f->ring.loc.prod->head) -
			 (index + FORGED_SLOTS)) < 0 && now_ns() < until)
		sched_yield();
}

static void *forged_producer(void *arg)
{
	struct forged_arg *a = arg;
	struct forged *f = a->f;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	uint64_t i, mine;

	lfq_mpsc_prod_init(&p, &f->ring.loc);
	for (i = 0; i < f->attempts ||
	     (lfq_load_relaxed(&f->ring.loc.prod->head) <=
	      FORGED_LAPS * FORGED_SLOTS && now_ns() < f->deadline_ns); i++) {
		uint64_t *m = lfq_mpsc_reserve(&p, 1, &r);

		if (!m) {
			f->refused[a->id]++;
			continue;
		}
		f->reserved[a->id]++;
		mine = (uint64_t)a->id << 48 | r.index;
		m[0] = mine;
		m[1] = check_word(mine);
		if (i % 4096 == 0)
			forged_hold(f, r.index);
		else if (i % 16 == 0)
			sched_yield();	/* hold it while the others lap */
		if (m[0] != mine || m[1] != check_word(mine))
			f->overwritten[a->id]++;
		lfq_mpsc_commit(&p, &r);
	}
	return NULL;
}

static void run_forged_tail(void)
{
	struct forged f = { .attempts = PER_CONFIG / 20 };
	struct forged_arg args[FORGED_THREADS];
	pthread_t t[FORGED_THREADS], liar;
	uint64_t reserved = 0, refused = 0, overwritten = 0, head;
	unsigned int i;

	if (memfd_ring_init(&f.ring, FORGED_SLOTS, SLOT_SIZE, 0)) {
		tap_ok(0, "forged tail: ring");
		return;
	}
	f.deadline_ns = now_ns() + FORGED_MAX_NS;
	pthread_create(&liar, NULL, forged_liar, &f);
	for (i = 0; i < FORGED_THREADS; i++) {
		args[i] = (struct forged_arg){ &f, i };
		pthread_create(&t[i], NULL, forged_producer, &args[i]);
	}
	for (i = 0; i < FORGED_THREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	pthread_join(liar, NULL);
	for (i = 0; i < FORGED_THREADS; i++) {
		reserved += f.reserved[i];
		refused += f.refused[i];
		overwritten += f.overwritten[i];
	}
	head = lfq_load_relaxed(&f.ring.loc.prod->head);
	tap_ok(!overwritten && reserved == head && refused &&
	       head > FORGED_LAPS * FORGED_SLOTS,
	       "forged tail (tail = head, always), %u threads: %llu slots "
	       "reserved (%llu laps), %llu refused (a slot still being "
	       "written, or the liar behind), %llu overwritten", FORGED_THREADS,
	       (unsigned long long)reserved,
	       (unsigned long long)(head / FORGED_SLOTS),
	       (unsigned long long)refused, (unsigned long long)overwritten);
	munmap(f.ring.base, f.ring.len);
}

int main(void)
{
	double rate[MAX_PRODUCERS + 1] = { 0 }, spsc;
	unsigned int n;

	tap_plan(10);
	for (n = 1; n <= MAX_PRODUCERS; n *= 2) {
		char what[64];

		snprintf(what, sizeof(what), "%u producer thread%s", n,
			 n > 1 ? "s" : "");
		rate[n] = run_threads(n, 0, 0, what);
	}
	spsc = run_spsc();
	tap_diag("MPSC aggregate vs 1 producer: 2p %.2fx, 4p %.2fx, 8p %.2fx; "
		 "1 producer vs SPSC %.2fx (%ld CPUs online)",
		 rate[2] / rate[1], rate[4] / rate[1], rate[8] / rate[1],
		 rate[1] / spsc, sysconf(_SC_NPROCESSORS_ONLN));
	run_threads(4, 1000, 0, "4 threads, 1 in 1000 reservations discarded");
	run_threads(2, 0, 1, "2 threads, consumer sleeps when empty");
	run_threads(4, 5000, 1, "4 threads, sleeping consumer and discards");
	run_processes(4);
	run_forged_tail();
	return tap_done();
}
