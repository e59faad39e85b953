// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_ioctl.c - the /dev/lfq ioctl dispatch table: for each command, its
 * handler, its argument (a size-tagged struct copied in, a struct copied
 * out, or a plain value), whether the file must be bound to a queue or
 * unbound, the role and capability it needs. The dispatcher applies the
 * table in a fixed order, so every command answers the same bad input
 * with the same errno:
 *
 *   unknown command			-ENOTTY
 *   bound file where an unbound one is needed (CREATE, OPEN)	-EBUSY
 *   unbound file where a bound one is needed	-EBADFD
 *   missing capability			-EPERM
 *   argument struct: bad pointer -EFAULT, size below the first version
 *	-EINVAL, above PAGE_SIZE or with unknown non-zero bytes -E2BIG
 *   missing role			-EPERM
 *
 * then the handler's own checks (see each struct in uapi/lfq.h).
 */
#include <linux/capability.h>
#include <linux/string.h>

#include "core/lfq_queue.h"
#include "lfq_dev.h"
#include "lfq_file.h"
#include "lfq_ioctl.h"
#include "lfq_uarg.h"

enum lfq_ioc_bind {
	LFQ_BIND_ANY,		/* bound or not */
	LFQ_BIND_UNBOUND,	/* binds the file: -EBUSY if bound */
	LFQ_BIND_BOUND,		/* acts on the file's queue: -EBADFD if not */
};

enum lfq_ioc_argk {
	LFQ_ARG_VALUE,		/* a value in the argument itself */
	LFQ_ARG_IN,		/* a size-tagged struct, copied in */
	LFQ_ARG_OUT,		/* a size-tagged struct, copied out */
};

/**
 * struct lfq_ioc_desc - one command in the table.
 * @cmd:	the full command number.
 * @fn:		its handler.
 * @ksize:	the argument struct's size as this kernel knows it.
 * @min_size:	its first version's size.
 * @bind:	enum lfq_ioc_bind.
 * @argk:	enum lfq_ioc_argk.
 * @role:	LFQ_ROLE_* bits the file must hold (0: none).
 * @perfmon:	needs CAP_PERFMON (or CAP_SYS_ADMIN).
 */
struct lfq_ioc_desc {
	unsigned int cmd;
	long (*fn)(struct lfq_ioc *io);
	u16 ksize;
	u16 min_size;
	u8 bind;
	u8 argk;
	u8 role;
	bool perfmon;
};

/* Entries sit at their command's number: lookup is one index. */
static const struct lfq_ioc_desc lfq_ioc_table[] = {
	[_IOC_NR(LFQ_IOC_CREATE)] = {
		.cmd = LFQ_IOC_CREATE, .fn = lfq_ioc_create,
		.ksize = sizeof(struct lfq_create), .min_size = LFQ_CREATE_SIZE_VER0,
		.bind = LFQ_BIND_UNBOUND, .argk = LFQ_ARG_IN,
	},
	[_IOC_NR(LFQ_IOC_INFO)] = {
		.cmd = LFQ_IOC_INFO, .fn = lfq_ioc_info,
		.ksize = sizeof(struct lfq_info), .min_size = LFQ_INFO_SIZE_VER0,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_OUT,
	},
	[_IOC_NR(LFQ_IOC_WAIT)] = {
		.cmd = LFQ_IOC_WAIT, .fn = lfq_ioc_wait,
		.ksize = sizeof(struct lfq_wait), .min_size = LFQ_WAIT_SIZE_VER0,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_IN,
	},
	[_IOC_NR(LFQ_IOC_WAKE)] = {
		.cmd = LFQ_IOC_WAKE, .fn = lfq_ioc_wake,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_VALUE,
	},
	[_IOC_NR(LFQ_IOC_STATS)] = {
		.cmd = LFQ_IOC_STATS, .fn = lfq_ioc_stats,
		.ksize = sizeof(struct lfq_stats), .min_size = LFQ_STATS_SIZE_VER0,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_OUT,
	},
	[_IOC_NR(LFQ_IOC_SOURCE_ATTACH)] = {
		.cmd = LFQ_IOC_SOURCE_ATTACH, .fn = lfq_ioc_source_attach,
		.ksize = sizeof(struct lfq_source), .min_size = LFQ_SOURCE_SIZE_VER0,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_IN,
		.perfmon = true,
	},
	[_IOC_NR(LFQ_IOC_SOURCE_DETACH)] = {
		.cmd = LFQ_IOC_SOURCE_DETACH, .fn = lfq_ioc_source_detach,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_VALUE,
	},
	[_IOC_NR(LFQ_IOC_OPEN)] = {
		.cmd = LFQ_IOC_OPEN, .fn = lfq_ioc_open,
		.ksize = sizeof(struct lfq_open), .min_size = LFQ_OPEN_SIZE_VER0,
		.bind = LFQ_BIND_UNBOUND, .argk = LFQ_ARG_IN,
	},
	[_IOC_NR(LFQ_IOC_UNLINK)] = {
		.cmd = LFQ_IOC_UNLINK, .fn = lfq_ioc_unlink,
		.ksize = sizeof(struct lfq_unlink), .min_size = LFQ_UNLINK_SIZE_VER0,
		.bind = LFQ_BIND_ANY, .argk = LFQ_ARG_IN,
	},
	[_IOC_NR(LFQ_IOC_LIST)] = {
		.cmd = LFQ_IOC_LIST, .fn = lfq_ioc_list,
		.ksize = sizeof(struct lfq_list), .min_size = LFQ_LIST_SIZE_VER0,
		.bind = LFQ_BIND_ANY, .argk = LFQ_ARG_IN,
	},
	[_IOC_NR(LFQ_IOC_GROW)] = {
		.cmd = LFQ_IOC_GROW, .fn = lfq_ioc_grow,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_VALUE,
		.role = LFQ_ROLE_PRODUCER,
	},
	[_IOC_NR(LFQ_IOC_CLAIM)] = {
		.cmd = LFQ_IOC_CLAIM, .fn = lfq_ioc_claim,
		.ksize = sizeof(struct lfq_claim), .min_size = LFQ_CLAIM_SIZE_VER0,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_IN,
		/* The role the claim's kind needs: lfq_ioc_claim(). */
	},
	[_IOC_NR(LFQ_IOC_SNAPSHOT)] = {
		.cmd = LFQ_IOC_SNAPSHOT, .fn = lfq_ioc_snapshot,
		.ksize = sizeof(struct lfq_snapshot),
		.min_size = LFQ_SNAPSHOT_SIZE_VER0,
		.bind = LFQ_BIND_BOUND, .argk = LFQ_ARG_IN,
	},
};

/* Every argument struct, for the one buffer the dispatcher copies into. */
union lfq_ioc_karg {
	struct lfq_create create;
	struct lfq_info info;
	struct lfq_wait wait;
	struct lfq_stats stats;
	struct lfq_source source;
	struct lfq_open open;
	struct lfq_unlink unlink;
	struct lfq_list list;
	struct lfq_claim claim;
	struct lfq_snapshot snapshot;
};

/* The table entry of @cmd, or NULL for a command lfq does not have. */
static const struct lfq_ioc_desc *lfq_ioc_lookup(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != LFQ_IOC_MAGIC || nr >= ARRAY_SIZE(lfq_ioc_table))
		return NULL;
	if (!lfq_ioc_table[nr].fn || lfq_ioc_table[nr].cmd != cmd)
		return NULL;
	return &lfq_ioc_table[nr];
}

/**
 * lfq_ioctl() - the unlocked_ioctl of /dev/lfq files.
 * @file:	the file.
 * @cmd:	an LFQ_IOC_* command.
 * @arg:	its argument.
 *
 * Return: the handler's result, or an errno of the table's checks (see
 * the top of this file).
 */
long lfq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	const struct lfq_ioc_desc *d = lfq_ioc_lookup(cmd);
	union lfq_ioc_karg karg;
	struct lfq_ioc io = {
		.file	= file,
		.uarg	= (void __user *)arg,
		.arg	= arg,
		.karg	= &karg,
	};
	long ret;

	BUILD_BUG_ON(sizeof(karg) > 192);
	if (!d)
		return -ENOTTY;
	io.f = lfq_file_get(file);
	if (d->bind == LFQ_BIND_UNBOUND && io.f)
		return -EBUSY;
	if (d->bind == LFQ_BIND_BOUND && !io.f)
		return -EBADFD;
	/* Sources run kernel code for the caller; PROC sees every process. */
	if (d->perfmon && !perfmon_capable())
		return -EPERM;
	memset(&karg, 0, sizeof(karg));
	if (d->argk == LFQ_ARG_IN) {
		ret = lfq_copy_arg(&karg, d->ksize, d->min_size, io.uarg);
		if (ret)
			return ret;
	}
	if (d->role && (!io.f || (io.f->role & d->role) != d->role))
		return -EPERM;
	ret = d->fn(&io);
	if (ret || d->argk != LFQ_ARG_OUT)
		return ret;
	return lfq_copy_result(io.uarg, &karg, d->ksize, d->min_size);
}
