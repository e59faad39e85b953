// SPDX-License-Identifier: MIT
/*
 * lfq_memfd.c - the memfd backend: a queue in process memory, in a sealed
 * memfd holding the header, the control pages, the commit words and one
 * copy of the slot area (mapped twice here). Other processes open it by
 * its fd; its header, size and seals are checked first, so a memfd from
 * an untrusted peer cannot make this process fault. Waiters sleep on the
 * need_data/need_space word itself with a futex (ORDERING wake-futex in
 * kmod/proto/lfq_rules.h), after the heavy fence of lfq_fence.c on an
 * asymmetric queue (ORDERING wake-asym). There are no roles: every handle
 * may produce and consume, and no kernel watches for dead producers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lfq_handle.h"

/* A sleeper whose heavy fence failed looks again this often. */
#define LFQ_FENCELESS_NAP_NS	1000000

/* Seals every memfd queue carries: its size can never change under us. */
#define LFQ_MEMFD_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/**
 * lfq_memfd_create() - a new memfd queue and a handle on it.
 * @o:		the options (type, geometry, flags; no name, role or mode).
 * @out:	the new handle; lfq_fd() is the memfd to share.
 *
 * Return: 0, -EINVAL, or a memfd/mmap error.
 */
int lfq_memfd_create(const struct lfq_create_opts *o, struct lfq **out)
{
	struct lfq_geometry g = {
		.type = o->type, .flags = o->flags, .slot_size = o->slot_size,
		.slot_count = o->slot_count, .seg_min = o->seg_min,
		.seg_max = o->seg_max,
	};
	struct lfq_ring_hdr hdr;
	struct lfq *q;
	int fd, err;

	if (o->name || o->role || o->mode)
		return -EINVAL;
	err = lfq_geometry_check(&g, lfq_page_size());
	if (err)
		return err;
	if (g.flags & LFQ_CREATE_ELASTIC)
		return lfq_local_create(&g, out);
	fd = memfd_create("lfq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	q = lfq_alloc(fd, &lfq_memfd_backend);
	if (!q)
		return -ENOMEM;
	lfq_layout_init(&q->layout, &g, lfq_page_size());
	lfq_ring_hdr_init(&q->hdr, &g, &q->layout);
	/* Asymmetric when every process can be reached (lfq_fence.c). */
	if (!(g.flags & LFQ_CREATE_WAKE_SYMMETRIC) && lfq_fence_register())
		lfq_ring_hdr_set_wake(&q->hdr, LFQ_WAKE_ASYMMETRIC);
	hdr = q->hdr;
	if (ftruncate(fd, (off_t)(q->layout.data_offset + q->layout.data_size)) ||
	    pwrite(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr) ||
	    fcntl(fd, F_ADD_SEALS, LFQ_MEMFD_SEALS)) {
		err = -errno;
		lfq_close(q);
		return err;
	}
	err = lfq_map_layout(q, 0);
	if (err) {
		lfq_close(q);
		return err;
	}
	/* Registered above: membarrier(2) reaches this process. */
	lfq_ring_loc_light(&q->ring, &q->hdr);
	lfq_bind_views(q);
	*out = q;
	return 0;
}

/**
 * lfq_memfd_open_fd() - a handle on the memfd queue @fd.
 * @fd:		the memfd; the handle owns it (closed on error).
 * @out:	the new handle.
 *
 * Return: 0, -EPROTO (not an lfq queue), -EINVAL (bad geometry, size or
 * seals), or another error.
 */
int lfq_memfd_open_fd(int fd, struct lfq **out)
{
	struct stat st;
	struct lfq *q;
	int seals, err;

	q = lfq_alloc(fd, &lfq_memfd_backend);
	if (!q)
		return -ENOMEM;
	err = -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & LFQ_MEMFD_SEALS) != LFQ_MEMFD_SEALS)
		goto fail;
	if (pread(fd, &q->hdr, sizeof(q->hdr), 0) != sizeof(q->hdr)) {
		err = -EPROTO;
		goto fail;
	}
	err = lfq_ring_hdr_check(&q->hdr, lfq_page_size(), &q->layout);
	if (err)
		goto fail;
	err = -EINVAL;
	if (fstat(fd, &st) ||
	    (uint64_t)st.st_size != q->layout.data_offset + q->layout.data_size)
		goto fail;
	err = lfq_map_layout(q, 0);
	if (err)
		goto fail;
	/* Light publishers only where the sleepers' fence reaches us. */
	if (q->hdr.wake_mode == LFQ_WAKE_ASYMMETRIC && lfq_fence_register())
		lfq_ring_loc_light(&q->ring, &q->hdr);
	lfq_bind_views(q);
	*out = q;
	return 0;
fail:
	lfq_close(q);
	return err;
}

static long lfq_futex(uint32_t *word, int op, uint32_t val,
		      const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static int64_t lfq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int lfq_memfd_sleep(struct lfq *q, int data, uint32_t min_count,
			   int64_t timeout_ns)
{
	uint32_t *flag = data ? q->ring.need_data : q->ring.need_space;
	int64_t deadline = timeout_ns > 0 ? lfq_now_ns() + timeout_ns : 0;
	unsigned int rearmed = 0;

	for (;;) {
		struct timespec ts, *tsp = NULL;
		int64_t left = -1;
		uint32_t armed;

		if (lfq_ready_count(q, data, LFQ_READY_ARM | LFQ_READY_ASK,
				    min_count) >= min_count)
			return 0;
		/*
		 * ORDERING wake-futex: the sleep is on the flag's value after
		 * our arm: our count, or a smaller one of another sleeper's
		 * (ORDERING wake-threshold). Cleared, or above our count
		 * (cleared, then armed by a needier sleeper: the wakeup that
		 * cleared it may have been ours), look again; a peer that
		 * keeps rewriting the flag gets naps, not a spin.
		 */
		armed = lfq_load_relaxed(flag);
		if (!armed || armed > lfq_arm_count(q, min_count)) {
			if (++rearmed < 4)
				continue;
			left = LFQ_FENCELESS_NAP_NS;
		}
		/*
		 * Armed; on an asymmetric queue the heavy fence, then the
		 * count that decides (ORDERING wake-asym). Should the fence
		 * fail, a publisher may have missed the flag: sleep a
		 * millisecond at most, and look again.
		 */
		if (q->hdr.wake_mode == LFQ_WAKE_ASYMMETRIC) {
			if (lfq_fence_heavy())
				left = LFQ_FENCELESS_NAP_NS;
			else if (lfq_ready_count(q, data, LFQ_READY_ASK,
						 min_count) >=
				 min_count)
				return 0;
		}
		if (timeout_ns > 0) {
			int64_t until = deadline - lfq_now_ns();

			if (until <= 0)
				return -ETIMEDOUT;
			if (left < 0 || until < left)
				left = until;
		}
		if (left >= 0) {
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			tsp = &ts;
		}
		if (!lfq_futex(flag, FUTEX_WAIT, armed, tsp)) {
			/*
			 * Woken from a sleep on our own arm: the re-arms so
			 * far were lost races, not a peer rewriting the flag,
			 * and the naps stop (a rewritten flag is never
			 * slept on as armed: it is above our count).
			 */
			if (armed && armed <= lfq_arm_count(q, min_count))
				rearmed = 0;
		} else if (errno != EAGAIN && errno != ETIMEDOUT) {
			return -errno;
		}
	}
}

/*
 * No roles here: the waker clears the sleeper's flag itself, so only one
 * waker pays the futex call. ORDERING wake-futex: the exchange is a full
 * barrier.
 */
void lfq_futex_wake_flag(uint32_t *flag)
{
	if (lfq_xchg(flag, 0))
		lfq_futex(flag, FUTEX_WAKE, INT_MAX, NULL);
}

static void lfq_memfd_wake(struct lfq *q, uint32_t which)
{
	lfq_futex_wake_flag(which == LFQ_WAKE_CONSUMER ? q->ring.need_data :
							 q->ring.need_space);
}

static int lfq_memfd_stats(struct lfq *q, struct lfq_stats *st)
{
	st->produced = lfq_load_relaxed(&q->ring.prod->head);
	/* Overwrite mode: without the owner bits (lfq_rec.h). */
	st->consumed = lfq_load_relaxed(&q->ring.cons->tail) &
		       (q->ring.overwrite ? ~LFQ_REC_TAIL_BITS : ~0ull);
	st->full_events = lfq_load_relaxed(&q->ring.prod->full_events);
	st->empty_events = lfq_load_relaxed(&q->ring.cons->empty_events);
	st->overwritten = lfq_load_relaxed(&q->ring.prod->overwritten);
	st->torn = lfq_load_relaxed(&q->ring.cons->torn);
	return 0;
}

const struct lfq_backend_ops lfq_memfd_backend = {
	.sleep	= lfq_memfd_sleep,
	.wake	= lfq_memfd_wake,
	.stats	= lfq_memfd_stats,
};
