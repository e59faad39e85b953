// SPDX-License-Identifier: GPL-2.0
/*
 * stream_ringbuf.bpf.c - the BPF ring buffer side of lfq-bench's stream
 * suite (suite_stream.c): the peer lfq's LFQ_SOURCE_SYSCALL source is
 * measured against, written the way its users write it.
 *
 * A BTF tracepoint program on raw_syscalls/sys_enter (tp_btf: the cheapest
 * way a BPF program hooks a tracepoint, with direct, CO-RE-relocated reads
 * of the registers) keeps the entries of one syscall and writes one record
 * per call with bpf_ringbuf_reserve()/bpf_ringbuf_submit(), the ring
 * buffer's zero-copy API. When the ring is full the reservation fails and
 * the program counts a drop in a per-CPU array, as lfq counts its own.
 *
 * Five programs, one per record size (two for mixed sizes); the suite
 * loads those of one size:
 *   rb_small  8 bytes: pid and syscall nr (the smallest useful record);
 *   rb_32     the 32 bytes of lfq's struct lfq_event_syscall, same fields
 *             (type, size, cpu, time_ns, pid, nr, arg0);
 *   rb_64     the same 32 bytes and 32 zero bytes, as lfq's source writes
 *             with lfq_source.record_size 64;
 *   rb_data   mixed sizes: lfq's SYSCALL record with LFQ_SOURCE_SYSCALL_DATA
 *             (all six arguments, then the call's user buffer, up to 256
 *             bytes), as long as the buffer (see rb_data());
 *   rb_data_max  the same records, each reserved at the largest size.
 * The ring adds its own 8-byte header to each (lfq's records carry theirs
 * inside the 32).
 *
 * target_nr and submit_flags are read-only data set before loading, so the
 * verifier folds them into constants: 0 is the ring's default adaptive
 * notification, BPF_RB_NO_WAKEUP the batched mode in which the consumer
 * polls on a timer. Built with clang -target bpf and embedded in
 * lfq-bench-vm as a libbpf skeleton.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The one register read; its offset comes from the kernel's BTF. */
struct pt_regs {
	unsigned long di, si, dx, r10, r8, r9;
} __attribute__((preserve_access_index));

/* Same layout as struct lfq_event_syscall (uapi/lfq_event.h). */
struct rec32 {
	__u16 type;
	__u16 size;
	__u32 cpu;
	__u64 time_ns;
	__u32 pid;
	__s32 nr;
	__u64 arg0;
};

struct rec64 {
	struct rec32 r;
	__u64 pad[4];
};

/*
 * Same layout as an lfq SYSCALL record with LFQ_SOURCE_SYSCALL_DATA: the
 * 32 bytes above, arguments 1 to 5, struct lfq_syscall_data, the buffer.
 */
#define DATA_MAX		256	/* lfq's LFQ_EVENT_SYSCALL_DATA_DEFAULT */
#define DATA_CUT		1	/* LFQ_SYSCALL_DATA_CUT */
#define DATA_FAULT		2	/* LFQ_SYSCALL_DATA_FAULT */

struct rec_data {
	struct rec32 r;
	__u64 args[5];
	__u32 size;
	__u32 flags;
	__u8 bytes[DATA_MAX];
};

#define REC_DATA_MIN	(sizeof(struct rec_data) - DATA_MAX)

struct rec_small {
	__u32 pid;
	__s32 nr;
};

#define REC_TYPE_SYSCALL	5	/* LFQ_EVENT_SYSCALL */

const volatile int target_nr = -1;
const volatile __u64 submit_flags;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);	/* the suite sets the size */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* rb_data builds its record here, then copies the bytes it needs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec_data);
} scratch SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 key = 0;
	__u64 *d = bpf_map_lookup_elem(&drops, &key);

	if (d)
		(*d)++;
}

static __always_inline void fill32(struct rec32 *r, struct pt_regs *regs,
				   long id, __u16 size)
{
	r->type = REC_TYPE_SYSCALL;
	r->size = size;
	r->cpu = bpf_get_smp_processor_id();
	r->time_ns = bpf_ktime_get_ns();
	r->pid = (__u32)bpf_get_current_pid_tgid();
	r->nr = id;
	r->arg0 = regs->di;
}

/* tp_btf context: args of the tracepoint, (struct pt_regs *regs, long id). */
SEC("tp_btf/sys_enter")
int rb_small(__u64 *ctx)
{
	long id = (long)ctx[1];
	struct rec_small *r;

	if (id != target_nr)
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	r->pid = (__u32)bpf_get_current_pid_tgid();
	r->nr = id;
	bpf_ringbuf_submit(r, submit_flags);
	return 0;
}

SEC("tp_btf/sys_enter")
int rb_32(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long id = (long)ctx[1];
	struct rec32 *r;

	if (id != target_nr)
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	fill32(r, regs, id, sizeof(*r));
	bpf_ringbuf_submit(r, submit_flags);
	return 0;
}

SEC("tp_btf/sys_enter")
int rb_64(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long id = (long)ctx[1];
	struct rec64 *r;

	if (id != target_nr)
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	fill32(&r->r, regs, id, sizeof(*r));
	r->pad[0] = 0;
	r->pad[1] = 0;
	r->pad[2] = 0;
	r->pad[3] = 0;
	bpf_ringbuf_submit(r, submit_flags);
	return 0;
}

/* Fill @r for a call with @len bytes at regs->si; the bytes kept. */
static __always_inline __u64 fill_data(struct rec_data *r,
				       struct pt_regs *regs, long id)
{
	__u64 len = regs->dx, n;

	n = len < DATA_MAX ? len : DATA_MAX;
	fill32(&r->r, regs, id, REC_DATA_MIN + n);
	r->args[0] = regs->si;
	r->args[1] = len;
	r->args[2] = regs->r10;
	r->args[3] = regs->r8;
	r->args[4] = regs->r9;
	r->size = n;
	r->flags = n < len ? DATA_CUT : 0;
	/* On a fault the helper zeroes the bytes, as lfq does. */
	if (n && bpf_probe_read_user(r->bytes, n, (const void *)regs->si))
		r->flags |= DATA_FAULT;
	return n;
}

/*
 * Mixed sizes: the buffer of the call (pwrite64(fd, buf, count, pos):
 * count bytes at buf, at most DATA_MAX), so each record is as long as its
 * buffer. bpf_ringbuf_reserve() takes only a size the verifier knows, and
 * on 6.1 user memory cannot be read into a bpf_ringbuf_reserve_dynptr()
 * record: a record of a size known at run time is built in a per-CPU
 * scratch record and copied in with bpf_ringbuf_output(). rb_data_max is
 * the zero-copy alternative.
 */
SEC("tp_btf/sys_enter")
int rb_data(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long id = (long)ctx[1];
	struct rec_data *r;
	__u32 key = 0;
	__u64 n;

	if (id != target_nr)
		return 0;
	r = bpf_map_lookup_elem(&scratch, &key);
	if (!r)
		return 0;
	n = fill_data(r, regs, id);
	if (bpf_ringbuf_output(&rb, r, REC_DATA_MIN + n, submit_flags))
		count_drop();
	return 0;
}

/*
 * Mixed sizes, zero-copy: every record reserved at the largest size (the
 * buffer read straight into it), whatever the buffer's length: no copy,
 * but 344 bytes of ring per record.
 */
SEC("tp_btf/sys_enter")
int rb_data_max(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long id = (long)ctx[1];
	struct rec_data *r;

	if (id != target_nr)
		return 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	fill_data(r, regs, id);
	bpf_ringbuf_submit(r, submit_flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
