// SPDX-License-Identifier: GPL-2.0
/*
 * races.c - lifetime races against the real module, in loops: attach by
 * name vs unlink vs re-create; mmap and munmap vs close of the same fd
 * from another thread; poll and LFQ_IOC_WAIT vs close; and, all the while,
 * module removal attempts, which must fail (open files and names pin the
 * module) without disturbing anything. The name is re-created as a fixed
 * or an elastic queue (LFQ_CREATE_ELASTIC) in turn, so every loop meets
 * both. Run under the debug and KCSAN kernels, any use-after-free, lock or
 * RCU misuse shows up as a splat.
 *
 * Elastic frames: two elastic queues grow and shrink (a producer pushing
 * in bursts, a consumer that pauses; seg_idle_ms lowered so that spare
 * segments are freed too) while a thread maps both and reads their frames
 * at random: a read finds only its own queue's records or zeroes (a frame
 * shows its segment's pages from allocation to free, zeros without one);
 * never a SIGBUS or SIGSEGV, never the other queue's data or anything else.
 *
 *   races [-s SECONDS]     (default 5)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define NAME	"t-race"
#define SLOT	64u
#define SEG	64u		/* elastic: slots per segment */
#define SEGS	16u		/* elastic: seg_max */
#define IDLE_MS	"40"		/* seg_idle_ms while frames are raced */
#define IDLE_PARAM "/sys/module/lfq/parameters/seg_idle_ms"

static volatile int stop;
static uint64_t n_attach, n_attach_fail, n_unlink, n_create, n_map, n_poll,
		n_rmmod, n_rmmod_ok, n_unexpected, n_create_el;
static int shared_fd = -1;	/* swapped under the threads' feet */
static __thread const char *who = "main";	/* for a fatal signal */

static void bump(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* An error no race explains: count it, and say which (the first few). */
static void unexpected(const char *what, int err)
{
	if (__atomic_fetch_add(&n_unexpected, 1, __ATOMIC_RELAXED) < 5)
		tap_diag("unexpected: %s -> %d (%s)", what, err, ename(-err));
}

/* Create NAME: an MPSC queue (@elastic: of SEGS segments at most) whose
 * creator is its consumer.
 */
static int create_race_queue(struct lfq **q, int elastic)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 64,
		 .slot_count = 64, .name = NAME, .mode = 0600,
		 .role = LFQ_ROLE_CONSUMER);

	if (elastic) {
		o.flags = LFQ_CREATE_ELASTIC;
		o.seg_min = 1;
		o.seg_max = SEGS;
	}
	return lfq_create(&o, q);
}

/* Attach by name in every role, push or pop a little, close. */
static void *attacher(void *arg)
{
	LFQ_OPTS(lfq_open_opts, o, .name = NAME,
		 .role = (uint32_t)(uintptr_t)arg);
	struct lfq *q;
	uint64_t v = 1;
	int err;

	who = o.role & LFQ_ROLE_PRODUCER ? "producing attacher" :
					   "consuming attacher";
	while (!stop) {
		err = lfq_open(&o, &q);
		if (err) {
			/* Gone (unlinked), role taken, or being re-created. */
			if (err != -ENOENT && err != -EBUSY)
				unexpected("lfq_open by name", err);
			bump(&n_attach_fail);
			continue;
		}
		/* Full or empty, but never a role the open did not give. */
		if (o.role & LFQ_ROLE_PRODUCER) {
			err = lfq_push(q, &v, sizeof(v));
			if (err && err != -EAGAIN)
				unexpected("lfq_push", err);
		} else {
			err = lfq_pop(q, &v, sizeof(v));
			if (err && err != -EAGAIN)
				unexpected("lfq_pop", err);
		}
		lfq_close(q);
		bump(&n_attach);
	}
	return NULL;
}

/* Unlink and re-create the name. */
static void *unlinker(void *arg)
{
	struct lfq *q;
	int err, elastic = 0;

	(void)arg;
	who = "unlinker";
	while (!stop) {
		err = lfq_unlink(NAME);
		if (!err)
			bump(&n_unlink);
		else if (err != -ENOENT)
			unexpected("lfq_unlink", err);
		elastic = !elastic;
		err = create_race_queue(&q, elastic);
		if (!err) {
			bump(&n_create);
			if (elastic)
				bump(&n_create_el);
			lfq_close(q);
		} else if (err != -EEXIST) {
			unexpected("lfq_create by name", err);
		}
	}
	return NULL;
}

/* Bind fresh files, publish them, and close them under the others. */
static void *closer(void *arg)
{
	struct lfq_open o = { .size = sizeof(o), .role = LFQ_ROLE_PRODUCER };
	int fd, old;

	(void)arg;
	who = "closer";
	strcpy(o.name, NAME);
	while (!stop) {
		fd = open_lfq();
		if (ioctl(fd, LFQ_IOC_OPEN, &o)) {
			close(fd);
			continue;
		}
		old = __atomic_exchange_n(&shared_fd, fd, __ATOMIC_ACQ_REL);
		usleep(100);
		if (old >= 0)
			close(old);
	}
	return NULL;
}

/* mmap/munmap and poll/WAIT whatever fd is published right now. */
static void *user(void *arg)
{
	struct lfq_wait w = { .size = sizeof(w), .flags = LFQ_WAIT_SPACE,
			      .min_count = 1, .timeout_ns = 1000 };
	struct pollfd pfd;
	void *m;
	int fd;

	(void)arg;
	who = "mmap/poll";
	while (!stop) {
		fd = __atomic_load_n(&shared_fd, __ATOMIC_ACQUIRE);
		if (fd < 0)
			continue;
		m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			/* The header page stays readable after the close. */
			if (*(volatile uint32_t *)m != LFQ_RING_MAGIC)
				unexpected("header magic", 0);
			munmap(m, 4096);
			bump(&n_map);
		}
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		poll(&pfd, 1, 0);
		ioctl(fd, LFQ_IOC_WAIT, &w);
		bump(&n_poll);
	}
	return NULL;
}

/* Try to remove the module the whole time: it must stay. */
static void *remover(void *arg)
{
	int st;
	pid_t pid;

	(void)arg;
	who = "rmmod";
	while (!stop) {
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 2);
			execlp("rmmod", "rmmod", "lfq", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			continue;
		bump(&n_rmmod);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			bump(&n_rmmod_ok);
		usleep(20000);
	}
	return NULL;
}

/* ------------------------------------------------------ elastic frames */

/* One elastic queue whose frames are raced, its records tagged. */
struct fq {
	struct lfq *q;
	uint32_t tag;
	const unsigned char *map;	/* all of it, read-only */
	struct lfq_info info;
	uint64_t pushed, popped, bad;
};

static struct fq fqs[2];
static uint64_t n_touch, n_tagged, n_sigbus, n_sigsegv, n_foreign,
		n_dontneed, n_cons_bus, n_cons_stuck;
static __thread sigjmp_buf touch_jb;
static __thread volatile sig_atomic_t touching;

static void on_fault(int sig)
{
	char line[96];
	int n;

	if (touching) {
		touching = 0;
		siglongjmp(touch_jb, sig);
	}
	/* Not a frame read: say where, and die of it. */
	n = snprintf(line, sizeof(line), "# signal %d in the %s thread\n", sig,
		     who);
	if (write(1, line, (size_t)n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static int fq_make(struct fq *f, uint32_t tag)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SEG, .flags = LFQ_CREATE_ELASTIC, .seg_min = 1,
		 .seg_max = SEGS);
	int err = lfq_create(&o, &f->q);

	if (err)
		return err;
	f->tag = tag;
	f->info.size = sizeof(f->info);
	if (ioctl(lfq_fd(f->q), LFQ_IOC_INFO, &f->info))
		return -errno;
	f->map = mmap(NULL, f->info.map_size, PROT_READ, MAP_SHARED,
		      lfq_fd(f->q), 0);
	return f->map == MAP_FAILED ? -errno : 0;
}

/* Push tagged records, every word tag:seq, until full; then rest. */
static void *fq_producer(void *arg)
{
	struct fq *f = arg;
	uint64_t rec[SLOT / 8], seq = 0;
	unsigned int i;
	int err;

	who = "frames producer";
	while (!stop) {
		for (i = 0; i < SLOT / 8; i++)
			rec[i] = (uint64_t)f->tag << 32 | (uint32_t)seq;
		err = lfq_push(f->q, rec, sizeof(rec));
		if (!err) {
			seq++;
			continue;
		}
		if (err != -EAGAIN)
			unexpected("frames: lfq_push", err);
		usleep(300);
	}
	f->pushed = seq;
	return NULL;
}

/* lfq_peek(), or -EFAULT on a SIGBUS (the bug fq_consumer() survives). */
static int guarded_peek(struct lfq *h, uint32_t want, const void **span)
{
	int got;

	if (sigsetjmp(touch_jb, 1))
		return -EFAULT;
	touching = 1;
	got = lfq_peek(h, want, span);
	touching = 0;
	return got;
}

/* A fresh consumer handle on @f's queue for @h (closed), if one opens. */
static struct lfq *fq_fresh(struct fq *f, struct lfq *h, int probe)
{
	struct lfq *n = open_fd(lfq_fd(f->q));
	const void *span;

	if (!n)
		return h;
	if (probe && lfq_peek(n, 1, &span) <= 0) {
		lfq_close(n);
		return h;
	}
	/*
	 * Stuck only if @h still finds nothing now that @n found a record:
	 * one committed between @h's last peek and @n's is no bug.
	 */
	if (probe && guarded_peek(h, 1, &span) > 0) {
		lfq_close(n);
		return h;
	}
	lfq_close(h);
	return n;
}

/*
 * Take the records, each whole and the next in order; every few ms hold
 * a batch 1-16 ms before releasing it (the queue grows meanwhile).
 *
 * A consumer that read a sealed segment to its end stays on it until its
 * next peek; the kernel must not retire it meanwhile (ORDERING seg-cons).
 * Were it retired, a consumer descheduled in between would get a SIGBUS,
 * or, once the frame holds a new segment, find nothing for ever: both are
 * caught, counted as a failure, and a fresh handle (on the same file: it
 * starts where the kernel says the consumer is) goes on.
 */
static void *fq_consumer(void *arg)
{
	struct fq *f = arg;
	uint64_t rnd = f->tag | 1ull, seq = 0, want;
	int64_t next_pause = now_ns(), idle = 0;
	struct lfq *h = open_fd(lfq_fd(f->q));
	struct lfq_stats st = { .size = sizeof(st) };
	const uint64_t *r;
	const void *span;
	int got, i, k;

	who = "frames consumer";
	while (h && !stop) {
		got = guarded_peek(h, 16, &span);
		if (got == -EFAULT) {
			bump(&n_cons_bus);
			h = fq_fresh(f, h, 0);
			continue;
		}
		if (got == -EAGAIN) {
			/* Stuck on a reused frame, or just empty? */
			if (!idle)
				idle = now_ns();
			if (now_ns() - idle > 100000000 &&
			    !lfq_get_stats(f->q, &st) &&
			    st.produced != st.consumed) {
				struct lfq *o = h;

				h = fq_fresh(f, h, 1);
				if (h != o)
					bump(&n_cons_stuck);
				idle = 0;
			}
			sched_yield();
			continue;
		}
		idle = 0;
		if (got < 0) {
			unexpected("frames: lfq_peek", got);
			break;
		}
		for (i = 0; i < got; i++, seq++) {
			r = (const uint64_t *)((const char *)span + i * SLOT);
			want = (uint64_t)f->tag << 32 | (uint32_t)seq;
			for (k = 0; k < (int)(SLOT / 8); k++)
				f->bad += r[k] != want;
		}
		if (now_ns() > next_pause) {
			rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
			usleep(1000 + (rnd >> 33) % 15000);
			next_pause = now_ns() + 2000000 + (rnd >> 20) % 8000000;
		}
		lfq_release(h, (uint32_t)got);
	}
	lfq_close(h);
	f->popped = seq;
	return NULL;
}

/*
 * Read random words of both queues' frames: a commit word names an index
 * (a small number, maybe discarded), a slot word is 0 or this queue's tag;
 * a frame without a segment reads as zeros, never a SIGBUS.
 */
static void *toucher(void *arg)
{
	uint64_t rnd = 0x243f6a8885a308d3ull, v, off;
	const volatile uint64_t *w;
	struct fq *f;
	int sig;

	(void)arg;
	who = "toucher";
	while (!stop) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		f = &fqs[rnd >> 63];
		if (!(rnd & 4095)) {
			madvise((void *)(f->map + f->info.frames_offset),
				SEGS * f->info.frame_size, MADV_DONTNEED);
			bump(&n_dontneed);
		}
		off = (rnd >> 8) % (SEGS * f->info.frame_size) & ~7ull;
		w = (const volatile uint64_t *)(f->map + f->info.frames_offset +
						off);
		sig = sigsetjmp(touch_jb, 1);
		if (sig) {
			bump(sig == SIGBUS ? &n_sigbus : &n_sigsegv);
			continue;
		}
		touching = 1;
		v = *w;
		touching = 0;
		bump(&n_touch);
		off %= f->info.frame_size;
		if (off < f->info.commit_size ?
		    (v & ~(1ull << 63)) < (1ull << 40) :
		    !v || v >> 32 == f->tag) {
			if (v && off >= f->info.commit_size)
				bump(&n_tagged);
			continue;
		}
		if (__atomic_fetch_add(&n_foreign, 1, __ATOMIC_RELAXED) < 5)
			tap_diag("frames: queue %x, offset %llu of a frame: "
				 "0x%llx", f->tag, (unsigned long long)off,
				 (unsigned long long)v);
	}
	return NULL;
}

/* Read or write seg_idle_ms; @buf holds the value. */
static int idle_param(char *buf, size_t len, int write)
{
	FILE *p = fopen(IDLE_PARAM, write ? "w" : "r");
	int ok;

	if (!p)
		return 0;
	ok = write ? fputs(buf, p) >= 0 : fgets(buf, (int)len, p) != NULL;
	return !fclose(p) && ok;
}

int main(int argc, char **argv)
{
	unsigned int secs = 5, i;
	pthread_t th[16];
	struct lfq_stats fst[2];
	struct sigaction sa = { .sa_handler = on_fault };
	char idle[32] = "";
	struct lfq *keep;
	int opt, n = 0, err, lowered;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's')
			return 2;
		secs = (unsigned int)strtoul(optarg, NULL, 0);
	}
	tap_plan(4 + 4);
	lfq_unlink(NAME);
	/* One file open all along: the module must not go. */
	if (!tap_ok(!create_race_queue(&keep, 0),
		    "named queue %s", NAME))
		return tap_done();
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	lowered = idle_param(idle, sizeof(idle), 0) &&
		  idle_param(IDLE_MS, 0, 1);
	err = fq_make(&fqs[0], 0xa11ce000);
	if (!err)
		err = fq_make(&fqs[1], 0xb0b0b000);
	if (!tap_ok(!err, "two elastic queues of %u-slot segments (seg_max %u) "
		    "mapped whole for reading; seg_idle_ms %s", SEG, SEGS,
		    lowered ? IDLE_MS : "unchanged")) {
		tap_diag("frames: %s", strerror(-err));
		return tap_done();
	}
	for (i = 0; i < 2; i++) {
		pthread_create(&th[n++], NULL, fq_producer, &fqs[i]);
		pthread_create(&th[n++], NULL, fq_consumer, &fqs[i]);
	}
	pthread_create(&th[n++], NULL, toucher, NULL);
	pthread_create(&th[n++], NULL, attacher,
		       (void *)(uintptr_t)LFQ_ROLE_PRODUCER);
	pthread_create(&th[n++], NULL, attacher,
		       (void *)(uintptr_t)LFQ_ROLE_PRODUCER);
	pthread_create(&th[n++], NULL, attacher,
		       (void *)(uintptr_t)LFQ_ROLE_CONSUMER);
	pthread_create(&th[n++], NULL, unlinker, NULL);
	pthread_create(&th[n++], NULL, closer, NULL);
	pthread_create(&th[n++], NULL, user, NULL);
	pthread_create(&th[n++], NULL, remover, NULL);
	sleep(secs);
	stop = 1;
	for (i = 0; i < (unsigned int)n; i++)
		pthread_join(th[i], NULL);
	if (shared_fd >= 0)
		close(shared_fd);
	lfq_close(keep);
	lfq_unlink(NAME);
	for (i = 0; i < 2; i++) {
		fst[i] = (struct lfq_stats){ .size = sizeof(fst[i]) };
		lfq_get_stats(fqs[i].q, &fst[i]);
		munmap((void *)fqs[i].map, fqs[i].info.map_size);
		lfq_close(fqs[i].q);
	}
	if (lowered)
		idle_param(idle, 0, 1);

	tap_diag("%us: %llu attaches (%llu refused), %llu unlinks, %llu "
		 "creates, %llu mmaps, %llu poll+wait, %llu rmmod attempts",
		 secs, (unsigned long long)n_attach,
		 (unsigned long long)n_attach_fail,
		 (unsigned long long)n_unlink, (unsigned long long)n_create,
		 (unsigned long long)n_map, (unsigned long long)n_poll,
		 (unsigned long long)n_rmmod);
	tap_ok(n_attach && n_unlink && n_create && n_map && n_poll && n_rmmod &&
	       n_create_el && n_create_el < n_create,
	       "every loop ran (%llu of the creates elastic)",
	       (unsigned long long)n_create_el);
	tap_ok(!n_unexpected, "only the expected errors (%llu unexpected)",
	       (unsigned long long)n_unexpected);
	tap_ok(!n_rmmod_ok, "rmmod refused every time while files were open "
	       "(%llu of %llu succeeded)", (unsigned long long)n_rmmod_ok,
	       (unsigned long long)n_rmmod);
	tap_ok(n_touch && n_tagged && !n_sigbus && !n_sigsegv && !n_foreign,
	       "frames: %llu reads (%llu found records), %llu SIGBUS (none: a "
	       "frame reads its segment's pages or zeros), %llu SIGSEGV, %llu "
	       "of something but the queue's own records; %llu MADV_DONTNEED",
	       (unsigned long long)n_touch, (unsigned long long)n_tagged,
	       (unsigned long long)n_sigbus, (unsigned long long)n_sigsegv,
	       (unsigned long long)n_foreign, (unsigned long long)n_dontneed);
	tap_ok(!fqs[0].bad && !fqs[1].bad && fqs[0].popped && fqs[1].popped &&
	       fst[0].grows && fst[0].shrinks && fst[1].grows && fst[1].shrinks,
	       "frames: every record whole and in order (%llu of %llu, %llu "
	       "of %llu; %llu bad words); the queues grew and shrank (%llu/%llu, "
	       "%llu/%llu grows/shrinks, peaks %llu, %llu)",
	       (unsigned long long)fqs[0].popped,
	       (unsigned long long)fqs[0].pushed,
	       (unsigned long long)fqs[1].popped,
	       (unsigned long long)fqs[1].pushed,
	       (unsigned long long)(fqs[0].bad + fqs[1].bad),
	       (unsigned long long)fst[0].grows,
	       (unsigned long long)fst[0].shrinks,
	       (unsigned long long)fst[1].grows,
	       (unsigned long long)fst[1].shrinks,
	       (unsigned long long)fst[0].segments_peak,
	       (unsigned long long)fst[1].segments_peak);
	tap_ok(!n_cons_bus && !n_cons_stuck,
	       "frames: the consumers were never left on a retired segment (%llu SIGBUS in lfq_peek, %llu times stuck)",
	       (unsigned long long)n_cons_bus,
	       (unsigned long long)n_cons_stuck);
	return tap_done();
}
