// SPDX-License-Identifier: MIT
/*
 * no_syscalls_kernel.c - tests/host/no_syscalls.c on a /dev/lfq queue in
 * the test VM: the same proof that the steady-state loop makes no system
 * call, against the module's mapping. Static libc: allocations uncounted.
 */
#define LFQ_KERNEL_QUEUE
#define LFQ_STATIC_LIBC
#include "../host/no_syscalls.c"
