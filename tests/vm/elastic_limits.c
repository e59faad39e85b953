// SPDX-License-Identifier: GPL-2.0
/*
 * elastic_limits.c - the per-user limits of lfq.ko (module parameters
 * user_bytes_max and user_names_max, /sys/module/lfq/parameters/):
 *
 *   - bytes: a user's queues (fixed, and an elastic queue's seg_min
 *     segments at creation) fit the limit exactly, one more byte's worth
 *     is -EDQUOT, for any process of that user, and not for another user;
 *     a queue freed gives its bytes back;
 *   - an elastic queue stops growing at the limit below seg_max: lfq_push
 *     is -EAGAIN, the queue holds exactly the bytes allowed, a wait for
 *     space sleeps there (it does not answer "a segment's worth") until
 *     the consumer drains, and the queue takes records again; kernel producers
 *     (SYNTH) drop there;
 *   - names: past user_names_max a name is -EDQUOT (and does not exist),
 *     anonymous queues and other users are not affected, an unlinked
 *     name is given back;
 *   - 0 means no limit, for both;
 *   - a creator with CAP_SYS_RESOURCE is counted (the module balances
 *     every user's count: an imbalance warns at its last queue) but not
 *     limited; uid 0 without CAP_SYS_RESOURCE is limited.
 *
 * Users: uid 1001 (lfqa) and 1002 (lfqb), switched to with setresuid in
 * children. The parameters are restored at the end (and at exit).
 * Runs in the test VM with lfq.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "elastic_util.h"
#include "liblfq.h"
#include "tap.h"
#include "test_util.h"

#define UA		1001	/* lfqa */
#define UB		1002	/* lfqb */
#define SEG		64u	/* elastic: slots of 64 bytes per segment */
#define K_SEG		128u	/* SYNTH case: slots of 32 bytes per segment */
#define K_RECORDS	2000u

static long long bytes_saved = -1, names_saved = -1, refcnt0;
/* Bytes of: a fixed SPSC 64 x 1024 queue; an elastic MPSC 64 x SEG
 * queue's fixed part and one segment; the SYNTH case's likewise.
 */
static unsigned long long fb, ef, es, kf, ks;

static void restore(void)
{
	if (bytes_saved >= 0)
		el_param_set("user_bytes_max", bytes_saved);
	if (names_saved >= 0)
		el_param_set("user_names_max", names_saved);
}

/*
 * Every queue of the last step freed, and so uncharged: the module refs
 * are gone at once, the pages (lfq.ko's vmaps) a grace period later, in
 * a work item that uncharges right after.
 */
static void settle(void)
{
	int i;

	for (i = 0; i < 250 && lfq_module_refcnt() != refcnt0; i++)
		msleep(20);
	if (lfq_module_refcnt() != refcnt0)
		tap_diag("  module refcnt %d, want %lld", lfq_module_refcnt(), refcnt0);
	if (el_wait_vmap(0, 5000) < 0)
		tap_diag("  lfq vmaps left: %lld bytes", el_lfq_vmap_bytes(NULL));
	msleep(50);
}

static void limits(long long bytes, long long names)
{
	if (el_param_set("user_bytes_max", bytes) ||
	    el_param_set("user_names_max", names))
		exit(1);
}

/* Create a queue shaped as @o (named @name if not NULL): 0 or -errno. */
static int make(struct lfq_create_opts o, const char *name, struct lfq **q)
{
	struct lfq *tmp = NULL;
	int err;

	o.name = name;
	o.mode = name ? 0600 : 0;
	err = lfq_create(&o, q ? q : &tmp);
	if (!q)
		lfq_close(tmp);
	return err;
}

static struct lfq_create_opts fixed(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 1024);

	return o;
}

static struct lfq_create_opts elastic(uint32_t slot_size, uint32_t slots,
				      uint32_t seg_min)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC,
		 .slot_size = slot_size, .slot_count = slots,
		 .flags = LFQ_CREATE_ELASTIC, .seg_min = seg_min,
		 .seg_max = 64);

	return o;
}

static unsigned long long bytes_of(struct lfq_create_opts o)
{
	struct lfq *q = NULL;
	unsigned long long b;

	if (make(o, NULL, &q))
		return 0;
	b = el_stats(q).bytes;
	lfq_close(q);
	return b;
}

static void measure(void)
{
	unsigned long long e1, e2, k1, k2;

	fb = bytes_of(fixed());
	e1 = bytes_of(elastic(64, SEG, 1));
	e2 = bytes_of(elastic(64, SEG, 2));
	k1 = bytes_of(elastic(32, K_SEG, 1));
	k2 = bytes_of(elastic(32, K_SEG, 2));
	es = e2 - e1;
	ef = e1 - es;
	ks = k2 - k1;
	kf = k1 - ks;
	tap_ok(fb && e1 && e2 > e1 && k2 > k1 && ef && kf,
	       "bytes a user is charged (stats.bytes): fixed 64 x 1024 queue %llu; elastic 64 x %u: %llu + %llu per segment; 32 x %u: %llu + %llu",
	       fb, SEG, ef, es, K_SEG, kf, ks);
}

/* Phase 1: fixed queues against user_bytes_max = 3 * fb. */
static void bytes_fill(void *arg)
{
	int e0 = make(fixed(), "t-elim-b0", NULL);
	int e1 = make(fixed(), "t-elim-b1", NULL);
	int e2 = make(fixed(), "t-elim-b2", NULL);

	(void)arg;
	tap_ok(!e0 && !e1 && !e2,
	       "uid %d: three named queues of %llu bytes fit user_bytes_max %llu exactly (%s %s %s)",
	       UA, fb, 3 * fb, ename(-e0), ename(-e1), ename(-e2));
}

static void bytes_over(void *arg)
{
	(void)arg;
	expect(-make(fixed(), NULL, NULL), EDQUOT,
	       "uid %d, another process: a fourth queue", UA);
	expect(-make(elastic(64, SEG, 1), NULL, NULL), EDQUOT,
	       "uid %d: an elastic queue (its fixed part and seg_min segment)",
	       UA);
}

static void bytes_other(void *arg)
{
	(void)arg;
	expect(-make(fixed(), NULL, NULL), 0,
	       "uid %d while uid %d is at its limit: a queue of %llu bytes",
	       UB, UA, fb);
}

static void bytes_back(void *arg)
{
	int err, un = lfq_unlink("t-elim-b0"), ms;

	(void)arg;
	for (ms = 0; (err = make(fixed(), NULL, NULL)) == -EDQUOT && ms < 3000;
	     ms += 10)
		msleep(10);
	tap_ok(!un && !err,
	       "uid %d unlinks one: its bytes are given back once it is freed (a new queue fits after %d ms: %s)",
	       UA, ms, ename(-err));
}

/* A producer thread's wait for space, and how it ended. */
struct space_waiter {
	struct lfq *q;
	int rc;
	int64_t ns;
};

static void *wait_space_thread(void *arg)
{
	struct space_waiter *w = arg;
	int64_t t0 = now_ns();

	w->rc = lfq_wait_space(w->q, 1, 5 * 1000000000ll);
	w->ns = now_ns() - t0;
	return NULL;
}

/* Phase 2: an elastic queue grows up to the limit, not to seg_max. */
static void elastic_cap(void *arg)
{
	unsigned long long limit = *(unsigned long long *)arg;
	uint64_t m[8] = { 0 }, n = 0, popped = 0;
	struct lfq_stats st;
	struct lfq *q = NULL;
	struct space_waiter w = { .q = NULL, .rc = 1 };
	int err, ms, werr;
	int64_t t0, dt;
	pthread_t t;

	err = make(elastic(64, SEG, 1), NULL, &q);
	w.q = q;
	if (!tap_ok(!err, "uid %d, user_bytes_max %llu (%llu + 4 segments): elastic MPSC queue, seg_min 1, seg_max 64 (%s)",
		    UA, limit, ef, ename(-err))) {
		tap_ok(0, "not run");
		tap_ok(0, "not run");
		tap_ok(0, "not run");
		tap_ok(0, "not run");
		return;
	}
	while (!(err = lfq_push(q, m, sizeof(m))))
		m[0] = ++n;
	st = el_stats(q);
	tap_ok(err == -EAGAIN && n == 4 * SEG && st.segments == 4 &&
	       st.bytes == limit,
	       "at the limit: %llu records fit (4 x %u), then lfq_push %s (want EAGAIN); %llu segments of 64, %llu bytes (limit %llu)",
	       (unsigned long long)n, SEG, ename(-err),
	       (unsigned long long)st.segments,
	       (unsigned long long)st.bytes, limit);
	/*
	 * Below seg_max but at the limit: a wait for space sleeps until
	 * the consumer frees some (it answered "a segment's worth" at once,
	 * and a blocking push spun between that and the full reservation).
	 */
	t0 = now_ns();
	werr = lfq_wait_space(q, 1, 300 * 1000000ll);
	dt = now_ns() - t0;
	tap_ok(werr == -ETIMEDOUT && dt >= 250 * 1000000ll,
	       "at the limit, below seg_max, with no consumer: a wait for space sleeps its 300 ms (%s after %lld ms)",
	       ename(-werr), (long long)(dt / 1000000));
	/*
	 * Asleep there, it is woken once the consumer drains (the drained
	 * segments retire and are pooled a grace period later).
	 */
	pthread_create(&t, NULL, wait_space_thread, &w);
	msleep(100);
	while (!lfq_pop(q, m, sizeof(m)) && m[0] == popped)
		popped++;
	pthread_join(t, NULL);
	tap_ok(!w.rc && w.ns < 4 * 1000000000ll,
	       "a wait for space asleep there is woken once the consumer drains (%s after %lld ms)",
	       ename(-w.rc), (long long)(w.ns / 1000000));
	/* Drained segments are reused a grace period later. */
	for (ms = 0; (err = lfq_push(q, m, sizeof(m))) && ms < 3000; ms += 10)
		msleep(10);
	st = el_stats(q);
	tap_ok(popped == n && !err && st.bytes <= limit,
	       "drained (%llu in order): it takes records again after %d ms (%s), %llu bytes",
	       (unsigned long long)popped, ms, ename(-err),
	       (unsigned long long)st.bytes);
	lfq_close(q);
}

/* Phase 3: names against user_names_max = 3. */
static void names_fill(void *arg)
{
	struct lfq *q = NULL;
	int e[4], i, open_err;
	char name[32];

	(void)arg;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "t-elim-n%d", i);
		e[i] = make(elastic(64, SEG, 1), name, NULL);
	}
	tap_ok(!e[0] && !e[1] && !e[2],
	       "uid %d, user_names_max 3: three named queues (%s %s %s)", UA,
	       ename(-e[0]), ename(-e[1]), ename(-e[2]));
	open_err = open_named("t-elim-n3", LFQ_ROLE_CONSUMER, &q);
	lfq_close(open_err ? NULL : q);
	tap_ok(e[3] == -EDQUOT && open_err == -ENOENT,
	       "a fourth name -> %s (want EDQUOT), and no such queue after (open: %s)",
	       ename(-e[3]), ename(-open_err));
	expect(-make(fixed(), NULL, NULL), 0,
	       "uid %d at its names limit: an anonymous queue", UA);
}

static void names_other(void *arg)
{
	(void)arg;
	expect(-make(fixed(), "t-elim-m0", NULL), 0,
	       "uid %d while uid %d is at its names limit: a name", UB, UA);
}

static void names_back(void *arg)
{
	int un = lfq_unlink("t-elim-n0");
	int err = make(fixed(), "t-elim-n3", NULL);

	(void)arg;
	tap_ok(!un && !err,
	       "uid %d unlinks a name: the fourth name fits now (%s, %s)", UA,
	       ename(-un), ename(-err));
}

/* Phase 4: 0 means no limit. */
static void unlimited(void *arg)
{
	struct lfq *q[4] = { NULL };
	int i, bad = 0, first = 0, err;
	char name[32];

	(void)arg;
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "t-elim-z%d", i);
		err = make(fixed(), name, NULL);
		if (err && !bad++)
			first = err;
	}
	for (i = 0; i < 4; i++) {
		err = make(fixed(), NULL, &q[i]);
		if (err && !bad++)
			first = err;
	}
	tap_ok(!bad,
	       "uid %d, both limits 0: 5 names and 9 queues of %llu bytes (%d failed, first %s)",
	       UA, fb, bad, ename(-first));
	for (i = 0; i < 4; i++)
		lfq_close(q[i]);
}

/* uid 0 without CAP_SYS_RESOURCE (the rest of root's capabilities kept). */
static int become_root_nocap(uid_t uid)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2];
	const int bit = CAP_SYS_RESOURCE;

	(void)uid;
	if (syscall(SYS_capget, &h, d))
		return -1;
	d[bit / 32].effective &= ~(1u << (bit % 32));
	d[bit / 32].permitted &= ~(1u << (bit % 32));
	d[bit / 32].inheritable &= ~(1u << (bit % 32));
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

static void nocap_bytes(void *arg)
{
	struct lfq *q = NULL;
	int e1, e2;

	(void)arg;
	/* Hold the first one while making the second. */
	e1 = make(fixed(), NULL, &q);
	e2 = make(fixed(), NULL, NULL);
	lfq_close(q);
	tap_ok(e1 == -EDQUOT || (!e1 && e2 == -EDQUOT),
	       "uid 0 without CAP_SYS_RESOURCE, user_bytes_max %llu: a first queue %s, a second %s (limited)",
	       fb, ename(-e1), ename(-e2));
}

static void nocap_names(void *arg)
{
	int e1 = make(fixed(), "t-elim-c0", NULL);
	int e2 = make(fixed(), "t-elim-c1", NULL);

	(void)arg;
	tap_ok(e1 == -EDQUOT || (!e1 && e2 == -EDQUOT),
	       "uid 0 without CAP_SYS_RESOURCE, user_names_max 1: a first name %s, a second %s (limited)",
	       ename(-e1), ename(-e2));
}

/* Phase 6: kernel producers drop at the limit, below seg_max. */
static void nocap_synth(void *arg)
{
	unsigned long long limit = *(unsigned long long *)arg;
	struct lfq_source src = {
		.size = sizeof(src), .type = LFQ_SOURCE_SYNTH, .threads = 1,
		.count = K_RECORDS, .thread_period_ns = 100000,
	};
	const uint64_t fit = 3 * K_SEG;
	struct lfq_stats st = { 0 };
	struct lfq *q = NULL;
	int id = -1, err, i;

	err = make(elastic(32, K_SEG, 1), NULL, &q);
	if (!err)
		id = lfq_source_attach(q, &src);
	for (i = 0; id >= 0 && i < 1200; i++) {
		st = el_stats(q);
		if (st.produced + st.dropped >= K_RECORDS)
			break;
		msleep(50);
	}
	if (!err)
		st = el_stats(q);
	tap_ok(!err && id >= 0 && st.segments == 3 && st.bytes == limit &&
	       st.produced == fit && st.dropped == K_RECORDS - fit,
	       "uid 0 without CAP_SYS_RESOURCE, user_bytes_max %llu (%llu + 3 segments): SYNTH x %u into an elastic queue (seg_max 64; %s, source %d) grows to %llu segments, %llu bytes; %llu placed, %llu dropped (want %llu, %llu)",
	       limit, kf, K_RECORDS, ename(-err), id,
	       (unsigned long long)st.segments,
	       (unsigned long long)st.bytes,
	       (unsigned long long)st.produced,
	       (unsigned long long)st.dropped, (unsigned long long)fit,
	       (unsigned long long)(K_RECORDS - fit));
	if (id >= 0)
		lfq_source_detach(q, id);
	lfq_close(q);
}

/* Phase 5: root with CAP_SYS_RESOURCE is not limited. */
static void root_exempt(void)
{
	struct lfq *q[5] = { NULL };
	int e[5], i;

	limits(fb, 1);
	e[0] = make(fixed(), NULL, &q[0]);
	e[1] = make(fixed(), NULL, &q[1]);
	e[2] = make(fixed(), NULL, &q[2]);
	e[3] = make(fixed(), "t-elim-r0", &q[3]);
	e[4] = make(fixed(), "t-elim-r1", &q[4]);
	tap_ok(!e[0] && !e[1] && !e[2] && !e[3] && !e[4],
	       "root with CAP_SYS_RESOURCE, user_bytes_max %llu and user_names_max 1: 3 queues and 2 names (%s %s %s %s %s)",
	       fb, ename(-e[0]), ename(-e[1]), ename(-e[2]), ename(-e[3]),
	       ename(-e[4]));
	/* The same uid without the capability, while these are held. */
	el_child(become_root_nocap, 0, nocap_bytes, NULL);
	limits(bytes_saved, 1);
	el_child(become_root_nocap, 0, nocap_names, NULL);
	for (i = 0; i < 5; i++)
		lfq_close(q[i]);
	lfq_unlink("t-elim-r0");
	lfq_unlink("t-elim-r1");
	lfq_unlink("t-elim-c0");
	lfq_unlink("t-elim-c1");
}

int main(void)
{
	unsigned long long limit;
	long long b, n;
	char name[32];
	int i;

	tap_plan(1 + 5 + 5 + 5 + 1 + 3 + 1 + 1);
	bytes_saved = el_param("user_bytes_max");
	names_saved = el_param("user_names_max");
	refcnt0 = lfq_module_refcnt();
	if (bytes_saved < 0 || names_saved < 0 || refcnt0 < 0) {
		tap_diag("no lfq module parameters");
		return 1;
	}
	atexit(restore);
	tap_diag("user_bytes_max %lld, user_names_max %lld", bytes_saved,
		 names_saved);
	limits(0, 0);
	measure();

	limits(3 * fb, names_saved);
	el_as_user(UA, bytes_fill, NULL);
	el_as_user(UA, bytes_over, NULL);
	el_as_user(UB, bytes_other, NULL);
	el_as_user(UA, bytes_back, NULL);
	lfq_unlink("t-elim-b1");
	lfq_unlink("t-elim-b2");
	settle();

	limit = ef + 4 * es;
	limits(limit, names_saved);
	el_as_user(UA, elastic_cap, &limit);
	settle();

	limits(bytes_saved, 3);
	el_as_user(UA, names_fill, NULL);
	el_as_user(UB, names_other, NULL);
	el_as_user(UA, names_back, NULL);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "t-elim-n%d", i);
		lfq_unlink(name);
	}
	lfq_unlink("t-elim-m0");
	settle();

	limits(0, 0);
	el_as_user(UA, unlimited, NULL);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "t-elim-z%d", i);
		lfq_unlink(name);
	}
	settle();

	root_exempt();
	settle();

	limit = kf + 3 * ks;
	limits(limit, names_saved);
	el_child(become_root_nocap, 0, nocap_synth, &limit);
	settle();

	restore();
	b = el_param("user_bytes_max");
	n = el_param("user_names_max");
	tap_ok(b == bytes_saved && n == names_saved && lfq_module_refcnt() == refcnt0,
	       "parameters restored (user_bytes_max %lld, user_names_max %lld); no queue left (module refcnt %d)",
	       b, n, lfq_module_refcnt());
	return tap_done();
}
