/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_names.h - named queues (lfq_names.c): the name registry, what
 * LFQ_IOC_CREATE needs to name a new queue, and what the debugfs view
 * reads. OPEN, UNLINK and LIST are ioctl handlers (lfq_ioctl.h).
 */
#ifndef _LFQ_DEV_NAMES_H
#define _LFQ_DEV_NAMES_H

#include <linux/types.h>
#include <linux/uidgid.h>

#include "lfq.h"

struct lfq_queue;

/**
 * struct lfq_name - one name in the registry; it holds a reference on its
 * queue and one on the module.
 * @node:	link in the registry's hash table.
 * @q:		the queue.
 * @name:	the name, NUL-terminated and zero-padded.
 * @uid:	owner (the creator's fsuid).
 * @gid:	group (the creator's fsgid).
 * @mode:	permission bits.
 */
struct lfq_name {
	struct hlist_node node;
	struct lfq_queue *q;
	char name[LFQ_NAME_MAX];
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
};

int lfq_name_check_create(const char *name, u32 mode, bool *named);
int lfq_name_link(struct lfq_queue *q, const char *name, u32 mode);
void lfq_name_unlink_queue(struct lfq_queue *q);

void lfq_names_lock_all(void);
void lfq_names_unlock_all(void);
const struct lfq_name *lfq_name_of(u32 id);

#endif /* _LFQ_DEV_NAMES_H */
