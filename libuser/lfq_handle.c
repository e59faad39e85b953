// SPDX-License-Identifier: MIT
/*
 * lfq_handle.c - a handle's life: allocating it, choosing its fast-path
 * operations once from its queue's protocol and its role (so no call
 * checks them again), reading the options structs, its properties and
 * settings, and closing it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lfq_handle.h"
#include "lfq_ready.h"

/**
 * lfq_alloc() - a handle owning @fd (closed, and NULL returned, when out
 * of memory).
 * @fd:		the queue's /dev/lfq fd or memfd.
 * @backend:	where the queue lives.
 *
 * Return: the handle, with both sides denied until lfq_bind_views().
 */
struct lfq *lfq_alloc(int fd, const struct lfq_backend_ops *backend)
{
	struct lfq *q = aligned_alloc(64, sizeof(*q));

	if (!q) {
		close(fd);
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->pops = &lfq_denied_prod_ops;
	q->cops = &lfq_denied_cons_ops;
	q->backend = backend;
	q->fd = fd;
	q->wakeups = 1;
	q->role = LFQ_ROLE_ALL;
	q->wait_spins = LFQ_WAIT_SPINS_DEFAULT;
	q->pspin = LFQ_WAIT_SPINS_DEFAULT;
	q->cspin = LFQ_WAIT_SPINS_DEFAULT;
	q->map = MAP_FAILED;
	q->claim = -1;
	q->cclaim = -1;
	q->owner = getpid();
	return q;
}

/**
 * lfq_bind_views() - build the protocol views of a mapped handle and
 * choose its operations: each side the handle's role allows gets its
 * protocol's view and ops, the other is denied.
 * @q:		a handle whose q->ring is set.
 */
void lfq_bind_views(struct lfq *q)
{
	/* MPMC producers are MPSC producers (their view has release words). */
	int mpsc = lfq_type_committed(q->hdr.type);

	if (q->ring.records) {
		lfq_rec_bind(q);
		return;
	}
	if (q->role & LFQ_ROLE_PRODUCER) {
		if (mpsc)
			lfq_mpsc_prod_init(&q->prod.mpsc.view, &q->ring);
		else
			lfq_spsc_prod_init(&q->prod.spsc, &q->ring);
		q->pops = mpsc ? &lfq_mpsc_prod_ops : &lfq_spsc_prod_ops;
	}
	if ((q->role & LFQ_ROLE_CONSUMER) && q->hdr.type == LFQ_TYPE_MPMC) {
		lfq_mpmc_cons_init(&q->cons.mpmc.view, &q->ring);
		q->cops = &lfq_mpmc_cons_ops;
	} else if (q->role & LFQ_ROLE_CONSUMER) {
		if (mpsc)
			lfq_mpsc_cons_init(&q->cons.mpsc, &q->ring);
		else
			lfq_spsc_cons_init(&q->cons.spsc, &q->ring);
		q->cops = mpsc ? &lfq_mpsc_cons_ops : &lfq_spsc_cons_ops;
	}
}

/**
 * lfq_opts_copy() - read a caller's options struct into ours (libbpf's
 * "sz" convention): a smaller (older) struct is zero-extended, a larger
 * (newer) one is accepted only if the bytes we do not know are zero.
 * @dst:	our struct, @dst_size bytes; zeroed first.
 * @dst_size:	its size.
 * @opts:	the caller's; its first member is its size_t size.
 *
 * Return: 0, -EINVAL (NULL, or a size smaller than the size field),
 * -E2BIG (unknown non-zero bytes).
 */
int lfq_opts_copy(void *dst, size_t dst_size, const void *opts)
{
	size_t sz, i;

	memset(dst, 0, dst_size);
	if (!opts)
		return -EINVAL;
	memcpy(&sz, opts, sizeof(sz));
	if (sz < sizeof(sz))
		return -EINVAL;
	for (i = dst_size; i < sz; i++)
		if (((const unsigned char *)opts)[i])
			return -E2BIG;
	memcpy(dst, opts, sz < dst_size ? sz : dst_size);
	return 0;
}

void lfq_close(struct lfq *q)
{
	if (!q)
		return;
	/*
	 * An unfinished record reservation would stop the consumer there
	 * while another file (a fork's) keeps the claim alive; an elastic
	 * queue's also holds a read-side section (ORDERING seg-grace) that
	 * would stop every retirement, and the last handle's wait for them:
	 * given up here.
	 */
	if (q->ring.records && q->pops == &lfq_rec_slot_prod_ops &&
	    q->prod.rec.resv.len)
		lfq_record_discard(q);
	else if (q->plocked)
		q->pops->discard(q);
	/*
	 * An MPMC consumer gives back what it holds: nothing else would on
	 * a memfd queue, and producers would wait at it for good. Not a
	 * forked child's copy of the handle: what it names is the parent's.
	 */
	if (q->owner == getpid()) {
		if (q->ring.claim && q->cops == &lfq_rec_slot_cons_ops &&
		    q->cons.rmpmc.held)
			lfq_record_release(q);
		else if (q->cops == &lfq_mpmc_cons_ops &&
			 q->cons.mpmc.hold.take.count)
			q->cops->release(q, UINT32_MAX);
	}
	if (q->backend->unbind)
		q->backend->unbind(q);
	if (q->map != MAP_FAILED)
		munmap(q->map, q->layout.map_size);
	if (q->fd >= 0)
		close(q->fd);
	free(q);
}

int lfq_fd(const struct lfq *q)
{
	return q->fd;
}

int lfq_id(const struct lfq *q)
{
	return lfq_is_kernel(q) ? (int)q->id : -EOPNOTSUPP;
}

uint32_t lfq_type(const struct lfq *q)
{
	return q->hdr.type;
}

uint32_t lfq_role(const struct lfq *q)
{
	return q->role;
}

int lfq_is_kernel(const struct lfq *q)
{
	return q->backend == &lfq_kernel_backend;
}

uint32_t lfq_slot_size(const struct lfq *q)
{
	return q->hdr.slot_size;
}

uint32_t lfq_slot_count(const struct lfq *q)
{
	return q->hdr.slot_count;
}

void lfq_set_wakeups(struct lfq *q, int enabled)
{
	q->wakeups = !!enabled;
}

void lfq_set_wait_spin(struct lfq *q, unsigned int spins)
{
	q->wait_spins = spins;
	lfq_store_relaxed(&q->pspin, spins);
	lfq_store_relaxed(&q->cspin, spins);
}
