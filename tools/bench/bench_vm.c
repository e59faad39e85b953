// SPDX-License-Identifier: MIT
/*
 * bench_vm.c - lfq-bench's "vm" suite, on the host: boots the test VM
 * (tools/vm/run-vm.sh, Debian's stock kernel under QEMU/TCG) with lfq.ko
 * and the static lfq-bench-vm, which runs the suites that need /dev/lfq
 * (ipc) and the kernel (stream: lfq against the BPF ring buffer) and
 * prints its figures as LFQ-BENCH lines on the console; they are read back
 * from the console log into this run's table.
 *
 * The VM gets 2 vCPUs, as many as the usual machine has cores: with 3
 * (two producing CPUs and one for the stream suite's consumer) the host
 * time-sliced the vCPU threads behind the guest's back, the consumer
 * stalled for whole host time slices and the figures scattered by 2x
 * between runs. With 2, the stream suite's consumer has a CPU of its own
 * when one CPU produces and shares CPU 1 with the second producer when
 * both do, under the guest's scheduler, as a tracing consumer does on a
 * machine where every CPU produces. Only ratios measured inside the one
 * VM run mean anything (TCG emulates every instruction).
 *
 * The guest boots with tsc=reliable. Under TCG the kernel finds the vCPUs'
 * TSCs unsynchronised and falls back to the HPET, and then every clock
 * read (each record's timestamp, in lfq and in BPF alike, and every
 * clock_gettime(), which loses its vDSO path) is an emulated MMIO access
 * under QEMU's global lock: it dominated the figures and serialised the
 * vCPUs. With the TSC as clocksource a read is one emulated RDTSC, much
 * closer to its relative cost on real machines.
 *
 * Paths are relative to the repository root, found from this program's
 * own path (build/tools/bench/lfq-bench). The payload goes to
 * build/bench/vm-payload, the console log to build/bench/vm.log. Only one
 * VM should run at a time on a small machine; serialise callers (e.g.
 * flock) outside this program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SUITE		"vm"
#define VM_CPUS		"2"
#define VM_APPEND	"tsc=reliable"
#define TIMEOUT_QUICK	"900"
#define TIMEOUT_FULL	"3600"

/* The repository root: three levels above build/tools/bench/lfq-bench. */
static int repo_root(char *root, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i;

	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	for (i = 0; i < 4; i++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			return -ENOENT;
		*slash = '\0';
	}
	if (snprintf(root, len, "%s", exe[0] ? exe : "/") >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, err = 0;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	if (close(out) && !err)
		err = -errno;
	close(in);
	return err;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * Forward the guest's progress lines ("[suite] ...", and lfq-bench's and
 * libbpf's own messages) from the growing console log to stderr, so a
 * long VM run shows where it is. Kernel lines ("[   1.234] ...") stay in
 * the log.
 */
struct tail {
	FILE *f;
	char line[1024];
	size_t len;
};

static void tail_lines(struct tail *t)
{
	int c;

	if (!t->f)
		return;
	while ((c = fgetc(t->f)) != EOF) {
		if (c != '\n') {
			if (t->len < sizeof(t->line) - 1)
				t->line[t->len++] = (char)c;
			continue;
		}
		t->line[t->len] = '\0';
		if ((t->line[0] == '[' && t->line[1] >= 'a' &&
		     t->line[1] <= 'z') ||
		    !strncmp(t->line, "lfq-bench", 9) ||
		    !strncmp(t->line, "libbpf: ", 8))
			fprintf(stderr, "[vm] %s\n", t->line);
		t->len = 0;
	}
	clearerr(t->f);
}

int suite_vm(void)
{
	char root[PATH_MAX], ko[PATH_MAX + 32], bin[PATH_MAX + 64],
	     pay[PATH_MAX + 32], path[PATH_MAX + 64], log[PATH_MAX + 32],
	     script[PATH_MAX + 32], runvm[PATH_MAX + 32];
	const char *args = bench_opts.quick ? "--quick\n" : "--full\n";
	struct tail t = { 0 };
	int err, status, rows;
	pid_t pid;

	err = repo_root(root, sizeof(root));
	if (err) {
		bench_progress(SUITE, "cannot find the repository root: %s",
			       strerror(-err));
		return err;
	}
	snprintf(ko, sizeof(ko), "%s/kmod/lfq.ko", root);
	snprintf(bin, sizeof(bin), "%s/build/tools/bench/lfq-bench-vm", root);
	snprintf(pay, sizeof(pay), "%s/build/bench/vm-payload", root);
	snprintf(log, sizeof(log), "%s/build/bench/vm.log", root);
	snprintf(script, sizeof(script), "%s/tools/bench/vm-bench.sh", root);
	snprintf(runvm, sizeof(runvm), "%s/tools/vm/run-vm.sh", root);
	if (access(ko, R_OK) || access(bin, X_OK)) {
		bench_progress(SUITE, "needs %s and %s: run make and make %s",
			       ko, bin, "build/tools/bench/lfq-bench-vm");
		return -ENOENT;
	}

	snprintf(path, sizeof(path), "%s/build/bench", root);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	if (mkdir(pay, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/lfq.ko", pay);
	err = copy_file(ko, path, 0644);
	snprintf(path, sizeof(path), "%s/lfq-bench-vm", pay);
	if (!err)
		err = copy_file(bin, path, 0755);
	snprintf(path, sizeof(path), "%s/bench-args", pay);
	if (!err)
		err = write_text(path, args);
	if (err) {
		bench_progress(SUITE, "building the payload in %s: %s", pay,
			       strerror(-err));
		return err;
	}
	unlink(log);

	bench_progress(SUITE, "booting the test VM (stock kernel, %s vCPUs, TCG): lfq-bench-vm %.*s --suites ipc,stream,flight; console log %s",
		       VM_CPUS, (int)strlen(args) - 1, args, log);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* run-vm.sh's report goes to our stderr, not the table. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl(runvm, runvm, "--kernel", "stock", "--payload", pay,
		      "--script", script, "--log", log, "--quiet",
		      "--cpus", VM_CPUS, "--append", VM_APPEND, "--timeout",
		      bench_opts.quick ? TIMEOUT_QUICK : TIMEOUT_FULL,
		      (char *)NULL);
		fprintf(stderr, "lfq-bench: cannot run %s: %s\n", runvm,
			strerror(errno));
		_exit(127);
	}
	for (;;) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (!t.f)
			t.f = fopen(log, "r");
		tail_lines(&t);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (t.f)
		fclose(t.f);
	if (err)
		return err;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		bench_progress(SUITE, "the VM run failed (run-vm.sh %s %d); console log %s",
			       WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
						   WTERMSIG(status), log);
		return -EIO;
	}
	rows = bench_load_tsv(log);
	if (rows <= 0) {
		bench_progress(SUITE, "no LFQ-BENCH lines in %s", log);
		return rows < 0 ? rows : -ENODATA;
	}
	bench_progress(SUITE, "%d figures from the VM", rows);
	return 0;
}
