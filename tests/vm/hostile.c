// SPDX-License-Identifier: GPL-2.0
/*
 * hostile.c - the kernel reads the producer and consumer pages, which any
 * process that maps the queue can write. It must take what it finds there
 * without trusting it (kmod/lfq_wait.c, lfq_ioctl.c; lfq_ring_count()
 * clamps): impossible index pairs read as a full ring in poll, WAIT and
 * STATS; indices near 2^64 wrap correctly; a garbage wakeup flag is
 * cleared by WAKE; a process that clears a sleeper's flag only delays that
 * sleeper's wakeup (to its timeout, or to an explicit WAKE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_layout.h"
#include "lfq_spsc.h"
#include "tap.h"
#include "test_util.h"

#define PG	4096ul
#define SLOTS	64u
#define MS	1000000ll

struct q {
	int fd;
	struct lfq_info info;
	unsigned char *base;		/* header RO, the rest RW */
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	struct lfq_ring_hdr hdr;
};

static void make_q(struct q *q)
{
	struct lfq_create c = { .size = sizeof(c), .type = LFQ_TYPE_SPSC,
				.slot_size = 64, .slot_count = SLOTS };
	void *p;

	memset(q, 0, sizeof(*q));
	q->info.size = sizeof(q->info);
	q->fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (q->fd < 0 || ioctl(q->fd, LFQ_IOC_CREATE, &c) ||
	    ioctl(q->fd, LFQ_IOC_INFO, &q->info))
		goto fail;
	p = mmap(NULL, q->info.map_size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		goto fail;
	q->base = p;
	if (mmap(q->base, PG, PROT_READ, MAP_SHARED | MAP_FIXED, q->fd, 0) ==
	    MAP_FAILED ||
	    mmap(q->base + PG, q->info.map_size - PG, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, q->fd, PG) == MAP_FAILED)
		goto fail;
	q->prod = (void *)(q->base + q->info.prod_offset);
	q->cons = (void *)(q->base + q->info.cons_offset);
	memcpy(&q->hdr, q->base, sizeof(q->hdr));
	return;
fail:
	tap_diag("queue setup: %s", strerror(errno));
	exit(1);
}

static void free_q(struct q *q)
{
	munmap(q->base, q->info.map_size);
	close(q->fd);
}

static int revents(struct q *q)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN | POLLOUT };

	return poll(&pfd, 1, 0) < 0 ? -1 : pfd.revents;
}

static int wait_raw(struct q *q, uint32_t flags, uint32_t min_count,
		    int64_t timeout_ns, uint64_t *avail)
{
	struct lfq_wait w = { .size = sizeof(w), .flags = flags,
			      .min_count = min_count,
			      .timeout_ns = timeout_ns };
	int err = ioctl(q->fd, LFQ_IOC_WAIT, &w) ? errno : 0;

	*avail = w.available;
	return err;
}

static struct lfq_stats stats(struct q *q)
{
	struct lfq_stats st = { .size = sizeof(st) };

	ioctl(q->fd, LFQ_IOC_STATS, &st);
	return st;
}

/* The kernel's view of a (head, tail) pair the test wrote. */
static void check_pair(struct q *q, uint64_t head, uint64_t tail,
		       uint32_t want_readable, const char *what)
{
	int want_ev = (want_readable ? POLLIN : 0) |
		      (want_readable < SLOTS ? POLLOUT : 0);
	uint64_t ad, as;
	int ev, ed, es;
	struct lfq_stats st;

	q->prod->head = head;
	q->cons->tail = tail;
	ev = revents(q);
	ed = wait_raw(q, LFQ_WAIT_DATA, 1, 0, &ad);
	es = wait_raw(q, LFQ_WAIT_SPACE, 1, 0, &as);
	st = stats(q);
	if (!tap_ok(ev == want_ev && ad == want_readable &&
		    as == SLOTS - want_readable &&
		    ed == (want_readable ? 0 : EAGAIN) &&
		    es == (want_readable < SLOTS ? 0 : EAGAIN) &&
		    st.produced == head && st.consumed == tail,
		    "%s: reads as %u readable in poll, WAIT and STATS", what,
		    want_readable))
		tap_diag("  revents 0x%x DATA %d/%llu SPACE %d/%llu produced %llu consumed %llu",
			 ev, ed, (unsigned long long)ad, es,
			 (unsigned long long)as,
			 (unsigned long long)st.produced,
			 (unsigned long long)st.consumed);
}

static void test_indices(void)
{
	struct lfq_spsc_prod p;
	struct lfq_spsc_cons c;
	struct lfq_ring_loc loc;
	struct q q;
	uint64_t start = UINT64_MAX - 100, i, *slot, avail;
	uint32_t got;
	int bad = 0, err;

	make_q(&q);
	check_pair(&q, 0, 0, 0, "head 0 tail 0");
	check_pair(&q, 1ull << 40, 0, SLOTS, "head 2^40 ahead of tail");
	check_pair(&q, 0, 5, SLOTS, "tail ahead of head");
	check_pair(&q, 3, UINT64_MAX - 1, 5, "head wrapped past 2^64");
	check_pair(&q, UINT64_MAX, UINT64_MAX - SLOTS, SLOTS,
		   "full ring just below 2^64");

	/* A real stream across the 64-bit wrap of both indices. */
	q.prod->head = start;
	q.cons->tail = start;
	lfq_ring_loc_init(&loc, q.base, &q.hdr);
	lfq_spsc_prod_init(&p, &loc);
	lfq_spsc_cons_init(&c, &loc);
	for (i = 0; i < 300; i++) {
		slot = lfq_spsc_reserve(&p, 1, &got);
		if (!slot) {
			bad++;
			break;
		}
		*slot = start + i;
		lfq_spsc_commit(&p, 1);
		err = wait_raw(&q, LFQ_WAIT_DATA, 1, 0, &avail);
		if (err || avail != (i < 10 ? i + 1 : 10))
			bad++;
		if (i < 9)
			continue;
		slot = (uint64_t *)lfq_spsc_peek(&c, 1, &got);
		if (!slot || *slot != start + i - 9)
			bad++;
		lfq_spsc_release(&c, 1);
	}
	err = wait_raw(&q, LFQ_WAIT_DATA, 9, 0, &avail);
	if (!tap_ok(!bad && !err && q.prod->head == start + 300 &&
		    q.cons->tail == start + 291 && avail == 9,
		    "a stream across the 2^64 wrap: WAIT counts stay right"))
		tap_diag("  bad %d head %llu avail %llu err %d", bad,
			 (unsigned long long)q.prod->head,
			 (unsigned long long)avail, err);
	free_q(&q);
}

static void test_flags(void)
{
	struct lfq_stats st;
	uint64_t avail;
	int64_t t0, dt;
	int status, err;
	struct q q;
	pid_t pid;

	make_q(&q);
	q.cons->need_data = 0xffffffffu;
	q.prod->need_space = 0x12345678u;
	err = ioctl(q.fd, LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER | LFQ_WAKE_PRODUCER);
	if (!tap_ok(!err && q.cons->need_data == 0 && q.prod->need_space == 0,
		    "WAKE clears garbage need_data/need_space"))
		tap_diag("  err %d need_data 0x%x need_space 0x%x", err,
			 q.cons->need_data, q.prod->need_space);

	q.prod->full_events = 12345;
	q.cons->empty_events = 67890;
	st = stats(&q);
	tap_ok(st.full_events == 12345 && st.empty_events == 67890,
	       "STATS reports full/empty events as found in the pages");
	q.prod->full_events = 0;
	q.cons->empty_events = 0;

	/*
	 * A child sleeps for data (timeout 1 s). Once it has armed
	 * need_data, we clear the flag and commit without a wake: the
	 * child is woken only by its timer, then finds the data.
	 */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		err = wait_raw(&q, LFQ_WAIT_DATA, 1, 1000 * MS, &avail);
		_exit(err == 0 && avail == 1 ? 0 : err == ETIMEDOUT ? 10 : 20);
	}
	t0 = now_ns();
	while (!__atomic_load_n(&q.cons->need_data, __ATOMIC_ACQUIRE) &&
	       now_ns() - t0 < 5000 * MS)
		msleep(1);
	msleep(50);
	__atomic_store_n(&q.cons->need_data, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&q.prod->head, 1, __ATOMIC_SEQ_CST);
	status = -1;
	waitpid(pid, &status, 0);
	dt = now_ns() - t0;
	if (!tap_ok(WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
					  WEXITSTATUS(status) == 10) &&
		    dt >= 900 * MS,
		    "a cleared need_data only delays that sleeper: woken at its timeout (%lld ms), data seen",
		    (long long)(dt / MS)))
		tap_diag("  status 0x%x after %lld ms", status,
			 (long long)(dt / MS));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
		tap_diag("  (the child got ETIMEDOUT although the data was there at expiry)");

	/* Same, but an explicit WAKE: the sleeper wakes at once. */
	q.prod->head = 0;
	q.cons->tail = 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		err = wait_raw(&q, LFQ_WAIT_DATA, 1, 20000 * MS, &avail);
		_exit(err == 0 && avail == 1 ? 0 : 20);
	}
	t0 = now_ns();
	while (!__atomic_load_n(&q.cons->need_data, __ATOMIC_ACQUIRE) &&
	       now_ns() - t0 < 5000 * MS)
		msleep(1);
	msleep(50);
	__atomic_store_n(&q.cons->need_data, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&q.prod->head, 1, __ATOMIC_SEQ_CST);
	msleep(200);
	t0 = now_ns();
	err = ioctl(q.fd, LFQ_IOC_WAKE, LFQ_WAKE_CONSUMER);
	status = -1;
	waitpid(pid, &status, 0);
	dt = now_ns() - t0;
	st = stats(&q);
	if (!tap_ok(!err && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    dt < 2000 * MS && st.wakeups >= 1,
		    "an explicit WAKE wakes a sleeper whose flag was cleared"))
		tap_diag("  err %d status 0x%x after %lld ms wakeups %llu", err,
			 status, (long long)(dt / MS),
			 (unsigned long long)st.wakeups);
	free_q(&q);
}

int main(void)
{
	tap_plan(10);
	test_indices();
	test_flags();
	return tap_done();
}
