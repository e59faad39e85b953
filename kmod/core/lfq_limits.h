/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_limits.h - per-user limits on what queues may pin (lfq_limits.c):
 * bytes of queue memory, fixed and elastic, and named queues, both module
 * parameters.
 */
#ifndef _LFQ_CORE_LIMITS_H
#define _LFQ_CORE_LIMITS_H

#include <linux/types.h>
#include <linux/uidgid.h>

struct lfq_user;

struct lfq_user *lfq_user_get(kuid_t uid, bool exempt);
void lfq_user_put(struct lfq_user *u);
int lfq_user_charge(struct lfq_user *u, u64 bytes);
void lfq_user_uncharge(struct lfq_user *u, u64 bytes);
int lfq_user_name_get(struct lfq_user *u);
void lfq_user_name_put(struct lfq_user *u);

void lfq_limits_module_exit(void);

#endif /* _LFQ_CORE_LIMITS_H */
