// SPDX-License-Identifier: MIT
/*
 * lfq_open.c - getting a queue into the process: creating or attaching it
 * (through /dev/lfq, or in a sealed memfd), mapping its layout with the
 * header read-only and the slot area twice back to back, and closing it.
 * This is the slow path; nothing here runs per message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lfq_handle.h"

/* Seals every memfd queue carries: its size can never change under us. */
#define LFQ_MEMFD_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static long lfq_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* A handle owning @fd; on failure @fd is closed and NULL returned. */
static struct lfq *lfq_alloc(int fd, enum lfq_backend backend)
{
	struct lfq *q = aligned_alloc(64, sizeof(*q));

	if (!q) {
		close(fd);
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->backend = backend;
	q->wakeups = 1;
	q->role = LFQ_ROLE_ALL;		/* memfd queues have no roles */
	q->wait_spins = LFQ_WAIT_SPINS_DEFAULT;
	q->map = MAP_FAILED;
	q->claim = -1;
	return q;
}

/* Map @len bytes of q->fd at offset @off to the same offset of @base. */
static int lfq_map_at(struct lfq *q, unsigned char *base, uint64_t off,
		      uint64_t len, int writable)
{
	if (!len)
		return 0;
	if (mmap(base + off, len, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		 MAP_SHARED | MAP_FIXED, q->fd, (off_t)off) == MAP_FAILED)
		return -errno;
	return 0;
}

/*
 * Map q->layout from q->fd. The kernel exposes the slot area twice in its
 * own layout; a memfd holds it once and we map it a second time ourselves.
 * Only what q->role may write is writable, by the rule the kernel
 * enforces (lfq_layout_part()).
 */
int lfq_map_layout(struct lfq *q, int double_in_file)
{
	const struct lfq_layout *l = &q->layout;
	__u64 off, size;
	unsigned char *base;
	unsigned int part;
	uint32_t writer;
	int err = 0;

	base = mmap(NULL, l->map_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (part = 0; part < LFQ_PARTS && !err; part++) {
		writer = lfq_layout_part(l, part, &off, &size);
		if (part == LFQ_PART_DATA && !double_in_file) {
			/* The second copy: the file's first, again. */
			size /= 2;
			err = lfq_map_at(q, base + size, off, size,
					 q->role & writer);
		}
		if (!err)
			err = lfq_map_at(q, base, off, size, q->role & writer);
	}
	if (err) {
		munmap(base, l->map_size);
		return err;
	}
	q->map = base;
	/* Both pairs point into the ring; only hdr.type's pair is used. */
	lfq_spsc_prod_init(&q->prod, base, &q->hdr);
	lfq_spsc_cons_init(&q->cons, base, &q->hdr);
	lfq_mpsc_prod_init(&q->mprod, base, &q->hdr);
	lfq_mpsc_cons_init(&q->mcons, base, &q->hdr);
	return 0;
}

/*
 * An MPSC producer registers a claim record (see LFQ_IOC_CLAIM in lfq.h),
 * so that if this process dies holding a reservation the kernel can tell
 * its slots from live producers' and discard them. A module older than
 * claims (-ENOTTY) leaves the handle without one.
 */
static int lfq_claim_register(struct lfq *q)
{
	struct lfq_claim arg = { .size = sizeof(arg) };
	struct lfq_prod_ctl *ctl;

	if (!lfq_is_mpsc(q) || !lfq_can_produce(q))
		return 0;
	if (ioctl(q->fd, LFQ_IOC_CLAIM, &arg))
		return errno == ENOTTY ? 0 : -errno;
	if (arg.index >= LFQ_MPSC_CLAIMS)
		return -EPROTO;
	q->claim = (int)arg.index;
	ctl = (struct lfq_prod_ctl *)(q->map + q->layout.prod_offset);
	q->mprod.claim = &ctl->claims[arg.index];
	return 0;
}

/* Give the claim back: the fd may outlive the handle (lfq_attach_fd()). */
static void lfq_claim_free(struct lfq *q)
{
	struct lfq_claim arg = {
		.size = sizeof(arg),
		.flags = LFQ_CLAIM_FREE,
		.index = (uint32_t)q->claim,
	};

	if (q->claim >= 0)
		(void)ioctl(q->fd, LFQ_IOC_CLAIM, &arg);
}

/* Take the layout of a queue the kernel holds, from LFQ_IOC_INFO. */
static int lfq_kernel_bind(struct lfq *q)
{
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_ring_hdr *shared;
	int err;

	if (ioctl(q->fd, LFQ_IOC_INFO, &info))
		return -errno;
	if (info.size < LFQ_INFO_SIZE_VER1)	/* a module without commit words */
		info.commit_offset = info.data_offset;
	q->layout = (struct lfq_layout) {
		.hdr_offset = info.hdr_offset,
		.prod_offset = info.prod_offset,
		.cons_offset = info.cons_offset,
		.commit_offset = info.commit_offset,
		.commit_size = info.commit_size,
		.data_offset = info.data_offset,
		.data_size = info.data_size,
		.map_size = info.map_size,
	};
	q->id = info.id;
	/* A module without roles maps everything writable for everyone. */
	q->role = info.size >= LFQ_INFO_SIZE_VER2 ? info.role : LFQ_ROLE_ALL;
	lfq_ring_hdr_init(&q->hdr, info.type, info.flags, info.slot_size,
			  info.slot_count, &q->layout);
	/* The geometry must be one this library understands. */
	err = lfq_ring_hdr_check(&q->hdr, lfq_page_size(), &q->layout);
	if (err)
		return err;
	err = lfq_map_layout(q, 1);
	if (err)
		return err;
	shared = (struct lfq_ring_hdr *)(q->map + q->layout.hdr_offset);
	if (memcmp(shared, &q->hdr, sizeof(q->hdr))) {
		munmap(q->map, q->layout.map_size);
		q->map = MAP_FAILED;
		return -EPROTO;
	}
	return lfq_claim_register(q);
}

/* Wrap a bound /dev/lfq fd (consumed, even on error) in a mapped handle. */
static int lfq_kernel_open(int fd, struct lfq **out)
{
	struct lfq *q = lfq_alloc(fd, LFQ_BACKEND_KERNEL);
	int err;

	if (!q)
		return -ENOMEM;
	err = lfq_kernel_bind(q);
	if (err) {
		lfq_close(q);
		return err;
	}
	*out = q;
	return 0;
}

/**
 * lfq_create() - create a queue in the kernel through /dev/lfq.
 * @p:		type and geometry.
 * @out:	the new handle, holding both sides.
 *
 * Return: 0, or -ENOENT (no /dev/lfq: module not loaded), -EINVAL (bad
 * geometry), -ENOMEM, or another open/ioctl/mmap error.
 */
int lfq_create(const struct lfq_params *p, struct lfq **out)
{
	struct lfq_create arg = {
		.size = sizeof(arg),
		.flags = p->flags,
		.type = p->type,
		.slot_size = p->slot_size,
		.slot_count = p->slot_count,
	};

	return lfq_bind_new(LFQ_IOC_CREATE, &arg, out);
}

/*
 * Open /dev/lfq, bind it with @cmd (LFQ_IOC_CREATE or LFQ_IOC_OPEN) and
 * @arg, and map the queue into a new handle.
 */
int lfq_bind_new(unsigned long cmd, void *arg, struct lfq **out)
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
	return lfq_kernel_open(fd, out);
}

/**
 * lfq_attach_fd() - attach to the queue bound to a /dev/lfq fd that this
 * process inherited or received; the fd is duplicated.
 * @fd:		a /dev/lfq file descriptor bound to a queue.
 * @out:	the new handle.
 *
 * Return: 0, -EBADFD (fd bound to no queue), or another error.
 */
int lfq_attach_fd(int fd, struct lfq **out)
{
	int dfd;

	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -errno;
	return lfq_kernel_open(dfd, out);
}

/**
 * lfq_mem_create() - create a queue in process memory (a sealed memfd).
 * @p:		type and geometry.
 * @out:	the new handle; lfq_fd() is the memfd to share.
 *
 * Return: 0, -EINVAL (bad geometry) or a memfd/mmap error.
 */
int lfq_mem_create(const struct lfq_params *p, struct lfq **out)
{
	struct lfq_ring_hdr hdr;
	struct lfq *q;
	int fd, err;

	err = p->flags & ~LFQ_CREATE_FLAGS_ALL ? -EINVAL :
	      lfq_geometry_check(p->type, p->slot_size, p->slot_count,
				 lfq_page_size());
	if (err)
		return err;
	fd = memfd_create("lfq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	q = lfq_alloc(fd, LFQ_BACKEND_MEMFD);
	if (!q)
		return -ENOMEM;
	lfq_layout_init(&q->layout, p->type, p->slot_size, p->slot_count,
			lfq_page_size());
	lfq_ring_hdr_init(&q->hdr, p->type, p->flags, p->slot_size,
			  p->slot_count, &q->layout);
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
	*out = q;
	return 0;
}

/**
 * lfq_mem_attach() - attach to a memfd queue made by lfq_mem_create() in
 * this or another process; the fd is duplicated. The memfd's header and
 * seals are checked, so a memfd from an untrusted peer cannot make this
 * process fault.
 * @memfd:	the queue's memfd.
 * @out:	the new handle.
 *
 * Return: 0, -EPROTO (not an lfq queue), -EINVAL (bad geometry, size or
 * seals), or another error.
 */
int lfq_mem_attach(int memfd, struct lfq **out)
{
	struct stat st;
	struct lfq *q;
	int fd, seals, err;

	fd = fcntl(memfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	q = lfq_alloc(fd, LFQ_BACKEND_MEMFD);
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
	*out = q;
	return 0;
fail:
	lfq_close(q);
	return err;
}

/**
 * lfq_close() - unmap and free a handle. The queue itself lives on while
 * other handles, files or mappings hold it.
 * @q:		the handle (may be NULL).
 */
void lfq_close(struct lfq *q)
{
	if (!q)
		return;
	lfq_claim_free(q);
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

/**
 * lfq_id() - the queue's id in the module's registry (LFQ_IOC_INFO's id,
 * struct lfq_list_entry's id).
 * @q:		the handle.
 *
 * Return: the id (>= 0), or -EOPNOTSUPP for a memfd queue.
 */
int lfq_id(const struct lfq *q)
{
	return q->backend == LFQ_BACKEND_KERNEL ? (int)q->id : -EOPNOTSUPP;
}

int lfq_is_kernel(const struct lfq *q)
{
	return q->backend == LFQ_BACKEND_KERNEL;
}

uint32_t lfq_slot_size(const struct lfq *q)
{
	return q->hdr.slot_size;
}

uint32_t lfq_slot_count(const struct lfq *q)
{
	return q->hdr.slot_count;
}

/**
 * lfq_set_wakeups() - choose whether commit/release check for sleepers.
 * @q:		the handle.
 * @enabled:	non-zero (the default) to check; zero when the peer never
 *		sleeps (busy-polls), saving one full barrier per commit.
 */
void lfq_set_wakeups(struct lfq *q, int enabled)
{
	q->wakeups = !!enabled;
}

/**
 * lfq_set_wait_spin() - choose how long waits spin before sleeping.
 * @q:		the handle.
 * @spins:	readiness checks (each with a CPU pause) before a wait arms
 *		the wakeup flag and sleeps; 0 sleeps at once. Default 256.
 */
void lfq_set_wait_spin(struct lfq *q, unsigned int spins)
{
	q->wait_spins = spins;
}
