/* SPDX-License-Identifier: MIT */
/*
 * liblfq.h - the public API of liblfq: create or attach a queue, then
 * push and pop in its shared memory with no system call, lock or
 * allocation on the fast path.
 *
 * A queue lives either in the kernel (/dev/lfq; poll/epoll, kernel-managed
 * lifetime) or in plain process memory (a sealed memfd, shareable with
 * other processes by passing its fd, or across fork). The ring code is the
 * same in both cases.
 *
 * One thread may produce and another consume through the same handle at
 * the same time; each side of a handle is single-threaded. An MPSC queue
 * takes many producers: each producing thread or process uses a handle of
 * its own (lfq_attach_fd() or lfq_mem_attach() on the queue's fd).
 * Functions return 0 or a count on success and a negative errno on error.
 */
#ifndef LIBLFQ_H
#define LIBLFQ_H

#include <stddef.h>
#include <stdint.h>

#include "lfq.h"
#include "lfq_event.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LFQ_BUILDING_LIB)
#define LFQ_API __attribute__((visibility("default")))
#else
#define LFQ_API
#endif

/** struct lfq - an opaque handle on one mapped queue. */
struct lfq;

/**
 * struct lfq_params - what a queue is created with.
 * @type:	LFQ_TYPE_SPSC or LFQ_TYPE_MPSC.
 * @slot_size:	bytes per slot, a multiple of 8.
 * @slot_count:	power of two; slot_size * slot_count must be a multiple of
 *		the page size (4096 on x86: e.g. 64-byte slots need >= 64).
 * @flags:	LFQ_CREATE_* flags (LFQ_CREATE_BLOCK: lfq_push() waits for space).
 */
struct lfq_params {
	uint32_t type;
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t flags;
};

/* Creation and attachment. */
LFQ_API int lfq_create(const struct lfq_params *p, struct lfq **out);
LFQ_API int lfq_attach_fd(int fd, struct lfq **out);
LFQ_API int lfq_mem_create(const struct lfq_params *p, struct lfq **out);
LFQ_API int lfq_mem_attach(int memfd, struct lfq **out);
LFQ_API void lfq_close(struct lfq *q);

/*
 * Named queues (/dev/lfq): like POSIX shared memory, a name keeps its
 * queue alive until lfq_unlink() and the last handle, file and mapping
 * are gone. Names are global to the machine; the queue's owner, group and
 * mode decide who may attach (see struct lfq_open in lfq.h). A handle has
 * a role (LFQ_ROLE_* in lfq.h): a queue admits one consumer, and one
 * producer if SPSC; a handle's calls outside its role fail with -EPERM
 * (lfq_reserve() and lfq_peek() return NULL). lfq_create() and memfd
 * queues hold both roles; lfq_attach_fd() takes the role of the file.
 */
LFQ_API int lfq_create_named(const struct lfq_params *p, const char *name,
			     unsigned int mode, unsigned int role,
			     struct lfq **out);
LFQ_API int lfq_open_named(const char *name, unsigned int role,
			   struct lfq **out);
LFQ_API int lfq_unlink(const char *name);
LFQ_API int lfq_list(struct lfq_list_entry *entries, unsigned int max,
		     unsigned int *total);

/* Properties. */
LFQ_API int lfq_fd(const struct lfq *q);
LFQ_API int lfq_id(const struct lfq *q);
LFQ_API int lfq_is_kernel(const struct lfq *q);
LFQ_API uint32_t lfq_slot_size(const struct lfq *q);
LFQ_API uint32_t lfq_slot_count(const struct lfq *q);
LFQ_API void lfq_set_wakeups(struct lfq *q, int enabled);
LFQ_API void lfq_set_wait_spin(struct lfq *q, unsigned int spins);

/* Zero-copy producer side. */
LFQ_API void *lfq_reserve(struct lfq *q, uint32_t want, uint32_t *got);
LFQ_API int lfq_commit(struct lfq *q, uint32_t n);
LFQ_API int lfq_discard(struct lfq *q);

/* Zero-copy consumer side. */
LFQ_API const void *lfq_peek(struct lfq *q, uint32_t want, uint32_t *got);
LFQ_API int lfq_release(struct lfq *q, uint32_t n);

/* Copying conveniences: one message of at most slot_size bytes. */
LFQ_API int lfq_push(struct lfq *q, const void *msg, size_t len);
LFQ_API int lfq_pop(struct lfq *q, void *buf, size_t len);

/* Blocking: < 0 waits forever, 0 only checks. */
LFQ_API int lfq_wait_data(struct lfq *q, uint32_t min_count,
			  int64_t timeout_ns);
LFQ_API int lfq_wait_space(struct lfq *q, uint32_t min_count,
			   int64_t timeout_ns);

/* Counters; see struct lfq_stats in lfq.h. */
LFQ_API int lfq_get_stats(struct lfq *q, struct lfq_stats *st);

/* Kernel event sources (/dev/lfq MPSC queues); records in lfq_event.h. */

/**
 * lfq_source_attach() - start a kernel event source producing into the
 * queue (LFQ_IOC_SOURCE_ATTACH).
 * @q:		a handle on a /dev/lfq queue.
 * @src:	the source; its @size field is ignored (the library sets it).
 *
 * The source stays attached until lfq_source_detach() or until the last
 * fd of the queue's file is closed. Needs CAP_PERFMON or CAP_SYS_ADMIN.
 *
 * Return: the source's id (>= 0), -EOPNOTSUPP for a memfd queue, or a
 * negative errno (see struct lfq_source in lfq.h).
 */
LFQ_API int lfq_source_attach(struct lfq *q, const struct lfq_source *src);

/**
 * lfq_source_detach() - stop a source (LFQ_IOC_SOURCE_DETACH).
 * @q:		the handle the source was attached through.
 * @id:		the id lfq_source_attach() returned.
 *
 * Return: 0, -EOPNOTSUPP for a memfd queue, or a negative errno.
 */
LFQ_API int lfq_source_detach(struct lfq *q, int id);

#ifdef __cplusplus
}
#endif

#endif /* LIBLFQ_H */
