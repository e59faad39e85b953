// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_uarg.c - the ioctl argument convention of uapi/lfq.h: every struct
 * starts with its size as the caller knows it; the kernel reads it with
 * copy_struct_from_user() semantics (a smaller struct is zero-extended, a
 * larger one is accepted only if the bytes this kernel does not know are
 * zero) and writes results back up to the caller's size.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "lfq_uarg.h"

/**
 * lfq_copy_arg() - read a size-tagged argument struct.
 * @dst:	kernel copy, @ksize bytes.
 * @ksize:	the size this kernel knows.
 * @min_size:	the struct's first version: a smaller size is -EINVAL.
 * @uarg:	the user pointer.
 *
 * Return: 0, -EFAULT, -EINVAL, or -E2BIG for a size above PAGE_SIZE or
 * non-zero bytes this kernel does not know.
 */
int lfq_copy_arg(void *dst, size_t ksize, size_t min_size,
		 void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

/**
 * lfq_copy_result() - write an output struct back: as many bytes as the
 * caller can take, with ->size (the first u32) telling how many the
 * kernel knows.
 * @uarg:	the user pointer; its ->size says what the caller can take.
 * @src:	kernel copy, @ksize bytes; its first u32 is overwritten.
 * @ksize:	the size this kernel knows.
 * @min_size:	the struct's first version: a smaller size is -EINVAL.
 *
 * Return: 0, -EFAULT or -EINVAL.
 */
int lfq_copy_result(void __user *uarg, void *src, u32 ksize, size_t min_size)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	*(u32 *)src = ksize;
	if (copy_to_user(uarg, src, min_t(u32, usize, ksize)))
		return -EFAULT;
	return 0;
}
