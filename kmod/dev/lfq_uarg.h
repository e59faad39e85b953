/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_uarg.h - copying the ioctl argument structs in and out with
 * copy_struct_from_user() semantics (lfq_uarg.c). A leaf: it knows
 * nothing of queues.
 */
#ifndef _LFQ_DEV_UARG_H
#define _LFQ_DEV_UARG_H

#include <linux/compiler_types.h>
#include <linux/types.h>

int lfq_copy_arg(void *dst, size_t ksize, size_t min_size, void __user *uarg);
int lfq_copy_result(void __user *uarg, void *src, u32 ksize, size_t min_size);

#endif /* _LFQ_DEV_UARG_H */
