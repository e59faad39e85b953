/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_rules.h - the rules every side of lfq follows, stated once: the
 * memory-ordering pairs (ORDERING), what may be done with shared memory
 * (HOSTILE MEMORY) and who may write which part of a queue (ROLES). The
 * code names the rule it follows ("ORDERING spsc-head") instead of
 * restating it. Declarations only: nothing here compiles to code.
 *
 * ORDERING
 * ========
 * Each entry is a pair: the store (or barrier) on one side and the load
 * (or barrier) on the other that it is ordered against. "P" is a
 * producer, "C" the consumer, "K" the kernel outside the ring protocol,
 * "A" a consumer carrying a shared release boundary (the advance).
 * The atomics shim (lfq_atomic.h) maps each primitive to smp_*() in the
 * kernel and to __atomic builtins in liblfq; both sides run the same code.
 *
 * spsc-head	P: lfq_store_release(head) in lfq_spsc_commit*()
 *		C: lfq_load_acquire(head) in lfq_spsc_peek(), _readable(),
 *		   lfq_spsc_cons_init().
 *		A slot's bytes are visible before the index that covers them.
 * spsc-tail	C: lfq_store_release(tail) in lfq_spsc_release*()
 *		P: lfq_load_acquire(tail) in lfq_spsc_reserve(),
 *		   lfq_spsc_prod_init().
 *		C's reads of a slot are done before P may overwrite it.
 * mpsc-commit	P: lfq_store_release(commit word) in lfq_mpsc_publish()
 *		C: lfq_load_acquire(commit word) in lfq_mpsc_slot_state().
 *		A slot's bytes are visible before its commit word.
 * mpsc-tail	C: lfq_store_release(tail) in lfq_mpsc_release(),
 *		   lfq_mpsc_peek() (skipped discards)
 *		P: lfq_load_acquire(tail) in lfq_mpsc_reserve(),
 *		   lfq_mpsc_prod_init().
 *		As spsc-tail. head itself carries no data: the reservation
 *		CAS is relaxed (no claim) and ordered by this acquire.
 * mpsc-lap	P (or the orphan scan): the release (or cmpxchg) that
 *		   publishes index i - slot_count in its commit word
 *		P: lfq_load_acquire(commit word) in lfq_mpsc_laps_done(),
 *		   for lfq_mpsc_lap_free() and the space waiter's count
 *		   (lfq_ready_space()).
 *		The previous lap's writer is done before index i is written.
 * claim	P: lfq_store_release(claim->start, ->end), then the fully
 *		   ordered CAS of head, in lfq_mpsc_reserve()
 *		K: smp_load_acquire(head), then smp_load_acquire() of each
 *		   claim, then of each commit word, in lfq_orphans_scan().
 *		Every reservation below the head the scan read is covered by
 *		a claim the scan sees (or is committed).
 *		MPMC consumers the same way: C: the records, then the CAS of
 *		tail in lfq_mpmc_take(); K: smp_load_acquire(tail), then of
 *		each live record, then of each release word, in
 *		lfq_cclaims_recover(). Every claim below that tail is
 *		covered by a record the recovery sees, or released. The
 *		records of in-kernel consumers (in kernel memory) are read
 *		with the live ones. MPMC record consumers: the record, then
 *		the CAS of claim in lfq_rec_mpmc_cas(); K:
 *		smp_load_acquire(claim), then of each live record, then the
 *		header's second read, in lfq_cclaims_recover_rec() and
 *		lfq_rec_mpmc_recover().
 * rec-commit	P: lfq_store_release(header) in lfq_rec_publish()
 *		C: lfq_load_acquire(header) in lfq_rec_peek(),
 *		   _peek_batch(); K: smp_load_acquire(header) in
 *		   lfq_orphans_walk_rec().
 *		A record's payload is written before its header shows it.
 * rec-release	C: zeroing of the record's payload words, then
 *		   lfq_store_release(tail) in lfq_rec_tail()
 *		P: lfq_load_acquire(tail) in lfq_rec_reserve().
 *		Bytes a producer reserves read zero, or a header of an
 *		earlier lap, until it writes them: a later record's header
 *		is never a stale payload word. K: the walk's acquire of tail
 *		after each header: a header read before the consumer passed
 *		it belongs to this lap.
 * rec-reclaim	Overwrite mode. T (a taker: a producer in
 *		   lfq_rec_reclaim(), the consumer in lfq_rec_own()): fully
 *		   ordered compare-and-swap of tail to tail | owner bit, then
 *		   the header's load; its store of tail, release, ends it.
 *		Others: lfq_load_acquire(tail) before any header they act on.
 *		One taker at a time, and only it reads the header at tail:
 *		never a newer record's payload word at a stale position.
 *		K: the same compare-and-swap in lfq_orphans_reclaim(),
 *		   before the claims' loads (an owner's claim precedes its
 *		   take of tail).
 * rec-snapshot	T: the take of tail (fully ordered) or the consumer's
 *		   LFQ_REC_RELEASED marks, then lfq_smp_wmb(), then zeroing
 *		S: the copy, lfq_smp_rmb(), then the header's and tail's
 *		   loads in lfq_rec_snap_check(); in lfq_rec_snap_next() the
 *		   header, then tail.
 *		A snapshot that read a zeroed or rewritten word sees the
 *		header changed or tail at (with an owner) or past the
 *		record, and drops its copy: no copy kept is torn.
 * rec-lap-guard	P: the claim's lfq_store_release()s (the start marked
 *		   pending, LFQ_REC_CLAIM_HELD), then the fully ordered CAS
 *		   of head (claim above), in lfq_rec_reserve(); then the
 *		   compare-and-swap that promotes the mark (with
 *		   LFQ_REC_CLAIM_WON), before any write in the range
 *		   (lfq_rec_claim_promote()); at the publication,
 *		   LFQ_REC_CLAIM_HELD taken off
 *		   (lfq_rec_publish() for a process's claim,
 *		   lfq_kclaim_unmark() for a kernel one) before the header's
 *		   release (rec-commit).
 *		K: the head a range starts at (and tail, acquired),
 *		   smp_rmb(), then the kernel claims' bits and ranges, and
 *		   the registered process claims' bits and ranges, in
 *		   lfq_kclaims_lap_guard().
 *		   A pending mark a lap behind is dropped by a
 *		   compare-and-swap on the same start word, which the
 *		   promotion races: one of the two fails. Both relaxed:
 *		   their order on the word decides, and the guard writes
 *		   nothing in a promoted record.
 *		A kernel producer sees the mark of every range reserved
 *		below the head it read by a claimed producer and not yet
 *		published (pending or held), and no mark on one the tail it
 *		read has passed: it reserves nothing that reaches a record
 *		being written a lap on, and refuses nothing honest
 *		(tests/model/rec_lap_guard.pml).
 * rec-mpmc-claim	C: lfq_load_acquire(header) at claim (the record's
 *		   payload, rec-commit), then the fully ordered CAS of claim
 *		   in lfq_rec_mpmc_take()
 *		C': lfq_load_acquire(claim) before the header's load there.
 *		The CAS gives the record to one consumer; a header read at
 *		a stale claim is never used (the CAS fails), and one read at
 *		a fresh claim is read after what made claim move. A waiter
 *		(lfq_rec_ready_data()): acquire of the header at the claim it
 *		read, then the acquire re-read of claim; a header another
 *		consumer released there was released after its CAS moved
 *		claim, so the re-read sees claim moved.
 * rec-mpmc-release	C: zeroing of the record's payload words, then
 *		   lfq_store_release(header | LFQ_REC_RELEASED) in
 *		   lfq_rec_mpmc_finish()
 *		A: lfq_load_acquire_after_mb(header) at tail in
 *		   lfq_rec_mpmc_advance(), then the fully ordered CAS of
 *		   tail; P: lfq_load_acquire(tail) in lfq_rec_reserve()
 *		   (rec-release).
 *		Bytes producers reserve read zero or a passed header, as
 *		with one consumer, whoever released them.
 * rec-mpmc-advance	C: the mark (rec-mpmc-release), smp_mb(), then the
 *		   load of tail in lfq_rec_mpmc_advance()
 *		A: the fully ordered CAS of tail, then the next header's
 *		   lfq_load_acquire_after_mb() (a seq_cst load in C11: after
 *		   a seq_cst CAS an acquire load is no store-load barrier).
 *		The store-buffering pair: a releaser whose record is not at
 *		tail yet and the advancer that stops just before it do not
 *		both miss each other, so no release is left behind tail for
 *		good. tests/model/rec_mpmc.pml (ADVANCE_BEFORE_MARK fails).
 *		A take that finds nothing runs the advance too: it repairs
 *		the advance of a releaser that died after its mark.
 * mpmc-release	C: lfq_store_release(release word) in lfq_mpmc_publish()
 *		P: lfq_load_acquire(release word) in lfq_mpsc_laps_done(),
 *		   for lfq_mpsc_lap_free() on an MPMC ring.
 *		A consumer's reads of index i - slot_count are done before
 *		index i is written into the slot.
 * mpmc-torn	P: lfq_mpsc_mark()'s stores of the commit words, then
 *		   smp_wmb(), then the data stores (the caller's).
 *		C: the reads of the records (the caller's), then smp_rmb()
 *		   in lfq_mpmc_torn(), then the commit words.
 *		The seqlock shape: a consumer that read any byte a producer
 *		of a later lap wrote (let in by a forged release word) sees
 *		that producer's mark or commit, and drops the record.
 *		tests/model/mpmc_torn.pml.
 * rec-mpmc-torn	P: the CAS of head in lfq_rec_reserve(), then smp_wmb(),
 *		   then the writes of the reservation.
 *		C: the reads of the record (the caller's), then smp_rmb()
 *		   in lfq_rec_mpmc_intact(), then the load of head.
 *		Message passing: a consumer that read a byte a producer of
 *		a later lap wrote over its record sees head a ring past it.
 * mpmc-claim	C: lfq_load_acquire(commit word) in lfq_mpsc_slot_state(),
 *		   then the CAS of tail (the claim index) in
 *		   lfq_mpmc_claim(): relaxed without a claim record, fully
 *		   ordered after one (as claim, for the consumer's record).
 *		The claim carries no data: the commit word's acquire orders
 *		the slot's reads (mpsc-commit), and the CAS gives the slot to
 *		one consumer only.
 * kclaim	K: test_and_set_bit_lock() in lfq_kclaim_get()
 *		K: clear_bit_unlock() in lfq_kclaim_put().
 *		A kernel claim's last user is done before the next takes it.
 * wake-data	(Symmetric queues; asymmetric ones: wake-asym below.)
 *		Dekker: P stores (head, or commit words), full barrier,
 *		   loads need_data: lfq_wake_flag() after the publish
 *		   (liblfq's inline SPSC views: the light sequence on a
 *		   word that reads set, then lfq_inline_wake_check())
 *		C stores need_data = 1, full barrier, loads head (SPSC) or
 *		   commit words (MPSC): lfq_spsc_arm_data_wait(),
 *		   lfq_mpsc_arm_data_wait().
 *		At least one side sees the other's store: a sleeper is
 *		never missed. (libbpf's 2023 lost wakeup was this pair with
 *		a release store where the full barrier must be.)
 * wake-space	(Symmetric queues; asymmetric ones: wake-asym below.)
 *		Dekker: C stores tail, full barrier, loads need_space
 *		   (lfq_spsc_release_check(), lfq_mpsc_release(),
 *		   lfq_mpsc_peek_check(); liblfq's inline SPSC views:
 *		   lfq_inline_wake_check(), as in wake-data)
 *		P stores need_space = 1, full barrier, loads tail:
 *		   lfq_arm_space_wait(); on MPSC it then loads the commit
 *		   words of the slots that tail frees (lfq_ready_space()).
 *		   C advanced tail only past commits it acquired, so a P
 *		   that sees the new tail sees those commits too.
 *		liblfq's in-process elastic queues, a frame for a new
 *		   segment: lfq_local_retired() or lfq_local_trim() pools
 *		   or frees a frame (a linker links one; a failed grow
 *		   lowers the live count it raised), full barrier, loads
 *		   need_space (lfq_local_wake_space()); P arms as above,
 *		   then reads the live count, the pool and the allocated
 *		   frames (lfq_local_may_grow(), from lfq_elastic_ready()
 *		   or lfq_local_sealed_space()).
 *		Elastic queues, also: a producer that links a segment
 *		   (K: lfq_seg_advance(), smp_mb() then need_space, waking
 *		   through space_work; liblfq in-process: the grow, the
 *		   RCU callback that pools a frame and the trim that frees
 *		   one, lfq_local_wake_space()) pairs with a P that counted
 *		   no room at seg_max after arming.
 * wake-queue	K: prepare_to_wait() (sleeper queued, then arms and
 *		   re-checks) in lfq_queue_wait()
 *		K: wq_has_sleeper() after clearing the flag, in
 *		   lfq_wake_one().
 * wake-futex	liblfq, memfd queues: the waker's lfq_xchg(flag, 0) (full
 *		   barrier) before FUTEX_WAKE
 *		the sleeper's FUTEX_WAIT, which sleeps only while the flag
 *		   still holds the armed value.
 * wake-asym	On an LFQ_WAKE_ASYMMETRIC queue, wake-data and wake-space
 *		   with one light side: a publisher stores (release), then
 *		   lfq_compiler_barrier(), then loads the flag relaxed
 *		   (lfq_wake_flag(), lfq_publish_index() with @light;
 *		   liblfq's inline commit and release, which on a
 *		   symmetric queue read a word that is always set and
 *		   leave the fence and the real flag to
 *		   lfq_inline_wake_check());
 *		the sleeper arms its flag (full barrier), then the heavy
 *		   fence: K on_each_cpu() of smp_mb() (lfq_heavy_fence()
 *		   in lfq_wait.c), liblfq membarrier(2) GLOBAL_EXPEDITED
 *		   (lfq_fence_heavy(); publishers registered), then counts
 *		   again. The fence runs a full barrier on the publisher's
 *		   CPU before its store (its load sees the flag), after its
 *		   load (the sleeper's count sees the store), or between
 *		   them (the Dekker pair). tests/model/wake_asym.pml, with
 *		   the mutants NO_HEAVY and LOAD_BEFORE_STORE. An elastic
 *		   queue's publishers store in any segment. Its data
 *		   sleeper's count after the fence reads its segment and
 *		   the ones after a drained, sealed one (lfq_seg_reading(),
 *		   lfq_elastic_ready()): a store in a later segment comes
 *		   after that segment's seal and link. Its space sleeper's
 *		   count reads the live count and the newest segment (and
 *		   in process memory the pool): a release there is a store
 *		   it reads; a retirement or a link publishes with a full
 *		   barrier before it reads the flag (lfq_seg_advance(),
 *		   lfq_local_wake_space()), or wakes the wait queue
 *		   whatever the flag says (the kernel's retirement). No
 *		   model covers the segments' part: this argument does.
 * wake-threshold	What the Dekker pairs above decide, with counts:
 *		   a sleeper arms its flag with the slots it waits for,
 *		   lowering it (lfq_arm_flag(): the flag holds the least
 *		   any sleeper wants); a publisher that reads a flag
 *		   wakes if it is 1, or if its bound of the slots ready
 *		   reaches it (lfq_wake_due()). The bound is its own new
 *		   index against its cached copy of the other, which only
 *		   lags: never below what the sleeper's re-check would
 *		   count, so the publish that makes a sleeper's count
 *		   enough wakes it. Used by SPSC commits, and by SPSC
 *		   and MPSC releases (one consumer: its tail is exact;
 *		   head read relaxed, stale means more free). MPSC
 *		   commits wake on any flag: out-of-order commits leave
 *		   no producer knowing the consumer's ready count.
 *		   Elastic queues arm 1 (one segment's count is not the
 *		   queue's). tests/model/wake_threshold.pml, with the
 *		   mutants OLD_INDEX, STORE_NOT_MIN, MPSC_COMMIT_BOUND.
 * file-bind	K: smp_store_release(file->private_data), under file->f_lock,
 *		   in lfq_file_publish()
 *		K: smp_load_acquire(file->private_data) in lfq_file_get().
 *		A file's binding is complete before anyone sees it.
 * registry	K: xa_alloc() of a fully initialised queue
 *		K: xa_load() under rcu_read_lock() with
 *		   kref_get_unless_zero(), in lfq_queue_get(); queues are
 *		   freed one grace period after they leave the registry.
 * kcons-tail	K: the kernel consumer's lfq_store_release(tail) before
 *		   it waits (lfq_consumer_wait())
 *		P: the tail acquire of spsc-tail/mpsc-tail.
 * seg-seal	P: the fully ordered CAS that sets LFQ_SEG_SEALED in a
 *		   segment's head word (lfq_seg_seal())
 *		C: lfq_load_acquire(head) in lfq_seg_drained().
 *		Every reservation in the segment is below the end C reads,
 *		and none can follow: C may leave once it has read to it.
 * seg-link	P: the release store of the link to a new segment
 *		   (lfq_seg_publish_link(); in the kernel also
 *		   rcu_assign_pointer() of the segment's next), after
 *		   lfq_seg_open()
 *		P, C: the acquire of the link (lfq_seg_next(),
 *		   rcu_dereference()).
 *		A segment is fully opened (head, tail, base) before anyone
 *		can reach it through a link.
 * seg-grace	C: a retired segment is made unreachable (the consumer's
 *		   chain and the producers' hint moved past it), then an RCU
 *		   grace period passes (kernel: queue_rcu_work(); liblfq:
 *		   call_rcu()), then it is reopened or freed
 *		P: every access to a segment found through a link or the
 *		   hint is inside an RCU read-side section, from reservation
 *		   to commit (kernel producers: preemption disabled).
 *		No producer writes into a segment's next life (mutation
 *		NO_GRACE of tests/model/segments.pml). A record segment is
 *		zeroed after the grace period, before it is pooled
 *		(lfq_seg_retire_work(), lfq_local_retired()): its next life
 *		holds no header of this one (tests/model/rec_segments.pml,
 *		REUSE_UNDRAINED for the wait).
 * seg-hint	P: the fully ordered cmpxchg() that swings the kernel's hint
 *		   (el->pseg) to a successor; then the store of its frame to
 *		   segtab->pseg, smp_mb(), and a re-read of the hint, and
 *		   the store again while it moved (lfq_seg_swing())
 *		A swinger whose store lands after a later swinger's finds
 *		the hint moved and stores the newer frame: the processes'
 *		copy never stays on an older segment, which may be retired
 *		and freed (the "R" shape: store, full barrier, load against
 *		a fully ordered RMW, store; tests/model/seg_hint.pml for
 *		the interleavings, NO_RECHECK and NO_LOOP).
 * seg-cons	C: every access to the segment it leaves, then the release
 *		   store of the next frame to cons_ctl->seg
 *		   (lfq_elastic_cons_move())
 *		K: READ_ONCE(cons_ctl->seg) in lfq_seg_reclaim(), which
 *		   retires no segment named there; then seg-grace.
 *		A consumer that has read to a sealed segment's end but not
 *		yet moved on (asleep, descheduled) keeps it: it is never
 *		zapped or reopened under the consumer's next peek. The
 *		kernel names the oldest live segment there, under the
 *		segments' lock, when it admits a consumer file.
 * seg-pool	C: a spare's frame is emptied and its state set before its
 *		   pool bit is set (kernel: smp_mb__before_atomic() then
 *		   set_bit() in lfq_pool_push(); liblfq: the release RMW of
 *		   lfq_bit_put())
 *		P: the fully ordered test_and_clear_bit() (liblfq: the
 *		   acquire CAS of lfq_bits_take()) that takes the bit.
 *		The producer that takes a spare sees it complete, and no two
 *		producers take the same one.
 *
 * HOSTILE MEMORY
 * ==============
 * Processes can write the control pages, commit words and slots their
 * role maps writable (ROLES), at any time, with any value. The kernel
 * (and liblfq, towards a peer it does not trust) therefore:
 *
 * H1	reads each shared word it uses once (READ_ONCE() or an acquire)
 *	into a local, and uses only the local;
 * H2	clamps every count derived from shared indices to
 *	[0, slot_count] (lfq_ring_count()): a garbage pair reads as a full
 *	ring, never as more;
 * H3	derives no pointer from shared memory: every slot address is
 *	data + (index & mask) * slot_size, inside the queue's own pages;
 * H4	only compares commit words and claim ranges, never indexes with
 *	them;
 * H5	bounds every loop a shared word could keep going (the
 *	reservation CAS for kernel producers, discards skipped by a peek,
 *	the orphan scan, the MPMC recovery, a sleeper's arm of its flag,
 *	a kernel consumer's spin before it sleeps): at most one ring's
 *	worth, or a fixed number of tries;
 * H6	writes no slot before its previous lap is published
 *	(lfq_mpsc_lap_free()), so a forged tail cannot make two writers
 *	share a slot (the CVE-2024-41009 class); in a record queue a
 *	kernel producer reserves nothing a lap or more ahead of a record
 *	another producer still holds (a kernel producer's, or a process
 *	producer's with a registered claim) in the same ring (an elastic
 *	queue's: in the same segment, from its base up;
 *	lfq_kclaims_lap_guard());
 * H7	keeps its own copy of the header and the layout, and never reads
 *	them back from the shared header page;
 * H8	reads a need-wakeup flag as a count to compare only, and one no
 *	honest sleeper writes (above slot_count) as a request to wake
 *	(lfq_wake_due()): a forged flag adds or delays wakeups, never
 *	more.
 *
 * What a liar can do is confined to its own queue: lose, duplicate or
 * garble records, stall a consumer, make producers drop.
 *
 * ROLES
 * =====
 * A file is bound in the producer role, the consumer role or both; the
 * role decides which parts of the mapping it may write, by one rule:
 * lfq_layout_part() in lfq_layout.h. The kernel enforces it on mmap()
 * (PROT_WRITE on a part the role may not write is -EPERM, and such a
 * mapping cannot be made writable later); liblfq maps by the same rule.
 * The wakeup handshake never needs one side to write the other's page:
 * a waker asks the kernel (LFQ_IOC_WAKE) to clear the sleeper's flag.
 * Record queues widen the rule: their consumer writes the data area, or
 * an elastic one's frames (it zeroes what it consumed), and in overwrite mode their producers write
 * the consumer page (they move tail past what they overwrite). A reader
 * (LFQ_ROLE_READER) writes nothing.
 */
#ifndef _LFQ_PROTO_RULES_H
#define _LFQ_PROTO_RULES_H
#endif /* _LFQ_PROTO_RULES_H */
