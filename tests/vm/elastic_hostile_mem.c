// SPDX-License-Identifier: GPL-2.0
/*
 * elastic_hostile_mem.c - hostile_mem.c on elastic queues
 * (LFQ_CREATE_ELASTIC): a process writes random values into every page it
 * may map writable while the kernel produces into and consumes from the
 * queues, and they grow and shrink:
 *
 *   A (MPSC)  <- SYNTH (2 threads, a hardirq and a softirq hrtimer)
 *             <- SYSCALL (getppid, which this test and its helper call)
 *   B1 (SPSC) -> ECHO -> C (MPSC)      B1, B2: this process produces;
 *   B2 (MPSC) -> ECHO -> C             the kernel consumes and copies
 *
 * All four are elastic, of 64-slot segments (seg_min 2, seg_max 16). With
 * role ALL this process may write the producer and consumer pages, every
 * segment's head and tail word and every frame (commit words and slots):
 * the writes aim at those words with values that matter (seals set and
 * cleared, ends and bases +/- 1, a segment's worth ahead, commit words of
 * this lap or of none) and at random bytes anywhere, at least 10^6 of
 * them, interleaved with honest pushes (B1, B2: through LFQ_IOC_GROW when
 * a segment is full) and pops (A, C; now and then every sealed segment
 * declared done, so that A and C keep growing and shrinking while SYNTH
 * and ECHO write into them), and with the system calls that make
 * the kernel read those words (poll, WAIT, STATS, WAKE, GROW of any frame,
 * CLAIM and its release, which runs the orphan scan over every segment,
 * getppid); a forked helper races more of them. A frame whose segment was
 * retired meanwhile is a SIGBUS: caught and counted.
 *
 * The segment table (the links, the segments' states and bases) is
 * written by the kernel alone: it cannot be mapped writable (EPERM), made
 * writable (mprotect: EACCES) or written through /proc/self/mem, even by
 * a file with both roles. Sampled throughout, it stays well formed.
 *
 * Afterwards: every source detaches; the counters the kernel keeps itself
 * were monotonic and bounded, stop moving once detached, match the calls
 * made (wake_calls exactly); a fresh elastic queue works end to end, and
 * every module reference goes with the files and mappings. The VM runner
 * fails the run on any splat.
 *
 *   elastic_hostile_mem [WRITES [SEED]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define PG		4096ul
#define SEG		64u		/* slots per segment */
#define SLOT		64u
#define SEGS_MIN	2u
#define SEGS		16u		/* seg_max */
#define NQ		4
#define WRITES_MIN	1000000ull
#define SECS_MIN	5
#define SYNTH_COUNT	100000ull	/* records per SYNTH producer */
#define SYNTH_PRODS	4ull
#define DISCARDED	0x8000000000000000ull
#define SEALED		LFQ_SEG_SEALED

struct q {
	const char *name;
	int fd;
	struct lfq_info info;
	unsigned char *base;
	const struct lfq_segtab *segtab;
	const struct lfq_seg_meta *meta;
	struct lfq_seg_word *heads, *tails;
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	struct lfq_stats last;	/* last sample */
	uint64_t wakes;		/* our LFQ_IOC_WAKE calls */
};

/* Counted by the helper too. */
struct shared {
	uint64_t getppid;
	uint64_t waits[NQ];	/* LFQ_IOC_WAIT calls with a timeout */
	uint64_t wakes[NQ];	/* the helper's LFQ_IOC_WAKE calls */
	int stop;
};

static struct q qs[NQ];
static struct shared *sh;
static uint64_t rng = 0x243f6a8885a308d3ull;
static sigjmp_buf bus_jb;
static volatile sig_atomic_t in_frames;
static uint64_t writes, pushes, sigbus;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void on_bus(int sig)
{
	if (in_frames) {
		in_frames = 0;
		siglongjmp(bus_jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t ld(const volatile void *p)
{
	return __atomic_load_n((const volatile uint64_t *)p, __ATOMIC_ACQUIRE);
}

/* Frame @f of @q: its commit words (MPSC), then its slots. */
static unsigned char *frame(const struct q *q, uint32_t f)
{
	return q->base + q->info.frames_offset + (uint64_t)f * q->info.frame_size;
}

static unsigned char *slot(const struct q *q, uint32_t f, uint64_t i)
{
	return frame(q, f) + q->info.commit_size + (i % SEG) * SLOT;
}

static uint32_t frame_of(uint32_t v)
{
	return v < SEGS ? v : 0;
}

/* Create @q, role ALL; map the header and segment table read-only, the
 * rest writable. Returns how the segment table resisted: 3 refusals.
 */
static int make_q(struct q *q, const char *name, uint32_t type)
{
	struct lfq_create c = { .size = sizeof(c), .type = type,
				.flags = LFQ_CREATE_ELASTIC, .slot_size = SLOT,
				.slot_count = SEG, .seg_min = SEGS_MIN,
				.seg_max = SEGS };
	struct lfq_info *in = &q->info;
	unsigned char *st;
	int refused = 0, mem;
	void *p;

	q->name = name;
	in->size = sizeof(*in);
	q->fd = open_lfq();
	if (ioctl(q->fd, LFQ_IOC_CREATE, &c) || ioctl(q->fd, LFQ_IOC_INFO, in) ||
	    in->size < LFQ_INFO_SIZE_VER3)
		goto fail;
	q->base = mmap(NULL, in->map_size, PROT_READ, MAP_SHARED, q->fd, 0);
	if (q->base == MAP_FAILED ||
	    mmap(q->base + in->prod_offset, in->segtab_offset - in->prod_offset,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, q->fd,
		 (off_t)in->prod_offset) == MAP_FAILED ||
	    mmap(q->base + in->heads_offset, in->map_size - in->heads_offset,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, q->fd,
		 (off_t)in->heads_offset) == MAP_FAILED)
		goto fail;
	q->segtab = (const void *)(q->base + in->segtab_offset);
	q->meta = (const void *)(q->segtab + 1);
	q->heads = (void *)(q->base + in->heads_offset);
	q->tails = (void *)(q->base + in->tails_offset);
	q->prod = (void *)(q->base + in->prod_offset);
	q->cons = (void *)(q->base + in->cons_offset);

	/* The segment table: not writable, by any way we have. */
	st = q->base + in->segtab_offset;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		 (off_t)in->segtab_offset);
	refused += p == MAP_FAILED && errno == EPERM;
	if (p != MAP_FAILED)
		munmap(p, PG);
	refused += mprotect(st, PG, PROT_READ | PROT_WRITE) && errno == EACCES;
	mem = open("/proc/self/mem", O_RDWR);
	if (mem >= 0) {
		uint32_t junk = SEGS + 5;

		refused += pwrite(mem, &junk, sizeof(junk),
				  (off_t)(uintptr_t)st) < 0 &&
			   q->segtab->pseg < SEGS;
		close(mem);
	}
	return refused;
fail:
	tap_diag("queue %s setup: %s", name, strerror(errno));
	exit(1);
}

static struct lfq_stats stats(struct q *q)
{
	struct lfq_stats st = { .size = sizeof(st) };

	if (ioctl(q->fd, LFQ_IOC_STATS, &st))
		tap_diag("STATS %s: %s", q->name, strerror(errno));
	return st;
}

/* A value worth writing into a head or tail word around @h (a head) and
 * @t (a tail) of a segment that began at @b.
 */
static uint64_t value(uint64_t h, uint64_t t, uint64_t b)
{
	switch (below(18)) {
	case 0:
		return 0;
	case 1:
		return ~0ull;
	case 2:
		return h | SEALED;		/* sealed where it stands */
	case 3:
		return h & ~SEALED;		/* unsealed */
	case 4:
		return (h & ~SEALED) + 1;
	case 5:
		return (h & ~SEALED) - 1;
	case 6:
		return t + SEG;			/* full */
	case 7:
		return t + SEG + 1;
	case 8:
		return t - 1;
	case 9:
		return b;
	case 10:
		return b - 1;
	case 11:
		return b + SEG;
	case 12:
		return SEALED;			/* sealed at 0 */
	case 13:
		return (b + below(SEG)) | (below(2) ? SEALED : 0);
	case 14:
		return h;			/* for a tail: all consumed */
	default:
		return rnd();
	}
}

/* One hostile write somewhere in @q's writable pages. */
static void hostile_write(struct q *q)
{
	uint32_t f = below(SEGS), n;
	uint64_t h = ld(&q->heads[f].v), t = ld(&q->tails[f].v);
	uint64_t b = q->meta[f].base, i;
	volatile __u64 *w;

	switch (below(12)) {
	case 0: case 1: case 2:
		q->heads[f].v = value(h, t, b);
		return;
	case 3: case 4: case 5:
		q->tails[f].v = value(h, t, b);
		return;
	case 6:
		switch (below(5)) {
		case 0:
			w = (volatile __u64 *)&q->prod->need_space;
			break;
		case 1:
			w = (volatile __u64 *)&q->cons->need_data;
			break;
		case 2:
			w = &q->prod->full_events;
			break;
		case 3:
			n = below(LFQ_MPSC_CLAIMS);
			w = below(2) ? &q->prod->claims[n].start :
				       &q->prod->claims[n].end;
			*w = below(2) ? t + below(2 * SEG) : rnd();
			return;
		default:
			w = &q->cons->empty_events;
			break;
		}
		*w = value(h, t, b);
		return;
	case 7: case 8:
		if (q->info.commit_size) {
			/*
			 * A commit word of the segment's life: this lap,
			 * discarded, a later lap, or garbage; indices from
			 * its tail word, which is garbage too (a segment
			 * whose commit words name indices far ahead, linked
			 * after a head sealed below its base, once made the
			 * kernel's reclaim loop for ever: HOSTILE MEMORY H5).
			 */
			i = (below(2) ? t : b) + below(2 * SEG);
			w = (volatile __u64 *)frame(q, f) + i % SEG;
			switch (below(4)) {
			case 0:
				*w = i + 1;
				return;
			case 1:
				*w = (i + 1) | DISCARDED;
				return;
			case 2:
				*w = i + 1 + SEG;
				return;
			default:
				*w = rnd();
				return;
			}
		}
		/* fall through */
	case 9:
		w = (volatile __u64 *)(frame(q, f) + q->info.commit_size +
					  8 * below(2 * SEG * SLOT / 8));
		*w = rnd();
		return;
	default:
		/* Any byte of any writable page, any width. */
		i = below(2) ? q->info.prod_offset + below(2 * PG) :
			       q->info.heads_offset +
			       below(q->info.map_size - q->info.heads_offset);
		switch (below(3)) {
		case 0:
			*(volatile uint8_t *)(q->base + i) = (uint8_t)rnd();
			return;
		case 1:
			*(volatile uint32_t *)(q->base + (i & ~3ull)) =
				(uint32_t)rnd();
			return;
		default:
			*(volatile uint64_t *)(q->base + (i & ~7ull)) =
				value(h, t, b);
			return;
		}
	}
}

/*
 * An honest push into a queue we produce (B1 SPSC, B2 MPSC): in the
 * producers' segment, sealing it and asking LFQ_IOC_GROW for the next
 * when it is full. Garbage that reads as full just grows or gives up.
 */
static void push(struct q *q, uint64_t seq)
{
	uint32_t f = frame_of(__atomic_load_n(&q->segtab->pseg,
					      __ATOMIC_ACQUIRE));
	uint64_t h = ld(&q->heads[f].v), t = ld(&q->tails[f].v);
	int next;

	if (h & SEALED || h - t >= SEG) {
		if (!(h & SEALED))
			__atomic_compare_exchange_n(&q->heads[f].v, &h,
						    h | SEALED, 0,
						    __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED);
		next = ioctl(q->fd, LFQ_IOC_GROW, (unsigned long)f);
		if (next < 0 && errno != EAGAIN)
			tap_diag("GROW %s frame %u: %s", q->name, f,
				 strerror(errno));
		return;
	}
	if (q->info.commit_size &&
	    !__atomic_compare_exchange_n(&q->heads[f].v, &h, h + 1, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return;
	memcpy(slot(q, f, h), &seq, sizeof(seq));
	if (q->info.commit_size)
		__atomic_store_n((uint64_t *)frame(q, f) + h % SEG, h + 1,
				 __ATOMIC_RELEASE);
	else
		__atomic_store_n(&q->heads[f].v, h + 1, __ATOMIC_RELEASE);
}

/* An honest pop from a queue the kernel produces into (A, C). */
static void pop(struct q *q)
{
	uint32_t f = frame_of(__atomic_load_n(&q->segtab->cseg,
					      __ATOMIC_ACQUIRE));
	uint64_t h = ld(&q->heads[f].v), t = ld(&q->tails[f].v), v;

	if (t == (h & ~SEALED))
		return;		/* empty, or drained: the kernel moves on */
	v = ld((uint64_t *)frame(q, f) + t % SEG);
	if ((v & ~DISCARDED) == t + 1)
		__atomic_store_n(&q->tails[f].v, t + 1, __ATOMIC_RELEASE);
}

/*
 * A consumer in a hurry (A, C): every linked segment but the producers'
 * is declared done, its unpublished slots of the last lap marked
 * discarded and its tail set to where the next one begins, so that the
 * kernel retires it (kernel producers may still be writing there: they
 * are in an RCU read-side section, which the kernel waits for).
 */
static void force_drain(struct q *q)
{
	uint32_t p = frame_of(__atomic_load_n(&q->segtab->pseg,
					      __ATOMIC_ACQUIRE)), f, n;
	uint64_t end, b, i, *w;

	for (f = 0; f < SEGS; f++) {
		n = __atomic_load_n(&q->meta[f].next, __ATOMIC_ACQUIRE);
		if (f == p || !n || n > SEGS ||
		    __atomic_load_n(&q->meta[f].state, __ATOMIC_ACQUIRE) !=
		    LFQ_SEG_LIVE)
			continue;
		end = q->meta[n - 1].base;
		b = q->meta[f].base;
		if (end - b > SEG)
			continue;	/* read while it changed */
		for (i = b; i != end; i++) {
			w = (uint64_t *)frame(q, f) + i % SEG;
			if ((int64_t)(i - ((ld(w) & ~DISCARDED) - 1)) > 0)
				*w = (i + 1) | DISCARDED;
		}
		__atomic_store_n(&q->tails[f].v, end, __ATOMIC_RELEASE);
	}
}

/* The kernel-kept counters of @now must not be below those of @then, and
 * the segment counters stay within the queue's bounds.
 */
static int sane(const struct lfq_stats *then, const struct lfq_stats *now)
{
	uint64_t seg_bytes = 3 * PG;	/* MPSC: commit page, slot page */

	return now->dropped >= then->dropped &&
	       now->wakeups >= then->wakeups &&
	       now->wake_calls >= then->wake_calls &&
	       now->waits >= then->waits && now->orphaned >= then->orphaned &&
	       now->grows >= then->grows && now->shrinks >= then->shrinks &&
	       now->segments_peak >= then->segments_peak &&
	       now->segments >= 1 && now->segments <= SEGS &&
	       now->segments_peak <= SEGS && now->pool <= SEGS &&
	       now->bytes <= 64 * PG + SEGS * seg_bytes;
}

static int same_kernel_counters(const struct lfq_stats *a,
				const struct lfq_stats *b)
{
	return a->dropped == b->dropped && a->wakeups == b->wakeups &&
	       a->wake_calls == b->wake_calls && a->waits == b->waits &&
	       a->grows == b->grows && a->orphaned == b->orphaned;
}

/* The segment table, as the kernel alone writes it: well formed. */
static int segtab_ok(const struct q *q)
{
	uint32_t f, next, state, live = 0;

	if (q->segtab->pseg >= SEGS || q->segtab->cseg >= SEGS)
		return 0;
	for (f = 0; f < SEGS; f++) {
		next = __atomic_load_n(&q->meta[f].next, __ATOMIC_RELAXED);
		state = __atomic_load_n(&q->meta[f].state, __ATOMIC_RELAXED);
		if (state > LFQ_SEG_RETIRED ||
		    (next > SEGS && next != 0xffffffffu))
			return 0;
		live += state == LFQ_SEG_LIVE;
	}
	return live <= SEGS;
}

/* Syscalls that make the kernel read the hostile pages. */
static void poke(int i, int helper)
{
	struct q *q = &qs[i];
	struct pollfd p = { .fd = q->fd, .events = POLLIN | POLLOUT };
	struct lfq_wait w = { .size = sizeof(w),
			      .flags = below(2) ? LFQ_WAIT_DATA : LFQ_WAIT_SPACE,
			      .min_count = 1 + below(SEG) };
	struct lfq_claim c = { .size = sizeof(c) };

	switch (below(8)) {
	case 0:
		poll(&p, 1, 0);
		break;
	case 1:
		w.timeout_ns = below(2) ? 0 : 1000000;
		if (w.timeout_ns)
			__atomic_fetch_add(&sh->waits[i], 1, __ATOMIC_RELAXED);
		ioctl(q->fd, LFQ_IOC_WAIT, &w);
		break;
	case 2:
		stats(q);
		break;
	case 3:
		syscall(SYS_getppid);
		__atomic_fetch_add(&sh->getppid, 1, __ATOMIC_RELAXED);
		break;
	case 4:
		ioctl(q->fd, LFQ_IOC_GROW, (unsigned long)below(SEGS + 2));
		break;
	case 5:
		/* A claim dies: the orphan scan walks every segment. */
		if (q->info.commit_size && !ioctl(q->fd, LFQ_IOC_CLAIM, &c)) {
			c.flags = LFQ_CLAIM_FREE;
			ioctl(q->fd, LFQ_IOC_CLAIM, &c);
		}
		break;
	default:
		if (!ioctl(q->fd, LFQ_IOC_WAKE, 1ul + below(3)) || errno != EINVAL) {
			if (helper)
				__atomic_fetch_add(&sh->wakes[i], 1,
						   __ATOMIC_RELAXED);
			else
				q->wakes++;
		}
		break;
	}
}

/*
 * 256 hostile writes, 4 honest pushes, a pop: into frames too, whose
 * segment may be retired under us (SIGBUS: counted, the round ends).
 */
static void hostile_round(void)
{
	int k;

	if (sigsetjmp(bus_jb, 1)) {
		sigbus++;
		return;
	}
	in_frames = 1;
	for (k = 0; k < 256; k++, writes++)
		hostile_write(&qs[below(NQ)]);
	for (k = 0; k < 4; k++)
		push(&qs[1 + below(2)], pushes++);
	pop(&qs[below(2) ? 0 : 3]);
	in_frames = 0;
}

/*
 * Now and then a calm millisecond: A and C drained by force, and no
 * hostile write meanwhile, so that the kernel's periodic reclaim (every
 * seg_idle_ms / 2) may find their oldest segments done and retire them.
 */
static void calm_round(void)
{
	if (sigsetjmp(bus_jb, 1)) {
		sigbus++;
		return;
	}
	in_frames = 1;
	force_drain(&qs[0]);
	force_drain(&qs[3]);
	in_frames = 0;
	usleep(1000);
}

/* Read or write seg_idle_ms; @buf holds the value. */
static int idle_param(char *buf, size_t len, int write)
{
	FILE *p = fopen("/sys/module/lfq/parameters/seg_idle_ms",
			write ? "w" : "r");
	int ok;

	if (!p)
		return 0;
	ok = write ? fputs(buf, p) >= 0 : fgets(buf, (int)len, p) != NULL;
	return !fclose(p) && ok;
}

static void helper(void)
{
	rng ^= 0x5555;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		poke(below(NQ), 1);
	_exit(0);
}

static int attach(struct q *q, struct lfq_source s)
{
	int id;

	s.size = sizeof(s);
	id = ioc_source_attach(q->fd, &s);
	if (id < 0)
		tap_diag("attach type %u to %s: %s", s.type, q->name,
			 strerror(-id));
	return id;
}

/*
 * A fresh elastic queue after all that: SYNTH's records arrive in order
 * through several segments, and every record is accounted for. SYNTH is a
 * kernel producer: it never allocates, it takes spares from the pool, and
 * a record it makes while the refill work has not yet run is dropped,
 * counted, and leaves a gap in the sequence (on the debug kernel under TCG
 * the work item can be late by more than a segment's worth of records). So
 * the test asks for an exact account, not for zero drops: the gaps are
 * the drops, what arrived and what was dropped make the count, the queue
 * never reached seg_max (a drop came from an empty pool), and at least
 * three quarters arrived.
 */
static int fresh_queue_works(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SEG, .flags = LFQ_CREATE_ELASTIC, .seg_min = 2,
		 .seg_max = 64);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 1, .count = 20 * SEG,
				.thread_period_ns = 20000 };
	struct lfq_event_synth ev;
	struct lfq_stats st = { .size = sizeof(st) };
	struct lfq *q;
	uint64_t n = 0, next = 0, gaps = 0, bad = 0;
	int64_t end = now_ns() + 30ll * 1000000000;
	int id, ok;

	id = lfq_create(&o, &q);
	if (id) {
		tap_diag("fresh queue: lfq_create: %s", strerror(-id));
		return 0;
	}
	id = lfq_source_attach(q, &s);
	/* Three segments' worth first: the queue grows. */
	while (id >= 0 && !lfq_get_stats(q, &st) && st.produced < 3 * SEG &&
	       now_ns() < end)
		msleep(1);
	/* Until the last number has arrived or been dropped. */
	while (id >= 0 && next < s.count && now_ns() < end) {
		if (lfq_pop(q, &ev, sizeof(ev))) {
			if (!lfq_get_stats(q, &st) && n + st.dropped >= s.count)
				break;
			sched_yield();
			continue;
		}
		n++;
		if (ev.hdr.type != LFQ_EVENT_SYNTH || ev.seq < next) {
			bad++;
			continue;
		}
		gaps += ev.seq - next;
		next = ev.seq + 1;
	}
	/* The stream is over: a last pop finds nothing more. */
	if (!lfq_pop(q, &ev, sizeof(ev)))
		bad++;
	lfq_get_stats(q, &st);
	if (id >= 0)
		lfq_source_detach(q, id);
	lfq_close(q);
	gaps += s.count - next;
	tap_diag("fresh queue: %llu records, %llu out of order, %llu missing, "
		 "%llu dropped, %llu grows, peak %llu segments",
		 (unsigned long long)n, (unsigned long long)bad,
		 (unsigned long long)gaps, (unsigned long long)st.dropped,
		 (unsigned long long)st.grows,
		 (unsigned long long)st.segments_peak);
	ok = id >= 0 && !bad && gaps == st.dropped &&
	     n + st.dropped == s.count && st.grows &&
	     st.segments_peak < o.seg_max && st.dropped <= s.count / 4;
	return ok;
}

int main(int argc, char **argv)
{
	struct lfq_stats st0[NQ], st1[NQ], st2[NQ];
	uint64_t min_writes = WRITES_MIN, samples = 0, next_sample = 0;
	uint64_t insane = 0, badtab = 0, bound, helper_wakes;
	int ids[4], i, ok, status, rc, refused = 0, lowered;
	char idle[32] = "";
	int64_t t0, min_ns = SECS_MIN * 1000000000ll;
	pid_t pid;

	if (argc > 1)
		min_writes = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		rng = strtoull(argv[2], NULL, 0);
	tap_diag("seed %llu (replay: elastic_hostile_mem %llu %llu)",
		 (unsigned long long)rng, (unsigned long long)min_writes,
		 (unsigned long long)rng);
	tap_plan(12);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	signal(SIGBUS, on_bus);
	/* The periodic reclaim every 10 ms rather than 500. */
	lowered = idle_param(idle, sizeof(idle), 0) && idle_param("20", 0, 1);

	refused += make_q(&qs[0], "A", LFQ_TYPE_MPSC);
	refused += make_q(&qs[1], "B1", LFQ_TYPE_SPSC);
	refused += make_q(&qs[2], "B2", LFQ_TYPE_MPSC);
	refused += make_q(&qs[3], "C", LFQ_TYPE_MPSC);
	tap_ok(refused == 3 * NQ,
	       "the segment table of 4 elastic queues, by a file with both "
	       "roles: mmap PROT_WRITE is EPERM, mprotect to writable EACCES, "
	       "a write through /proc/self/mem fails (%d of %d refused)",
	       refused, 3 * NQ);
	ids[0] = attach(&qs[0], (struct lfq_source){
		.type = LFQ_SOURCE_SYNTH, .threads = 2, .hardirq_timers = 1,
		.softirq_timers = 1, .count = SYNTH_COUNT,
		.thread_period_ns = 20000, .timer_period_ns = 50000 });
	ids[1] = attach(&qs[0], (struct lfq_source){
		.type = LFQ_SOURCE_SYSCALL, .syscall_nr = SYS_getppid });
	ids[2] = attach(&qs[1], (struct lfq_source){
		.type = LFQ_SOURCE_ECHO, .target_fd = qs[3].fd });
	ids[3] = attach(&qs[2], (struct lfq_source){
		.type = LFQ_SOURCE_ECHO, .target_fd = qs[3].fd });
	tap_ok(ids[0] >= 0 && ids[1] >= 0 && ids[2] >= 0 && ids[3] >= 0,
	       "SYNTH and SYSCALL into A, ECHO B1 -> C and B2 -> C attached, "
	       "all elastic");
	for (i = 0; i < NQ; i++)
		st0[i] = qs[i].last = stats(&qs[i]);

	pid = fork();
	if (pid == 0)
		helper();

	t0 = now_ns();
	while (writes < min_writes || now_ns() - t0 < min_ns) {
		hostile_round();
		poke(below(NQ), 0);
		if (!below(16))
			calm_round();
		if (writes >= next_sample) {
			next_sample = writes + 4096;
			for (i = 0; i < NQ; i++) {
				struct lfq_stats st = stats(&qs[i]);

				insane += !sane(&qs[i].last, &st);
				badtab += !segtab_ok(&qs[i]);
				qs[i].last = st;
			}
			samples++;
		}
		if (now_ns() - t0 > 120ll * 1000000000)
			break;
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	waitpid(pid, &status, 0);
	tap_ok(writes >= min_writes && WIFEXITED(status) && !WEXITSTATUS(status),
	       "%llu hostile writes in %.1f s into 4 elastic queues' writable "
	       "pages (heads, tails, frames, control pages), %llu honest "
	       "pushes, %llu getppid, %llu SIGBUS (frames retired under us)",
	       (unsigned long long)writes, (now_ns() - t0) / 1e9,
	       (unsigned long long)pushes, (unsigned long long)sh->getppid,
	       (unsigned long long)sigbus);
	tap_ok(qs[0].last.shrinks + qs[3].last.shrinks &&
	       qs[0].last.grows + qs[3].last.grows > 2 * SEGS,
	       "A and C kept growing and shrinking through the writes: A %llu "
	       "grows, %llu shrinks; C %llu grows, %llu shrinks (seg_idle_ms %s)",
		 (unsigned long long)qs[0].last.grows,
		 (unsigned long long)qs[0].last.shrinks,
		 (unsigned long long)qs[3].last.grows,
		 (unsigned long long)qs[3].last.shrinks,
		 lowered ? "20" : "unchanged");
	tap_ok(!insane, "dropped, wakeups, wake_calls, waits, orphaned, grows, "
	       "shrinks, segments_peak monotonic, segments, pool, bytes within "
	       "bounds, in %llu samples of 4 queues (%llu not)",
	       (unsigned long long)samples, (unsigned long long)insane);
	tap_ok(!badtab, "the segment table stayed well formed in %llu samples "
	       "of 4 queues (%llu not)", (unsigned long long)samples,
	       (unsigned long long)badtab);

	rc = 0;
	for (i = 0; i < 4; i++) {
		int q = i < 2 ? 0 : i - 1;

		if (ids[i] >= 0 && ioc_source_detach(qs[q].fd, ids[i]))
			rc++;
	}
	tap_ok(!rc, "every source detached (%d failed)", rc);

	/* The ECHO threads are gone, nothing in the kernel produces now. */
	for (i = 0; i < NQ; i++)
		st1[i] = stats(&qs[i]);
	msleep(300);
	ok = 1;
	for (i = 0; i < NQ; i++) {
		st2[i] = stats(&qs[i]);
		if (!same_kernel_counters(&st1[i], &st2[i]) ||
		    !sane(&qs[i].last, &st1[i]) || !sane(&st1[i], &st2[i]))
			ok = 0;
		tap_diag("%s: dropped %llu, wakeups %llu, wake_calls %llu, waits "
			 "%llu (of %llu WAITs), orphaned %llu, %llu grows, %llu "
			 "shrinks, %llu segments (peak %llu), pool %llu, %llu "
			 "bytes", qs[i].name,
			 (unsigned long long)st2[i].dropped,
			 (unsigned long long)st2[i].wakeups,
			 (unsigned long long)st2[i].wake_calls,
			 (unsigned long long)st2[i].waits,
			 (unsigned long long)sh->waits[i],
			 (unsigned long long)st2[i].orphaned,
			 (unsigned long long)st2[i].grows,
			 (unsigned long long)st2[i].shrinks,
			 (unsigned long long)st2[i].segments,
			 (unsigned long long)st2[i].segments_peak,
			 (unsigned long long)st2[i].pool,
			 (unsigned long long)st2[i].bytes);
	}
	tap_ok(ok, "the kernel's own counters stand still once detached");
	ok = 1;
	for (i = 0; i < NQ; i++) {
		helper_wakes = sh->wakes[i];
		if (st2[i].wake_calls - st0[i].wake_calls !=
		    qs[i].wakes + helper_wakes)
			ok = 0;
	}
	tap_ok(ok, "wake_calls counts exactly the LFQ_IOC_WAKE calls made");
	/* What A's sources could have tried: SYNTH's records, one per
	 * getppid (only this test calls it; a little slack for others).
	 */
	bound = SYNTH_PRODS * SYNTH_COUNT + sh->getppid + 1000;
	tap_ok(st2[0].dropped <= bound,
	       "A: dropped %llu <= %llu, what SYNTH and SYSCALL could produce",
	       (unsigned long long)st2[0].dropped, (unsigned long long)bound);

	for (i = 0; i < NQ; i++) {
		munmap(qs[i].base, qs[i].info.map_size);
		close(qs[i].fd);
	}
	if (lowered)
		idle_param(idle, 0, 1);
	tap_ok(fresh_queue_works(), "a fresh elastic MPSC queue: SYNTH's %u "
	       "records arrive in order through its segments, each gap a "
	       "counted drop (empty pool, never seg_max), >= 3/4 arrived",
	       20 * SEG);
	for (i = 0; i < 50 && lfq_module_refcnt() > 0; i++)
		msleep(100);
	tap_ok(lfq_module_refcnt() == 0, "every module reference gone with the files and "
	       "mappings (refcnt %d)", lfq_module_refcnt());
	return tap_failed ? 1 : 0;
}
