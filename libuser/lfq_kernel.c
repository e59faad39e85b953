// SPDX-License-Identifier: MIT
/*
 * lfq_kernel.c - the /dev/lfq backend: binding a file to a queue (CREATE,
 * OPEN), taking the layout the kernel reports (INFO) and mapping it,
 * registering an MPSC producer's claim record (crash safety, CLAIM),
 * sleeping in LFQ_IOC_WAIT, waking with LFQ_IOC_WAKE, and LFQ_IOC_STATS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq_handle.h"

/*
 * An MPSC (or MPMC) producer registers a claim record (see LFQ_IOC_CLAIM
 * in lfq.h), so that if this process dies holding a reservation the
 * kernel can tell its slots from live producers' and discard them; an
 * MPMC consumer registers one too (LFQ_CLAIM_CONSUMER), so that the slots
 * it claimed and did not release are released if it dies. A module older
 * than claims (-ENOTTY) leaves the handle without one.
 */
static int lfq_claim_register(struct lfq *q)
{
	struct lfq_claim arg = { .size = sizeof(arg) };

	if (!lfq_type_committed(q->hdr.type) ||
	    !(q->role & LFQ_ROLE_PRODUCER))
		return 0;
	if (ioctl(q->fd, LFQ_IOC_CLAIM, &arg))
		return errno == ENOTTY ? 0 : -errno;
	if (arg.index >= LFQ_MPSC_CLAIMS)
		return -EPROTO;
	q->claim = (int)arg.index;
	q->claim_pid = getpid();
	if (q->ring.records)
		q->prod.rec.view.claim = &q->ring.prod->claims[arg.index];
	else
		lfq_mpsc_prod_set_claim(&q->prod.mpsc.view,
					&q->ring.prod->claims[arg.index]);
	return 0;
}

static int lfq_cclaim_register(struct lfq *q)
{
	struct lfq_claim arg = {
		.size = sizeof(arg), .flags = LFQ_CLAIM_CONSUMER,
	};

	if (q->hdr.type != LFQ_TYPE_MPMC || !(q->role & LFQ_ROLE_CONSUMER))
		return 0;
	if (ioctl(q->fd, LFQ_IOC_CLAIM, &arg))
		return -errno;
	if (arg.index >= LFQ_MPMC_CLAIMS)
		return -EPROTO;
	q->cclaim = (int)arg.index;
	q->claim_pid = getpid();
	if (q->ring.records)
		lfq_rec_mcons_set_claim(&q->cons.rmpmc,
					&q->ring.cons->claims[arg.index]);
	else
		lfq_mpmc_cons_set_claim(&q->cons.mpmc.view,
					&q->ring.cons->claims[arg.index]);
	return 0;
}

/*
 * Give the claims back: the fd may outlive the handle (fd passing). Only
 * the process that registered them does: a forked child's copy of the
 * handle names the same claims, on the same open file, and closing it must
 * not free the parent's.
 */
static void lfq_kernel_unbind(struct lfq *q)
{
	struct lfq_claim arg = {
		.size = sizeof(arg),
		.flags = LFQ_CLAIM_FREE,
		.index = (uint32_t)q->claim,
	};

	if (q->claim >= 0 && q->claim_pid == getpid())
		(void)ioctl(q->fd, LFQ_IOC_CLAIM, &arg);
	if (q->cclaim >= 0 && q->claim_pid == getpid()) {
		arg.flags = LFQ_CLAIM_FREE | LFQ_CLAIM_CONSUMER;
		arg.index = (uint32_t)q->cclaim;
		(void)ioctl(q->fd, LFQ_IOC_CLAIM, &arg);
	}
}

/*
 * Map the queue bound to q->fd. Its geometry comes from LFQ_IOC_INFO; the
 * layout follows from it (lfq_layout.h), and the shared header must say
 * the same, or the module and this library disagree (-EPROTO).
 */
static int lfq_kernel_map(struct lfq *q)
{
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_geometry g;
	struct lfq_ring_hdr *shared;
	int err;

	if (ioctl(q->fd, LFQ_IOC_INFO, &info))
		return -errno;
	if (info.size < LFQ_INFO_SIZE_VER2)	/* a module without roles */
		return -EPROTO;
	g = (struct lfq_geometry) {
		.type = info.type,
		.flags = info.flags,
		.slot_size = info.slot_size,
		.slot_count = info.slot_count,
		.seg_min = info.size >= LFQ_INFO_SIZE_VER3 ? info.seg_min : 0,
		.seg_max = info.size >= LFQ_INFO_SIZE_VER3 ? info.seg_max : 0,
	};
	q->id = info.id;
	q->role = info.role;
	/* The geometry must be one this library understands. */
	err = lfq_geometry_check(&g, lfq_page_size());
	if (err)
		return err;
	lfq_layout_init(&q->layout, &g, lfq_page_size());
	lfq_ring_hdr_init(&q->hdr, &g, &q->layout);
	/*
	 * The module's sleepers fence with IPIs, which reach every thread:
	 * the light half needs no registration here.
	 */
	if (info.wake_mode > LFQ_WAKE_ASYMMETRIC)
		return -EPROTO;
	lfq_ring_hdr_set_wake(&q->hdr, info.wake_mode);
	if (q->layout.map_size != info.map_size)
		return -EPROTO;
	err = lfq_map_layout(q, 1);
	if (err)
		return err;
	/* The module's IPIs reach this process's threads too. */
	lfq_ring_loc_light(&q->ring, &q->hdr);
	shared = (struct lfq_ring_hdr *)(q->map + q->layout.hdr_offset);
	if (memcmp(shared, &q->hdr, sizeof(q->hdr))) {
		munmap(q->map, q->layout.map_size);
		q->map = MAP_FAILED;
		return -EPROTO;
	}
	if (q->hdr.seg_max)
		lfq_elastic_bind(q);
	else
		lfq_bind_views(q);
	return lfq_claim_register(q) ?: lfq_cclaim_register(q);
}

/**
 * lfq_kernel_open_fd() - wrap a bound /dev/lfq fd in a mapped handle.
 * @fd:		the fd; the handle owns it (closed on error).
 * @out:	the new handle.
 *
 * Return: 0 or a negative errno.
 */
int lfq_kernel_open_fd(int fd, struct lfq **out)
{
	struct lfq *q = lfq_alloc(fd, &lfq_kernel_backend);
	int err;

	if (!q)
		return -ENOMEM;
	err = lfq_kernel_map(q);
	if (err) {
		lfq_close(q);
		return err;
	}
	*out = q;
	return 0;
}

/**
 * lfq_kernel_bind() - open /dev/lfq, bind the file with @cmd
 * (LFQ_IOC_CREATE or LFQ_IOC_OPEN) and @arg, and map the queue.
 * @cmd:	the binding command.
 * @arg:	its argument struct.
 * @out:	the new handle.
 *
 * Return: 0 or a negative errno.
 */
int lfq_kernel_bind(unsigned long cmd, void *arg, struct lfq **out)
{
	int fd, err;

	fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, cmd, arg)) {
		err = -errno;
		close(fd);
		return err;
	}
	return lfq_kernel_open_fd(fd, out);
}

/**
 * lfq_kernel_ioctl_unbound() - one ioctl on a fresh, unbound /dev/lfq
 * file (UNLINK, LIST).
 * @cmd:	the command.
 * @arg:	its argument.
 *
 * Return: 0 or a negative errno.
 */
int lfq_kernel_ioctl_unbound(unsigned long cmd, void *arg)
{
	int fd, err = 0;

	fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, cmd, arg))
		err = -errno;
	close(fd);
	return err;
}

static int lfq_kernel_sleep(struct lfq *q, int data, uint32_t min_count,
			    int64_t timeout_ns)
{
	struct lfq_wait w = {
		.size = sizeof(w),
		.flags = data ? LFQ_WAIT_DATA : LFQ_WAIT_SPACE,
		.min_count = min_count,
		.timeout_ns = timeout_ns,
	};

	return ioctl(q->fd, LFQ_IOC_WAIT, &w) ? -errno : 0;
}

/*
 * The kernel clears the sleeper's flag itself, so a producer never writes
 * the consumer's page (or the reverse): ROLES.
 */
static void lfq_kernel_wake(struct lfq *q, uint32_t which)
{
	(void)ioctl(q->fd, LFQ_IOC_WAKE, (unsigned long)which);
}

static int lfq_kernel_stats(struct lfq *q, struct lfq_stats *st)
{
	return ioctl(q->fd, LFQ_IOC_STATS, st) ? -errno : 0;
}

/* An elastic queue's producer found its segment full: LFQ_IOC_GROW. */
static int lfq_kernel_grow(struct lfq *q, uint32_t frame)
{
	int next = ioctl(q->fd, LFQ_IOC_GROW, (unsigned long)frame);

	if (next < 0)
		return -errno;
	return (uint32_t)next < q->hdr.seg_max ? next : -EPROTO;
}

/*
 * The producers' newest segment is sealed: only the module knows whether
 * the queue may grow (live segments against seg_max). Ask it, with a wait
 * that does not sleep: a producer blocked at seg_max then sleeps in
 * LFQ_IOC_WAIT until a segment retires, instead of spinning between "a
 * segment's worth" here and "full" from the reservation.
 */
static uint32_t lfq_kernel_sealed_space(struct lfq *q, uint32_t min_count)
{
	struct lfq_wait w = {
		.size = sizeof(w),
		.flags = LFQ_WAIT_SPACE,
		.min_count = min_count ? min_count : 1,
	};

	if (ioctl(q->fd, LFQ_IOC_WAIT, &w) && errno != EAGAIN)
		return q->hdr.slot_count;	/* let the reservation tell */
	return w.available < q->hdr.slot_count ? (uint32_t)w.available :
						 q->hdr.slot_count;
}

const struct lfq_backend_ops lfq_kernel_backend = {
	.sleep	= lfq_kernel_sleep,
	.wake	= lfq_kernel_wake,
	.stats	= lfq_kernel_stats,
	.unbind	= lfq_kernel_unbind,
	.grow	= lfq_kernel_grow,
	.sealed_space = lfq_kernel_sealed_space,
};
