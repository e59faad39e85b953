// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_ioc_source.c - LFQ_IOC_SOURCE_ATTACH and LFQ_IOC_SOURCE_DETACH:
 * turning the flat struct lfq_source of uapi/lfq.h (every type's fields
 * side by side, VER0 and VER1) into the arguments of its one type
 * (struct lfq_src_args), finding an ECHO target from its fd, and handing
 * over to kmod/sources. The file is the sources' owner: releasing it
 * detaches them (lfq_file_release()).
 */
#include <linux/file.h>
#include <linux/string.h>

#include "core/lfq_queue.h"
#include "lfq_dev.h"
#include "lfq_file.h"
#include "lfq_ioctl.h"
#include "sources/lfq_source.h"

/* @a in the flat layout: the inverse of lfq_source_decode(). */
static void lfq_source_encode(const struct lfq_src_args *a, s32 target_fd,
			      struct lfq_source *u)
{
	memset(u, 0, sizeof(*u));
	u->type = a->type;
	switch (a->type) {
	case LFQ_SOURCE_SYNTH:
		u->threads = a->synth.threads;
		u->hardirq_timers = a->synth.hardirq_timers;
		u->softirq_timers = a->synth.softirq_timers;
		u->count = a->synth.count;
		u->thread_period_ns = a->synth.thread_period_ns;
		u->timer_period_ns = a->synth.timer_period_ns;
		u->flags = a->synth.nmi ? LFQ_SOURCE_SYNTH_NMI : 0;
		break;
	case LFQ_SOURCE_PROC:
		u->record_size = a->proc.record_size;
		break;
	case LFQ_SOURCE_SYSCALL:
		u->syscall_nr = a->syscall.nr;
		u->record_size = a->syscall.record_size;
		u->flags = a->syscall.data ? LFQ_SOURCE_SYSCALL_DATA : 0;
		break;
	case LFQ_SOURCE_ECHO:
		u->target_fd = target_fd;
		break;
	}
}

/*
 * Take the fields of @u's type into @a. Every field (and flag) the type
 * does not take must be zero: encoding @a back must give @u again, so no
 * type has to know the others' fields.
 */
static int lfq_source_decode(const struct lfq_source *u,
			     struct lfq_src_args *a)
{
	struct lfq_source back;

	if (u->flags & ~LFQ_SOURCE_FLAGS_ALL || u->__reserved)
		return -EINVAL;
	a->type = u->type;
	switch (u->type) {
	case LFQ_SOURCE_SYNTH:
		a->synth = (struct lfq_src_synth_args){
			.threads		= u->threads,
			.hardirq_timers		= u->hardirq_timers,
			.softirq_timers		= u->softirq_timers,
			.count			= u->count,
			.thread_period_ns	= u->thread_period_ns,
			.timer_period_ns	= u->timer_period_ns,
			.nmi = !!(u->flags & LFQ_SOURCE_SYNTH_NMI),
		};
		break;
	case LFQ_SOURCE_PROC:
		a->proc.record_size = u->record_size;
		break;
	case LFQ_SOURCE_SYSCALL:
		a->syscall.nr = u->syscall_nr;
		a->syscall.record_size = u->record_size;
		a->syscall.data = !!(u->flags & LFQ_SOURCE_SYSCALL_DATA);
		break;
	case LFQ_SOURCE_ECHO:
		break;
	default:
		return -EINVAL;
	}
	lfq_source_encode(a, u->target_fd, &back);
	back.size = u->size;
	return memcmp(&back, u, sizeof(back)) ? -EINVAL : 0;
}

/*
 * The queue behind an ECHO's target_fd, referenced: an open /dev/lfq
 * bound to a queue in the producer role (the echo produces into it).
 */
static struct lfq_queue *lfq_source_target(int fd)
{
	struct lfq_queue *t = NULL;
	struct lfq_file *bound;
	struct fd f;
	int err = 0;

	f = fdget(fd);
	if (!f.file)
		return ERR_PTR(-EBADF);
	bound = lfq_file_is_lfq(f.file) ? lfq_file_get(f.file) : NULL;
	if (!lfq_file_is_lfq(f.file))
		err = -EINVAL;
	else if (!bound)
		err = -EBADFD;
	else if (!(bound->role & LFQ_ROLE_PRODUCER))
		err = -EPERM;
	else
		t = bound->q;
	if (t)
		lfq_queue_ref(t);	/* the file holds one: not the last */
	fdput(f);
	return err ? ERR_PTR(err) : t;
}

/**
 * lfq_ioc_source_attach() - LFQ_IOC_SOURCE_ATTACH.
 * @io:		the call; @io->karg is a struct lfq_source.
 *
 * Return: the source id, or a negative errno (see struct lfq_source).
 */
long lfq_ioc_source_attach(struct lfq_ioc *io)
{
	const struct lfq_source *u = io->karg;
	struct lfq_queue *q = io->f->q;
	struct lfq_src_args a = {};
	int err;

	err = lfq_source_decode(u, &a);
	if (err)
		return err;
	a.role = io->f->role;
	err = lfq_src_check(q, &a);
	if (err)
		return err;
	if (a.type == LFQ_SOURCE_ECHO) {
		a.echo.target = lfq_source_target(u->target_fd);
		if (IS_ERR(a.echo.target))
			return PTR_ERR(a.echo.target);
	}
	err = lfq_src_attach(q, io->file, &a);
	if (a.type == LFQ_SOURCE_ECHO)
		lfq_queue_put(a.echo.target);	/* the source took its own */
	return err;
}

/**
 * lfq_ioc_source_detach() - LFQ_IOC_SOURCE_DETACH: stop one source this
 * file attached.
 * @io:		the call; @io->arg is the source id.
 *
 * Return: as lfq_src_detach().
 */
long lfq_ioc_source_detach(struct lfq_ioc *io)
{
	return lfq_src_detach(io->f->q, io->file, io->arg);
}
