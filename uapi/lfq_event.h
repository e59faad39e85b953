/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * lfq_event.h - the records the module's event sources (LFQ_IOC_SOURCE_ATTACH
 * in lfq.h) write into a queue's slots: one record per slot, starting with
 * struct lfq_event; in a record queue (LFQ_CREATE_RECORDS) one record of
 * the queue per event. Readers dispatch on @type and trust @size only up
 * to the slot size (the record's length).
 */
#ifndef _UAPI_LINUX_LFQ_EVENT_H
#define _UAPI_LINUX_LFQ_EVENT_H

#include <linux/types.h>

/* struct lfq_event.type */
#define LFQ_EVENT_SYNTH		1	/* struct lfq_event_synth */
#define LFQ_EVENT_EXEC		2	/* struct lfq_event_proc */
#define LFQ_EVENT_FORK		3	/* struct lfq_event_proc */
#define LFQ_EVENT_EXIT		4	/* struct lfq_event_proc */
#define LFQ_EVENT_SYSCALL	5	/* struct lfq_event_syscall */

/**
 * struct lfq_event - the header of every record.
 * @type:	LFQ_EVENT_*.
 * @size:	bytes of the record, this header included.
 * @cpu:	the CPU that produced it.
 * @time_ns:	when, on CLOCK_MONOTONIC.
 */
struct lfq_event {
	__u16 type;
	__u16 size;
	__u32 cpu;
	__u64 time_ns;
};

/* struct lfq_event_synth.context: where the producer ran. */
#define LFQ_CONTEXT_THREAD	1	/* a kernel thread */
#define LFQ_CONTEXT_HARDIRQ	2	/* an hrtimer in hardirq context */
#define LFQ_CONTEXT_SOFTIRQ	3	/* an hrtimer in softirq context */
#define LFQ_CONTEXT_NMI		4	/* an NMI an hrtimer raised (LFQ_SOURCE_SYNTH_NMI) */

/**
 * struct lfq_event_synth - one record of an LFQ_SOURCE_SYNTH producer.
 * @hdr:	type LFQ_EVENT_SYNTH.
 * @producer:	which producer: threads first, then hardirq timers, then
 *		softirq timers, numbered from 0.
 * @context:	LFQ_CONTEXT_*.
 * @seq:	0, 1, 2, ... per producer; a gap is a record dropped because
 *		the ring was full (and counted in lfq_stats.dropped).
 */
struct lfq_event_synth {
	struct lfq_event hdr;
	__u32 producer;
	__u32 context;
	__u64 seq;
};

/**
 * struct lfq_event_proc - a process event of an LFQ_SOURCE_PROC source.
 * @hdr:	type LFQ_EVENT_EXEC, _FORK or _EXIT.
 * @pid:	the thread (for FORK, the parent thread), as the attaching
 *		process's pid namespace sees it; 0 if it cannot.
 * @tgid:	its thread group (process) id.
 * @ppid:	the process id of its parent.
 * @uid:	its real uid, in the attacher's user namespace.
 * @child_pid:	FORK: the new thread; else 0.
 * @child_tgid:	FORK: the new thread's process (== @tgid for a thread).
 * @exit_code:	EXIT: the status as wait(2) reports it; else 0.
 * @args_size:	EXEC into a record queue: bytes of argv at the record's
 *		end (LFQ_EVENT_PROC_ARGS_OFFSET()); else 0.
 * @cut:	EXEC: LFQ_PROC_PATH_CUT if the path was cut to fit,
 *		LFQ_PROC_ARGS_CUT if the argv was (or could not be read).
 * @comm:	the command name, NUL-terminated (for EXEC, the new one).
 *
 * The record continues with the filename, at LFQ_EVENT_PROC_FILENAME(ev):
 * for EXEC the path executed, NUL-terminated, cut to fit the slot (a
 * record queue: the record, whose limit is the source's record_size, by
 * default LFQ_EVENT_PROC_RECORD_DEFAULT); else empty. In a record queue
 * an EXEC record then carries the new image's argv: @args_size bytes,
 * each argument NUL-terminated, as in /proc/PID/cmdline. (No flexible
 * array member: this header compiles as C89, C11 and pedantic C++.)
 */
struct lfq_event_proc {
	struct lfq_event hdr;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 child_pid;
	__u32 child_tgid;
	__s32 exit_code;
	__u16 args_size;
	__u16 cut;
	char comm[16];
};

/* struct lfq_event_proc.cut */
#define LFQ_PROC_PATH_CUT	(1u << 0)
#define LFQ_PROC_ARGS_CUT	(1u << 1)

/* The filename that follows a struct lfq_event_proc *@ev in its slot. */
#define LFQ_EVENT_PROC_FILENAME(ev)	((char *)((ev) + 1))
/*
 * An EXEC record's argv is its last args_size bytes: at this offset from
 * the record's start, given its hdr.size and args_size.
 */
#define LFQ_EVENT_PROC_ARGS_OFFSET(size, args_size)	((size) - (args_size))

/* An LFQ_SOURCE_PROC's largest record in a record queue, by default. */
#define LFQ_EVENT_PROC_RECORD_DEFAULT	4096u

/* Smallest slot an LFQ_SOURCE_PROC source accepts: 16 bytes of filename. */
#define LFQ_EVENT_PROC_SLOT_MIN	(sizeof(struct lfq_event_proc) + 16)

/**
 * struct lfq_event_syscall - one entry of the LFQ_SOURCE_SYSCALL syscall.
 * @hdr:	type LFQ_EVENT_SYSCALL.
 * @pid:	the calling thread, in the attacher's pid namespace.
 * @nr:		the syscall number.
 * @arg0:	its first argument.
 *
 * In a record queue the record goes on with the other five arguments
 * (LFQ_EVENT_SYSCALL_ARGS(), hdr.size LFQ_EVENT_SYSCALL_FULL or more).
 */
struct lfq_event_syscall {
	struct lfq_event hdr;
	__u32 pid;
	__s32 nr;
	__u64 arg0;
};

/* Arguments 1 to 5, in a record of at least LFQ_EVENT_SYSCALL_FULL bytes. */
#define LFQ_EVENT_SYSCALL_ARGS(ev)	((__u64 *)((ev) + 1))
#define LFQ_EVENT_SYSCALL_FULL	(sizeof(struct lfq_event_syscall) + 40)

/**
 * struct lfq_syscall_data - what follows the six arguments of a SYSCALL
 * record when the source has LFQ_SOURCE_SYSCALL_DATA (record queues only),
 * at LFQ_EVENT_SYSCALL_DATA(ev): then @size bytes of the user buffer the
 * call's second argument points to, as long as its third argument says
 * (the buffer of write(2), pwrite64(2) or sendto(2)), cut to fit the
 * source's record_size. The record's hdr.size is
 * LFQ_EVENT_SYSCALL_DATA_MIN + @size.
 * @size:	bytes of the buffer in the record.
 * @flags:	LFQ_SYSCALL_DATA_CUT if the call's length was more than
 *		@size; LFQ_SYSCALL_DATA_FAULT if some of those bytes could not
 *		be read without faulting (a probe cannot sleep): all @size of
 *		them are then zero.
 */
struct lfq_syscall_data {
	__u32 size;
	__u32 flags;
};

#define LFQ_SYSCALL_DATA_CUT	(1u << 0)
#define LFQ_SYSCALL_DATA_FAULT	(1u << 1)

#define LFQ_EVENT_SYSCALL_DATA(ev)	\
	((struct lfq_syscall_data *)((__u8 *)(ev) + LFQ_EVENT_SYSCALL_FULL))
/* The buffer's bytes, after the struct lfq_syscall_data. */
#define LFQ_EVENT_SYSCALL_DATA_BYTES(ev)	\
	((__u8 *)(ev) + LFQ_EVENT_SYSCALL_DATA_MIN)
#define LFQ_EVENT_SYSCALL_DATA_MIN	\
	(LFQ_EVENT_SYSCALL_FULL + sizeof(struct lfq_syscall_data))
/* An LFQ_SOURCE_SYSCALL_DATA source's largest record, by default. */
#define LFQ_EVENT_SYSCALL_DATA_DEFAULT	(LFQ_EVENT_SYSCALL_DATA_MIN + 256)

#endif /* _UAPI_LINUX_LFQ_EVENT_H */
