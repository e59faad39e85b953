// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_source_trace.c - sources fed by kernel tracepoints: LFQ_SOURCE_PROC
 * (sched_process_exec, _fork and _exit) and LFQ_SOURCE_SYSCALL (sys_enter,
 * filtered to one syscall). Each source registers its own probes with
 * itself as the probe's data, so sources never share state; detaching
 * unregisters them and waits for running probes before the source is
 * freed (and so before the module can go).
 *
 * Probes run with preemption disabled, in the traced task's context, and
 * write through the lock-free in-kernel producer API: a full ring drops
 * the record and counts it. In a record queue (LFQ_CREATE_RECORDS) each
 * record takes the bytes it needs: an exec carries its whole path and its
 * argv, a syscall entry all six arguments (and, with
 * LFQ_SOURCE_SYSCALL_DATA, the user buffer the call names).
 */
#include <linux/compat.h>
#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/limits.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>

#include "lfq_source.h"

#define LFQ_TRACE_PROBES_MAX	3

/**
 * struct lfq_trace_probe - one tracepoint a source hooks.
 * @name:	the tracepoint's name.
 * @probe:	our probe for it (its prototype with a leading void *data).
 * @tp:		the tracepoint, once found.
 */
struct lfq_trace_probe {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

/**
 * struct lfq_trace_src - an LFQ_SOURCE_PROC or LFQ_SOURCE_SYSCALL source.
 * @src:	the common part.
 * @syscall_nr:	SYSCALL: the syscall recorded.
 * @rec_size:	SYSCALL: bytes of each record, the tail past struct
 *		lfq_event_syscall zeroed; with @data the largest record.
 * @data:	SYSCALL: records carry the call's user buffer
 *		(LFQ_SOURCE_SYSCALL_DATA; record queues only).
 * @name_room:	PROC: bytes for an exec's filename, NUL included (a slot
 *		queue's; a record queue's exec records take @rec_max).
 * @rec_max:	PROC on a record queue: the largest record (path and argv
 *		are cut to fit it).
 * @nr_probes:	entries of @probes in use.
 * @nr_registered: entries of @probes registered.
 * @probes:	the tracepoints hooked.
 */
struct lfq_trace_src {
	struct lfq_src src;
	long syscall_nr;
	u32 rec_size;
	bool data;
	u32 name_room;
	u32 rec_max;
	u32 nr_probes;
	u32 nr_registered;
	struct lfq_trace_probe probes[LFQ_TRACE_PROBES_MAX];
};

/* The fields every process event has, for task @p. */
static void lfq_proc_fill(struct lfq_trace_src *t, struct lfq_event_proc *ev,
			  struct task_struct *p)
{
	struct pid_namespace *ns = t->src.pid_ns;

	BUILD_BUG_ON(sizeof(ev->comm) != TASK_COMM_LEN);
	ev->pid = lfq_src_pid(&t->src, p);
	ev->tgid = lfq_src_tgid(&t->src, p);
	ev->ppid = task_ppid_nr_ns(p, ns);
	ev->uid = from_kuid_munged(t->src.user_ns, task_uid(p));
	ev->child_pid = 0;
	ev->child_tgid = 0;
	ev->exit_code = 0;
	ev->args_size = 0;
	ev->cut = 0;
	/* As the sched tracepoints copy it: racing renames give a mix. */
	memcpy(ev->comm, p->comm, TASK_COMM_LEN);
	ev->comm[TASK_COMM_LEN - 1] = '\0';
	LFQ_EVENT_PROC_FILENAME(ev)[0] = '\0';
}

/* @extra: bytes after the event (a slot queue's filename room aside). */
static struct lfq_event_proc *lfq_proc_reserve(struct lfq_trace_src *t,
					       u16 type, struct task_struct *p,
					       u32 extra,
					       struct lfq_src_resv *r)
{
	struct lfq_event_proc *ev;

	ev = lfq_src_reserve(&t->src, type, sizeof(*ev) + extra, r);
	if (ev)
		lfq_proc_fill(t, ev, p);
	return ev;
}

/*
 * An exec into a record queue: the record is as long as the path and the
 * argv (the new image's, from its stack: mm->arg_start to arg_end), cut
 * to t->rec_max and flagged. The argv is read without faulting (a probe
 * cannot sleep): pages not present leave its bytes zero, flagged cut.
 */
static void lfq_probe_exec_rec(struct lfq_trace_src *t, struct task_struct *p,
			       struct linux_binprm *bprm)
{
	u32 room = t->rec_max - sizeof(struct lfq_event_proc), name, args;
	struct mm_struct *mm = p->mm;
	struct lfq_event_proc *ev;
	unsigned long from = 0;
	struct lfq_src_resv r;
	u16 cut = 0;
	char *at;

	name = strnlen(bprm->filename, room - 1) + 1;
	if (bprm->filename[name - 1])
		cut |= LFQ_PROC_PATH_CUT;
	args = 0;
	if (mm && mm->arg_end > mm->arg_start) {
		from = mm->arg_start;
		args = min_t(unsigned long, mm->arg_end - from, room - name);
		if (args < mm->arg_end - from)
			cut |= LFQ_PROC_ARGS_CUT;
	}
	ev = lfq_proc_reserve(t, LFQ_EVENT_EXEC, p, name + args, &r);
	if (!ev)
		return;
	at = LFQ_EVENT_PROC_FILENAME(ev);
	memcpy(at, bprm->filename, name - 1);
	at[name - 1] = '\0';
	at += name;
	if (args && copy_from_user_nofault(at, (const void __user *)from,
					   args)) {
		memset(at, 0, args);
		cut |= LFQ_PROC_ARGS_CUT;
	}
	/* A cut argv still ends its last argument. */
	if (args)
		at[args - 1] = '\0';
	ev->args_size = args;
	ev->cut = cut;
	lfq_src_commit(&t->src, &r);
}

static void lfq_probe_exec(void *data, struct task_struct *p, pid_t old_pid,
			   struct linux_binprm *bprm)
{
	struct lfq_trace_src *t = data;
	struct lfq_event_proc *ev;
	struct lfq_src_resv r;
	ssize_t len;

	if (t->src.q->ring.records) {
		lfq_probe_exec_rec(t, p, bprm);
		return;
	}
	ev = lfq_proc_reserve(t, LFQ_EVENT_EXEC, p, 1, &r);
	if (!ev)
		return;
	len = strscpy(LFQ_EVENT_PROC_FILENAME(ev), bprm->filename,
		      t->name_room);
	if (len < 0) {
		len = t->name_room - 1;	/* cut to fit, still terminated */
		ev->cut |= LFQ_PROC_PATH_CUT;
	}
	ev->hdr.size = sizeof(*ev) + len + 1;
	lfq_src_commit(&t->src, &r);
}

static void lfq_probe_fork(void *data, struct task_struct *parent,
			   struct task_struct *child)
{
	struct lfq_trace_src *t = data;
	struct lfq_event_proc *ev;
	struct lfq_src_resv r;

	ev = lfq_proc_reserve(t, LFQ_EVENT_FORK, parent, 1, &r);
	if (!ev)
		return;
	ev->child_pid = lfq_src_pid(&t->src, child);
	ev->child_tgid = lfq_src_tgid(&t->src, child);
	lfq_src_commit(&t->src, &r);
}

static void lfq_probe_exit(void *data, struct task_struct *p)
{
	struct lfq_trace_src *t = data;
	struct lfq_event_proc *ev;
	struct lfq_src_resv r;

	ev = lfq_proc_reserve(t, LFQ_EVENT_EXIT, p, 1, &r);
	if (!ev)
		return;
	/* do_exit() stored the wait(2) status before this tracepoint. */
	ev->exit_code = READ_ONCE(p->exit_code);
	lfq_src_commit(&t->src, &r);
}

/*
 * A SYSCALL record with the call's buffer (LFQ_SOURCE_SYSCALL_DATA): as
 * long as the buffer (args[2] bytes at args[1], whatever the call), cut
 * to t->rec_size. The buffer is read without faulting, straight into the
 * reserved record (a probe cannot sleep): if any of it is not present,
 * all of it reads zero, flagged.
 */
static void lfq_probe_sys_data(struct lfq_trace_src *t, long id,
			       const unsigned long *args)
{
	u32 room = t->rec_size - LFQ_EVENT_SYSCALL_DATA_MIN, size, flags = 0;
	struct lfq_event_syscall *ev;
	struct lfq_syscall_data *d;
	struct lfq_src_resv r;
	u8 *bytes;

	size = min_t(unsigned long, args[2], room);
	if (size < args[2])
		flags |= LFQ_SYSCALL_DATA_CUT;
	ev = lfq_src_reserve(&t->src, LFQ_EVENT_SYSCALL,
			     LFQ_EVENT_SYSCALL_DATA_MIN + size, &r);
	if (!ev)
		return;
	ev->pid = lfq_src_pid(&t->src, current);
	ev->nr = id;
	ev->arg0 = args[0];
	memcpy(LFQ_EVENT_SYSCALL_ARGS(ev), &args[1], 5 * sizeof(args[0]));
	d = LFQ_EVENT_SYSCALL_DATA(ev);
	bytes = LFQ_EVENT_SYSCALL_DATA_BYTES(ev);
	if (size && copy_from_user_nofault(bytes, (const void __user *)args[1],
					   size)) {
		memset(bytes, 0, size);
		flags |= LFQ_SYSCALL_DATA_FAULT;
	}
	d->size = size;
	d->flags = flags;
	lfq_src_commit(&t->src, &r);
}

static void lfq_probe_sys_enter(void *data, struct pt_regs *regs, long id)
{
	struct lfq_trace_src *t = data;
	struct lfq_event_syscall *ev;
	unsigned long args[6];
	struct lfq_src_resv r;

	/* Compat tasks number their syscalls differently. */
	if (id != t->syscall_nr || in_compat_syscall())
		return;
	syscall_get_arguments(current, regs, args);
	if (t->data) {
		lfq_probe_sys_data(t, id, args);
		return;
	}
	ev = lfq_src_reserve(&t->src, LFQ_EVENT_SYSCALL, t->rec_size, &r);
	if (!ev)
		return;
	ev->pid = lfq_src_pid(&t->src, current);
	ev->nr = id;
	ev->arg0 = args[0];
	/* The slot held an older record: no stale bytes past ours. */
	if (t->rec_size > sizeof(*ev))
		memset(ev + 1, 0, t->rec_size - sizeof(*ev));
	/* A record queue's records carry the other five arguments too. */
	if (t->src.q->ring.records && t->rec_size >= LFQ_EVENT_SYSCALL_FULL)
		memcpy(LFQ_EVENT_SYSCALL_ARGS(ev), &args[1],
		       5 * sizeof(args[0]));
	lfq_src_commit(&t->src, &r);
}

static void lfq_trace_find(struct tracepoint *tp, void *priv)
{
	struct lfq_trace_src *t = priv;
	u32 i;

	for (i = 0; i < t->nr_probes; i++)
		if (!strcmp(tp->name, t->probes[i].name))
			t->probes[i].tp = tp;
}

static void lfq_trace_unregister(struct lfq_trace_src *t)
{
	struct lfq_trace_probe *p;

	while (t->nr_registered) {
		p = &t->probes[--t->nr_registered];
		WARN_ON_ONCE(tracepoint_probe_unregister(p->tp, p->probe, t));
	}
	/* No probe of ours runs past this point. */
	tracepoint_synchronize_unregister();
}

static void lfq_trace_detach(struct lfq_src *src)
{
	struct lfq_trace_src *t = container_of(src, struct lfq_trace_src, src);

	lfq_trace_unregister(t);
	kfree(t);
}

/* Find and hook every probe of @t; on failure nothing stays hooked. */
static int lfq_trace_register(struct lfq_trace_src *t)
{
	struct lfq_trace_probe *p;
	int err;

	for_each_kernel_tracepoint(lfq_trace_find, t);
	while (t->nr_registered < t->nr_probes) {
		p = &t->probes[t->nr_registered];
		err = p->tp ? tracepoint_probe_register(p->tp, p->probe, t) :
			      -ENOENT;
		if (err) {
			lfq_trace_unregister(t);
			return err;
		}
		t->nr_registered++;
	}
	return 0;
}

static struct lfq_src *lfq_trace_attach(const struct lfq_src *tmpl,
					struct lfq_trace_src *t)
{
	int err;

	t->src = *tmpl;
	err = lfq_trace_register(t);
	if (err) {
		kfree(t);
		return ERR_PTR(err);
	}
	return &t->src;
}

static struct lfq_src *lfq_proc_attach(const struct lfq_src *tmpl,
				       const struct lfq_src_args *args)
{
	struct lfq_trace_src *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	t->name_room = min_t(u32, (args->proc.record_size ?:
				   tmpl->q->hdr.slot_size) -
			     sizeof(struct lfq_event_proc), PATH_MAX);
	/* lfq_src_check() checked a record_size against the queue's limit. */
	t->rec_max = args->proc.record_size ?:
		     min_t(u32, LFQ_EVENT_PROC_RECORD_DEFAULT,
			   lfq_src_room(tmpl->q));
	t->probes[0] = (struct lfq_trace_probe){
		"sched_process_fork", (void *)lfq_probe_fork };
	t->probes[1] = (struct lfq_trace_probe){
		"sched_process_exec", (void *)lfq_probe_exec };
	t->probes[2] = (struct lfq_trace_probe){
		"sched_process_exit", (void *)lfq_probe_exit };
	t->nr_probes = 3;
	return lfq_trace_attach(tmpl, t);
}

static struct lfq_src *lfq_syscall_attach(const struct lfq_src *tmpl,
					  const struct lfq_src_args *args)
{
	const struct lfq_src_syscall_args *a = &args->syscall;
	struct lfq_trace_src *t;

	if (a->nr < 0)
		return ERR_PTR(-EINVAL);
	if (a->nr >= NR_syscalls)
		return ERR_PTR(-ENOENT);
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	t->syscall_nr = a->nr;
	/*
	 * lfq_src_check() checked it against the slot size (a record
	 * queue's limit; with @data, that the buffer's size has room);
	 * a record queue's natural record has all six arguments.
	 */
	t->rec_size = a->record_size ?:
		      (tmpl->q->ring.records ? LFQ_EVENT_SYSCALL_FULL :
					       sizeof(struct lfq_event_syscall));
	t->data = a->data;
	if (a->data && !a->record_size)
		t->rec_size = min_t(u32, LFQ_EVENT_SYSCALL_DATA_DEFAULT,
				    lfq_src_room(tmpl->q));
	t->probes[0] = (struct lfq_trace_probe){
		"sys_enter", (void *)lfq_probe_sys_enter };
	t->nr_probes = 1;
	return lfq_trace_attach(tmpl, t);
}

const struct lfq_src_type lfq_src_proc = {
	.attach		= lfq_proc_attach,
	.detach		= lfq_trace_detach,
	.rec_size	= LFQ_EVENT_PROC_SLOT_MIN,
	.producer	= true,
	.sized		= true,
};

const struct lfq_src_type lfq_src_syscall = {
	.attach		= lfq_syscall_attach,
	.detach		= lfq_trace_detach,
	.rec_size	= sizeof(struct lfq_event_syscall),
	.producer	= true,
	.sized		= true,
};
