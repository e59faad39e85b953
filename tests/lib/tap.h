/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the Test Anything Protocol output every lfq test program prints
 * (host and VM alike), so tests/run-tap.sh and the VM runner count them
 * the same way. Header-only; one program, one plan.
 */
#ifndef LFQ_TEST_TAP_H
#define LFQ_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

/* Report one test; returns @cond so callers can stop on failure. */
__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - # SKIP ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Exit status of the program: non-zero if anything failed. */
static inline int tap_done(void)
{
	return tap_failed ? 1 : 0;
}

#endif /* LFQ_TEST_TAP_H */
