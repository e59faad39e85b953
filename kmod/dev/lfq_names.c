// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_names.c - named queues, like POSIX IPC objects. LFQ_IOC_CREATE with a
 * name links the new queue into the name registry; LFQ_IOC_OPEN binds a
 * file to the queue of a name after checking the queue's owner, group and
 * mode; LFQ_IOC_UNLINK removes a name; LFQ_IOC_LIST reports the named
 * queues. A name, its owner and its mode are this file's: the queue
 * object (kmod/core) knows nothing of them.
 *
 * Lifetime: a name holds a reference on its queue, so a named queue lives
 * until it is unlinked and its last file and mapping are gone (shm_open()
 * and shm_unlink()). A name also holds a reference on the module: rmmod
 * is refused while names exist. A name leaves the registry before its
 * reference is dropped, so the registry never holds a dying queue.
 *
 * Locking: lfq_names_lock, a mutex, guards both indexes of the names (by
 * name, a hash table; by queue id, an xarray walked in id order by LIST
 * and the debugfs view) and every struct lfq_name. Names are looked up
 * only in process context, so lookups take the mutex too.
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

#include "core/lfq_limits.h"
#include "core/lfq_queue.h"
#include "lfq.h"
#include "lfq_file.h"
#include "lfq_ioctl.h"
#include "lfq_names.h"
#include "lfq_uarg.h"

static DEFINE_MUTEX(lfq_names_lock);
static DEFINE_HASHTABLE(lfq_names, 6);	/* guarded by lfq_names_lock */
static DEFINE_XARRAY(lfq_names_by_id);	/* guarded by lfq_names_lock */
static unsigned int lfq_names_count;	/* guarded by lfq_names_lock */

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

static struct lfq_name *lfq_name_lookup(const char *name)
{
	struct lfq_name *n;

	lockdep_assert_held(&lfq_names_lock);
	hash_for_each_possible(lfq_names, n, node, lfq_name_hash(name))
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

/*
 * Take @n out of the registry and free it; returns its queue, whose
 * reference (and the module's) the caller drops after unlocking:
 * lfq_queue_put(q) and module_put(THIS_MODULE).
 */
static struct lfq_queue *lfq_name_remove_locked(struct lfq_name *n)
{
	struct lfq_queue *q = n->q;

	lockdep_assert_held(&lfq_names_lock);
	hash_del(&n->node);
	xa_erase(&lfq_names_by_id, q->id);
	lfq_user_name_put(q->user);
	lfq_names_count--;
	kfree(n);
	return q;
}

/**
 * lfq_names_lock_all() - hold the name registry still (debugfs view).
 */
void lfq_names_lock_all(void)
{
	mutex_lock(&lfq_names_lock);
}

/**
 * lfq_names_unlock_all() - release it.
 */
void lfq_names_unlock_all(void)
{
	mutex_unlock(&lfq_names_lock);
}

/**
 * lfq_name_of() - the name of a queue, if it has one.
 * @id:		the queue's id.
 *
 * Context: lfq_names_lock_all() held; the result is valid until
 * lfq_names_unlock_all().
 * Return: the name, or NULL for an anonymous (or unlinked) queue.
 */
const struct lfq_name *lfq_name_of(u32 id)
{
	lockdep_assert_held(&lfq_names_lock);
	return xa_load(&lfq_names_by_id, id);
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
 * The name takes a reference on @q and one on the module, and counts
 * against the queue's user's names (core/lfq_limits.c).
 *
 * Return: 0, -EEXIST when the name is taken, -ENOSPC when LFQ_NAMED_MAX
 * names exist, -EDQUOT past the user's user_names_max.
 */
int lfq_name_link(struct lfq_queue *q, const char *name, u32 mode)
{
	struct lfq_name *n;
	int err = 0;

	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	memcpy(n->name, name, LFQ_NAME_MAX);
	n->q = q;
	n->uid = current_fsuid();
	n->gid = current_fsgid();
	n->mode = mode;
	mutex_lock(&lfq_names_lock);
	if (lfq_name_lookup(name))
		err = -EEXIST;
	else if (lfq_names_count >= LFQ_NAMED_MAX)
		err = -ENOSPC;
	else
		err = lfq_user_name_get(q->user);
	if (!err) {
		err = xa_err(xa_store(&lfq_names_by_id, q->id, n,
				      GFP_KERNEL_ACCOUNT));
		if (err)
			lfq_user_name_put(q->user);
	}
	if (!err) {
		lfq_queue_ref(q);
		/* Our caller's file pins the module, so this cannot race rmmod. */
		__module_get(THIS_MODULE);
		hash_add(lfq_names, &n->node, lfq_name_hash(n->name));
		lfq_names_count++;
	}
	mutex_unlock(&lfq_names_lock);
	if (err)
		kfree(n);
	return err;
}

/**
 * lfq_name_unlink_queue() - take a queue's name away again, if it still
 * has it (LFQ_IOC_CREATE could not bind the file after naming the queue).
 * @q:		the queue; the caller still holds its own reference.
 */
void lfq_name_unlink_queue(struct lfq_queue *q)
{
	struct lfq_name *n;
	bool removed = false;

	mutex_lock(&lfq_names_lock);
	n = xa_load(&lfq_names_by_id, q->id);
	if (n) {
		lfq_name_remove_locked(n);
		removed = true;
	}
	mutex_unlock(&lfq_names_lock);
	if (removed) {
		lfq_queue_put(q);
		module_put(THIS_MODULE);
	}
}

/*
 * May the caller attach to @n's queue in @role (LFQ_ROLE_*)? The mode is
 * read as a file's: the owner's bits when the fsuid owns the queue, else
 * the group's when the caller is in its group, else the others'.
 * Producers need a write bit, consumers a read bit; CAP_IPC_OWNER
 * overrides, as for System V IPC objects (ipcperms()).
 */
static bool lfq_name_permitted(const struct lfq_name *n, u32 role)
{
	unsigned int granted = n->mode, want = 0;

	lockdep_assert_held(&lfq_names_lock);
	if (role & LFQ_ROLE_PRODUCER)
		want |= 2;
	if (role & (LFQ_ROLE_CONSUMER | LFQ_ROLE_READER))
		want |= 4;
	if (uid_eq(current_fsuid(), n->uid))
		granted >>= 6;
	else if (in_group_p(n->gid))
		granted >>= 3;
	if (!(want & ~granted & 7))
		return true;
	/* Asked only when needed, so a permitted open logs no audit record. */
	return capable(CAP_IPC_OWNER);
}

/**
 * lfq_ioc_open() - LFQ_IOC_OPEN: bind an unbound file to a named queue.
 * @io:		the call; @io->karg is a struct lfq_open.
 *
 * Return: 0, or a negative errno (see struct lfq_open).
 */
long lfq_ioc_open(struct lfq_ioc *io)
{
	struct lfq_open *arg = io->karg;
	struct lfq_queue *q = NULL;
	struct lfq_name *n;
	int err;

	BUILD_BUG_ON(sizeof(*arg) != LFQ_OPEN_SIZE_VER0);
	if (arg->flags || arg->__reserved || !arg->role ||
	    ((arg->role & ~LFQ_ROLE_ALL) && arg->role != LFQ_ROLE_READER))
		return -EINVAL;
	err = lfq_name_check(arg->name, false);
	if (err)
		return err;

	mutex_lock(&lfq_names_lock);
	n = lfq_name_lookup(arg->name);
	if (!n) {
		err = -ENOENT;
	} else if (!lfq_name_permitted(n, arg->role)) {
		err = -EACCES;
	} else {
		q = n->q;
		lfq_queue_ref(q);	/* the name's reference keeps it above 0 */
	}
	mutex_unlock(&lfq_names_lock);
	if (err)
		return err;

	err = lfq_file_bind(io->file, q, arg->role);
	if (err)
		lfq_queue_put(q);
	return err;
}

/**
 * lfq_ioc_unlink() - LFQ_IOC_UNLINK: remove a name.
 * @io:		the call; @io->karg is a struct lfq_unlink.
 *
 * Return: 0, or a negative errno (see struct lfq_unlink).
 */
long lfq_ioc_unlink(struct lfq_ioc *io)
{
	struct lfq_unlink *arg = io->karg;
	struct lfq_queue *q = NULL;
	struct lfq_name *n;
	int err;

	BUILD_BUG_ON(sizeof(*arg) != LFQ_UNLINK_SIZE_VER0);
	if (arg->flags)
		return -EINVAL;
	err = lfq_name_check(arg->name, false);
	if (err)
		return err;

	mutex_lock(&lfq_names_lock);
	n = lfq_name_lookup(arg->name);
	if (!n)
		err = -ENOENT;
	else if (!uid_eq(current_fsuid(), n->uid) && !capable(CAP_FOWNER))
		err = -EPERM;
	else
		q = lfq_name_remove_locked(n);
	mutex_unlock(&lfq_names_lock);
	if (err)
		return err;

	/* The name's references; files and mappings may keep the queue. */
	lfq_queue_put(q);
	module_put(THIS_MODULE);
	return 0;
}

static void lfq_list_fill(struct lfq_list_entry *e, const struct lfq_name *n)
{
	struct user_namespace *ns = current_user_ns();
	struct lfq_queue *q = n->q;
	struct lfq_stats st;

	lockdep_assert_held(&lfq_names_lock);
	lfq_queue_stats(q, &st);
	*e = (struct lfq_list_entry) {
		.id		= q->id,
		.type		= q->hdr.type,
		.flags		= q->hdr.flags,
		.slot_size	= q->hdr.slot_size,
		.slot_count	= q->hdr.slot_count,
		.uid		= from_kuid_munged(ns, n->uid),
		.gid		= from_kgid_munged(ns, n->gid),
		.mode		= n->mode,
		.attached	= atomic_read(&q->files),
		.producers	= atomic_read(&q->producers),
		.consumers	= atomic_read(&q->consumers),
		.wake_mode	= q->hdr.wake_mode,
		.produced	= st.produced,
		.consumed	= st.consumed,
		.full_events	= st.full_events,
		.empty_events	= st.empty_events,
		.wakeups	= st.wakeups,
		.wake_calls	= st.wake_calls,
		.waits		= st.waits,
		.dropped	= st.dropped,
		.orphaned	= st.orphaned,
		.seg_min	= q->hdr.seg_min,
		.seg_max	= q->hdr.seg_max,
		.segments	= st.segments,
		.segments_peak	= st.segments_peak,
		.grows		= st.grows,
		.shrinks	= st.shrinks,
		.pool		= st.pool,
		.bytes		= st.bytes,
		.lost		= st.lost,
	};
	memcpy(e->name, n->name, LFQ_NAME_MAX);
}

/**
 * lfq_ioc_list() - LFQ_IOC_LIST: report the named queues.
 * @io:		the call; @io->karg is a struct lfq_list.
 *
 * Entries are gathered under the lock a chunk at a time and copied out
 * without it, so a faulting user buffer never holds up the registry.
 *
 * Return: 0, or a negative errno (see struct lfq_list).
 */
long lfq_ioc_list(struct lfq_ioc *io)
{
	struct lfq_list *arg = io->karg;
	struct lfq_list_entry *buf;
	u32 written = 0, total = 0, n, i;
	struct lfq_name *name = NULL;
	unsigned long id = 0;
	u8 __user *out;
	size_t esize;
	int err = 0;

	BUILD_BUG_ON(sizeof(*arg) != LFQ_LIST_SIZE_VER0);
	BUILD_BUG_ON(sizeof(*buf) != LFQ_LIST_ENTRY_SIZE_VER3);
	/* ->total is output only: a caller may pass back a previous answer. */
	if (arg->flags || arg->__reserved)
		return -EINVAL;
	if (arg->entry_size > LFQ_LIST_ENTRY_SIZE_MAX)
		return -E2BIG;
	if (arg->entry_size < LFQ_LIST_ENTRY_SIZE_VER0 || arg->entry_size % 8)
		return -EINVAL;
	esize = min_t(size_t, arg->entry_size, sizeof(*buf));
	out = u64_to_user_ptr(arg->entries);

	buf = kmalloc_array(LFQ_LIST_CHUNK, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	do {
		n = 0;
		mutex_lock(&lfq_names_lock);
		xa_for_each_start(&lfq_names_by_id, id, name, id) {
			total++;
			if (written + n < arg->count) {
				lfq_list_fill(&buf[n++], name);
				if (n == LFQ_LIST_CHUNK) {
					id++;
					break;
				}
			}
		}
		mutex_unlock(&lfq_names_lock);
		for (i = 0; i < n; i++, written++) {
			u8 __user *dst = out + (u64)written * arg->entry_size;

			if (copy_to_user(dst, &buf[i], esize) ||
			    clear_user(dst + esize, arg->entry_size - esize)) {
				err = -EFAULT;
				break;
			}
		}
	} while (name && !err);
	kfree(buf);
	if (err)
		return err;

	arg->entry_size = sizeof(*buf);
	arg->count = written;
	arg->total = total;
	return lfq_copy_result(io->uarg, arg, sizeof(*arg), LFQ_LIST_SIZE_VER0);
}
