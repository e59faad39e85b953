// SPDX-License-Identifier: MIT
/*
 * abi_so.c - liblfq.so's ABI as a program built against an older liblfq
 * meets it: loaded with dlopen(), every symbol of every version node in
 * libuser/liblfq.map found by dlvsym(), the unversioned name bound to the
 * newest node, and the compat versions behaving as their era's structs
 * need (lfq_get_stats@LIBLFQ_0.2 and @LIBLFQ_0.5 write only the bytes
 * their struct lfq_stats had; lfq_inline_producer/consumer@LIBLFQ_0.3
 * only the 24 bytes of their views).
 *
 * The other host tests link liblfq.a, where a program's reference binds
 * to the default version; only the .so's version script decides what an
 * old binary finds. The Makefile passes the .so's and the map's paths.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "liblfq.h"
#include "lfq_inline.h"
#include "tap.h"

#ifndef LIBLFQ_SO
#error "the Makefile defines LIBLFQ_SO and LIBLFQ_MAP"
#endif

#define SYMS_MAX	128
/* A 0.3 view: the fields before the flag 0.7 added (24 bytes). */
#define VIEW_VER3	offsetof(struct lfq_inline_prod, flag)
_Static_assert(offsetof(struct lfq_inline_cons, flag) == VIEW_VER3,
	       "both 0.3 views end where the flag begins");

/* One "global:" name of the map, with the node that lists it. */
struct map_sym {
	char name[64];
	char node[64];
};

static struct map_sym syms[SYMS_MAX];
static unsigned int nsyms;
static char newest[64];

/* @line with its comments taken out; @comment: inside one, across lines. */
static void strip_comments(char *line, int *comment)
{
	char *out = line, *in = line;

	while (*in) {
		if (*comment) {
			char *end = strstr(in, "*/");

			if (!end)
				break;
			*comment = 0;
			in = end + 2;
		} else if (in[0] == '/' && in[1] == '*') {
			*comment = 1;
			in += 2;
		} else {
			*out++ = *in++;
		}
	}
	*out = 0;
}

/*
 * The map's nodes and their global names: "NODE {", "global:", names
 * ending in ';', "local:", "} PARENT;". Anything else in a node's global
 * list, or more names than syms[] holds, fails the parse.
 */
static int read_map(const char *path)
{
	char line[256], node[64] = "";
	int global = 0, comment = 0, bad = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (!bad && fgets(line, sizeof(line), f)) {
		char word[64], rest;

		strip_comments(line, &comment);
		if (sscanf(line, " %63[A-Z0-9_.] %c", word, &rest) == 2 &&
		    rest == '{') {
			snprintf(node, sizeof(node), "%s", word);
			snprintf(newest, sizeof(newest), "%s", word);
			global = 0;
		} else if (strstr(line, "global:")) {
			global = 1;
		} else if (strstr(line, "local:") || strchr(line, '}')) {
			global = 0;
		} else if (global && sscanf(line, " %63[a-z0-9_] %c", word,
					    &rest) == 2 && rest == ';') {
			if (nsyms == SYMS_MAX) {
				bad = 1;
				break;
			}
			snprintf(syms[nsyms].name, sizeof(syms[0].name), "%s",
				 word);
			snprintf(syms[nsyms].node, sizeof(syms[0].node), "%s",
				 node);
			nsyms++;
		} else if (global && strspn(line, " \t\n") != strlen(line)) {
			bad = 1;
		}
	}
	fclose(f);
	return bad || comment || !nsyms ? -1 : 0;
}

/* The newest node that lists @name: the one an unversioned lookup binds. */
static const char *default_node(const char *name)
{
	const char *node = NULL;

	for (unsigned int i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, name))
			node = syms[i].node;
	return node;
}

static void test_nodes(void *h)
{
	unsigned int found = 0, wrong_default = 0;
	const char *missing = "", *bad_default = "";

	for (unsigned int i = 0; i < nsyms; i++) {
		void *v = dlvsym(h, syms[i].name, syms[i].node);

		if (v)
			found++;
		else
			missing = syms[i].name;
		if (v && !strcmp(default_node(syms[i].name), syms[i].node) &&
		    dlsym(h, syms[i].name) != v) {
			wrong_default++;
			bad_default = syms[i].name;
		}
	}
	tap_ok(found == nsyms,
	       "every name of liblfq.map's %u global entries (version nodes up to %s) resolves with dlvsym() at its node (%u found; missing: %s)",
	       nsyms, newest, found, missing);
	tap_ok(!wrong_default,
	       "an unversioned lookup binds each name to the newest node listing it, as the linker does for a program built now (%u wrong: %s)",
	       wrong_default, bad_default);
	tap_ok(!dlsym(h, "lfq_get_stats_v2") && !dlsym(h, "lfq_get_stats_v5") &&
	       !dlsym(h, "lfq_get_stats_v6") &&
	       !dlsym(h, "lfq_inline_producer_v3") &&
	       !dlsym(h, "lfq_inline_producer_v7") &&
	       !dlsym(h, "lfq_inline_consumer_v3") &&
	       !dlsym(h, "lfq_inline_consumer_v7"),
	       "the compat functions' own names (lfq_get_stats_v2 ... lfq_inline_consumer_v7) are not exported");
}

typedef int (*create_fn)(const struct lfq_create_opts *, struct lfq **);
typedef void (*close_fn)(struct lfq *);
typedef int (*push_fn)(struct lfq *, const void *, size_t);
typedef int (*stats_fn)(struct lfq *, struct lfq_stats *);
typedef int (*prod_fn)(struct lfq *, struct lfq_inline_prod *);
typedef int (*cons_fn)(struct lfq *, struct lfq_inline_cons *);

/* The first byte from @from on that is not 0xa5 (or @len). */
static size_t first_written(const void *buf, size_t from, size_t len)
{
	const unsigned char *b = buf;

	while (from < len && b[from] == 0xa5)
		from++;
	return from;
}

static void test_stats(void *h, struct lfq *q)
{
	static const struct {
		const char *node;
		uint32_t size;
	} eras[] = {
		{ "LIBLFQ_0.2", LFQ_STATS_SIZE_VER4 },
		{ "LIBLFQ_0.5", LFQ_STATS_SIZE_VER5 },
		{ "LIBLFQ_0.6", LFQ_STATS_SIZE_VER6 },
	};
	struct lfq_stats all[3];
	int filled = 0;

	for (unsigned int i = 0; i < 3; i++) {
		stats_fn f = (stats_fn)dlvsym(h, "lfq_get_stats", eras[i].node);
		int err;

		memset(&all[i], 0xa5, sizeof(all[i]));
		err = f ? f(q, &all[i]) : -1;
		filled += !err;
		tap_ok(!err && all[i].size == eras[i].size &&
		       all[i].produced == 3 &&
		       first_written(&all[i], eras[i].size,
				     sizeof(all[i])) == sizeof(all[i]),
		       "lfq_get_stats@%s fills the %u bytes its struct had and nothing after them (rc %d, size %u, produced %llu)",
		       eras[i].node, eras[i].size, err, all[i].size,
		       (unsigned long long)all[i].produced);
	}
	tap_ok(filled == 3 && !memcmp((char *)&all[0] + 8, (char *)&all[2] + 8,
		       LFQ_STATS_SIZE_VER4 - 8) &&
	       !memcmp((char *)&all[1] + 8, (char *)&all[2] + 8,
		       LFQ_STATS_SIZE_VER5 - 8),
	       "the old versions' counters are the newest one's, in the bytes they share");
}

static void test_views(void *h, struct lfq *q)
{
	prod_fn p3 = (prod_fn)dlvsym(h, "lfq_inline_producer", "LIBLFQ_0.3");
	cons_fn c3 = (cons_fn)dlvsym(h, "lfq_inline_consumer", "LIBLFQ_0.3");
	prod_fn pn = (prod_fn)dlsym(h, "lfq_inline_producer");
	cons_fn cn = (cons_fn)dlsym(h, "lfq_inline_consumer");
	struct lfq_inline_prod op, np;
	struct lfq_inline_cons oc, nc;
	int a = -1, b = -1, c = -1, d = -1;

	memset(&op, 0xa5, sizeof(op));
	memset(&oc, 0xa5, sizeof(oc));
	if (p3 && c3 && pn && cn) {
		a = p3(q, &op);
		b = c3(q, &oc);
		c = pn(q, &np);
		d = cn(q, &nc);
	}
	tap_ok(!a && !b && !c && !d && !memcmp(&op, &np, VIEW_VER3) &&
	       !memcmp(&oc, &nc, VIEW_VER3) &&
	       first_written(&op, VIEW_VER3, sizeof(op)) == sizeof(op) &&
	       first_written(&oc, VIEW_VER3, sizeof(oc)) == sizeof(oc) &&
	       np.flag && nc.flag,
	       "lfq_inline_producer/consumer@LIBLFQ_0.3 fill the 24 bytes of a 0.3 view, the same as the default versions, and not the flag the 0.7 view added (rc %d %d %d %d)",
	       a, b, c, d);
}

int main(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 8,
		 .slot_count = 512, .backend = LFQ_BACKEND_MEMFD);
	void *h = dlopen(LIBLFQ_SO, RTLD_NOW | RTLD_LOCAL);
	int mapped = read_map(LIBLFQ_MAP);
	struct lfq *q = NULL;
	create_fn create;
	close_fn qclose;
	push_fn push;
	int err = -1;

	tap_plan(10);
	if (!tap_ok(h && !mapped,
		    "dlopen(%s) and its version map (%u global entries)",
		    LIBLFQ_SO, nsyms)) {
		tap_diag("%s", h ? LIBLFQ_MAP : dlerror());
		return 1;
	}
	test_nodes(h);
	create = (create_fn)dlsym(h, "lfq_create");
	qclose = (close_fn)dlsym(h, "lfq_close");
	push = (push_fn)dlsym(h, "lfq_push");
	if (create && qclose && push)
		err = create(&o, &q);
	for (uint64_t v = 0; !err && v < 3; v++)
		err = push(q, &v, sizeof(v));
	if (!tap_ok(!err, "a queue made and fed through the .so (%d)", err))
		return 1;
	test_stats(h, q);
	test_views(h, q);
	qclose(q);
	dlclose(h);
	return tap_done();
}
