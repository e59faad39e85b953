/* SPDX-License-Identifier: MIT */
/*
 * liblfq.h - the public API of liblfq 0.3: create or open a queue, then
 * push and pop in its shared memory with no system call, lock or
 * allocation on the fast path (lfq_inline.h: the same, for fixed SPSC
 * queues, inlined into the caller).
 *
 * A queue lives either in the kernel (/dev/lfq: kernel-managed lifetime,
 * names and permissions, poll/epoll, kernel event sources) or in process
 * memory (a sealed memfd, shared with other processes by passing its fd
 * or across fork). The ring code is the same in both cases.
 *
 * Errors: functions return 0 or a count on success and a negative errno
 * on failure; "full" and "empty" are -EAGAIN, a call outside the handle's
 * role is -EPERM.
 *
 * Threads. A handle (struct lfq *) has a producer side and a consumer
 * side, each used by one thread at a time; the two sides may be used by
 * two threads at once. Several producers of an MPSC queue each use a
 * handle of their own (lfq_open() on the queue's fd). In the table, "yes"
 * means the two calls may run at the same time on the same handle;
 * calls on different handles may always run at the same time.
 *
 *			 | producer side | consumer side | queries | setup
 *   producer side	 |	no	 |	yes	 |   yes   |  no
 *   consumer side	 |	yes	 |	no	 |   yes   |  no
 *   queries		 |	yes	 |	yes	 |   yes   |  no
 *   setup		 |	no	 |	no	 |   no    |  no
 *
 *   producer side: lfq_reserve(), lfq_commit(), lfq_discard(), lfq_push(),
 *		    lfq_wait_space(), lfq_inline_reserve() and _one(),
 *		    lfq_inline_commit() and _one()
 *   consumer side: lfq_peek(), lfq_release(), lfq_pop(), lfq_wait_data(),
 *		    lfq_inline_peek() and _one(), lfq_inline_release() and
 *		    _one()
 *   queries:	    lfq_fd(), lfq_id(), lfq_type(), lfq_role(),
 *		    lfq_inline_producer(), lfq_inline_consumer(),
 *		    lfq_is_kernel(), lfq_slot_size(), lfq_slot_count(),
 *		    lfq_get_stats(), lfq_get_wait_spin(),
 *		    lfq_source_attach(), lfq_source_detach()
 *   setup:	    lfq_set_wakeups(), lfq_set_wait_spin(), lfq_close()
 *
 * lfq_create(), lfq_open(), lfq_unlink() and lfq_list() make new handles
 * or touch none, and may be called from any thread at any time. Nothing
 * in liblfq is async-signal-safe.
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

/* Where a queue lives (struct lfq_create_opts.backend). */
#define LFQ_BACKEND_KERNEL	0	/* /dev/lfq (the default) */
#define LFQ_BACKEND_MEMFD	1	/* a sealed memfd in process memory */

/*
 * Options structs start with their size (libbpf's "sz" convention), so
 * fields can be added without breaking programs built against an older
 * liblfq; declare them with LFQ_OPTS(), which sets it:
 *
 *	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
 *		 .slot_size = 64, .slot_count = 1024);
 *	err = lfq_create(&o, &q);
 *
 * A field the library does not know must be zero (else -E2BIG).
 */
#define LFQ_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }

/**
 * struct lfq_create_opts - what lfq_create() makes.
 * @sz:		sizeof(struct lfq_create_opts).
 * @type:	LFQ_TYPE_SPSC, LFQ_TYPE_MPSC, or LFQ_TYPE_MPMC (not
 *		elastic: -EINVAL).
 * @slot_size:	bytes per slot, a multiple of 8.
 * @slot_count:	a power of two; slot_size * slot_count must be a multiple
 *		of the page size (4096 on x86: 64-byte slots need >= 64).
 * @flags:	LFQ_CREATE_* (LFQ_CREATE_BLOCK: lfq_push() waits for space).
 * @backend:	LFQ_BACKEND_KERNEL or LFQ_BACKEND_MEMFD.
 * @role:	kernel queues: the new handle's LFQ_ROLE_* bits, 0 for both.
 *		A queue admits one consumer (and one producer if SPSC): a
 *		creator that only produces should take only that role.
 *		Memfd queues have no roles (0).
 * @name:	kernel queues: NULL for an anonymous queue (shared by fd
 *		passing or fork), else 1 to LFQ_NAME_MAX - 1 characters of
 *		[A-Za-z0-9._-], not starting with '.': the name keeps the
 *		queue until lfq_unlink(), like shm_open(O_CREAT | O_EXCL).
 *		The queue is owned by the caller's fsuid and fsgid.
 * @mode:	named queues: permission bits (0777 at most) for lfq_open():
 *		a write bit admits producers, a read bit consumers. No umask
 *		applies. 0 for anonymous and memfd queues.
 * @seg_min:	with LFQ_CREATE_ELASTIC in @flags: segments of @slot_count
 *		slots kept allocated at rest, spares included (>= 1; >= 2
 *		lets kernel producers in NMI grow the queue at once).
 * @seg_max:	with LFQ_CREATE_ELASTIC: segments at most, 2 or more. The
 *		queue grows a segment at a time when a producer finds its
 *		segment full, and shrinks back to @seg_min as the consumer
 *		drains it (see README.md, "Elastic queues"). A memfd
 *		elastic queue lives in this process only (its segments are
 *		reclaimed with liburcu): lfq_open() of its fd is -EOPNOTSUPP.
 */
struct lfq_create_opts {
	size_t sz;
	uint32_t type;
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t flags;
	uint32_t backend;
	uint32_t role;
	const char *name;
	uint32_t mode;
	uint32_t seg_min;
	uint32_t seg_max;
};

/**
 * lfq_create() - create a queue and a handle on it.
 * @opts:	what to create.
 * @out:	the new handle.
 *
 * Context: any thread; sleeps (system calls).
 * Return: 0, or -EINVAL (bad geometry, flags, role or mode; a name or role
 * on a memfd queue), -E2BIG (unknown non-zero fields of @opts), -EEXIST
 * (name taken), -ENAMETOOLONG, -ENOSPC (LFQ_NAMED_MAX names), -EDQUOT
 * (a kernel queue that would take its user past the module's
 * user_bytes_max, or a name past its user_names_max), -ENOENT (no
 * /dev/lfq: module not loaded), -ENOMEM, or another open/ioctl/mmap or
 * memfd error.
 */
LFQ_API int lfq_create(const struct lfq_create_opts *opts, struct lfq **out);

/**
 * struct lfq_open_opts - which queue lfq_open() opens, and how.
 * @sz:		sizeof(struct lfq_open_opts).
 * @name:	a named kernel queue; or NULL to open @fd.
 * @fd:		when @name is NULL: a /dev/lfq fd bound to a queue, or the
 *		memfd of a memfd queue, inherited or received from another
 *		process. It is duplicated: the caller keeps its own.
 * @role:	by name: LFQ_ROLE_PRODUCER and/or LFQ_ROLE_CONSUMER, checked
 *		against the queue's owner, group and mode. By fd: 0 (the
 *		handle takes the file's role; memfd queues have none).
 */
struct lfq_open_opts {
	size_t sz;
	const char *name;
	int fd;
	uint32_t role;
};

/**
 * lfq_open() - a handle on an existing queue.
 * @opts:	which queue.
 * @out:	the new handle.
 *
 * A handle opened by fd on an MPSC queue is a producer of its own (it
 * registers its own claim for crash safety): open one per producing
 * thread or process. A memfd is checked (header, size, seals), so one from
 * an untrusted peer cannot make this process fault.
 *
 * Context: any thread; sleeps.
 * Return: 0, or -ENOENT (no such name, or no /dev/lfq), -EACCES (the mode
 * denies the role), -EBUSY (the queue has its consumer, or its SPSC
 * producer), -ENOSPC (the handle would be an MPSC producer of a /dev/lfq
 * queue that has all LFQ_MPSC_CLAIMS claims registered: its claim cannot
 * be), -EBADF (@fd is not an open fd), -EBADFD (an fd bound to no queue),
 * -EOPNOTSUPP (@fd is the memfd of an in-process elastic queue that
 * another process created: a forked child opening its parent's too),
 * -EPROTO (not an lfq queue), -EINVAL (bad name, role, geometry or
 * seals), -E2BIG, -ENAMETOOLONG, or another system call's error.
 */
LFQ_API int lfq_open(const struct lfq_open_opts *opts, struct lfq **out);

/**
 * lfq_close() - unmap and free a handle. The queue lives on while other
 * handles, files, mappings or its name hold it.
 * @q:		the handle (may be NULL).
 *
 * A record still reserved is discarded; what an MPMC consumer handle
 * still holds (peeked slots, a record) is released, but not by a forked
 * child's copy of the handle: what it holds is the parent's.
 *
 * Context: no other call on @q may run or follow.
 */
LFQ_API void lfq_close(struct lfq *q);

/**
 * lfq_unlink() - remove a queue's name. The queue lives on while handles,
 * files or mappings hold it; the name may be created again at once.
 * @name:	the queue's name.
 *
 * Return: 0, or -ENOENT (no such name), -EPERM (neither the owner nor
 * CAP_FOWNER), -EINVAL, -ENAMETOOLONG.
 */
LFQ_API int lfq_unlink(const char *name);

/**
 * lfq_list() - report the named queues, in increasing order of id.
 * @entries:	room for @max entries (may be NULL when @max is 0).
 * @max:	entries @entries holds.
 * @total:	out (may be NULL): named queues in all; more than the return
 *		value when @entries was too small.
 *
 * Return: the number of entries written, or a negative errno.
 */
LFQ_API int lfq_list(struct lfq_list_entry *entries, unsigned int max,
		     unsigned int *total);

/* Queries: any thread, any time while the handle is open. */

/** lfq_fd() - the queue's /dev/lfq fd or memfd (owned by the handle). */
LFQ_API int lfq_fd(const struct lfq *q);
/** lfq_id() - the kernel queue's id (lfq_list_entry.id); -EOPNOTSUPP for memfd. */
LFQ_API int lfq_id(const struct lfq *q);
/** lfq_type() - LFQ_TYPE_SPSC, LFQ_TYPE_MPSC or LFQ_TYPE_MPMC. */
LFQ_API uint32_t lfq_type(const struct lfq *q);
/** lfq_role() - the handle's LFQ_ROLE_* bits (memfd: both). */
LFQ_API uint32_t lfq_role(const struct lfq *q);
/** lfq_is_kernel() - non-zero for a /dev/lfq queue. */
LFQ_API int lfq_is_kernel(const struct lfq *q);
/** lfq_slot_size() - bytes per slot. */
LFQ_API uint32_t lfq_slot_size(const struct lfq *q);
/** lfq_slot_count() - slots in the ring. */
LFQ_API uint32_t lfq_slot_count(const struct lfq *q);

/**
 * lfq_set_wakeups() - choose whether commit/release check for sleepers.
 * @q:		the handle.
 * @enabled:	non-zero (the default) to check; zero when the peer never
 *		sleeps (busy-polls): nobody is woken. On a symmetric fixed
 *		SPSC queue that saves a full barrier and the load of the
 *		peer's sleep flag per commit; on an asymmetric one the check
 *		is a compiler barrier and that load, made either way (the
 *		setting is read only when a peer sleeps). MPSC, MPMC,
 *		record and elastic queues check either way: zero only
 *		skips the wake.
 *
 * Context: setup: before the handle is used by other threads.
 */
LFQ_API void lfq_set_wakeups(struct lfq *q, int enabled);

/**
 * lfq_set_wait_spin() - choose how long waits may spin before sleeping.
 * @q:		the handle.
 * @spins:	the most readiness checks (each with a CPU pause) a wait
 *		makes before it arms the wakeup flag and sleeps; 0 sleeps at
 *		once. Default 256.
 *
 * A wait checks once, then spins up to the side's current count: it
 * adapts below @spins, starting from @spins, for lfq_wait_data() and
 * lfq_wait_space() apart. A wait that its spin satisfied doubles the next
 * wait's count, and one that had to sleep takes a quarter off it, down to
 * 16 (or @spins, if lower). Waits keep spinning while about three in ten
 * or more find the peer's work in the spin, and spin little where the
 * peer is idle or cannot run meanwhile (one CPU), where spinning only
 * delays the sleep and its fence.
 *
 * Context: setup.
 */
LFQ_API void lfq_set_wait_spin(struct lfq *q, unsigned int spins);

/**
 * lfq_get_wait_spin() - the spin count the next wait of one side starts
 * with.
 * @q:		the handle.
 * @which:	LFQ_WAIT_DATA: lfq_wait_data()'s; LFQ_WAIT_SPACE (or any
 *		other value): lfq_wait_space()'s.
 *
 * Context: query.
 * Return: the readiness checks after the first, as adapted
 * (lfq_set_wait_spin()).
 */
LFQ_API unsigned int lfq_get_wait_spin(const struct lfq *q,
				       unsigned int which);

/*
 * The fast path: no system call (but the wakeup a sleeping peer asked
 * for), no lock, no allocation.
 */

/**
 * lfq_reserve() - reserve up to @want consecutive free slots to write.
 * @q:		a handle with the producer role.
 * @want:	slots wanted, >= 1.
 * @span:	set to the first slot; the *return value* slots from it are
 *		one contiguous span, even across the ring's end. NULL on
 *		error.
 *
 * Nothing is visible to the consumer until lfq_commit(). Reserving again
 * before committing replaces (SPSC) or discards (MPSC) the reservation.
 *
 * Context: producer side.
 * Return: slots reserved (1..@want), -EAGAIN when the ring is full (an
 * elastic queue: when it cannot grow, at seg_max, at the user's byte limit
 * or without memory), -EPERM without the producer role, -EINVAL for @want 0.
 * On an elastic /dev/lfq queue, also -EPROTO when the module names a
 * segment frame outside the queue, or another error of LFQ_IOC_GROW,
 * passed through (its -EDQUOT and -ENOMEM are the -EAGAIN above).
 */
LFQ_API int lfq_reserve(struct lfq *q, uint32_t want, void **span);

/**
 * lfq_commit() - publish the first @n slots of the last reservation, and
 * wake the consumer if it sleeps (the only system call it may make).
 * On an MPSC queue, reserved slots past @n are given up (discarded).
 * @q:		the handle.
 * @n:		slots to publish (at most what was reserved).
 *
 * Context: producer side.
 * Return: 0, or -EPERM without the producer role.
 */
LFQ_API int lfq_commit(struct lfq *q, uint32_t n);

/**
 * lfq_discard() - give the last reservation up. On an MPSC queue the
 * slots are marked discarded; the consumer skips and counts them.
 * @q:		the handle.
 *
 * Context: producer side.
 * Return: 0, or -EPERM without the producer role.
 */
LFQ_API int lfq_discard(struct lfq *q);

/**
 * lfq_peek() - look at up to @want consecutive readable slots.
 * @q:		a handle with the consumer role.
 * @want:	slots wanted, >= 1.
 * @span:	set to the first slot of a contiguous span; NULL on error.
 *
 * The slots stay the consumer's until lfq_release(). Their bytes are in
 * memory other processes may write: validate what you read. On an MPMC
 * queue the peek claims the slots for this handle, and until all of them
 * are released its peeks return what it still holds (from the first
 * slot not released, at most @want).
 *
 * Context: consumer side.
 * Return: slots readable (1..@want), -EAGAIN when the ring is empty,
 * -EPERM without the consumer role, -EINVAL for @want 0.
 */
LFQ_API int lfq_peek(struct lfq *q, uint32_t want, const void **span);

/**
 * lfq_release() - free the first @n slots of the last peek, and wake a
 * producer that sleeps for space.
 * @q:		the handle.
 * @n:		slots to release (at most what was peeked).
 *
 * On an MPMC queue a consumer that forges release words can let a
 * producer overwrite slots another consumer still holds. The release
 * finds that out: it returns -ESTALE when any of the @n slots changed
 * after the peek (they are released all the same, and counted in
 * lfq_stats.torn). What was read of them is then not their records:
 * drop it. Whatever was read before a release that returns 0 is.
 *
 * Context: consumer side.
 * Return: 0, -ESTALE (MPMC: a released slot was overwritten while
 * held), or -EPERM without the consumer role.
 */
LFQ_API int lfq_release(struct lfq *q, uint32_t n);

/**
 * lfq_push() - copy one message into the next slot and commit it.
 * @q:		the handle.
 * @msg:	the message.
 * @len:	its length, at most slot_size; the rest of the slot is zeroed.
 *		A record queue: a record of @len bytes, 1 to its limit.
 *
 * A full ring fails the push, or, on a queue created with
 * LFQ_CREATE_BLOCK, makes it wait for space.
 *
 * Context: producer side.
 * Return: 0, -EAGAIN when full, -EPERM, -EMSGSIZE when @len exceeds the
 * slot (or the record limit), or an error of lfq_wait_space() while
 * blocking.
 */
LFQ_API int lfq_push(struct lfq *q, const void *msg, size_t len);

/**
 * lfq_pop() - copy the next message out and free its slot.
 * @q:		the handle.
 * @buf:	destination.
 * @len:	bytes to copy, at most slot_size. A record queue: the size of
 *		@buf; the whole record is copied.
 *
 * On an MPMC queue a record overwritten while it was copied (see
 * lfq_release()) is dropped, counted in lfq_stats.torn, and the next one
 * is taken.
 *
 * Context: consumer side.
 * Return: 0 (a record queue: the record's length), -EAGAIN when empty,
 * -EPERM, -EMSGSIZE when @len exceeds the slot (a record queue: when the
 * record is longer than @len; it stays in the ring, and on an MPMC queue
 * stays taken by this handle, producers held at it, until a pop with room
 * or lfq_record_release()), -ESTALE when a ring's worth of records in a
 * row were torn.
 */
LFQ_API int lfq_pop(struct lfq *q, void *buf, size_t len);

/**
 * lfq_wait_data() - sleep until at least @min_count slots are readable.
 * @q:		the handle.
 * @min_count:	1..slot_count; a record queue waits for one record,
 *		whatever it asks.
 * @timeout_ns:	< 0 forever, 0 only checks, else a relative timeout.
 *
 * Spins briefly first (lfq_set_wait_spin(): adaptive), then arms the
 * wakeup flag and sleeps (LFQ_IOC_WAIT, or a futex for memfd queues).
 *
 * Context: consumer side.
 * Return: 0, -EAGAIN (not ready and @timeout_ns is 0), -ETIMEDOUT,
 * -EINTR, -EINVAL.
 */
LFQ_API int lfq_wait_data(struct lfq *q, uint32_t min_count,
			  int64_t timeout_ns);

/**
 * lfq_wait_space() - sleep until at least @min_count slots are free.
 * @q:		the handle.
 * @min_count:	1..slot_count; a record queue: free bytes (a record of
 *		len bytes needs 8 + len rounded up to 8).
 * @timeout_ns:	as lfq_wait_data().
 *
 * Context: producer side.
 * Return: as lfq_wait_data().
 */
LFQ_API int lfq_wait_space(struct lfq *q, uint32_t min_count,
			   int64_t timeout_ns);

/*
 * Record queues (LFQ_CREATE_RECORDS in struct lfq_create_opts.flags,
 * slot_size 1, slot_count the ring's bytes; SPSC, MPSC, or MPMC and not
 * elastic nor in overwrite mode): records of 1 byte to
 * LFQ_REC_MAX_LEN(slot_count), each behind an 8-byte header, in the
 * order they were reserved. The slot calls (lfq_reserve(), lfq_peek()
 * and their kin) answer -EOPNOTSUPP on them; lfq_push() and lfq_pop()
 * copy whole records. A handle holds at most one reserved record and
 * one peeked one. On an MPMC record queue each consumer handle's peek
 * takes the next record for itself alone (its compare-and-swap of the
 * shared claim index), the others take the ones after it, and releases
 * come in any order; a /dev/lfq consumer that dies holding a record has
 * it released by the module, lost and counted in lfq_stats.lost.
 */

/**
 * lfq_record_reserve() - reserve a record of @len bytes.
 * @q:		a record queue's handle.
 * @len:	payload bytes, 1..LFQ_REC_MAX_LEN(slot_count).
 * @payload:	set to the record's payload (contiguous, 8-aligned), or
 *		NULL.
 *
 * A record still reserved on this handle is discarded first. MPSC
 * producers reserve lock-free and commit in any order.
 *
 * Context: producer side.
 * Return: 0, -EAGAIN when the ring has no room for it, -EMSGSIZE for a
 * @len of 0 or over the limit, -EPERM without the producer role,
 * -EOPNOTSUPP on a slot queue.
 */
LFQ_API int lfq_record_reserve(struct lfq *q, uint32_t len, void **payload);

/**
 * lfq_record_commit() - publish the reserved record.
 * @q:		the handle.
 *
 * Context: producer side.
 * Return: 0, -ENOENT with no record reserved, -EPERM, -EOPNOTSUPP.
 */
LFQ_API int lfq_record_commit(struct lfq *q);

/**
 * lfq_record_discard() - give the reserved record up: the consumer skips it.
 * @q:		the handle.
 *
 * Context: producer side.
 * Return: as lfq_record_commit().
 */
LFQ_API int lfq_record_discard(struct lfq *q);

/**
 * lfq_record_peek() - the next record, discarded ones skipped.
 * @q:		a record queue's handle.
 * @payload:	set to its payload (contiguous), or NULL.
 *
 * The record stays in the ring until lfq_record_release(); a peek before
 * that returns it again. A record not yet committed holds back those
 * reserved after it. A forged header (a length over the limit) stops the
 * consumer there, as if the ring were empty. On an MPMC queue the record
 * is taken: no other consumer gets it, and producers do not reuse its
 * bytes until it is released.
 *
 * Context: consumer side.
 * Return: the record's length (> 0), -EAGAIN when there is none, -EPERM
 * without the consumer role, -EOPNOTSUPP on a slot queue.
 */
LFQ_API int lfq_record_peek(struct lfq *q, const void **payload);

/**
 * lfq_record_release() - free the record lfq_record_peek() returned.
 * @q:		the handle.
 *
 * On an MPMC queue a record overwritten while this handle held it
 * (another consumer forged tail or a release mark, and producers reused
 * its bytes: found by head having moved a ring past it) is dropped and
 * counted in lfq_stats.torn: what was read of it is not the record.
 *
 * Context: consumer side.
 * Return: 0 (also with nothing peeked), -ESTALE (MPMC: the record was
 * torn), -EPERM, -EOPNOTSUPP.
 */
LFQ_API int lfq_record_release(struct lfq *q);

/**
 * typedef lfq_record_fn - what lfq_record_consume() calls for each record.
 * @ctx:	the caller's pointer.
 * @payload:	the record's payload, valid during the call only.
 * @len:	its length.
 *
 * Return: 0 to go on; anything else stops the consume after this record.
 */
typedef int (*lfq_record_fn)(void *ctx, const void *payload, uint32_t len);

/**
 * lfq_record_consume() - hand up to @max records to @fn and free them, as
 * one run: the headers are read once, and the ring is given back with
 * one store (libbpf's ring_buffer__consume_n()).
 * @q:		a record queue's handle.
 * @max:	records wanted, at least 1.
 * @fn:		called for each, in order.
 * @ctx:	passed to @fn.
 *
 * A record peeked with lfq_record_peek() and not released is handed first.
 * On an MPMC queue the records are taken, handed and released one at a
 * time; @fn gets each in place, so one found torn at its release (see
 * lfq_record_release()) is only counted in lfq_stats.torn: a consumer
 * that must not act on such a record copies with lfq_pop(), or peeks and
 * checks lfq_record_release()'s answer.
 *
 * Context: consumer side.
 * Return: records handed to @fn (0 when there is none), -EINVAL for a
 * @max of 0 or no @fn, -EPERM, -EOPNOTSUPP.
 */
LFQ_API int lfq_record_consume(struct lfq *q, uint32_t max, lfq_record_fn fn,
			    void *ctx);

/**
 * lfq_record_snapshot() - copy the records of a queue in overwrite mode
 * (LFQ_CREATE_OVERWRITE) without consuming them: the flight recorder's
 * dump, while producers go on.
 * @q:		a handle on the queue, either role.
 * @buf:	8-aligned; filled as LFQ_IOC_SNAPSHOT fills its buffer: each
 *		record as an 8-byte length word, then its payload padded to
 *		8 bytes (LFQ_SNAPSHOT_NEXT()). The ring's bytes always
 *		suffice.
 * @size:	bytes at @buf.
 * @fn:		NULL, or called for each record copied, oldest first, once
 *		the copy is done (a non-zero return stops the calls).
 * @ctx:	passed to @fn.
 *
 * Records are copied from the consumer's position to the head found at
 * the start, until the first one not yet committed or a full @buf.
 * Discarded records, records the consumer holds, and records overwritten
 * while being copied are left out; no copy is torn.
 *
 * Context: either side; no system call, no lock.
 * Return: records copied, or -EINVAL for a misaligned @buf,
 * -EOPNOTSUPP for a queue not in overwrite mode.
 */
LFQ_API int lfq_record_snapshot(struct lfq *q, void *buf, size_t size,
				lfq_record_fn fn, void *ctx);

/**
 * lfq_get_stats() - read the queue's counters (see struct lfq_stats).
 * @q:		the handle.
 * @st:		filled in as below; the caller need not initialise it.
 *
 * A /dev/lfq queue: LFQ_IOC_STATS fills it, up to sizeof(struct
 * lfq_stats), and st->size is the size of struct lfq_stats the module
 * knows: smaller for an older module, whose missing fields are zero,
 * larger for a newer one, whose extra fields are not copied.
 *
 * A memfd queue has no kernel side, and st->size is always
 * sizeof(struct lfq_stats): it does not tell which fields were set. A
 * fixed memfd queue sets only the counters kept in its shared pages
 * (produced, consumed, full_events, empty_events, overwritten and torn);
 * an in-process elastic queue sets those and segments, segments_peak,
 * grows, shrinks and bytes.
 * Every other field is zero (a fixed memfd queue's segments too, where
 * the kernel reports 1).
 *
 * Context: query.
 * Return: 0 or a negative errno from LFQ_IOC_STATS; memfd queues do not
 * fail.
 */
LFQ_API int lfq_get_stats(struct lfq *q, struct lfq_stats *st);

/**
 * lfq_source_attach() - start a kernel event source on the queue
 * (LFQ_IOC_SOURCE_ATTACH; records in lfq_event.h).
 * @q:		a handle on a /dev/lfq queue.
 * @src:	the source; its @size field is ignored (the library sets it).
 *
 * The source stays until lfq_source_detach() or until the queue's file
 * is released. Needs CAP_PERFMON or CAP_SYS_ADMIN.
 *
 * Context: query (a system call; safe beside the fast path).
 * Return: the source's id (>= 0), -EOPNOTSUPP for a memfd queue, or a
 * negative errno (see struct lfq_source in lfq.h).
 */
LFQ_API int lfq_source_attach(struct lfq *q, const struct lfq_source *src);

/**
 * lfq_source_detach() - stop a source (LFQ_IOC_SOURCE_DETACH).
 * @q:		the handle the source was attached through.
 * @id:		the id lfq_source_attach() returned.
 *
 * Records the source already committed stay in the ring.
 *
 * Context: query.
 * Return: 0, -EOPNOTSUPP for a memfd queue, -EINVAL for a negative @id,
 * or a negative errno from LFQ_IOC_SOURCE_DETACH.
 */
LFQ_API int lfq_source_detach(struct lfq *q, int id);

#ifdef __cplusplus
}
#endif

#endif /* LIBLFQ_H */
