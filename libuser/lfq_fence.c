// SPDX-License-Identifier: MIT
/*
 * lfq_fence.c - the heavy half of the asymmetric wakeup handshake for
 * processes (LFQ_WAKE_ASYMMETRIC on memfd queues; kmod/proto/lfq_rules.h,
 * ORDERING wake-asym): membarrier(2). A process registers once for
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED before its publishers may use the light
 * half; a sleeper then makes every running thread of every registered
 * process execute a full barrier between arming its flag and re-checking.
 * The /dev/lfq queues need none of this: their sleepers are in the kernel,
 * which sends its own IPIs (kmod/core/lfq_wait.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lfq_handle.h"

static pthread_once_t lfq_fence_once = PTHREAD_ONCE_INIT;
static int lfq_fence_ok;

static long lfq_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

static void lfq_fence_init(void)
{
	long cmds = lfq_membarrier(MEMBARRIER_CMD_QUERY);
	long need = MEMBARRIER_CMD_GLOBAL_EXPEDITED |
		    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;

	lfq_fence_ok = cmds >= 0 && (cmds & need) == need &&
		       !lfq_membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
}

/**
 * lfq_fence_register() - register this process for the heavy fence, once.
 *
 * Return: 1 if its publishers may use the light half (it is registered,
 * so every sleeper's heavy fence reaches its threads), 0 if they must
 * keep the full barrier.
 */
int lfq_fence_register(void)
{
	pthread_once(&lfq_fence_once, lfq_fence_init);
	return lfq_fence_ok;
}

/**
 * lfq_fence_heavy() - the sleeper's heavy fence: every running thread of
 * every registered process executes a full barrier before this returns.
 *
 * ORDERING wake-asym: pairs with the publishers' compiler barrier
 * (lfq_wake_flag(), lfq_publish_index() with @light).
 *
 * Return: 0, or a negative errno (the caller must not sleep for long).
 */
int lfq_fence_heavy(void)
{
	return lfq_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) ? -errno : 0;
}
