// SPDX-License-Identifier: MIT
/*
 * mpmc_rec_kernel.c - tests/host/mpmc_lib_mt.c on a named /dev/lfq MPMC
 * record queue in the test VM: producer and consumer files of their own,
 * waits and wakeups through the module, a consumer killed holding a
 * record (released for it and counted lost), and the kill storm of
 * consumers.
 */
#define LFQ_KERNEL_QUEUE
#define LFQ_RECORDS
#include "../host/mpmc_lib_mt.c"
