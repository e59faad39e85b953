// SPDX-License-Identifier: MIT
/*
 * mpmc_kernel.c - tests/host/mpmc_lib_mt.c on a named /dev/lfq MPMC queue
 * in the test VM: producer and consumer files of their own, opened by
 * name in their roles, waits and wakeups through the module, and a
 * consumer killed holding a claim.
 */
#define LFQ_KERNEL_QUEUE
#include "../host/mpmc_lib_mt.c"
