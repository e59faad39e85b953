/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * lfq.h - the /dev/lfq ioctl ABI: commands, argument structs and flags.
 *
 * Every argument struct starts with "size": the number of bytes the caller
 * passes. The kernel reads it with copy_struct_from_user() semantics, as
 * openat2() and clone3() do: a smaller (older) struct is zero-extended, a
 * larger (newer) one is accepted only if the bytes the kernel does not know
 * are zero (else -E2BIG). Output structs are written back up to the caller's
 * size. Commands are _IO() numbers; the size travels in the struct, as VFIO's
 * argsz does, so a struct can grow without a new command number.
 *
 * The shared ring memory layout is in lfq_ring.h.
 */
#ifndef _UAPI_LINUX_LFQ_H
#define _UAPI_LINUX_LFQ_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LFQ_DEVICE_PATH		"/dev/lfq"
/*
 * /dev/lfq is char 10:LFQ_MISC_MINOR, a misc minor of the range the
 * kernel's devices.txt reserves for local use (243-254), so the node can
 * exist before the module is loaded and opening it loads the module
 * (module alias "devname:lfq"). Should another module hold that minor,
 * lfq.ko takes a dynamic one instead (and says so in the kernel log).
 */
#define LFQ_MISC_MINOR		246
#define LFQ_IOC_MAGIC		0xB8

/* Queue types. */
#define LFQ_TYPE_SPSC		1	/* one producer, one consumer */
#define LFQ_TYPE_MPSC		2	/* many producers, one consumer */
/*
 * Many producers, many consumers: consumers claim runs of committed slots
 * and release them out of order (per-slot release words); any number of
 * consumer files, each registering a consumer claim (LFQ_IOC_CLAIM).
 */
#define LFQ_TYPE_MPMC		3

/* Bounds on queue geometry (checked by LFQ_IOC_CREATE). */
#define LFQ_SLOT_SIZE_MIN	8u
#define LFQ_SLOT_SIZE_MAX	65536u
#define LFQ_SLOT_COUNT_MIN	2u
#define LFQ_SLOT_COUNT_MAX	(1u << 24)
#define LFQ_DATA_BYTES_MAX	(256u << 20)	/* slot_size * slot_count */

/*
 * struct lfq_create.flags: the full-queue policy. By default a producer
 * that finds the ring full fails (kernel producers count a drop in
 * lfq_stats.dropped, liblfq's lfq_push() returns -EAGAIN). With
 * LFQ_CREATE_BLOCK, userspace producers wait for space instead (liblfq's
 * lfq_push() sleeps); kernel producers, which may run in any context,
 * still drop and count. Unknown bits give -EINVAL.
 */
#define LFQ_CREATE_BLOCK	(1u << 0)
/*
 * An elastic queue: a list of ring segments (nodes) of slot_count slots
 * each, that grows when a producer finds its segment full, up to seg_max
 * segments, and shrinks back to seg_min as the consumer drains it. Drained
 * segments are reclaimed through RCU (see README.md, "Elastic queues").
 */
#define LFQ_CREATE_ELASTIC	(1u << 1)
/*
 * Fence the wakeup handshake symmetrically: every commit and release
 * executes a full barrier, and a sleeper none beyond its own. Without it a
 * queue (fixed or elastic) is asymmetric where the heavy fence is available (the
 * module's wake_asym parameter; liblfq's memfd queues: membarrier(2)):
 * publishers use a compiler barrier, and each sleep costs an IPI to every
 * CPU. struct lfq_info.wake_mode and the header page tell which a queue
 * got (LFQ_WAKE_* in lfq_ring.h).
 */
#define LFQ_CREATE_WAKE_SYMMETRIC (1u << 2)
/*
 * A record queue: records of 1 byte to LFQ_REC_MAX_LEN(ring bytes), each
 * behind an 8-byte header, one after another in a ring of bytes
 * (slot_size must be 1 and slot_count is the ring's bytes; SPSC or MPSC,
 * and with LFQ_CREATE_ELASTIC each segment is such a ring, of slot_count
 * bytes, and a record that does not fit the rest of the producers'
 * segment goes in the next one; or MPMC, neither elastic nor in
 * overwrite mode, its consumers taking records by a shared claim index,
 * lfq_cons_ctl.rec_claim). The protocol is kmod/proto/lfq_rec.h (and
 * lfq_rec_mpmc.h) in the lfq sources; liblfq's lfq_record_*() and the
 * kernel's lfq_queue_rec_*() and lfq_consumer_rec_*() use it.
 */
#define LFQ_CREATE_RECORDS	(1u << 3)
/*
 * A record queue in overwrite mode (with LFQ_CREATE_RECORDS, not with
 * LFQ_CREATE_BLOCK nor LFQ_CREATE_ELASTIC): the flight recorder. A producer that finds the ring
 * full overwrites the oldest committed records, counted in
 * lfq_stats.overwritten, and fails (a drop) only when the oldest record is
 * still being written or is held by the consumer. The consumer never gets
 * a record that is being overwritten; LFQ_IOC_SNAPSHOT copies the records
 * in the ring without consuming them.
 */
#define LFQ_CREATE_OVERWRITE	(1u << 4)
#define LFQ_CREATE_FLAGS_ALL	(LFQ_CREATE_BLOCK | LFQ_CREATE_ELASTIC | \
				 LFQ_CREATE_WAKE_SYMMETRIC | \
				 LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE)
/*
 * A record queue's largest payload: a quarter of its ring less the
 * header, so that several records are in flight at once.
 */
#define LFQ_REC_MAX_LEN(ring_bytes)	((ring_bytes) / 4 - 8)

/* Bounds on elastic queues (checked by LFQ_IOC_CREATE). */
#define LFQ_SEGS_MAX		1024u		/* seg_max at most */
#define LFQ_ELASTIC_BYTES_MAX	(1u << 30)	/* seg_max * one segment's slots */

/*
 * Queue names (struct lfq_create.name, lfq_open, lfq_unlink, lfq_list_entry):
 * a NUL-terminated string in a LFQ_NAME_MAX-byte array, 1 to
 * LFQ_NAME_MAX - 1 characters from [A-Za-z0-9._-], not starting with '.';
 * the bytes after the NUL must be zero. A name with no NUL in the array
 * gives -ENAMETOOLONG, any other bad name -EINVAL. Names are global to the
 * machine, like /dev/shm without mount namespaces (see README.md).
 */
#define LFQ_NAME_MAX		32	/* bytes, the terminating NUL included */
#define LFQ_NAMED_MAX		4096	/* named queues at a time (-ENOSPC) */
#define LFQ_MODE_MASK		0777u	/* struct lfq_create.mode: these bits */

/**
 * struct lfq_create - LFQ_IOC_CREATE argument: bind a new queue to the file.
 * @size:	sizeof(struct lfq_create) as the caller knows it.
 * @flags:	LFQ_CREATE_* flags.
 * @type:	LFQ_TYPE_SPSC, LFQ_TYPE_MPSC or LFQ_TYPE_MPMC (not
 *		elastic).
 * @slot_size:	bytes per slot, a multiple of 8 in
 *		[LFQ_SLOT_SIZE_MIN, LFQ_SLOT_SIZE_MAX]; 1 for a record queue
 *		(LFQ_CREATE_RECORDS).
 * @slot_count:	slots in the ring, a power of two in
 *		[LFQ_SLOT_COUNT_MIN, LFQ_SLOT_COUNT_MAX]; all of them usable.
 *		A record queue: the ring's bytes, a power of two and a
 *		whole number of pages, up to LFQ_DATA_BYTES_MAX.
 * @__reserved:	must be zero.
 * @mode:	named queues: permission bits (LFQ_MODE_MASK) checked by
 *		LFQ_IOC_OPEN, as a file's are (no umask is applied); an
 *		anonymous queue must pass 0 (LFQ_CREATE_SIZE_VER1).
 * @role:	the creating file's role (LFQ_ROLE_*); 0 means both, as
 *		before LFQ_CREATE_SIZE_VER1. Unknown bits give -EINVAL.
 * @name:	empty (all zero): an anonymous queue, reachable only through
 *		this file (fd passing, fork). Otherwise a name (see
 *		LFQ_NAME_MAX) that LFQ_IOC_OPEN finds: the queue is then owned
 *		by the caller's fsuid and fsgid, and the name holds it alive
 *		until LFQ_IOC_UNLINK, like shm_open(O_CREAT | O_EXCL). A name
 *		in use gives -EEXIST, LFQ_NAMED_MAX names in use -ENOSPC,
 *		and a caller whose user owns user_names_max named queues
 *		already (a module parameter) -EDQUOT.
 * @seg_min:	LFQ_CREATE_ELASTIC: segments kept allocated when the queue is
 *		idle, 1..@seg_max (LFQ_CREATE_SIZE_VER2); 0 otherwise.
 * @seg_max:	LFQ_CREATE_ELASTIC: segments at most, 2 to LFQ_SEGS_MAX (a
 *		full segment is sealed for good and the queue goes on in the
 *		next); 0 otherwise.
 *
 * slot_size * slot_count (one segment's, for an elastic queue) must not
 * exceed LFQ_DATA_BYTES_MAX, and seg_max times that LFQ_ELASTIC_BYTES_MAX:
 * -EINVAL. The queue's memory is charged to the caller's memory cgroup and
 * counted against its user's limit (the module parameter user_bytes_max):
 * -EDQUOT when the queue's fixed part, or an elastic queue's seg_min
 * segments, would take the user past it. A named queue's name also counts
 * against its user's user_names_max (another module parameter): -EDQUOT
 * when the user owns that many named queues already.
 */
struct lfq_create {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 slot_size;
	__u32 slot_count;
	__u32 __reserved;
	__u32 mode;
	__u32 role;
	char name[LFQ_NAME_MAX];
	__u32 seg_min;
	__u32 seg_max;
};

#define LFQ_CREATE_SIZE_VER0	24
#define LFQ_CREATE_SIZE_VER1	64	/* mode, role, name */
#define LFQ_CREATE_SIZE_VER2	72	/* seg_min, seg_max */

/*
 * Roles: what a file bound to a queue may do. A queue admits one consumer
 * file at a time, and one producer file for SPSC (any number for MPSC);
 * one more gives -EBUSY until a holder is released. The mappings follow
 * the role (the ROLES rule, kmod/proto/lfq_rules.h in the lfq sources): a
 * mapping that covers a page the role may not write is refused with
 * PROT_WRITE (-EPERM) and cannot be made writable later. A role belongs to
 * the file: fds duplicated or inherited from it share it.
 */
#define LFQ_ROLE_PRODUCER	(1u << 0)	/* OPEN: needs a write bit */
#define LFQ_ROLE_CONSUMER	(1u << 1)	/* OPEN: needs a read bit */
#define LFQ_ROLE_ALL		(LFQ_ROLE_PRODUCER | LFQ_ROLE_CONSUMER)
/*
 * LFQ_IOC_OPEN only, alone: a reader, which neither produces nor consumes
 * and is not counted against either role (needs a read bit). It maps
 * nothing writable, and makes the calls that need no role (LFQ_IOC_INFO,
 * _STATS, _WAIT, _WAKE, and LFQ_IOC_SNAPSHOT, what it is for).
 */
#define LFQ_ROLE_READER		(1u << 2)

/**
 * struct lfq_open - LFQ_IOC_OPEN argument: bind the file to a named queue.
 * @size:	sizeof(struct lfq_open) as the caller knows it.
 * @flags:	must be zero.
 * @role:	LFQ_ROLE_PRODUCER and/or LFQ_ROLE_CONSUMER, or LFQ_ROLE_READER
 *		alone; other bits, none, or the reader with another give
 *		-EINVAL.
 * @__reserved:	must be zero.
 * @name:	the queue's name (see LFQ_NAME_MAX).
 *
 * The mode is checked as a file's is: the owner's bits if the caller's
 * fsuid owns the queue, else the group's if the caller is in the queue's
 * group (fsgid or supplementary), else the others'. CAP_IPC_OWNER
 * overrides it. Returns 0, or -ENOENT for no such name, -EACCES when the
 * mode denies a role asked for, -EBUSY when the file is bound already or
 * the queue has its consumer (or SPSC producer) already.
 */
struct lfq_open {
	__u32 size;
	__u32 flags;
	__u32 role;
	__u32 __reserved;
	char name[LFQ_NAME_MAX];
};

#define LFQ_OPEN_SIZE_VER0	48

/**
 * struct lfq_unlink - LFQ_IOC_UNLINK argument: remove a queue's name.
 * @size:	sizeof(struct lfq_unlink) as the caller knows it.
 * @flags:	must be zero.
 * @name:	the queue's name.
 *
 * The queue lives on while files or mappings hold it (shm_unlink()
 * semantics); the name can be created again at once, as a new queue. Only
 * the owner (fsuid) or a caller with CAP_FOWNER may unlink (as in the
 * sticky /dev/shm and /dev/mqueue): -EPERM otherwise, -ENOENT for no such
 * name. Works on any /dev/lfq file, bound or not.
 */
struct lfq_unlink {
	__u32 size;
	__u32 flags;
	char name[LFQ_NAME_MAX];
};

#define LFQ_UNLINK_SIZE_VER0	40

/**
 * struct lfq_list_entry - one named queue, as LFQ_IOC_LIST reports it.
 * @name:	the name, NUL-terminated and zero-padded.
 * @id:		the queue's id (struct lfq_info.id).
 * @type:	LFQ_TYPE_*.
 * @flags:	creation flags.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring.
 * @uid:	owner, in the caller's user namespace (overflowuid if unmapped).
 * @gid:	group, likewise.
 * @mode:	permission bits.
 * @attached:	/dev/lfq files bound to the queue now.
 * @producers:	of which hold the producer role.
 * @consumers:	of which hold the consumer role (0 or 1).
 * @wake_mode:	LFQ_WAKE_SYMMETRIC or LFQ_WAKE_ASYMMETRIC (lfq_ring.h).
 * @produced:	as struct lfq_stats, and likewise for the rest.
 * @consumed:	slots released.
 * @full_events: times a producer found the ring full.
 * @empty_events: times a consumer found the ring empty.
 * @wakeups:	wakeups that found sleepers.
 * @wake_calls:	LFQ_IOC_WAKE calls.
 * @waits:	LFQ_IOC_WAIT sleeps.
 * @dropped:	records kernel producers dropped.
 * @orphaned:	MPSC slots dead producers held, discarded by the kernel.
 * @seg_min:	elastic queues: as created (LFQ_LIST_ENTRY_SIZE_VER2).
 * @seg_max:	elastic queues: as created.
 * @segments:	as struct lfq_stats, and likewise for the rest.
 * @segments_peak: segments live at most.
 * @grows:	segments linked.
 * @shrinks:	segments retired.
 * @pool:	spare segments.
 * @bytes:	bytes the queue holds.
 * @lost:	as lfq_stats.lost (LFQ_LIST_ENTRY_SIZE_VER3).
 */
struct lfq_list_entry {
	char name[LFQ_NAME_MAX];
	__u32 id;
	__u32 type;
	__u32 flags;
	__u32 slot_size;
	__u32 slot_count;
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u32 attached;
	__u32 producers;
	__u32 consumers;
	__u32 wake_mode;
	__u64 produced;
	__u64 consumed;
	__u64 full_events;
	__u64 empty_events;
	__u64 wakeups;
	__u64 wake_calls;
	__u64 waits;
	__u64 dropped;
	__u64 orphaned;
	__u32 seg_min;
	__u32 seg_max;
	__u64 segments;
	__u64 segments_peak;
	__u64 grows;
	__u64 shrinks;
	__u64 pool;
	__u64 bytes;
	__u64 lost;
};

#define LFQ_LIST_ENTRY_SIZE_VER0 144
#define LFQ_LIST_ENTRY_SIZE_VER1 152	/* orphaned */
#define LFQ_LIST_ENTRY_SIZE_VER2 208	/* seg_min .. bytes */
#define LFQ_LIST_ENTRY_SIZE_VER3 216	/* lost */

/**
 * struct lfq_list - LFQ_IOC_LIST argument: report the named queues.
 * @size:	in: sizeof(struct lfq_list) as the caller knows it; out: the
 *		bytes the kernel knows.
 * @flags:	must be zero.
 * @entry_size:	in: bytes per element of @entries, a multiple of 8, at
 *		least LFQ_LIST_ENTRY_SIZE_VER0 and at most 4096 (else -EINVAL;
 *		-E2BIG above 4096); out: sizeof(struct lfq_list_entry) as the
 *		kernel knows it. Bytes of an element past that are zeroed.
 * @count:	in: elements @entries holds (0: only count); out: elements
 *		written, in increasing order of id.
 * @total:	out: named queues seen (more than @count: call again with a
 *		bigger array).
 * @__reserved:	must be zero.
 * @entries:	user pointer to @count elements of @entry_size bytes
 *		(-EFAULT if it cannot be written).
 *
 * Any /dev/lfq file may list; every named queue is listed. The list is
 * gathered in chunks, so a queue named or unlinked during the call may or
 * may not appear.
 */
struct lfq_list {
	__u32 size;
	__u32 flags;
	__u32 entry_size;
	__u32 count;
	__u32 total;
	__u32 __reserved;
	__aligned_u64 entries;
};

#define LFQ_LIST_SIZE_VER0	32

/**
 * struct lfq_info - LFQ_IOC_INFO result: the queue's geometry and map layout.
 * @size:	in: bytes the caller can take; out: bytes the kernel knows.
 * @flags:	creation flags.
 * @type:	LFQ_TYPE_*.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring.
 * @id:		the queue's id in the module's registry.
 * @map_size:	bytes of the whole mmap layout (see lfq_ring.h).
 * @hdr_offset:	mmap offset of the read-only header page.
 * @prod_offset: mmap offset of the producer control page.
 * @cons_offset: mmap offset of the consumer control page.
 * @data_offset: mmap offset of the slot area; it is laid out twice back to
 *		back, so @data_size bytes from @data_offset + @data_size show
 *		the same memory again.
 * @data_size:	bytes of one copy of the slot area (page aligned).
 * @commit_offset: mmap offset of the commit words (MPSC: one __u64 per
 *		slot; see lfq_ring.h), writable by producers.
 * @commit_size: bytes of the commit words, page aligned; 0 for SPSC.
 * @role:	the file's role, LFQ_ROLE_* (LFQ_INFO_SIZE_VER2).
 * @wake_mode:	LFQ_WAKE_SYMMETRIC or LFQ_WAKE_ASYMMETRIC (lfq_ring.h), as
 *		in the header page; a module older than the field reports
 *		0, symmetric.
 * @seg_min:	elastic queues (LFQ_INFO_SIZE_VER3): as created; else 0.
 * @seg_max:	elastic queues: as created; else 0.
 * @segtab_offset: elastic queues: mmap offset of the read-only segment
 *		table (struct lfq_segtab, then seg_max struct lfq_seg_meta).
 * @heads_offset: elastic queues: the segments' head words (struct
 *		lfq_seg_word each), writable by producers.
 * @tails_offset: elastic queues: the segments' tail words, writable by
 *		the consumer.
 * @frames_offset: elastic queues: the first segment frame; frame f is at
 *		frames_offset + f * frame_size: its commit words (MPSC,
 *		page aligned), then its data_size bytes of slots twice.
 * @frame_size:	elastic queues: bytes of one frame.
 *
 * For an elastic queue data_size is one segment's slot area, and
 * data_offset, commit_offset and commit_size describe frame 0.
 */
struct lfq_info {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 slot_size;
	__u32 slot_count;
	__u32 id;
	__u64 map_size;
	__u64 hdr_offset;
	__u64 prod_offset;
	__u64 cons_offset;
	__u64 data_offset;
	__u64 data_size;
	__u64 commit_offset;
	__u64 commit_size;
	__u32 role;
	__u32 wake_mode;
	__u32 seg_min;
	__u32 seg_max;
	__u64 segtab_offset;
	__u64 heads_offset;
	__u64 tails_offset;
	__u64 frames_offset;
	__u64 frame_size;
};

#define LFQ_INFO_SIZE_VER0	72
#define LFQ_INFO_SIZE_VER1	88	/* commit_offset, commit_size */
#define LFQ_INFO_SIZE_VER2	96	/* role */
#define LFQ_INFO_SIZE_VER3	144	/* seg_min .. frame_size */

/* struct lfq_wait.flags: exactly one of these. */
#define LFQ_WAIT_DATA		(1u << 0)	/* until >= min_count slots to read */
#define LFQ_WAIT_SPACE		(1u << 1)	/* until >= min_count slots free */

/**
 * struct lfq_wait - LFQ_IOC_WAIT argument: block until the ring is ready.
 * @size:	sizeof(struct lfq_wait) as the caller knows it.
 * @flags:	LFQ_WAIT_DATA or LFQ_WAIT_SPACE.
 * @min_count:	slots wanted, 1..slot_count.
 * @__reserved:	must be zero.
 * @timeout_ns:	relative timeout; < 0 waits forever, 0 only checks.
 * @available:	out: slots readable (DATA) or free (SPACE) at return;
 *		on an MPSC ring both are counted up to @min_count only, and
 *		on a fixed MPSC ring a free slot counts only if it can be
 *		reserved (its previous lap committed: a consumer's forged
 *		tail frees nothing).
 *
 * Returns 0 when ready, -EAGAIN when @timeout_ns is 0 and not ready,
 * -ETIMEDOUT when the timeout expired, -EINTR on a signal.
 */
struct lfq_wait {
	__u32 size;
	__u32 flags;
	__u32 min_count;
	__u32 __reserved;
	__s64 timeout_ns;
	__u64 available;
};

#define LFQ_WAIT_SIZE_VER0	32

/*
 * LFQ_IOC_WAKE argument (by value): which sleepers to wake, one or both of
 * these. Returns 0, or -EINVAL for no flag, an unknown flag or a value
 * that does not fit 32 bits (-EBADFD on a file bound to no queue).
 */
#define LFQ_WAKE_CONSUMER	(1u << 0)	/* data was produced */
#define LFQ_WAKE_PRODUCER	(1u << 1)	/* space was released */

/**
 * struct lfq_stats - LFQ_IOC_STATS result.
 * @size:	in: bytes the caller can take; out: bytes the kernel knows.
 * @__reserved:	zero.
 * @produced:	the producer index (reported as found): for SPSC, slots
 *		committed; for MPSC, the reservation head, so it also counts
 *		slots reserved and not yet committed (or discarded).
 * @consumed:	slots released (consumer index; reported as found).
 * @full_events: times a producer found the ring full (counted by producers).
 * @empty_events: times a consumer found the ring empty (counted by consumers).
 * @wakeups:	LFQ_IOC_WAKE calls and kernel wakeups that found sleepers.
 * @wake_calls:	LFQ_IOC_WAKE calls in total.
 * @waits:	times an LFQ_IOC_WAIT caller went to sleep (poll and epoll
 *		sleep in the VFS and are not counted; see @wakeups).
 * @dropped:	records kernel producers dropped because the ring was full
 *		(LFQ_STATS_SIZE_VER1).
 * @orphaned:	MPSC slots the kernel discarded because the producer that
 *		reserved them was released first (LFQ_STATS_SIZE_VER2; see
 *		LFQ_IOC_CLAIM).
 * @segments:	elastic queues (LFQ_STATS_SIZE_VER3): segments linked in
 *		the queue now (fixed queues: 1).
 * @segments_peak: segments linked at most at once.
 * @grows:	segments linked when a producer found its segment full.
 * @shrinks:	segments retired after the consumer drained them.
 * @pool:	spare segments, ready for producers in any context.
 * @bytes:	bytes of memory the queue holds now (its pages, all
 *		segments included).
 * @lost:	MPMC slots (an MPMC record queue: records) the kernel
 *		released on behalf of a consumer that was released holding
 *		them (LFQ_STATS_SIZE_VER4): their records are lost, not
 *		redelivered (see LFQ_IOC_CLAIM).
 * @overwritten: overwrite mode (LFQ_STATS_SIZE_VER5): committed records
 *		producers overwrote before the consumer took them (the
 *		kernel's count, plus the processes' as found).
 * @torn:	MPMC records consumers found overwritten by the time they
 *		released them (LFQ_STATS_SIZE_VER6): another consumer forged
 *		their release words, and a producer of the next lap wrote
 *		the slot. lfq_pop() drops them, lfq_release() returns
 *		-ESTALE, and a kernel consumer never passes on a copy it
 *		found torn (one it checked whole before the producer came
 *		is passed on, and counted too). On an MPMC record queue:
 *		records whose bytes producers reused while a consumer held
 *		them (another consumer forged tail or a release mark);
 *		lfq_record_release() returns -ESTALE. The kernel's
 *		consumers' count, plus the processes' as found.
 *
 * @produced, @consumed, @full_events and @empty_events live in pages the
 * processes can write; the kernel reports them as found. The rest are kept
 * by the kernel.
 */
struct lfq_stats {
	__u32 size;
	__u32 __reserved;
	__u64 produced;
	__u64 consumed;
	__u64 full_events;
	__u64 empty_events;
	__u64 wakeups;
	__u64 wake_calls;
	__u64 waits;
	__u64 dropped;
	__u64 orphaned;
	__u64 segments;
	__u64 segments_peak;
	__u64 grows;
	__u64 shrinks;
	__u64 pool;
	__u64 bytes;
	__u64 lost;
	__u64 overwritten;
	__u64 torn;
};

#define LFQ_STATS_SIZE_VER0	64
#define LFQ_STATS_SIZE_VER1	72	/* dropped */
#define LFQ_STATS_SIZE_VER2	80	/* orphaned */
#define LFQ_STATS_SIZE_VER3	128	/* segments .. bytes */
#define LFQ_STATS_SIZE_VER4	136	/* lost */
#define LFQ_STATS_SIZE_VER5	144	/* overwritten */
#define LFQ_STATS_SIZE_VER6	152	/* torn */

/*
 * Crash safety of MPSC queues. Every producer (each thread or process that
 * reserves slots) registers a claim record with LFQ_IOC_CLAIM and writes
 * into it, before each reservation, the range it is about to take (struct
 * lfq_mpsc_claim in lfq_ring.h; liblfq does all of this). When a producer
 * file is released (its last close and munmap: exit, kill), its claims die
 * with it, and the kernel completes as discarded every reserved slot that
 * is neither committed nor covered by a live claim, so the consumer skips
 * them; they are counted in lfq_stats.orphaned. A producer that reserves
 * without a claim is not protected: its slots may be taken for a dead
 * producer's if one dies meanwhile. Claims belong to the file, so handles
 * sharing a file through fork or fd passing must each register their own.
 *
 * MPMC queues have producer claims as MPSC ones, and consumer claims
 * (LFQ_CLAIM_CONSUMER, in lfq_cons_ctl.claims): a consumer writes the range
 * it is about to claim into its record before the compare-and-swap that
 * takes it (lfq_mpmc.h). When a consumer file is released, the slots its
 * last claim took and it did not release are released on its behalf,
 * once no live consumer's claim covers them: their records are lost, not
 * redelivered, and counted in lfq_stats.lost. Producers are never
 * wedged by a dead consumer. On an MPMC record queue the range is the
 * record the consumer is taking or holds, [its header's byte index, its
 * end), written before the compare-and-swap of lfq_cons_ctl.rec_claim
 * (lfq_rec_mpmc.h); a dead consumer's record is released (zeroed and
 * marked) the same way.
 */

/* struct lfq_claim.flags */
#define LFQ_CLAIM_FREE		(1u << 0)	/* give @index back */
#define LFQ_CLAIM_CONSUMER	(1u << 1)	/* an MPMC consumer's claim */
#define LFQ_CLAIM_FLAGS_ALL	(LFQ_CLAIM_FREE | LFQ_CLAIM_CONSUMER)

/**
 * struct lfq_claim - LFQ_IOC_CLAIM argument: register or free a claim.
 * @size:	sizeof(struct lfq_claim) as the caller knows it.
 * @flags:	0 to register a claim, LFQ_CLAIM_FREE to free @index;
 *		with LFQ_CLAIM_CONSUMER, a consumer claim of an MPMC queue.
 * @index:	out (register): the claim's index in lfq_prod_ctl.claims
 *		(lfq_cons_ctl.claims for a consumer claim), which the kernel
 *		zeroed; in (free): a claim this file holds.
 * @__reserved:	must be zero.
 *
 * Errors: -EINVAL for an SPSC queue, unknown flags, LFQ_CLAIM_CONSUMER on
 * a queue that is not MPMC, or freeing an index the file does not hold;
 * -EPERM if the file is not a producer (a consumer, for
 * LFQ_CLAIM_CONSUMER); -ENOSPC when all LFQ_MPSC_CLAIMS (LFQ_MPMC_CLAIMS)
 * claims are registered, or held by dead consumers whose slots are still
 * being recovered.
 */
struct lfq_claim {
	__u32 size;
	__u32 flags;
	__u32 index;
	__u32 __reserved;
};

#define LFQ_CLAIM_SIZE_VER0	16

/* Event sources (LFQ_IOC_SOURCE_ATTACH); records are in lfq_event.h. */
#define LFQ_SOURCE_SYNTH	1	/* kernel threads and hrtimers, sequenced */
#define LFQ_SOURCE_PROC		2	/* process exec, fork and exit */
#define LFQ_SOURCE_SYSCALL	3	/* one record per call of one syscall */
#define LFQ_SOURCE_ECHO		4	/* kernel consumer: copies into another queue */

/*
 * struct lfq_source.flags; unknown bits, or a flag of another type, give
 * -EINVAL.
 * LFQ_SOURCE_SYNTH_NMI: SYNTH's hardirq timers produce from NMI context:
 *	each firing raises an NMI on its own CPU through the local APIC and
 *	the record is reserved and committed in the NMI handler (its
 *	context says LFQ_CONTEXT_NMI). A timer whose NMI does not come
 *	within 10 ms produces that record and the rest itself (context
 *	LFQ_CONTEXT_HARDIRQ). Needs hardirq_timers; -EOPNOTSUPP on a
 *	kernel that cannot send itself an NMI (not x86, or no local APIC).
 */
#define LFQ_SOURCE_SYNTH_NMI	(1u << 0)
/*
 * LFQ_SOURCE_SYSCALL_DATA: SYSCALL into a record queue (else -EINVAL):
 *	each record also carries the user buffer the call's second argument
 *	points to, as many bytes as its third says (write(2), pwrite64(2),
 *	sendto(2); for any other call these two arguments are taken as
 *	pointer and length all the same), read without faulting and cut at
 *	record_size, which is then the largest record: 0 for
 *	LFQ_EVENT_SYSCALL_DATA_DEFAULT (or the queue's limit if smaller), or
 *	a multiple of 8 from LFQ_EVENT_SYSCALL_DATA_MIN (else -EINVAL; a
 *	queue whose limit is below that: -EMSGSIZE); see struct
 *	lfq_syscall_data in lfq_event.h. Records take the bytes they need,
 *	so one queue holds a mix of sizes.
 */
#define LFQ_SOURCE_SYSCALL_DATA	(1u << 1)
#define LFQ_SOURCE_FLAGS_ALL	(LFQ_SOURCE_SYNTH_NMI | LFQ_SOURCE_SYSCALL_DATA)

#define LFQ_SOURCES_MAX		8	/* attached to one queue at a time */
#define LFQ_SYNTH_PRODUCERS_MAX	64	/* threads + timers of one source */
#define LFQ_SYNTH_TIMER_PERIOD_MIN_NS	10000ull

/**
 * struct lfq_source - LFQ_IOC_SOURCE_ATTACH argument: start kernel code
 * producing into (or, for LFQ_SOURCE_ECHO, consuming from) the file's queue.
 * @size:	sizeof(struct lfq_source) as the caller knows it.
 * @flags:	LFQ_SOURCE_* flags (LFQ_SOURCE_SYNTH_NMI,
 *		LFQ_SOURCE_SYSCALL_DATA).
 * @type:	LFQ_SOURCE_SYNTH, _PROC, _SYSCALL or _ECHO.
 * @threads:	SYNTH: kernel threads, each a producer (process context).
 * @hardirq_timers: SYNTH: hrtimers firing in hardirq context, each a producer
 *		(with LFQ_SOURCE_SYNTH_NMI, producing from an NMI they raise).
 * @softirq_timers: SYNTH: hrtimers firing in softirq context, each a producer.
 * @count:	SYNTH: records per producer; 0 produces until detached.
 * @thread_period_ns: SYNTH: a thread's interval between records; 0 is flat
 *		out. At most one hour, and 0 when @threads is 0.
 * @timer_period_ns: SYNTH: a timer's interval: with timers, from
 *		LFQ_SYNTH_TIMER_PERIOD_MIN_NS to one hour; without, 0.
 * @syscall_nr:	SYSCALL: the system call number whose entries are recorded
 *		(not negative).
 * @target_fd:	ECHO: a /dev/lfq file, bound to an MPSC or MPMC queue in the
 *		producer role, whose queue receives a copy of every slot
 *		this queue's producers commit; its slots must be at least as
 *		large as this queue's. The kernel is then this queue's
 *		consumer: its only one for an SPSC or MPSC queue, one of
 *		its consumers for an MPMC queue (which may have several
 *		ECHO sources, a pool of kernel workers, beside its
 *		process consumers).
 * @record_size: SYSCALL: bytes of every record, 0 for the natural size
 *		(sizeof(struct lfq_event_syscall)). Otherwise a multiple of
 *		8, at least the natural size and at most
 *		LFQ_SOURCE_RECORD_SIZE_MAX; the bytes past the natural
 *		record are zero and the header's size says @record_size (a
 *		fixed stride for consumers that want one, and a way to
 *		measure larger records); on a record queue 0 is
 *		LFQ_EVENT_SYSCALL_FULL, all six arguments; with
 *		LFQ_SOURCE_SYSCALL_DATA the largest record (see there). PROC: the largest
 *		record, 0 for the slot (a record queue:
 *		LFQ_EVENT_PROC_RECORD_DEFAULT), else a multiple of 8 from
 *		LFQ_EVENT_PROC_SLOT_MIN: exec paths and argv are cut to fit
 *		it. Other types need 0.
 * @__reserved:	must be zero.
 *
 * SYNTH, PROC and SYSCALL need an MPSC or MPMC queue whose slots hold the
 * source's records (see lfq_event.h). Fields a type does not use must be
 * zero. Attaching needs CAP_PERFMON or CAP_SYS_ADMIN: sources run kernel
 * code for the caller and PROC sees every process.
 *
 * LFQ_IOC_SOURCE_ATTACH returns the source's id (0..LFQ_SOURCES_MAX - 1),
 * or -EPERM without the capability, on a file without the role the source
 * acts in (the producer role for SYNTH, PROC and SYSCALL, the consumer
 * role for ECHO) or for an ECHO target_fd without the producer role;
 * -EBADFD on a file without a queue, or for an ECHO target_fd bound to no
 * queue; -EINVAL for a bad field (among them a SYNTH period above one
 * hour, a thread period without threads, a timer period without timers
 * and a negative syscall_nr), a queue of the wrong type, or an ECHO
 * target_fd that is not a /dev/lfq file, or whose queue is this one or
 * neither MPSC nor MPMC; -EMSGSIZE when a record (of @record_size bytes,
 * if set) does not fit a slot, or when the ECHO target's slots are
 * smaller than this queue's; -ENOSPC when LFQ_SOURCES_MAX are attached;
 * -EBUSY for a second ECHO on an SPSC or MPSC queue; -EBADF for a
 * target_fd that is
 * not open; -ELOOP for an ECHO target that is itself echoed (the kernel
 * consumes it); -ENOENT
 * for a syscall_nr beyond this kernel's system calls, or a tracepoint
 * this kernel lacks; -ENOMEM when memory (or the memory cgroup's limit)
 * runs out.
 *
 * A source stays until LFQ_IOC_SOURCE_DETACH or until the file that
 * attached it is released. LFQ_IOC_SOURCE_DETACH (by value: the id)
 * stops a source this file attached; the records it committed stay in
 * the ring. It returns 0, or -EINVAL for an id not below
 * LFQ_SOURCES_MAX, -ENOENT when this file attached no source with that
 * id (-EBADFD on a file bound to no queue).
 */
struct lfq_source {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 threads;
	__u32 hardirq_timers;
	__u32 softirq_timers;
	__u64 count;
	__u64 thread_period_ns;
	__u64 timer_period_ns;
	__s32 syscall_nr;
	__s32 target_fd;
	__u32 record_size;
	__u32 __reserved;
};

#define LFQ_SOURCE_SIZE_VER0	56
#define LFQ_SOURCE_SIZE_VER1	64	/* record_size, __reserved */

/* Largest struct lfq_source.record_size: struct lfq_event.size is 16 bits. */
#define LFQ_SOURCE_RECORD_SIZE_MAX	65528u

#define LFQ_IOC_CREATE		_IO(LFQ_IOC_MAGIC, 0x01)	/* struct lfq_create * */
#define LFQ_IOC_INFO		_IO(LFQ_IOC_MAGIC, 0x02)	/* struct lfq_info * */
#define LFQ_IOC_WAIT		_IO(LFQ_IOC_MAGIC, 0x03)	/* struct lfq_wait * */
#define LFQ_IOC_WAKE		_IO(LFQ_IOC_MAGIC, 0x04)	/* __u32 LFQ_WAKE_* by value */
#define LFQ_IOC_STATS		_IO(LFQ_IOC_MAGIC, 0x05)	/* struct lfq_stats * */
#define LFQ_IOC_SOURCE_ATTACH	_IO(LFQ_IOC_MAGIC, 0x06)	/* struct lfq_source * */
#define LFQ_IOC_SOURCE_DETACH	_IO(LFQ_IOC_MAGIC, 0x07)	/* source id by value */
#define LFQ_IOC_OPEN		_IO(LFQ_IOC_MAGIC, 0x08)	/* struct lfq_open * */
#define LFQ_IOC_UNLINK		_IO(LFQ_IOC_MAGIC, 0x09)	/* struct lfq_unlink * */
#define LFQ_IOC_LIST		_IO(LFQ_IOC_MAGIC, 0x0a)	/* struct lfq_list * */
#define LFQ_IOC_CLAIM		_IO(LFQ_IOC_MAGIC, 0x0b)	/* struct lfq_claim * */
/*
 * LFQ_IOC_GROW (by value: a frame number): for a producer of an elastic
 * queue that found the segment in that frame full (or sealed): seals it if
 * it is not, and links the next segment if none is. Returns the frame the
 * producer continues in: the segment after this one, or the producers'
 * current segment if this one is no longer live. -EAGAIN when the queue
 * is at seg_max segments or another producer is linking the next one;
 * -EDQUOT when the user's limit, -ENOMEM when the memory cgroup (or the
 * allocator), allows no other segment; -EINVAL for a fixed queue or a
 * frame out of range; -EPERM without the producer role.
 */
#define LFQ_IOC_GROW		_IO(LFQ_IOC_MAGIC, 0x0c)	/* frame by value */

/**
 * struct lfq_snapshot - LFQ_IOC_SNAPSHOT argument: copy the committed
 * records of a record queue in overwrite mode without consuming them (the
 * flight recorder's dump; producers go on meanwhile).
 * @size:	sizeof(struct lfq_snapshot) as the caller knows it.
 * @flags:	must be zero.
 * @buf:	where the records go, oldest first, each as an 8-byte word
 *		holding its length (bits 0-31; the rest zero), then its
 *		payload, padded to 8 bytes (LFQ_SNAPSHOT_NEXT(); what the
 *		padding holds is unspecified).
 * @buf_size:	bytes at @buf; the ring's bytes always suffice.
 *
 * Records are copied from the consumer's tail to the head read at the
 * start, stopping before the first one not committed and when @buf is
 * full; discarded records, the record at tail while a producer or the
 * consumer owns it, records the consumer released or is releasing, and
 * records overwritten while they were being copied are left out: no copy
 * is torn. Any bound file may ask, a LFQ_ROLE_READER one included.
 *
 * Returns the bytes written, or -EOPNOTSUPP for a queue not in overwrite
 * mode, -EINVAL for flags or a misaligned @buf, -EFAULT for a bad @buf,
 * -EINTR when a fatal signal came.
 */
struct lfq_snapshot {
	__u32 size;
	__u32 flags;
	__u64 buf;
	__u64 buf_size;
};

#define LFQ_SNAPSHOT_SIZE_VER0	24
/* The bytes a record of @len bytes takes in an LFQ_IOC_SNAPSHOT buffer. */
#define LFQ_SNAPSHOT_NEXT(len)	(8 + (((__u64)(len) + 7) & ~7ull))

#define LFQ_IOC_SNAPSHOT	_IO(LFQ_IOC_MAGIC, 0x0d)	/* struct lfq_snapshot * */

#endif /* _UAPI_LINUX_LFQ_H */
