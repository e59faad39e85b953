/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_file.h - what binds an open /dev/lfq file to its queue (lfq_file.c):
 * the queue, the role the file was admitted in and the claims it holds.
 */
#ifndef _LFQ_DEV_FILE_H
#define _LFQ_DEV_FILE_H

#include <linux/bitmap.h>
#include <linux/fs.h>
#include <linux/types.h>

#include "lfq_ring.h"

struct lfq_queue;

/**
 * struct lfq_file - a /dev/lfq file's binding, set once.
 * @q:		the queue; the file holds a reference on it.
 * @role:	LFQ_ROLE_* the file was admitted with (lfq_queue_admit()).
 * @claims:	MPSC claims the file registered (under the queue's claims
 *		lock; see core/lfq_claims.c).
 *
 * file->private_data is NULL while the file is unbound, then points to
 * its binding until the file is released.
 */
struct lfq_file {
	struct lfq_queue *q;
	u32 role;
	DECLARE_BITMAP(claims, LFQ_MPSC_CLAIMS);
	DECLARE_BITMAP(cclaims, LFQ_MPMC_CLAIMS);
};

/* A file's binding, or NULL while the file is unbound. */
static inline struct lfq_file *lfq_file_get(struct file *file)
{
	/* ORDERING file-bind. */
	return smp_load_acquire(&file->private_data);
}

struct lfq_file *lfq_file_new(struct lfq_queue *q, u32 role);
int lfq_file_publish(struct file *file, struct lfq_file *f);
int lfq_file_bind(struct file *file, struct lfq_queue *q, u32 role);
void lfq_file_release(struct file *file);

#endif /* _LFQ_DEV_FILE_H */
