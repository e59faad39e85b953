# SPDX-License-Identifier: GPL-2.0
# Makefile - builds lfq.ko (against Debian's stock 6.1 headers), liblfq, the
# tools and the test programs, and runs them:
#
#   make              module, library, tools, tests (into build/)
#   make check        every test layer; last line "N passed, N failed, N skipped"
#   make demo         boots the test VM and streams through /dev/lfq
#   make fuzz         the long ioctl fuzz on the debug kernel: FUZZ_CALLS
#                     (10^7; 0: no limit), FUZZ_MINUTES (60), FUZZ_SEED
#   make bench        lfq-bench's full run (peers installed first); rewrites
#                     docs/PERFORMANCE.md and docs/perf/
#   make bench-tools  lfq-bench alone (its peers must be installed:
#                     tools/bench/install-peers.sh); not part of `make`
#   make install      liblfq (.so, .a), headers, liblfq.pc, lfqctl,
#                     lfq-stream and the man pages under DESTDIR/PREFIX
#   make uninstall    removes what make install installed
#   make dkms         the module's sources in /usr/src/lfq-VERSION, added
#                     to DKMS (built and installed for every kernel)
#   make deb          Debian packages (tools/packaging/) into build/deb/
#   make check-install  installs those packages into a Debian 12 root
#                     filesystem and boots it in the test VM
#
# KDIR overrides the kernel build directory (default: the one
# linux-headers-amd64 installs; never the running kernel's).

KDIR	?= $(shell tools/stock-kdir.sh)
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR	?= $(PREFIX)/lib
MANDIR	?= $(PREFIX)/share/man
VERSION	:= 0.7.0
SOVER	:= 2
B	:= build

CC	?= cc
USER_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -fPIC \
	       -Iuapi -Ikmod/proto -Ilibuser $(EXTRA_CFLAGS)
# liburcu (bulletproof flavour) reclaims in-process elastic segments.
URCU_CFLAGS := $(shell pkg-config --cflags liburcu-bp 2>/dev/null)
URCU_LIBS := $(shell pkg-config --libs liburcu-bp 2>/dev/null || \
	       echo -lurcu-bp -lurcu-common)
LIB_CFLAGS := $(USER_CFLAGS) $(URCU_CFLAGS) -fvisibility=hidden \
	      -DLFQ_BUILDING_LIB
TEST_CFLAGS := $(USER_CFLAGS) -Itests/lib
TEST_HDRS := $(wildcard tests/lib/*.h)

LIB_SRCS := $(wildcard libuser/*.c)
LIB_HDRS := $(wildcard libuser/*.h uapi/*.h kmod/proto/*.h)
LIB_OBJS := $(patsubst libuser/%.c,$(B)/lib/%.o,$(LIB_SRCS))
LIB_A	 := $(B)/lib/liblfq.a
LIB_SO	 := $(B)/lib/liblfq.so.$(SOVER)

HOST_TESTS := $(patsubst tests/host/%.c,$(B)/tests/host/%,$(wildcard tests/host/*.c))
TSAN_TESTS := $(patsubst tests/host/%.c,$(B)/tests/tsan/%,$(wildcard tests/host/*_mt.c))
VM_TESTS   := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(wildcard tests/vm/*.c))
TOOLS	   := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))

.PHONY: all kmod lib tools tests check demo fuzz stress deps install uninstall \
	clean bench bench-tools dist-tools dkms dkms-src deb check-install
all: kmod lib tools tests dist-tools

# modpost writes a generated *.mod.c beside each module's sources; every
# build writes it again, so none is left in kmod/ (whose .c files are ours).
kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules
	rm -f kmod/*.mod.c kmod/tests/*.mod.c

lib: $(LIB_A) $(LIB_SO)
tools: $(TOOLS)
tests: $(HOST_TESTS) $(TSAN_TESTS) $(VM_TESTS)

$(B)/lib/%.o: libuser/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

# The .a holds one relocatable object in which every symbol but the API
# (default visibility) is local, as in the .so.
$(LIB_A): $(LIB_OBJS)
	rm -f $@
	$(LD) -r -o $(B)/lib/liblfq-all.o $^
	objcopy --localize-hidden --localize-symbol=lfq_get_stats_v2 \
		--localize-symbol=lfq_get_stats_v6 \
		--localize-symbol=lfq_get_stats_v5 \
		--localize-symbol=lfq_inline_producer_v7 \
		--localize-symbol=lfq_inline_producer_v3 \
		--localize-symbol=lfq_inline_consumer_v7 \
		--localize-symbol=lfq_inline_consumer_v3 $(B)/lib/liblfq-all.o
	ar rcs $@ $(B)/lib/liblfq-all.o

$(LIB_SO): $(LIB_OBJS) libuser/liblfq.map
	$(CC) -shared -Wl,-soname,liblfq.so.$(SOVER) \
		-Wl,--version-script=libuser/liblfq.map $(LDFLAGS) -o $@ \
		$(LIB_OBJS) $(URCU_LIBS)
	ln -sf liblfq.so.$(SOVER) $(B)/lib/liblfq.so

# The .pc names the directories of the install (written by make install).
PC_SED := -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	  -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|'

# Tests and tools link liblfq statically: the VM guest has no libc, and
# host tests then run the exact objects the library ships.
$(B)/tests/host/%: tests/host/%.c $(LIB_A) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(URCU_CFLAGS) $< -o $@ $(LIB_A) $(URCU_LIBS) \
		-lpthread

# abi_so loads the .so (dlopen), as a program built against an older
# liblfq does, and reads the version map it checks the .so against.
$(B)/tests/host/abi_so: $(LIB_SO) libuser/liblfq.map
$(B)/tests/host/abi_so: TEST_CFLAGS += -DLIBLFQ_SO='"$(abspath $(LIB_SO))"' \
	-DLIBLFQ_MAP='"$(abspath libuser/liblfq.map)"'
$(B)/tests/host/abi_so: URCU_LIBS += -ldl

# ThreadSanitizer: the multi-threaded host tests, library sources compiled in.
$(B)/tests/tsan/%: tests/host/%.c $(LIB_SRCS) $(LIB_HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(URCU_CFLAGS) -DLFQ_TSAN -fsanitize=thread -O1 \
		$< $(LIB_SRCS) -o $@ $(URCU_LIBS) -lpthread

# lfq-bench's mode bookkeeping and targets, without the suites or peers.
BENCH_MODES_SRCS := tools/bench/bench_modes.c tools/bench/bench_report.c \
		    tools/bench/bench_targets.c tools/bench/bench_util.c
$(B)/tests/host/bench_modes: tests/host/bench_modes.c $(BENCH_MODES_SRCS) \
		tools/bench/bench.h $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -Itests/lib $< $(BENCH_MODES_SRCS) -o $@ \
		-lpthread

$(B)/tests/vm/%: tests/vm/%.c $(LIB_A) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -static $< -o $@ $(LIB_A) $(URCU_LIBS) -lpthread

# A VM test may build a host test's source against /dev/lfq.
$(B)/tests/vm/no_syscalls_kernel: tests/host/no_syscalls.c
$(B)/tests/vm/mpsc_kernel: tests/host/mpsc_lib.c
$(B)/tests/vm/mpmc_kernel: tests/host/mpmc_lib_mt.c
$(B)/tests/vm/mpmc_rec_kernel: tests/host/mpmc_lib_mt.c
$(B)/tests/host/mpmc_rec_lib_mt: tests/host/mpmc_lib_mt.c
$(B)/tests/tsan/mpmc_rec_lib_mt: tests/host/mpmc_lib_mt.c
$(B)/tests/vm/space_liar_kernel: tests/host/space_liar.c
$(B)/tests/vm/wake_threshold_kernel: tests/host/wake_threshold_mt.c
$(B)/tests/vm/rec_kernel: tests/host/rec_lib.c
$(B)/tests/vm/rec_elastic_kernel: tests/host/rec_elastic_mt.c
$(B)/tests/vm/rec_ow_kernel: tests/host/rec_ow_lib.c

$(B)/tools/%: tools/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -static $< -o $@ $(LIB_A) $(URCU_LIBS) -lpthread

# The installed tools link liblfq.so, as a program of a user's would (the
# static ones above are for the test VM, which has no libc).
DIST_TOOLS := $(B)/dist/lfqctl $(B)/dist/lfq-stream
dist-tools: $(DIST_TOOLS)
$(B)/dist/%: tools/%.c $(LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -fPIE -pie $(LDFLAGS) $< -o $@ -L$(B)/lib -llfq

# lfq-bench (tools/bench/) is not the product: `make` and `make install`
# need none of its peers. The host program links every peer (DPDK,
# Concurrency Kit, boost, liburcu; tools/bench/install-peers.sh installs
# them); lfq-bench-vm is the static subset the test VM runs. `make bench`
# and make check's bench layer install the peers and build both.
BENCH_HDRS   := $(wildcard tools/bench/*.h) $(LIB_HDRS)
BENCH_COMMON := tools/bench/lfq-bench.c tools/bench/bench_report.c \
		tools/bench/bench_util.c tools/bench/bench_targets.c \
		tools/bench/bench_modes.c tools/bench/suite_ipc.c
BENCH_HOST   := $(BENCH_COMMON) tools/bench/suite_spsc.c \
		tools/bench/suite_mpsc.c tools/bench/suite_mpmc.c \
		tools/bench/suite_mpmc_proc.c \
		tools/bench/suite_icount.c \
		tools/bench/suite_elastic.c \
		tools/bench/suite_phys.c tools/bench/bench_vm.c \
		tools/bench/bench_inmem.c \
		$(wildcard tools/bench/peer_*.c)
BENCH_VM     := $(BENCH_COMMON) tools/bench/suite_stream.c \
		tools/bench/suite_flight.c
BENCH_CFLAGS := $(filter-out -std=c11,$(TEST_CFLAGS)) -std=gnu11 \
		-Itools/bench -DALLOW_EXPERIMENTAL_API \
		$(shell pkg-config --cflags libdpdk 2>/dev/null)
BENCH_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null) -lck \
		-lurcu-cds -lstdc++ -lpthread -lrt
BENCH_VM_LIBS := -lbpf -lelf -lz -lpthread -lrt

$(B)/tools/bench/peer_boost.o: tools/bench/peer_boost.cpp $(BENCH_HDRS)
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -g -Wall -Wextra -Werror -Itools/bench -c $< -o $@

$(B)/tools/bench/lfq-bench: $(BENCH_HOST) $(BENCH_HDRS) $(LIB_A) \
		$(B)/tools/bench/peer_boost.o
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(BENCH_HOST) $(B)/tools/bench/peer_boost.o \
		-o $@ $(LIB_A) $(URCU_LIBS) $(BENCH_LIBS)

# The stream suite's BPF program (clang -target bpf), embedded in the static
# lfq-bench-vm as a libbpf skeleton; libbpf, libelf and zlib link statically.
BPF_CLANG := clang
BPFTOOL	  := $(shell command -v bpftool || echo /usr/sbin/bpftool)

$(B)/tools/bench/stream_ringbuf.bpf.o: tools/bench/stream_ringbuf.bpf.c
	@mkdir -p $(@D)
	$(BPF_CLANG) -target bpf -O2 -g -Wall -Werror \
		-I/usr/include/$(shell $(CC) -dumpmachine) -c $< -o $@

$(B)/tools/bench/stream_ringbuf.skel.h: $(B)/tools/bench/stream_ringbuf.bpf.o
	$(BPFTOOL) gen skeleton $< name stream_ringbuf >$@.tmp
	mv $@.tmp $@

$(B)/tools/bench/lfq-bench-vm: $(BENCH_VM) $(BENCH_HDRS) $(LIB_A) \
		$(B)/tools/bench/stream_ringbuf.skel.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -DLFQ_BENCH_VM -I$(B)/tools/bench -static \
		$(BENCH_VM) -o $@ $(LIB_A) $(URCU_LIBS) $(BENCH_VM_LIBS)

bench-tools: $(B)/tools/bench/lfq-bench $(B)/tools/bench/lfq-bench-vm

bench: deps
	tools/bench/install-peers.sh
	$(MAKE) all bench-tools
	tools/bench/make-bench.sh

deps:
	tools/install-deps.sh

check: deps
	$(MAKE) all
	tests/check.sh

demo: deps
	$(MAKE) all
	tools/demo.sh

# The record protocol's stress: STRESS_RECORDS records of random sizes in
# each of rec_mt's seven configurations (threads on a bare ring, host).
STRESS_RECORDS	?= 100000000
stress: deps
	$(MAKE) all
	LFQ_REC_RECORDS=$(STRESS_RECORDS) $(B)/tests/host/rec_mt

FUZZ_CALLS	?= 10000000
FUZZ_MINUTES	?= 60
FUZZ_SEED	?=
fuzz: deps
	$(MAKE) all
	tests/fuzz.sh $(FUZZ_CALLS) $(FUZZ_MINUTES) $(FUZZ_SEED)

MAN_PAGES := $(wildcard tools/man/*.[1347])
# liblfq.h and the uapi; lfq_inline.h and the protocol headers it inlines.
PUBLIC_HDRS := libuser/liblfq.h uapi/lfq.h uapi/lfq_ring.h uapi/lfq_event.h \
	libuser/lfq_inline.h kmod/proto/lfq_spsc.h kmod/proto/lfq_common.h \
	kmod/proto/lfq_atomic.h
install: lib dist-tools
	install -d $(DESTDIR)$(INCLUDEDIR)/lfq $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(BINDIR)
	install -m 644 $(PUBLIC_HDRS) $(DESTDIR)$(INCLUDEDIR)/lfq/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf liblfq.so.$(SOVER) $(DESTDIR)$(LIBDIR)/liblfq.so
	sed $(PC_SED) libuser/liblfq.pc.in \
		>$(DESTDIR)$(LIBDIR)/pkgconfig/liblfq.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/liblfq.pc
	install -m 755 $(DIST_TOOLS) $(DESTDIR)$(BINDIR)/
	for p in $(MAN_PAGES); do \
		s=$${p##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/lfq/,$(notdir $(PUBLIC_HDRS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/lfq
	rm -f $(DESTDIR)$(LIBDIR)/liblfq.a $(DESTDIR)$(LIBDIR)/liblfq.so \
		$(DESTDIR)$(LIBDIR)/liblfq.so.$(SOVER) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/liblfq.pc
	rm -f $(DESTDIR)$(BINDIR)/lfqctl $(DESTDIR)$(BINDIR)/lfq-stream
	for p in $(MAN_PAGES); do \
		s=$${p##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${p##*/}; \
	done

# The module's sources as DKMS builds them: /usr/src/lfq-VERSION.
DKMS_SRC := $(DESTDIR)/usr/src/lfq-$(VERSION)
dkms-src:
	tools/packaging/dkms-src.sh "$(DKMS_SRC)" $(VERSION)
dkms: dkms-src
	dkms add lfq/$(VERSION)
	dkms build lfq/$(VERSION)
	dkms install lfq/$(VERSION)

deb: deps
	tools/packaging/build-deb.sh $(VERSION) $(B)/deb

check-install: deb
	tools/packaging/check-install.sh $(B)/deb

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(B)
