// SPDX-License-Identifier: MIT
/*
 * mpmc_rec_lib_mt.c - tests/host/mpmc_lib_mt.c on MPMC record queues
 * (LFQ_CREATE_RECORDS, kmod/proto/lfq_rec_mpmc.h): records of 32 to 88
 * bytes through liblfq's record calls, threads and processes on memfd
 * queues, each delivered exactly once, whole and in order per producer;
 * a held record keeps its bytes; discards skipped; the geometry rules.
 */
#define LFQ_RECORDS
#include "mpmc_lib_mt.c"
