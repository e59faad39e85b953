// SPDX-License-Identifier: MIT
/*
 * wake_threshold_kernel.c - tests/host/wake_threshold_mt.c on /dev/lfq
 * queues in the test VM: the waits are the module's LFQ_IOC_WAIT, armed
 * with the count, and the module counts one sleep and one wakeup per
 * wait, not one per slot.
 */
#define LFQ_KERNEL_QUEUE
#include "../host/wake_threshold_mt.c"
