// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_debugfs.c - /sys/kernel/debug/lfq/queues: every queue, named or
 * anonymous, one line each in id order: its name, geometry, owner, files
 * and counters, an elastic queue's segments (live/max) and every queue's
 * bytes (no kernel addresses). Anonymous queues are reached through
 * the core registry under RCU, as lfq_queue_get() does.
 */
#include <linux/debugfs.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/user_namespace.h>

#include "core/lfq_queue.h"
#include "lfq_debugfs.h"
#include "lfq_names.h"

static struct dentry *lfq_debugfs_dir;

static const char *lfq_type_name(u32 type)
{
	return type == LFQ_TYPE_MPSC ? "mpsc" :
	       type == LFQ_TYPE_MPMC ? "mpmc" : "spsc";
}

static int lfq_queues_show(struct seq_file *m, void *v)
{
	struct user_namespace *ns = seq_user_ns(m);
	const struct lfq_name *n;
	struct lfq_queue *q;
	struct lfq_stats st;
	unsigned long id;

	seq_printf(m, "%-8s %-31s %-4s %9s %10s %5s %10s %10s %4s %5s %20s %20s %20s %20s %20s %9s %12s\n",
		   "id", "name", "type", "slot_size", "slot_count", "flags",
		   "uid", "gid", "mode", "files", "produced", "consumed",
		   "dropped", "orphaned", "lost", "segments", "bytes");
	lfq_names_lock_all();	/* keeps names and owners still */
	rcu_read_lock();	/* ORDERING registry: queues stay allocated */
	for (id = 0; (q = lfq_queue_find(&id)); id++) {
		n = lfq_name_of(q->id);
		lfq_queue_stats(q, &st);
		seq_printf(m, "%-8u %-31s %-4s %9u %10u %5x ", q->id,
			   n ? n->name : "-", lfq_type_name(q->hdr.type),
			   q->hdr.slot_size, q->hdr.slot_count, q->hdr.flags);
		if (n)
			seq_printf(m, "%10u %10u %04o ",
				   from_kuid_munged(ns, n->uid),
				   from_kgid_munged(ns, n->gid), n->mode);
		else
			seq_printf(m, "%10s %10s %4s ", "-", "-", "-");
		seq_printf(m, "%5d %20llu %20llu %20llu %20llu %20llu %4llu/%-4u %12llu\n",
			   atomic_read(&q->files), st.produced, st.consumed,
			   st.dropped, st.orphaned, st.lost, st.segments,
			   q->hdr.seg_max ?: 1, st.bytes);
	}
	rcu_read_unlock();
	lfq_names_unlock_all();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lfq_queues);

/* debugfs is optional: failures leave the module working without it. */
void lfq_debugfs_init(void)
{
	lfq_debugfs_dir = debugfs_create_dir("lfq", NULL);
	debugfs_create_file("queues", 0444, lfq_debugfs_dir, NULL,
			    &lfq_queues_fops);
}

void lfq_debugfs_exit(void)
{
	debugfs_remove_recursive(lfq_debugfs_dir);
}
