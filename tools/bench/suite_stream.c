// SPDX-License-Identifier: MIT
/*
 * suite_stream.c - lfq-bench suite "stream", run inside the test VM by
 * lfq-bench-vm (as root, lfq.ko loaded): kernel-to-userspace streaming,
 * lfq against the BPF ring buffer, fed by the same trigger in one run.
 *
 * The systems.
 *   lfq:         an LFQ_SOURCE_SYSCALL source (a probe on the sys_enter
 *                tracepoint, kmod/lfq_source_trace.c) writing into an MPSC
 *                /dev/lfq queue through the in-kernel producer API; the
 *                consumer reads the mapped ring with liblfq.
 *   bpf_ringbuf: a tp_btf program on the same tracepoint
 *                (stream_ringbuf.bpf.c) writing with
 *                bpf_ringbuf_reserve()/submit(); the consumer is libbpf's
 *                ring_buffer__poll()/ring_buffer__consume().
 *   lfq_records: the same source writing into a record queue
 *                (LFQ_CREATE_RECORDS) of the same ring bytes: each record
 *                takes its size plus an 8-byte header, as in the BPF ring
 *                buffer; the consumer is lfq_record_consume().
 *   All keep only the trigger's syscall (getppid, which nothing else in
 *   the guest calls), record every call of it system-wide, and count the
 *   records they drop when the ring is full. Both rings have RING_BYTES
 *   bytes of record space.
 *
 * The trigger. 1 or 2 threads, pinned to CPUs 0 and 1, call
 * syscall(SYS_getppid) in a loop for the run's time (0.3 s quick, 2 s
 * full) and count their calls. The consumer thread is pinned to the last
 * CPU. The VM has 2 vCPUs (bench_vm.c says why): with one producing CPU
 * the consumer has CPU 1 to itself; with two it shares CPU 1 with the
 * second producer under the guest's scheduler, as a tracing consumer
 * does where every CPU produces, so what consuming costs shows in the
 * figures, and a consumer that is not scheduled in time shows as drops.
 * The same trigger with nothing attached gives the "untraced" rows (the
 * syscall's own rate), and with a probe that keeps no record the "empty
 * probe" rows (see run_baseline()): the ceiling for any tracer.
 *
 * Notification, each system's default:
 *   default: the consumer drains everything readable, then waits in the
 *            library's blocking wait until the producer side wakes it:
 *            lfq_wait_data(q, 1, ...), which spins first (adaptively:
 *            long while spins find records, a few checks where they do
 *            not; lfq_set_wait_spin()), and ring_buffer__poll(), which
 *            sleeps at once. Each
 *            producer uses its system's default wakeup: lfq wakes only a
 *            consumer that announced it sleeps (need_data), the BPF ring
 *            buffer wakes whenever a record lands in a ring the consumer
 *            has caught up with (bpf_ringbuf_submit flags 0). Wakeups go
 *            through irq_work in both.
 *   batched: producers never wake the consumer (lfq: the consumer never
 *            arms need_data; BPF: BPF_RB_NO_WAKEUP); the consumer sleeps
 *            BATCH_PERIOD_NS (1 ms) on a timer, then drains everything
 *            readable (lfq_peek/lfq_release; ring_buffer__consume()).
 *
 * Record sizes:
 *   "min": each system's smallest record: BPF 8 bytes (pid and syscall
 *          nr), lfq 32 bytes (struct lfq_event_syscall, its smallest
 *          SYSCALL record: a 16-byte header with type, size, cpu and time,
 *          then pid, nr and arg0). This is the "8-byte" case; lfq
 *          writes 4x the bytes of BPF in it.
 *   "32B": the same 32 bytes and fields in both (BPF fills type, size,
 *          cpu, bpf_ktime_get_ns(), pid, nr and arg0 itself).
 *   "64B": those 32 bytes and 32 zero bytes in both (lfq: the source's
 *          record_size 64, which zeroes the tail in the kernel).
 *   "mixed": records as long as a buffer of 1 to 256 bytes (a cycle of
 *          64 lengths spread over that range, mean 128.5), the trigger
 *          being pwrite64(-1, buf, len, 0) instead: lfq_records with
 *          LFQ_SOURCE_SYSCALL_DATA (all six arguments, struct
 *          lfq_syscall_data, the buffer: 80 + len bytes); bpf_ringbuf
 *          the same layout from rb_data, built in a per-CPU scratch
 *          record and copied in with bpf_ringbuf_output() (on 6.1 a
 *          record of a run-time size cannot be reserved and then filled
 *          from user memory); bpf_ringbuf_max the zero-copy way, every
 *          record reserved at the largest size (rb_data_max). lfq's slot
 *          queue holds one size and does not run. Ring bytes per record
 *          are the ring's own count (lfq: the record queue's head in
 *          bytes; BPF: its producer position, read from the producer
 *          page) over the records received, checked against the sum of
 *          the received records' sizes with header and padding.
 *   The BPF ring buffer adds an 8-byte header to each record, so it uses
 *   16, 40 and 72 bytes of ring per record against lfq's 32, 32 and 64;
 *   the "ring bytes/rec" rows say so.
 *
 * Figures (suite "stream", scenario "<size> <n>cpu <default|batched>"):
 *   records/s:       records the consumer received and checked, over the
 *                    time from the start of the trigger to its end or, if
 *                    the consumer lags, to the end of the drain that got
 *                    the last of them (detaching is not timed);
 *   drop %:          records the producers dropped, per trigger call;
 *   trigger calls/s: the trigger's syscall rate (the probe's cost is paid
 *                    in the caller's syscall, so this is the producer
 *                    side's figure); scenarios "1cpu" and "2cpu" of
 *                    systems "untraced" and "empty probe" are the
 *                    baselines.
 * Runs alternate between the systems (lfq first on even repeats, BPF
 * first on odd ones) so drift on the emulated machine hits both; the
 * median of bench_opts.repeats runs is reported, with min and max.
 *
 * Accounting, checked on every run (a failure fails the suite with
 * -EPROTO, a malformed record with -EBADMSG): every record must have the
 * right type, size and syscall nr; records from the trigger threads
 * (by pid) plus the drops the system counted must equal the trigger's
 * calls exactly. Records of the syscall from any other process are counted
 * apart and reported; with some, the check becomes own <= calls <= own +
 * dropped. For lfq the kernel's own count of committed slots
 * (lfq_stats.produced) must also equal the records the consumer saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "liblfq.h"
#include "stream_ringbuf.skel.h"

#define SUITE		"stream"
#define TRIGGER_NR	SYS_getppid
#define RING_BYTES	(256u * 1024)
#define BATCH_PERIOD_NS	1000000ll	/* batched: the consumer's timer */
#define WAIT_MS		20		/* default: a wait's timeout */
#define PRODUCERS_MAX	2

enum { SYS_LFQ, SYS_BPF, SYS_LFQ_REC, SYS_BPF_MAX, NSYS };
static const char *const sys_name[NSYS] = {
	"lfq", "bpf_ringbuf", "lfq_records", "bpf_ringbuf_max"
};

/* Both lfq systems: a slot queue, and a record queue. */
static int sys_is_lfq(int sys)
{
	return sys == SYS_LFQ || sys == SYS_LFQ_REC;
}

/*
 * A record size: what each system writes. "mixed": records as long as
 * the trigger's buffer (rec 0), the same bytes in both.
 */
struct rsize {
	const char *name;
	uint32_t lfq_rec;	/* lfq record and slot size; 0: mixed */
	uint32_t bpf_rec;	/* BPF record (the ring adds 8 bytes) */
};

static const struct rsize rsizes[] = {
	{ "min", 32, 8 },
	{ "32B", 32, 32 },
	{ "64B", 64, 64 },
	{ "mixed", 0, 0 },
};

#define MIXED_NR	SYS_pwrite64	/* mixed: pwrite64(-1, buf, len, 0) */
#define MIXED_MAX	256u		/* bytes of buffer a record takes */
#define MIXED_LENS	64u		/* the trigger's cycle of lengths */

/* The buffer lengths of the mixed trigger: 1 to MIXED_MAX, spread. */
static uint32_t mixed_len[MIXED_LENS];

/*
 * A system that writes records of @rs: lfq's slots hold one size, and
 * bpf_ringbuf_max (every record reserved at the largest size) is a way
 * to write mixed sizes.
 */
static int sys_runs(int sys, const struct rsize *rs)
{
	return rs->lfq_rec ? sys != SYS_BPF_MAX : sys != SYS_LFQ;
}

/* The syscall the trigger makes for @rs, and each system keeps. */
static long rs_nr(const struct rsize *rs)
{
	return rs->lfq_rec ? TRIGGER_NR : MIXED_NR;
}

#define NSIZES	(sizeof(rsizes) / sizeof(rsizes[0]))

struct scen {
	const struct rsize *rs;
	unsigned int rs_idx;
	int producers;
	int batched;
	char name[48];
};

#define NSCEN	(NSIZES * 2 * 2)

/* The BPF side of one record size and mode, loaded once per suite run. */
struct bpf_side {
	struct stream_ringbuf *skel;
	struct bpf_program *prog;
	struct bpf_program *prog_max;	/* mixed: rb_data_max */
	const volatile unsigned long *prod_pos;	/* the ring's, read-only */
	size_t page;
};

static struct bpf_side bpf_sides[NSIZES][2];
static int ncpus_possible;

/* One measured run. */
struct run {
	const struct scen *sc;
	int sys;
	uint32_t rec;			/* record bytes the consumer expects */

	struct lfq *q;			/* lfq */
	uint32_t slots;
	struct ring_buffer *rb;		/* bpf */

	pthread_barrier_t go;
	atomic_int stop;		/* triggers: stop calling */
	atomic_int phase;		/* PHASE_* */
	pid_t tids[PRODUCERS_MAX];
	uint64_t calls[PRODUCERS_MAX];
	int cons_err;

	/* consumer's tally */
	uint64_t own, foreign, bad;
	uint64_t ring_bytes;		/* mixed: ring bytes of the own records */
	uint64_t t_start;
	uint64_t t_last;		/* end of the last drain that got records */
	atomic_int empty;		/* ring found empty after the trigger */
};

/*
 * The consumer's view of a run: the trigger runs; the trigger has stopped
 * (every record is in the ring or dropped: drain until empty, note the
 * time); the source is detached (one last sweep, then exit).
 */
enum { PHASE_RUN, PHASE_STOPPED, PHASE_DETACHED };

struct trigger_arg {
	struct run *r;
	int i;
};

static int run_seconds_ms(void)
{
	return bench_opts.quick ? 300 : 2000;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { ns / 1000000000ll, ns % 1000000000ll };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* ------------------------------------------------------------- trigger */

static void *trigger_fn(void *p)
{
	struct trigger_arg *a = p;
	struct run *r = a->r;
	uint64_t n = 0;

	unsigned char buf[MIXED_MAX];

	bench_pin(bench_cpu(a->i));
	r->tids[a->i] = gettid();
	memset(buf, 0x5a, sizeof(buf));	/* present: read without faulting */
	pthread_barrier_wait(&r->go);
	if (!r->sc->rs->lfq_rec) {
		while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
			syscall(MIXED_NR, -1L, buf,
				(long)mixed_len[n % MIXED_LENS], 0L);
			n++;
		}
	} else {
		while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
			syscall(TRIGGER_NR);
			n++;
		}
	}
	r->calls[a->i] = n;
	return NULL;
}

/* ------------------------------------------------------------ consumer */

/* One record's identity, the same checks for both systems. */
static inline void tally(struct run *r, int hdr_ok, int nr, uint32_t pid)
{
	if (__builtin_expect(!hdr_ok || nr != rs_nr(r->sc->rs), 0)) {
		if (r->bad++ < 3)
			bench_progress(SUITE, "%s: bad record (header %s, nr %d)",
				       sys_name[r->sys], hdr_ok ? "ok" : "wrong",
				       nr);
		return;
	}
	if (__builtin_expect(pid == (uint32_t)r->tids[0], 1) ||
	    (r->sc->producers > 1 && pid == (uint32_t)r->tids[1]))
		r->own++;
	else
		r->foreign++;
}

/* lfq: everything readable, a span at a time. */
static uint64_t lfq_drain(struct run *r)
{
	uint64_t n = 0;
	const void *first;
	const unsigned char *span;
	int got, i;

	while ((got = lfq_peek(r->q, r->slots, &first)) > 0) {
		span = first;
		for (i = 0; i < got; i++) {
			const struct lfq_event_syscall *e =
				(const void *)(span + (size_t)i * r->rec);

			tally(r, e->hdr.type == LFQ_EVENT_SYSCALL &&
				 e->hdr.size == r->rec, e->nr, e->pid);
		}
		lfq_release(r->q, (uint32_t)got);
		n += (uint64_t)got;
	}
	if (got != -EAGAIN && !r->cons_err)
		r->cons_err = got;
	return n;
}

/* Ring bytes of a record of @len: an 8-byte header, padded to 8 (both). */
static uint64_t rec_ring_bytes(size_t len)
{
	return 8 + ((len + 7) & ~(size_t)7);
}

/*
 * A mixed record of @len ring bytes, the same checks in every system: the
 * header, and the buffer's length in struct lfq_syscall_data (the BPF
 * programs write the same layout; bpf_ringbuf_max's records are all of
 * the largest size, the event's own size inside). Its ring bytes are
 * added up, to be checked against the ring's own count.
 */
static void mixed_sample(struct run *r, const void *data, size_t len)
{
	const struct lfq_event_syscall *e = data;
	const struct lfq_syscall_data *d = LFQ_EVENT_SYSCALL_DATA(e);
	size_t want = r->sys == SYS_BPF_MAX ? LFQ_EVENT_SYSCALL_DATA_MIN +
					      MIXED_MAX : e->hdr.size;

	tally(r, len >= LFQ_EVENT_SYSCALL_DATA_MIN && len == want &&
		 e->hdr.size >= LFQ_EVENT_SYSCALL_DATA_MIN &&
		 e->hdr.size <= LFQ_EVENT_SYSCALL_DATA_MIN + MIXED_MAX &&
		 e->hdr.type == LFQ_EVENT_SYSCALL &&
		 d->size == e->hdr.size - LFQ_EVENT_SYSCALL_DATA_MIN &&
		 !d->flags, e->nr, e->pid);
	r->ring_bytes += rec_ring_bytes(len);
}

/* lfq_records: lfq_record_consume()'s callback. */
static int lfq_rec_sample(void *ctx, const void *data, uint32_t len)
{
	struct run *r = ctx;
	const struct lfq_event_syscall *e = data;

	if (!r->rec) {
		mixed_sample(r, data, len);
		return 0;
	}
	tally(r, len == r->rec && e->hdr.type == LFQ_EVENT_SYSCALL &&
		 e->hdr.size == r->rec, e->nr, e->pid);
	return 0;
}

/* lfq_records: everything readable, up to a ring's worth per call. */
static uint64_t lfq_rec_drain(struct run *r)
{
	uint64_t n = 0;
	int got;

	while ((got = lfq_record_consume(r->q, RING_BYTES / 8,
					 lfq_rec_sample, r)) > 0)
		n += (uint64_t)got;
	if (got < 0 && !r->cons_err)
		r->cons_err = got;
	return n;
}

/* libbpf's per-record callback; same layout as stream_ringbuf.bpf.c. */
struct bpf_rec_small {
	uint32_t pid;
	int32_t nr;
};

static int bpf_sample(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;

	if (!r->rec) {
		mixed_sample(r, data, size);
		return 0;
	}
	if (r->rec == sizeof(struct bpf_rec_small)) {
		const struct bpf_rec_small *s = data;

		tally(r, size == r->rec, s->nr, s->pid);
	} else {
		const struct lfq_event_syscall *e = data;

		tally(r, size == r->rec && e->hdr.type == LFQ_EVENT_SYSCALL &&
			 e->hdr.size == r->rec, e->nr, e->pid);
	}
	return 0;
}

static uint64_t bpf_drain(struct run *r)
{
	int n = ring_buffer__consume(r->rb);

	if (n < 0 && !r->cons_err)
		r->cons_err = n;
	return n > 0 ? (uint64_t)n : 0;
}

/* The drain of @r's system. */
static uint64_t drain(struct run *r)
{
	return r->sys == SYS_LFQ ? lfq_drain(r) :
	       r->sys == SYS_LFQ_REC ? lfq_rec_drain(r) : bpf_drain(r);
}

static void *consumer_fn(void *p)
{
	struct run *r = p;
	int lfq = sys_is_lfq(r->sys), phase;
	uint64_t n;

	bench_pin(bench_opts.cpus > 0 ? bench_opts.cpus - 1 : 0);
	pthread_barrier_wait(&r->go);
	for (;;) {
		phase = atomic_load(&r->phase);
		if (phase == PHASE_DETACHED) {
			/* Only other processes' records can come now. */
			drain(r);
			break;
		}
		if (phase == PHASE_STOPPED) {
			/* Every record of the trigger is in: take them all. */
			n = drain(r);
			if (n) {
				r->t_last = bench_now_ns();
				continue;
			}
			if (!atomic_load(&r->empty))
				atomic_store(&r->empty, 1);
			sleep_ns(100000);
			continue;
		}
		if (r->sc->batched) {
			sleep_ns(BATCH_PERIOD_NS);
			n = drain(r);
		} else if (lfq) {
			int err;

			n = drain(r);
			if (n)
				r->t_last = bench_now_ns();
			err = lfq_wait_data(r->q, 1, WAIT_MS * 1000000ll);
			if (err && err != -ETIMEDOUT && err != -EINTR &&
			    !r->cons_err)
				r->cons_err = err;
			continue;
		} else {
			int got = ring_buffer__poll(r->rb, WAIT_MS);

			if (got < 0 && got != -EINTR && !r->cons_err)
				r->cons_err = got;
			n = got > 0 ? (uint64_t)got : 0;
		}
		if (n)
			r->t_last = bench_now_ns();
	}
	return NULL;
}

/* --------------------------------------------------------------- setup */

static int lfq_setup(struct run *r, int *src_id)
{
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_MPSC,
		 .slot_size = r->rec,
		 .slot_count = r->rec ? RING_BYTES / r->rec : 0);
	struct lfq_source s = {
		.type = LFQ_SOURCE_SYSCALL,
		.syscall_nr = (int32_t)rs_nr(r->sc->rs),
		.record_size = r->rec == sizeof(struct lfq_event_syscall) ?
			       0 : r->rec,
	};
	int err;

	/*
	 * lfq_records: a record queue of the same ring bytes; each record
	 * takes rec + 8 of them, as in the BPF ring buffer (its natural
	 * SYSCALL record has all six arguments: ask for rec bytes).
	 */
	if (r->sys == SYS_LFQ_REC) {
		p.slot_size = 1;
		p.slot_count = RING_BYTES;
		p.flags = LFQ_CREATE_RECORDS;
		s.record_size = r->rec;
		/* mixed: the buffer too, up to MIXED_MAX bytes of it. */
		if (!r->rec) {
			s.flags = LFQ_SOURCE_SYSCALL_DATA;
			s.record_size = LFQ_EVENT_SYSCALL_DATA_MIN + MIXED_MAX;
		}
	}
	err = lfq_create(&p, &r->q);

	if (err) {
		bench_progress(SUITE, "lfq_create: %s", strerror(-err));
		return err;
	}
	r->slots = p.slot_count;
	*src_id = lfq_source_attach(r->q, &s);
	if (*src_id < 0) {
		bench_progress(SUITE, "lfq_source_attach: %s",
			       strerror(-*src_id));
		lfq_close(r->q);
		return *src_id;
	}
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap) + 8;
}

/* Load the BPF program for record size @i and mode @batched. */
static int bpf_load(unsigned int i, int batched)
{
	struct bpf_side *b = &bpf_sides[i][batched];
	struct stream_ringbuf *skel = stream_ringbuf__open();
	struct bpf_program *progs[5];
	unsigned int k;
	int err;

	if (!skel)
		return errno ? -errno : -ENOMEM;
	progs[0] = skel->progs.rb_small;
	progs[1] = skel->progs.rb_32;
	progs[2] = skel->progs.rb_64;
	progs[3] = skel->progs.rb_data;
	progs[4] = skel->progs.rb_data_max;
	b->prog = !rsizes[i].bpf_rec ? progs[3] :
		  rsizes[i].bpf_rec == 8 ? progs[0] :
		  rsizes[i].bpf_rec == 32 ? progs[1] : progs[2];
	b->prog_max = !rsizes[i].bpf_rec ? progs[4] : NULL;
	for (k = 0; k < 5; k++)
		bpf_program__set_autoload(progs[k], progs[k] == b->prog ||
					  progs[k] == b->prog_max);
	skel->rodata->target_nr = (int)rs_nr(&rsizes[i]);
	skel->rodata->submit_flags = batched ? BPF_RB_NO_WAKEUP : 0;
	err = bpf_map__set_max_entries(skel->maps.rb, RING_BYTES);
	if (!err)
		err = stream_ringbuf__load(skel);
	if (err) {
		bench_progress(SUITE, "loading the BPF program: %s",
			       strerror(-err));
		stream_ringbuf__destroy(skel);
		return err;
	}
	b->skel = skel;
	/*
	 * The producer position (the ring's count of bytes written), read
	 * from its producer page, mapped read-only as a consumer may.
	 */
	b->page = (size_t)sysconf(_SC_PAGESIZE);
	b->prod_pos = mmap(NULL, b->page, PROT_READ, MAP_SHARED,
			   bpf_map__fd(skel->maps.rb), (off_t)b->page);
	if (b->prod_pos == MAP_FAILED) {
		err = -errno;
		bench_progress(SUITE, "mapping the ring's producer page: %s",
			       strerror(-err));
		b->prod_pos = NULL;
		return err;
	}
	return 0;
}

static int bpf_drops(const struct bpf_side *b, uint64_t *sum)
{
	uint64_t v[ncpus_possible > 0 ? ncpus_possible : 1];
	uint32_t key = 0;
	int i;

	*sum = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.drops), &key, v))
		return -errno;
	for (i = 0; i < ncpus_possible; i++)
		*sum += v[i];
	return 0;
}

/* ----------------------------------------------------------------- run */

struct sample {
	double recs, drop_pct, calls;
};

/*
 * The trigger's rate with no record written: nothing attached (BASE_NONE),
 * or a probe on the tracepoint that keeps nothing (BASE_EMPTY: an lfq
 * SYSCALL source for a syscall the trigger does not make). The first is
 * the syscall's own cost; the second adds what tracing the syscall costs
 * before any record is written (the entry's slow path, the tracepoint,
 * the probe's call and filter), the ceiling for every tracer.
 */
enum { BASE_NONE, BASE_EMPTY, NBASE };
static const char *const base_name[NBASE] = { "untraced", "empty probe" };

static int run_baseline(const struct scen *sc, int kind, double *rate)
{
	struct run *r = calloc(1, sizeof(*r));
	LFQ_OPTS(lfq_create_opts, p, .type = LFQ_TYPE_MPSC, .slot_size = 32,
		 .slot_count = 128);
	struct lfq_source s = { .type = LFQ_SOURCE_SYSCALL,
				.syscall_nr = SYS_getpid };
	struct trigger_arg ta[PRODUCERS_MAX];
	pthread_t trig[PRODUCERS_MAX];
	uint64_t calls = 0;
	int i, id = -1, err = 0;

	if (!r)
		return -ENOMEM;
	if (kind == BASE_EMPTY) {
		err = lfq_create(&p, &r->q);
		if (!err) {
			id = lfq_source_attach(r->q, &s);
			err = id < 0 ? id : 0;
			if (err)
				lfq_close(r->q);
		}
		if (err) {
			bench_progress(SUITE, "empty probe: %s", strerror(-err));
			free(r);
			return err;
		}
	}
	r->sc = sc;
	pthread_barrier_init(&r->go, NULL, (unsigned int)sc->producers + 1);
	for (i = 0; i < sc->producers; i++) {
		ta[i] = (struct trigger_arg){ r, i };
		pthread_create(&trig[i], NULL, trigger_fn, &ta[i]);
	}
	pthread_barrier_wait(&r->go);
	r->t_start = bench_now_ns();
	sleep_ns(run_seconds_ms() * 1000000ll);
	atomic_store(&r->stop, 1);
	for (i = 0; i < sc->producers; i++) {
		pthread_join(trig[i], NULL);
		calls += r->calls[i];
	}
	*rate = (double)calls / ((double)(bench_now_ns() - r->t_start) / 1e9) /
		1e6;
	pthread_barrier_destroy(&r->go);
	if (kind == BASE_EMPTY) {
		err = lfq_source_detach(r->q, id);
		lfq_close(r->q);
	}
	free(r);
	bench_progress(SUITE, "%dcpu %-15s %-12s %16s %9.4f Mcall/s",
		       sc->producers, "", base_name[kind], "", *rate);
	return err;
}

static int run_one(const struct scen *sc, int sys, struct sample *out,
		   double *ring_per_rec)
{
	struct bpf_side *b = &bpf_sides[sc->rs_idx][sc->batched];
	struct run *r = calloc(1, sizeof(*r));
	struct trigger_arg ta[PRODUCERS_MAX];
	pthread_t trig[PRODUCERS_MAX], cons;
	struct bpf_link *link = NULL;
	uint64_t calls = 0, dropped = 0, drops0 = 0, t_trig, produced = 0;
	uint64_t prod0 = 0;
	int src_id = -1, err, i;
	struct lfq_stats st;
	double secs;

	if (!r)
		return -ENOMEM;
	r->sc = sc;
	r->sys = sys;
	if (sys_is_lfq(sys)) {
		r->rec = sc->rs->lfq_rec;
		err = lfq_setup(r, &src_id);
		if (err)
			goto out_free;
	} else {
		r->rec = sc->rs->bpf_rec;
		err = bpf_drops(b, &drops0);
		if (err)
			goto out_free;
		prod0 = *b->prod_pos;
		r->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.rb),
					 bpf_sample, r, NULL);
		if (!r->rb) {
			err = errno ? -errno : -ENOMEM;
			bench_progress(SUITE, "ring_buffer__new: %s",
				       strerror(-err));
			goto out_free;
		}
		link = bpf_program__attach(sys == SYS_BPF_MAX ? b->prog_max :
							     b->prog);
		if (!link) {
			err = errno ? -errno : -EINVAL;
			bench_progress(SUITE, "attaching the BPF program: %s",
				       strerror(-err));
			ring_buffer__free(r->rb);
			goto out_free;
		}
	}

	pthread_barrier_init(&r->go, NULL, (unsigned int)sc->producers + 2);
	for (i = 0; i < sc->producers; i++) {
		ta[i] = (struct trigger_arg){ r, i };
		pthread_create(&trig[i], NULL, trigger_fn, &ta[i]);
	}
	pthread_create(&cons, NULL, consumer_fn, r);
	pthread_barrier_wait(&r->go);
	r->t_start = bench_now_ns();
	sleep_ns(run_seconds_ms() * 1000000ll);
	atomic_store(&r->stop, 1);
	for (i = 0; i < sc->producers; i++) {
		pthread_join(trig[i], NULL);
		calls += r->calls[i];
	}
	t_trig = bench_now_ns();
	atomic_store(&r->phase, PHASE_STOPPED);
	while (!atomic_load(&r->empty))
		sleep_ns(100000);

	/* Stop the producer side: nothing more is written after this. */
	if (sys_is_lfq(sys))
		err = lfq_source_detach(r->q, src_id);
	else
		err = bpf_link__destroy(link);
	atomic_store(&r->phase, PHASE_DETACHED);
	pthread_join(cons, NULL);
	pthread_barrier_destroy(&r->go);
	if (err) {
		bench_progress(SUITE, "%s: detach: %s", sys_name[sys],
			       strerror(-err));
		goto out_close;
	}

	if (sys_is_lfq(sys)) {
		err = lfq_get_stats(r->q, &st);
		dropped = st.dropped;
		produced = st.produced;
	} else {
		err = bpf_drops(b, &dropped);
		dropped -= drops0;
		produced = *b->prod_pos - prod0;	/* bytes written */
	}
	if (!err)
		err = r->cons_err;
	if (err) {
		bench_progress(SUITE, "%s: consumer or counters: %s",
			       sys_name[sys], strerror(-err));
		goto out_close;
	}

	/* The accounting. */
	if (r->bad) {
		bench_progress(SUITE, "%s %s: %llu malformed records",
			       sys_name[sys], sc->name,
			       (unsigned long long)r->bad);
		err = -EBADMSG;
	} else if (r->own > calls || r->own + dropped < calls ||
		   (!r->foreign && r->own + dropped != calls) ||
		   (sys == SYS_LFQ && produced != r->own + r->foreign)) {
		bench_progress(SUITE, "%s %s: accounting broken: %llu calls, %llu records from them, %llu dropped, %llu from other processes, %llu committed (lfq)",
			       sys_name[sys], sc->name,
			       (unsigned long long)calls,
			       (unsigned long long)r->own,
			       (unsigned long long)dropped,
			       (unsigned long long)r->foreign,
			       (unsigned long long)produced);
		err = -EPROTO;
	} else if (r->foreign) {
		bench_progress(SUITE, "%s %s: %llu records from other processes (not counted)",
			       sys_name[sys], sc->name,
			       (unsigned long long)r->foreign);
	}
	if (!err) {
		uint64_t end = r->t_last > t_trig ? r->t_last : t_trig;

		secs = (double)(end - r->t_start) / 1e9;
		out->recs = (double)r->own / secs / 1e6;
		out->calls = (double)calls /
			     ((double)(t_trig - r->t_start) / 1e9) / 1e6;
		out->drop_pct = calls ? 100.0 * (double)dropped / (double)calls
				      : 0;
		bench_progress(SUITE, "%-20s %-12s %9.4f Mrec/s  %9.4f Mcall/s  drop %6.2f%%  (%llu records)",
			       sc->name, sys_name[sys], out->recs,
			       out->calls, out->drop_pct,
			       (unsigned long long)r->own);
		/*
		 * mixed: ring bytes per record, as the ring counts them (lfq:
		 * a record queue's produced is its head, in bytes; BPF: its
		 * producer position), which must equal the sum over the
		 * records received.
		 */
		if (!r->rec && r->own) {
			*ring_per_rec = (double)produced /
					(double)(r->own + r->foreign);
			if (produced != r->ring_bytes) {
				bench_progress(SUITE, "%s %s: %llu ring bytes in the records, the ring says %llu",
					       sys_name[sys], sc->name,
					       (unsigned long long)r->ring_bytes,
					       (unsigned long long)produced);
				err = -EPROTO;
			}
		}
	}
out_close:
	if (sys_is_lfq(sys))
		lfq_close(r->q);
	else
		ring_buffer__free(r->rb);
out_free:
	free(r);
	return err;
}

/* --------------------------------------------------------------- suite */

int suite_stream(void)
{
	struct scen sc[NSCEN];
	unsigned int nrep = bench_opts.repeats ? bench_opts.repeats : 1;
	unsigned int rep, s, i, j, n = 0;
	double *v[NSCEN][NSYS][4], *base[NBASE][2];
	int err = 0, sys, k;

	memset(v, 0, sizeof(v));
	for (k = 0; k < NBASE; k++)
		for (j = 0; j < 2; j++)
			if (!(base[k][j] = calloc(nrep, sizeof(double))))
				err = -ENOMEM;

	for (i = 0; i < NSIZES; i++)
		for (j = 0; j < 2; j++)
			for (k = 0; k < 2; k++) {
				struct scen *c = &sc[n++];

				c->rs = &rsizes[i];
				c->rs_idx = i;
				c->producers = (int)j + 1;
				c->batched = k;
				snprintf(c->name, sizeof(c->name), "%s %dcpu %s",
					 rsizes[i].name, c->producers,
					 k ? "batched" : "default");
			}
	if (bench_opts.cpus < 2) {
		bench_progress(SUITE, "needs 2 CPUs, has %d", bench_opts.cpus);
		return -ENODEV;
	}
	bench_progress(SUITE, "%d CPUs: producers on CPU 0 (and 1), consumer on CPU %d; %u KiB rings; %d ms runs",
		       bench_opts.cpus, bench_opts.cpus - 1, RING_BYTES / 1024,
		       run_seconds_ms());
	libbpf_set_print(libbpf_quiet);
	ncpus_possible = libbpf_num_possible_cpus();
	if (ncpus_possible <= 0)
		return ncpus_possible ? ncpus_possible : -ENODEV;
	for (i = 0; i < NSIZES && !err; i++)
		for (k = 0; k < 2 && !err; k++)
			err = bpf_load(i, k);
	/* Each of 1..256 in steps of about 4, shuffled: mean 128.5. */
	for (i = 0; i < MIXED_LENS; i++)
		mixed_len[i] = 1 + (i * 29 % MIXED_LENS) * 4 + i % 4;
	for (s = 0; s < NSCEN && !err; s++)
		for (sys = 0; sys < NSYS; sys++)
			for (k = 0; k < 4; k++) {
				v[s][sys][k] = calloc(nrep, sizeof(double));
				if (!v[s][sys][k])
					err = -ENOMEM;
			}

	for (rep = 0; rep < nrep && !err; rep++) {
		/* sc[0] and sc[2]: the first size, 1 and 2 producers. */
		for (k = 0; k < NBASE && !err; k++)
			for (j = 0; j < 2 && !err; j++)
				err = run_baseline(&sc[2 * j], k,
						   &base[k][j][rep]);
		for (s = 0; s < NSCEN && !err; s++) {
			for (k = 0; k < NSYS && !err; k++) {
				struct sample smp = { 0, 0, 0 };

				/* lfq first on even repeats, BPF on odd. */
				sys = (k + (int)rep) % NSYS;
				if (!sys_runs(sys, sc[s].rs))
					continue;
				err = run_one(&sc[s], sys, &smp,
					      &v[s][sys][3][rep]);
				v[s][sys][0][rep] = smp.recs;
				v[s][sys][1][rep] = smp.drop_pct;
				v[s][sys][2][rep] = smp.calls;
			}
		}
	}

	if (!err) {
		for (s = 0; s < NSCEN; s++)
			for (sys = 0; sys < NSYS; sys++) {
				if (!sys_runs(sys, sc[s].rs))
					continue;
				if (!sc[s].rs->lfq_rec)
					bench_result_samples(SUITE, sc[s].name,
							     sys_name[sys],
							     "ring bytes/rec",
							     "B", BENCH_LOWER,
							     v[s][sys][3],
							     nrep);
				bench_result_samples(SUITE, sc[s].name,
						     sys_name[sys], "records/s",
						     "Mrec/s", BENCH_HIGHER,
						     v[s][sys][0], nrep);
				bench_result_samples(SUITE, sc[s].name,
						     sys_name[sys], "drop %", "%",
						     BENCH_LOWER, v[s][sys][1],
						     nrep);
				bench_result_samples(SUITE, sc[s].name,
						     sys_name[sys],
						     "trigger calls/s",
						     "Mcall/s", BENCH_HIGHER,
						     v[s][sys][2], nrep);
			}
		for (k = 0; k < NBASE; k++)
			for (j = 0; j < 2; j++)
				bench_result_samples(SUITE, j ? "2cpu" : "1cpu",
						     base_name[k],
						     "trigger calls/s",
						     "Mcall/s", BENCH_HIGHER,
						     base[k][j], nrep);
		for (i = 0; i < NSIZES && rsizes[i].lfq_rec; i++) {
			bench_result(SUITE, rsizes[i].name, "lfq",
				     "ring bytes/rec", "B", BENCH_LOWER,
				     rsizes[i].lfq_rec, rsizes[i].lfq_rec,
				     rsizes[i].lfq_rec);
			bench_result(SUITE, rsizes[i].name, "bpf_ringbuf",
				     "ring bytes/rec", "B", BENCH_LOWER,
				     rsizes[i].bpf_rec + 8,
				     rsizes[i].bpf_rec + 8,
				     rsizes[i].bpf_rec + 8);
			bench_result(SUITE, rsizes[i].name, "lfq_records",
				     "ring bytes/rec", "B", BENCH_LOWER,
				     rsizes[i].lfq_rec + 8,
				     rsizes[i].lfq_rec + 8,
				     rsizes[i].lfq_rec + 8);
		}
	}

	for (s = 0; s < NSCEN; s++)
		for (sys = 0; sys < NSYS; sys++)
			for (k = 0; k < 4; k++)
				free(v[s][sys][k]);
	for (k = 0; k < NBASE; k++)
		for (j = 0; j < 2; j++)
			free(base[k][j]);
	for (i = 0; i < NSIZES; i++)
		for (k = 0; k < 2; k++) {
			struct bpf_side *b = &bpf_sides[i][k];

			if (b->prod_pos)
				munmap((void *)b->prod_pos, b->page);
			stream_ringbuf__destroy(b->skel);
		}
	return err;
}
