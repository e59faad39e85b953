// SPDX-License-Identifier: MIT
/*
 * rec_ow_kernel.c - tests/host/rec_ow_lib.c on /dev/lfq record queues in
 * overwrite mode in the test VM: producer processes by name, a consumer
 * killed holding records, producers dying in an overwrite (the kernel
 * finishes it: kmod/core/lfq_rec_ow.c), and a reader's LFQ_IOC_SNAPSHOT.
 */
#define LFQ_KERNEL_QUEUE
#include "../host/rec_ow_lib.c"
