// SPDX-License-Identifier: MIT
/*
 * rec_elastic_kernel.c - tests/host/rec_elastic_mt.c on /dev/lfq elastic
 * record queues in the test VM: named queues, every producer thread a
 * file of its own, growth through LFQ_IOC_GROW, retirement and reclaim
 * by the module (RCU, seg_idle_ms), waits and wakeups through it.
 */
#define LFQ_KERNEL_QUEUE
#include "../host/rec_elastic_mt.c"
