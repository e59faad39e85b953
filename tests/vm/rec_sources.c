// SPDX-License-Identifier: MIT
/*
 * rec_sources.c - kernel producers into record queues (LFQ_CREATE_RECORDS)
 * against the real module: SYNTH producers in a kernel thread, hardirq,
 * softirq and NMI context (lfq_queue_rec_reserve()); PROC exec records
 * with the whole path and argv, and their cut flags when the record
 * limit (the source's record_size) is smaller; SYSCALL records with all
 * six arguments; ECHO refusing record queues; and a hostile process
 * scribbling on the ring's head, tail and headers while NMI and hardirq
 * producers write (the kernel must stay inside the ring: the debug
 * kernel's KASAN watches).
 *
 *   rec_sources --exec-probe ARGS...   (the exec child: exits at once)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "synth_tally.h"
#include "tap.h"
#include "test_util.h"

#define RING		(1u << 20)
#define SYNTH_COUNT	20000u
#define LONG_ARG	3000		/* bytes of the long argument */

static struct lfq *record_queue(uint32_t bytes)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 1,
		 .slot_count = bytes, .flags = LFQ_CREATE_RECORDS);
	struct lfq *q = NULL;
	int err = lfq_create(&o, &q);

	if (err) {
		tap_diag("create a record queue of %u bytes: %s", bytes,
			 ename(-err));
		exit(1);
	}
	return q;
}

/* ---------------------------------------------------------------------- */

/* SYNTH: every context's producers, each record once and in order. */
static void synth(int nmi)
{
	struct lfq *q = record_queue(RING);
	struct lfq_source src = {
		.type = LFQ_SOURCE_SYNTH, .threads = 2, .hardirq_timers = 1,
		.softirq_timers = 1, .count = SYNTH_COUNT,
		.timer_period_ns = 20000,
		.flags = nmi ? LFQ_SOURCE_SYNTH_NMI : 0,
	};
	struct synth_tally t = { 0 };
	struct lfq_stats st;
	int64_t t0 = now_ns();
	int id = lfq_source_attach(q, &src);

	if (nmi && id == -EOPNOTSUPP) {
		tap_skip("SYNTH NMI producers: this kernel cannot send itself an NMI");
		lfq_close(q);
		return;
	}
	if (id < 0) {
		tap_ok(0, "attach SYNTH to a record queue: %s", ename(-id));
		lfq_close(q);
		return;
	}
	while (now_ns() - t0 < 60000000000ll) {
		int n = lfq_record_consume(q, 256, synth_rec, &t);

		lfq_get_stats(q, &st);
		if (n <= 0 && t.got + st.dropped >= 4ull * SYNTH_COUNT)
			break;
		if (n <= 0)
			lfq_wait_data(q, 1, 20000000);
	}
	lfq_source_detach(q, id);
	lfq_get_stats(q, &st);
	if (!tap_ok(t.got + st.dropped == 4ull * SYNTH_COUNT && !t.bad &&
		    !t.order && t.got && t.ctx[nmi ? LFQ_CONTEXT_NMI :
						 LFQ_CONTEXT_HARDIRQ],
		    "SYNTH into a record queue: 2 threads, a %s timer and a softirq timer: %llu records of %zu bytes whole and in order per producer, %llu dropped (counted); %llu from %s",
		    nmi ? "NMI-raising" : "hardirq", (unsigned long long)t.got,
		    sizeof(struct lfq_event_synth),
		    (unsigned long long)st.dropped,
		    (unsigned long long)t.ctx[nmi ? LFQ_CONTEXT_NMI :
					     LFQ_CONTEXT_HARDIRQ],
		    nmi ? "NMI context" : "hardirq context"))
		tap_diag("  got %llu dropped %llu bad %llu order %llu",
			 (unsigned long long)t.got,
			 (unsigned long long)st.dropped,
			 (unsigned long long)t.bad,
			 (unsigned long long)t.order);
	lfq_close(q);
}

/* ---------------------------------------------------------------------- */

struct exec_find {
	pid_t pid;
	int found;
	uint16_t cut;
	char path[4096];
	char args[8192];
	uint32_t args_size;
};

static int exec_rec(void *ctx, const void *p, uint32_t len)
{
	struct exec_find *f = ctx;
	static union {
		struct lfq_event_proc ev;
		char b[65536];
	} r;
	size_t room, plen;

	memcpy(&r, p, len);
	if (len < sizeof(r.ev) || r.ev.hdr.type != LFQ_EVENT_EXEC ||
	    r.ev.tgid != (uint32_t)f->pid || r.ev.hdr.size != len)
		return 0;
	room = len - sizeof(r.ev);
	if (r.ev.args_size > room)
		return 0;
	plen = strnlen(LFQ_EVENT_PROC_FILENAME(&r.ev), room - r.ev.args_size);
	if (plen >= sizeof(f->path) || r.ev.args_size > sizeof(f->args))
		return 0;
	memcpy(f->path, LFQ_EVENT_PROC_FILENAME(&r.ev), plen);
	f->path[plen] = '\0';
	memcpy(f->args, r.b + LFQ_EVENT_PROC_ARGS_OFFSET(r.ev.hdr.size,
							  r.ev.args_size),
	       r.ev.args_size);
	f->args_size = r.ev.args_size;
	f->cut = r.ev.cut;
	f->found++;
	return 0;
}

/* Exec this program at @path with @argv; find its EXEC record in @q. */
static void exec_and_find(struct lfq *q, const char *path, char *const *argv,
			  struct exec_find *f)
{
	int64_t t0 = now_ns();

	f->pid = fork();
	if (!f->pid) {
		execv(path, argv);
		_exit(127);
	}
	child_status(f->pid);
	while (!f->found && now_ns() - t0 < 5000000000ll)
		if (lfq_record_consume(q, 64, exec_rec, f) <= 0)
			lfq_wait_data(q, 1, 10000000);
}

/* PROC: exec records carry the whole path and argv, or say what was cut. */
static void proc_exec(void)
{
	static char long_arg[LONG_ARG + 1];
	char *argv[] = { "rec-argv0", "--exec-probe", "alpha", "beta gamma",
			 "", long_arg, NULL };
	struct lfq_source src = { .type = LFQ_SOURCE_PROC };
	struct exec_find f = { 0 }, g = { 0 }, h = { 0 };
	char want[8192];
	size_t wlen = 0;
	struct lfq *q;
	int id, i;

	memset(long_arg, 'x', LONG_ARG);
	for (i = 0; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		memcpy(want + wlen, argv[i], n);
		wlen += n;
	}
	q = record_queue(RING);
	id = lfq_source_attach(q, &src);
	if (id < 0) {
		tap_ok(0, "attach PROC to a record queue: %s", ename(-id));
		lfq_close(q);
		return;
	}
	exec_and_find(q, "/proc/self/exe", argv, &f);
	lfq_source_detach(q, id);
	if (!tap_ok(f.found == 1 && !strcmp(f.path, "/proc/self/exe") &&
		    f.args_size == wlen && !memcmp(f.args, want, wlen) &&
		    !f.cut,
		    "PROC exec into a record queue: the path as executed and the whole argv (%u bytes, 6 arguments, one empty, one of %d bytes), nothing cut",
		    f.args_size, LONG_ARG))
		tap_diag("  found %d path \"%s\" args %u of %zu cut %u",
			 f.found, f.path, f.args_size, wlen, f.cut);
	lfq_close(q);

	/* A limit of 512 bytes: the argv is cut, and says so. */
	q = record_queue(RING);
	src.record_size = 512;
	id = lfq_source_attach(q, &src);
	exec_and_find(q, "/proc/self/exe", argv, &g);
	lfq_source_detach(q, id);
	tap_ok(id >= 0 && g.found == 1 && !strcmp(g.path, "/proc/self/exe") &&
	       g.args_size == 512 - sizeof(struct lfq_event_proc) -
			      sizeof("/proc/self/exe") &&
	       g.cut == LFQ_PROC_ARGS_CUT && !memcmp(g.args, want, 20) &&
	       !g.args[g.args_size - 1],
	       "record_size 512: the argv is cut to %u bytes (still terminated), flagged LFQ_PROC_ARGS_CUT",
	       g.args_size);
	lfq_close(q);

	/* The smallest limit (16 bytes past the event): the path is cut. */
	q = record_queue(RING);
	src.record_size = (uint32_t)LFQ_EVENT_PROC_SLOT_MIN;
	id = lfq_source_attach(q, &src);
	exec_and_find(q, "/proc/self/../self/exe", argv, &h);
	lfq_source_detach(q, id);
	if (!tap_ok(id >= 0 && h.found == 1 &&
		    !strcmp(h.path, "/proc/self/../s") && !h.args_size &&
		    h.cut == (LFQ_PROC_PATH_CUT | LFQ_PROC_ARGS_CUT),
		    "record_size %zu: the path /proc/self/../self/exe is cut to \"%s\", no room for argv, both flagged",
		    LFQ_EVENT_PROC_SLOT_MIN, h.path))
		tap_diag("  found %d args %u cut %u", h.found, h.args_size,
			 h.cut);
	lfq_close(q);
}

/* ---------------------------------------------------------------------- */

struct sys_find {
	uint64_t args[6];
	int found;
	uint32_t size;
};

static int sys_rec(void *ctx, const void *p, uint32_t len)
{
	struct sys_find *f = ctx;
	union {
		struct lfq_event_syscall ev;
		char b[LFQ_EVENT_SYSCALL_FULL];
	} r;

	if (len != LFQ_EVENT_SYSCALL_FULL)
		return 0;
	memcpy(&r, p, len);
	if (r.ev.hdr.type != LFQ_EVENT_SYSCALL ||
	    r.ev.pid != (uint32_t)getpid() || r.ev.nr != SYS_process_vm_readv)
		return 0;
	f->args[0] = r.ev.arg0;
	memcpy(&f->args[1], LFQ_EVENT_SYSCALL_ARGS(&r.ev), 40);
	f->size = r.ev.hdr.size;
	f->found++;
	return 0;
}

/* SYSCALL: a record queue's records carry all six arguments. */
static void syscall_args(void)
{
	struct lfq *q = record_queue(RING);
	struct lfq_source src = { .type = LFQ_SOURCE_SYSCALL,
				  .syscall_nr = SYS_process_vm_readv };
	const uint64_t want[6] = { (uint64_t)-1, 0x1111, 2, 0x3333, 4, 5 };
	struct sys_find f = { 0 };
	int id = lfq_source_attach(q, &src);

	if (id < 0) {
		tap_ok(0, "attach SYSCALL to a record queue: %s", ename(-id));
		lfq_close(q);
		return;
	}
	/* Fails (no such pid, bad flags): its entry is recorded all the same. */
	syscall(SYS_process_vm_readv, -1L, 0x1111L, 2L, 0x3333L, 4L, 5L);
	lfq_source_detach(q, id);
	while (lfq_record_consume(q, 64, sys_rec, &f) > 0)
		;
	if (!tap_ok(f.found == 1 && f.size == LFQ_EVENT_SYSCALL_FULL &&
		    !memcmp(f.args, want, sizeof(want)),
		    "SYSCALL into a record queue: a %zu-byte record with all six arguments of process_vm_readv(-1, 0x1111, 2, 0x3333, 4, 5)",
		    LFQ_EVENT_SYSCALL_FULL))
		tap_diag("  found %d size %u args %llx %llx %llx %llx %llx %llx",
			 f.found, f.size, (unsigned long long)f.args[0],
			 (unsigned long long)f.args[1],
			 (unsigned long long)f.args[2],
			 (unsigned long long)f.args[3],
			 (unsigned long long)f.args[4],
			 (unsigned long long)f.args[5]);
	lfq_close(q);
}

/* ---------------------------------------------------------------------- */

/* ECHO reads and writes slots: record queues are refused either side. */
static void echo_refused(void)
{
	struct lfq *rq = record_queue(RING);
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = 64,
		 .slot_count = 1024);
	struct lfq *sq = queue_or_exit(&o);
	struct lfq_source src = { .type = LFQ_SOURCE_ECHO };

	src.target_fd = lfq_fd(rq);
	expect(-lfq_source_attach(sq, &src), EOPNOTSUPP,
	       "ECHO from a slot queue into a record queue");
	src.target_fd = lfq_fd(sq);
	expect(-lfq_source_attach(rq, &src), EOPNOTSUPP,
	       "ECHO consuming a record queue");
	lfq_close(sq);
	lfq_close(rq);
}

/* ---------------------------------------------------------------------- */

/*
 * A hostile process writes garbage into the ring's head, tail and record
 * headers while kernel producers (threads, a hardirq or NMI timer) write
 * into it: they must drop or write inside the ring, never elsewhere.
 */
static void hostile(void)
{
	struct lfq *q = record_queue(1u << 16);
	struct lfq_source src = {
		.type = LFQ_SOURCE_SYNTH, .threads = 2, .hardirq_timers = 1,
		.timer_period_ns = 20000, .flags = LFQ_SOURCE_SYNTH_NMI,
	};
	struct lfq_info h;
	struct lfq_stats st;
	uint64_t seed = 42, writes = 0, *head, *tail, before;
	unsigned char *map, *prod, *cons, *data;
	struct synth_tally t = { 0 };
	int64_t t0;
	int id;
	pid_t pid;

	id = lfq_source_attach(q, &src);
	if (id == -EOPNOTSUPP) {
		src.flags = 0;
		id = lfq_source_attach(q, &src);
	}
	/* The header page is never writable: map the rest part by part. */
	map = mmap_queue(lfq_fd(q), &h, PROT_READ);
	prod = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lfq_fd(q),
		    (off_t)h.prod_offset);
	cons = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lfq_fd(q),
		    (off_t)h.cons_offset);
	data = mmap(NULL, 2 * h.data_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    lfq_fd(q), (off_t)h.data_offset);
	if (id < 0 || !map || prod == MAP_FAILED || cons == MAP_FAILED ||
	    data == MAP_FAILED) {
		tap_ok(0, "attach SYNTH and map the queue: %s", ename(-id));
		lfq_close(q);
		return;
	}
	head = (uint64_t *)(prod + offsetof(struct lfq_prod_ctl, head));
	tail = (uint64_t *)(cons + offsetof(struct lfq_cons_ctl, tail));
	/* The producers run: records arrive before the forger starts. */
	t0 = now_ns();
	while (now_ns() - t0 < 500000000ll)
		if (lfq_record_consume(q, 64, synth_rec, &t) <= 0)
			lfq_wait_data(q, 1, 5000000);
	before = t.got + t.bad;
	pid = fork();
	if (!pid) {
		t0 = now_ns();
		while (now_ns() - t0 < 3000000000ll) {
			uint64_t r = mix64(seed++), *w;

			switch (r % 5) {
			case 0:
				*head = mix64(r);
				break;
			case 1:
				*tail = r % 3 ? *head - (r >> 40) : mix64(r);
				break;
			default:
				w = (uint64_t *)(data +
						 ((r >> 8) % (2 * h.data_size) &
						  ~7ull));
				*w = r % 2 ? mix64(r) :
				     (r >> 20) % 70000 | (r & 1ull << 32);
			}
			writes++;
		}
		_exit(writes ? 0 : 1);
	}
	/* Meanwhile the consumer reads what it can, as a victim would. */
	t0 = now_ns();
	while (now_ns() - t0 < 3000000000ll) {
		if (lfq_record_consume(q, 64, synth_rec, &t) <= 0)
			lfq_wait_data(q, 1, 5000000);
	}
	child_ok(pid);
	expect(-lfq_source_detach(q, id), 0,
	       "after 3 s of forged heads, tails and headers under %s producers, the source detaches",
	       src.flags ? "NMI" : "hardirq");
	if (!tap_ok(!lfq_get_stats(q, &st) && st.dropped > 0 && before > 0,
		    "the queue still answers: %llu records read before the forger, %llu during; %llu committed by the kernel in all, %llu reservations refused (dropped) on forged words",
		    (unsigned long long)before,
		    (unsigned long long)(t.got + t.bad - before),
		    (unsigned long long)st.produced,
		    (unsigned long long)st.dropped))
		tap_diag("  produced %llu dropped %llu", (unsigned long long)st.produced,
			 (unsigned long long)st.dropped);
	lfq_close(q);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exec-probe"))
		return 0;
	tap_plan(10);
	synth(0);
	synth(1);
	proc_exec();
	syscall_args();
	echo_refused();
	hostile();
	return tap_done();
}
