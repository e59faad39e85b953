// SPDX-License-Identifier: MIT
/*
 * mpsc_kernel.c - tests/host/mpsc_lib.c on a /dev/lfq MPSC queue in the
 * test VM: producer processes attached by fd, waits and wakeups through
 * the module.
 */
#define LFQ_KERNEL_QUEUE
#include "../host/mpsc_lib.c"
