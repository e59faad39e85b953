// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_names.c - named queues, like POSIX IPC objects. LFQ_IOC_CREATE with a
 * name links the new queue into the name registry; LFQ_IOC_OPEN binds a
 * file to the queue of a name after checking the queue's owner, group and
 * mode; LFQ_IOC_UNLINK removes a name; LFQ_IOC_LIST reports the named
 * queues; /sys/kernel/debug/lfq/queues shows every queue.
 *
 * Lifetime: a name holds a reference on its queue, so a named queue lives
 * until it is unlinked and its last file and mapping are gone (shm_open()
 * and shm_unlink()). A name also holds a reference on the module: rmmod
 * is refused while names exist. A name leaves the registry before its
 * reference is dropped, so the registry never holds a dying queue.
 *
 * Locking: lfq_names_lock, a mutex, guards the hash table, the count, each
 * queue's @named and owner fields, and the registry's named marks. Names
 * are looked up only by ioctls, in process context, so lookups take the
 * mutex too. The debugfs view also shows anonymous queues: it walks the id
 * registry under RCU, as lfq_queue_get() does (queues are freed one grace
 * period after they leave it).
 *
 * Names are global, not per IPC namespace (a module cannot hook namespace
 * teardown), like /dev/shm without mount namespaces. Owners are kuids,
 * reported in the reader's user namespace, and the capability overrides
 * are checked in the initial user namespace, so the root of a user
 * namespace is an ordinary user here.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "lfq.h"
#include "lfq_dev.h"
#include "lfq_names.h"

static DEFINE_MUTEX(lfq_names_lock);
static DEFINE_HASHTABLE(lfq_names, 6);	/* guarded by lfq_names_lock */
static unsigned int lfq_names_count;	/* guarded by lfq_names_lock */
static struct dentry *lfq_debugfs_dir;

/* LFQ_IOC_LIST gathers this many entries under the lock per copy-out. */
#define LFQ_LIST_CHUNK		16
#define LFQ_LIST_ENTRY_SIZE_MAX	4096u

/* [A-Za-z0-9._-], in ASCII whatever the kernel's ctype thinks of Latin-1. */
static bool lfq_name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/*
 * Check a LFQ_NAME_MAX-byte name array: 0 for a valid name (or, when
 * @empty_ok, for an all-zero array), -ENAMETOOLONG when it holds no NUL,
 * -EINVAL otherwise.
 */
static int lfq_name_check(const char *name, bool empty_ok)
{
	size_t len = strnlen(name, LFQ_NAME_MAX), i;

	if (len == LFQ_NAME_MAX)
		return -ENAMETOOLONG;
	/* Zero after the NUL: the array has one meaning, and room to grow. */
	for (i = len + 1; i < LFQ_NAME_MAX; i++)
		if (name[i])
			return -EINVAL;
	if (!len)
		return empty_ok ? 0 : -EINVAL;
	if (name[0] == '.')
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!lfq_name_char_ok(name[i]))
			return -EINVAL;
	return 0;
}

static u32 lfq_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct lfq_queue *lfq_name_lookup(const char *name)
{
	struct lfq_queue *q;

	lockdep_assert_held(&lfq_names_lock);
	hash_for_each_possible(lfq_names, q, name_node, lfq_name_hash(name))
		if (!strcmp(q->name, name))
			return q;
	return NULL;
}

/*
 * Take @q's name out of the registry. The caller then drops the name's
 * references: lfq_queue_put(q) and module_put(THIS_MODULE), after
 * unlocking.
 */
static void lfq_name_remove_locked(struct lfq_queue *q)
{
	lockdep_assert_held(&lfq_names_lock);
	hash_del(&q->name_node);
	lfq_names_count--;
	q->named = false;
	lfq_queue_mark_named(q, false);
}

/**
 * lfq_name_check_create() - validate LFQ_IOC_CREATE's name and mode.
 * @name:	the LFQ_NAME_MAX-byte array; all zero for an anonymous queue.
 * @mode:	permission bits; 0 for an anonymous queue.
 * @named:	out: whether a name was given.
 *
 * Fails early, before a queue is allocated, when the name is taken; the
 * authoritative check is lfq_name_link()'s.
 *
 * Return: 0, -EINVAL, -ENAMETOOLONG or -EEXIST.
 */
int lfq_name_check_create(const char *name, u32 mode, bool *named)
{
	int err = lfq_name_check(name, true);

	if (err)
		return err;
	*named = name[0] != '\0';
	if ((mode & ~LFQ_MODE_MASK) || (!*named && mode))
		return -EINVAL;
	if (!*named)
		return 0;
	mutex_lock(&lfq_names_lock);
	if (lfq_name_lookup(name))
		err = -EEXIST;
	mutex_unlock(&lfq_names_lock);
	return err;
}

/**
 * lfq_name_link() - give a new queue a name, owned by the caller.
 * @q:		the queue, not yet bound to any file.
 * @name:	a name lfq_name_check_create() accepted.
 * @mode:	its permission bits.
 *
 * The name takes a reference on @q and one on the module.
 *
 * Return: 0, -EEXIST when the name is taken, -ENOSPC when LFQ_NAMED_MAX
 * names exist.
 */
int lfq_name_link(struct lfq_queue *q, const char *name, u32 mode)
{
	int err = 0;

	mutex_lock(&lfq_names_lock);
	if (lfq_name_lookup(name)) {
		err = -EEXIST;
	} else if (lfq_names_count >= LFQ_NAMED_MAX) {
		err = -ENOSPC;
	} else {
		memcpy(q->name, name, LFQ_NAME_MAX);
		q->uid = current_fsuid();
		q->gid = current_fsgid();
		q->mode = mode;
		kref_get(&q->ref);
		/* Our caller's file pins the module, so this cannot race rmmod. */
		__module_get(THIS_MODULE);
		hash_add(lfq_names, &q->name_node, lfq_name_hash(q->name));
		lfq_names_count++;
		q->named = true;
		lfq_queue_mark_named(q, true);
	}
	mutex_unlock(&lfq_names_lock);
	return err;
}

/**
 * lfq_name_unlink_queue() - take a queue's name away again, if it still
 * has it (LFQ_IOC_CREATE could not bind the file after naming the queue).
 * @q:		the queue; the caller still holds its own reference.
 */
void lfq_name_unlink_queue(struct lfq_queue *q)
{
	bool removed = false;

	mutex_lock(&lfq_names_lock);
	if (q->named) {
		lfq_name_remove_locked(q);
		removed = true;
	}
	mutex_unlock(&lfq_names_lock);
	if (removed) {
		lfq_queue_put(q);
		module_put(THIS_MODULE);
	}
}

/*
 * May the caller attach to @q in @role (LFQ_ROLE_*)? The mode is read as
 * a file's: the owner's bits when the fsuid owns the queue, else the
 * group's when the caller is in its group, else the others'. Producers
 * need a write bit, consumers a read bit; CAP_IPC_OWNER overrides, as for
 * System V IPC objects (ipcperms()).
 */
static bool lfq_name_permitted(const struct lfq_queue *q, u32 role)
{
	unsigned int granted = q->mode, want = 0;

	lockdep_assert_held(&lfq_names_lock);
	if (role & LFQ_ROLE_PRODUCER)
		want |= 2;
	if (role & LFQ_ROLE_CONSUMER)
		want |= 4;
	if (uid_eq(current_fsuid(), q->uid))
		granted >>= 6;
	else if (in_group_p(q->gid))
		granted >>= 3;
	if (!(want & ~granted & 7))
		return true;
	/* Asked only when needed, so a permitted open logs no audit record. */
	return capable(CAP_IPC_OWNER);
}

/**
 * lfq_ioctl_open() - LFQ_IOC_OPEN: bind an unbound file to a named queue.
 * @file:	the /dev/lfq file.
 * @uarg:	struct lfq_open.
 *
 * Return: 0, or a negative errno (see struct lfq_open).
 */
long lfq_ioctl_open(struct file *file, void __user *uarg)
{
	struct lfq_queue *q;
	struct lfq_open arg;
	int err;

	BUILD_BUG_ON(sizeof(arg) != LFQ_OPEN_SIZE_VER0);
	if (lfq_file_queue(file))
		return -EBUSY;
	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_OPEN_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.flags || arg.__reserved || !arg.role ||
	    (arg.role & ~LFQ_ROLE_ALL))
		return -EINVAL;
	err = lfq_name_check(arg.name, false);
	if (err)
		return err;

	mutex_lock(&lfq_names_lock);
	q = lfq_name_lookup(arg.name);
	if (!q)
		err = -ENOENT;
	else if (!lfq_name_permitted(q, arg.role))
		err = -EACCES;
	else
		kref_get(&q->ref);	/* the name's reference keeps it above 0 */
	mutex_unlock(&lfq_names_lock);
	if (err)
		return err;

	err = lfq_file_bind(file, q, arg.role);
	if (err)
		lfq_queue_put(q);
	return err;
}

/**
 * lfq_ioctl_unlink() - LFQ_IOC_UNLINK: remove a name.
 * @uarg:	struct lfq_unlink.
 *
 * Return: 0, or a negative errno (see struct lfq_unlink).
 */
long lfq_ioctl_unlink(void __user *uarg)
{
	struct lfq_unlink arg;
	struct lfq_queue *q;
	int err;

	BUILD_BUG_ON(sizeof(arg) != LFQ_UNLINK_SIZE_VER0);
	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_UNLINK_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.flags)
		return -EINVAL;
	err = lfq_name_check(arg.name, false);
	if (err)
		return err;

	mutex_lock(&lfq_names_lock);
	q = lfq_name_lookup(arg.name);
	if (!q)
		err = -ENOENT;
	else if (!uid_eq(current_fsuid(), q->uid) && !capable(CAP_FOWNER))
		err = -EPERM;
	else
		lfq_name_remove_locked(q);
	mutex_unlock(&lfq_names_lock);
	if (err)
		return err;

	/* The name's references; files and mappings may keep the queue. */
	lfq_queue_put(q);
	module_put(THIS_MODULE);
	return 0;
}

static void lfq_list_fill(struct lfq_list_entry *e, struct lfq_queue *q)
{
	struct user_namespace *ns = current_user_ns();
	struct lfq_stats st;

	lockdep_assert_held(&lfq_names_lock);
	lfq_stats_read(q, &st);
	*e = (struct lfq_list_entry) {
		.id		= q->id,
		.type		= q->hdr.type,
		.flags		= q->hdr.flags,
		.slot_size	= q->hdr.slot_size,
		.slot_count	= q->hdr.slot_count,
		.uid		= from_kuid_munged(ns, q->uid),
		.gid		= from_kgid_munged(ns, q->gid),
		.mode		= q->mode,
		.attached	= atomic_read(&q->files),
		.producers	= atomic_read(&q->producers),
		.consumers	= atomic_read(&q->consumers),
		.produced	= st.produced,
		.consumed	= st.consumed,
		.full_events	= st.full_events,
		.empty_events	= st.empty_events,
		.wakeups	= st.wakeups,
		.wake_calls	= st.wake_calls,
		.waits		= st.waits,
		.dropped	= st.dropped,
		.orphaned	= st.orphaned,
	};
	memcpy(e->name, q->name, LFQ_NAME_MAX);
}

/**
 * lfq_ioctl_list() - LFQ_IOC_LIST: report the named queues.
 * @uarg:	struct lfq_list.
 *
 * Entries are gathered under the lock a chunk at a time and copied out
 * without it, so a faulting user buffer never holds up the registry.
 *
 * Return: 0, or a negative errno (see struct lfq_list).
 */
long lfq_ioctl_list(void __user *uarg)
{
	struct lfq_list_entry *buf;
	u32 written = 0, total = 0, n, i;
	struct lfq_queue *q = NULL;
	unsigned long id = 0;
	struct lfq_list arg;
	u8 __user *out;
	size_t esize;
	int err;

	BUILD_BUG_ON(sizeof(arg) != LFQ_LIST_SIZE_VER0);
	BUILD_BUG_ON(sizeof(*buf) != LFQ_LIST_ENTRY_SIZE_VER1);
	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_LIST_SIZE_VER0, uarg);
	if (err)
		return err;
	/* ->total is output only: a caller may pass back a previous answer. */
	if (arg.flags || arg.__reserved)
		return -EINVAL;
	if (arg.entry_size > LFQ_LIST_ENTRY_SIZE_MAX)
		return -E2BIG;
	if (arg.entry_size < LFQ_LIST_ENTRY_SIZE_VER0 || arg.entry_size % 8)
		return -EINVAL;
	esize = min_t(size_t, arg.entry_size, sizeof(*buf));
	out = u64_to_user_ptr(arg.entries);

	buf = kmalloc_array(LFQ_LIST_CHUNK, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	do {
		n = 0;
		mutex_lock(&lfq_names_lock);
		while ((q = lfq_queue_find(&id, true))) {
			id++;
			total++;
			if (written + n < arg.count) {
				lfq_list_fill(&buf[n++], q);
				if (n == LFQ_LIST_CHUNK)
					break;
			}
		}
		mutex_unlock(&lfq_names_lock);
		for (i = 0; i < n; i++, written++) {
			u8 __user *dst = out + (u64)written * arg.entry_size;

			if (copy_to_user(dst, &buf[i], esize) ||
			    clear_user(dst + esize, arg.entry_size - esize)) {
				err = -EFAULT;
				break;
			}
		}
	} while (q && !err);
	kfree(buf);
	if (err)
		return err;

	arg.entry_size = sizeof(*buf);
	arg.count = written;
	arg.total = total;
	return lfq_copy_result(uarg, &arg, sizeof(arg), LFQ_LIST_SIZE_VER0);
}

static const char *lfq_type_name(u32 type)
{
	return type == LFQ_TYPE_MPSC ? "mpsc" : "spsc";
}

/* /sys/kernel/debug/lfq/queues: every queue, one line each, by id. */
static int lfq_queues_show(struct seq_file *m, void *v)
{
	struct user_namespace *ns = seq_user_ns(m);
	struct lfq_queue *q;
	struct lfq_stats st;
	unsigned long id;

	seq_printf(m, "%-8s %-31s %-4s %9s %10s %5s %10s %10s %4s %5s %20s %20s %20s %20s\n",
		   "id", "name", "type", "slot_size", "slot_count", "flags",
		   "uid", "gid", "mode", "files", "produced", "consumed",
		   "dropped", "orphaned");
	mutex_lock(&lfq_names_lock);	/* keeps names and owners still */
	rcu_read_lock();		/* keeps anonymous queues allocated */
	for (id = 0; (q = lfq_queue_find(&id, false)); id++) {
		lfq_stats_read(q, &st);
		seq_printf(m, "%-8u %-31s %-4s %9u %10u %5x ", q->id,
			   q->named ? q->name : "-", lfq_type_name(q->hdr.type),
			   q->hdr.slot_size, q->hdr.slot_count, q->hdr.flags);
		if (q->named)
			seq_printf(m, "%10u %10u %04o ",
				   from_kuid_munged(ns, q->uid),
				   from_kgid_munged(ns, q->gid), q->mode);
		else
			seq_printf(m, "%10s %10s %4s ", "-", "-", "-");
		seq_printf(m, "%5d %20llu %20llu %20llu %20llu\n",
			   atomic_read(&q->files), st.produced, st.consumed,
			   st.dropped, st.orphaned);
	}
	rcu_read_unlock();
	mutex_unlock(&lfq_names_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lfq_queues);

/* debugfs is optional: failures leave the module working without it. */
void lfq_names_debugfs_init(void)
{
	lfq_debugfs_dir = debugfs_create_dir("lfq", NULL);
	debugfs_create_file("queues", 0444, lfq_debugfs_dir, NULL,
			    &lfq_queues_fops);
}

void lfq_names_debugfs_exit(void)
{
	debugfs_remove_recursive(lfq_debugfs_dir);
}
