// SPDX-License-Identifier: MIT
/*
 * space_liar_kernel.c - tests/host/space_liar.c on a /dev/lfq queue in
 * the test VM: a producer blocked in LFQ_IOC_WAIT sleeps while the
 * consumer's forged tail frees nothing.
 */
#define LFQ_KERNEL_QUEUE
#include "../host/space_liar.c"
