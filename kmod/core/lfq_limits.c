// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_limits.c - per-user limits on what queues pin: the bytes of every
 * queue a user created (its fixed pages, and an elastic queue's segments
 * as they are allocated), and the named queues a user owns, so that no
 * user can pin unbounded memory, or every name, through the module. Both
 * are module parameters (user_bytes_max, user_names_max); 0 means no
 * limit. A queue created by a caller with CAP_SYS_RESOURCE is counted but
 * not limited, as for RLIMIT_MSGQUEUE. Going past a limit is -EDQUOT at
 * creation; an elastic queue that may not grow further drops and counts.
 *
 * Counters are charged in process context only (creation, naming, the
 * workqueue that allocates segments), so a mutex guards the table; each
 * user's counters are atomics, read by the charge under the mutex.
 */
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>

#include "lfq_limits.h"

static unsigned long user_bytes_max = 1UL << 30;
module_param(user_bytes_max, ulong, 0644);
MODULE_PARM_DESC(user_bytes_max,
		 "bytes of queue memory one user may pin (0: no limit)");

static unsigned int user_names_max = 256;
module_param(user_names_max, uint, 0644);
MODULE_PARM_DESC(user_names_max,
		 "named queues one user may own (0: no limit)");

/**
 * struct lfq_user - what one user's queues pin.
 * @node:	link in lfq_users.
 * @uid:	the user.
 * @ref:	queues (and names) that point here.
 * @bytes:	bytes charged.
 * @names:	names owned.
 * @exempt:	not limited (CAP_SYS_RESOURCE at creation); per queue, so a
 *		struct per (uid, exempt) pair.
 */
struct lfq_user {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic64_t bytes;
	atomic_t names;
	bool exempt;
};

static DEFINE_MUTEX(lfq_users_lock);
static DEFINE_HASHTABLE(lfq_users, 6);	/* guarded by lfq_users_lock */

/**
 * lfq_user_get() - the counters of @uid, created at first use.
 * @uid:	the creator's fsuid.
 * @exempt:	counted but not limited.
 *
 * Context: process context.
 * Return: the counters (a reference taken), or NULL when out of memory.
 */
struct lfq_user *lfq_user_get(kuid_t uid, bool exempt)
{
	u32 key = __kuid_val(uid);
	struct lfq_user *u;

	mutex_lock(&lfq_users_lock);
	hash_for_each_possible(lfq_users, u, node, key)
		if (uid_eq(u->uid, uid) && u->exempt == exempt) {
			refcount_inc(&u->ref);
			goto out;
		}
	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (u) {
		u->uid = uid;
		u->exempt = exempt;
		refcount_set(&u->ref, 1);
		hash_add(lfq_users, &u->node, key);
	}
out:
	mutex_unlock(&lfq_users_lock);
	return u;
}

/**
 * lfq_user_put() - drop a reference from lfq_user_get().
 * @u:		the counters (may be NULL).
 */
void lfq_user_put(struct lfq_user *u)
{
	if (!u)
		return;
	mutex_lock(&lfq_users_lock);
	if (refcount_dec_and_test(&u->ref)) {
		WARN_ON(atomic64_read(&u->bytes) || atomic_read(&u->names));
		hash_del(&u->node);
		kfree(u);
	}
	mutex_unlock(&lfq_users_lock);
}

/**
 * lfq_user_charge() - count @bytes against @u's limit.
 * @u:		the counters.
 * @bytes:	bytes about to be pinned.
 *
 * Context: process context.
 * Return: 0, or -EDQUOT if the user would go past user_bytes_max.
 */
int lfq_user_charge(struct lfq_user *u, u64 bytes)
{
	u64 max = READ_ONCE(user_bytes_max);
	int err = 0;

	mutex_lock(&lfq_users_lock);
	if (!u->exempt && max && atomic64_read(&u->bytes) + bytes > max)
		err = -EDQUOT;
	else
		atomic64_add(bytes, &u->bytes);
	mutex_unlock(&lfq_users_lock);
	return err;
}

/**
 * lfq_user_uncharge() - the bytes are free again.
 * @u:		the counters.
 * @bytes:	what lfq_user_charge() took.
 */
void lfq_user_uncharge(struct lfq_user *u, u64 bytes)
{
	atomic64_sub(bytes, &u->bytes);
}

/**
 * lfq_user_name_get() - count a name against @u's limit.
 * @u:		the counters.
 *
 * Return: 0, or -EDQUOT past user_names_max.
 */
int lfq_user_name_get(struct lfq_user *u)
{
	unsigned int max = READ_ONCE(user_names_max);
	int err = 0;

	mutex_lock(&lfq_users_lock);
	if (!u->exempt && max && atomic_read(&u->names) >= max)
		err = -EDQUOT;
	else
		atomic_inc(&u->names);
	mutex_unlock(&lfq_users_lock);
	return err;
}

/**
 * lfq_user_name_put() - a name is gone.
 * @u:		the counters.
 */
void lfq_user_name_put(struct lfq_user *u)
{
	atomic_dec(&u->names);
}

/* Every queue is gone at module exit: the table must be empty. */
void lfq_limits_module_exit(void)
{
	WARN_ON(!hash_empty(lfq_users));
}
