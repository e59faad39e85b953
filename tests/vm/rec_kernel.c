// SPDX-License-Identifier: MIT
/*
 * rec_kernel.c - tests/host/rec_lib.c on /dev/lfq record queues in the
 * test VM: producer processes attached by fd, waits and wakeups through
 * the module, and producers killed holding records (the kernel's
 * recovery walk, kmod/core/lfq_claims.c).
 */
#define LFQ_KERNEL_QUEUE
#include "../host/rec_lib.c"
