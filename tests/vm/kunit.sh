# tests/vm/kunit.sh - guest script prefix for the debug kernel: runs the
# KUnit suites of kmod/tests (one module per suite, KTAP on the console)
# before the integration tests of tests/vm/guest.sh, which loads lfq.ko
# again itself. Every module of kmod/tests/Kbuild is listed here once;
# kunit-listed fails if the payload holds a suite module that is not.
. /lfq/guest-lib.sh

LFQ_KUNIT_MODULES="
	lfq_proto_kunit
	lfq_queue_kunit
	lfq_spsc_kunit
	lfq_spsc_hostile_kunit
	lfq_spsc_race_kunit
	lfq_mpsc_kunit
	lfq_mpsc_discard_kunit
	lfq_mpsc_hostile_kunit
	lfq_mpsc_preempt_kunit
	lfq_mpsc_race_kunit
	lfq_mpmc_kunit
	lfq_mpmc_kconsumer_kunit
	lfq_rec_mpmc_kunit
	lfq_rec_kunit
	lfq_rec_ow_kunit
	lfq_rec_nmi_kunit
	lfq_kapi_kunit
	lfq_kconsumer_kunit
	lfq_elastic_kunit
	lfq_elastic_ctx_kunit
	lfq_elastic_rcu_kunit
	lfq_elastic_rec_kunit
"

# Each /lfq/*_kunit.ko must be in LFQ_KUNIT_MODULES (else it never runs).
lfq_kunit_listed() {
	_kl_rc=0
	for _kl_ko in /lfq/*_kunit.ko; do
		_kl_m=${_kl_ko##*/}
		_kl_m=${_kl_m%.ko}
		_kl_in=0
		for _kl_l in $LFQ_KUNIT_MODULES; do
			[ "$_kl_l" = "$_kl_m" ] && _kl_in=1
		done
		if [ "$_kl_in" = 0 ]; then
			echo "kunit.sh: $_kl_m.ko is not in LFQ_KUNIT_MODULES"
			_kl_rc=1
		fi
	done
	return "$_kl_rc"
}

lfq_run kunit-listed lfq_kunit_listed
lfq_run kunit-insmod-lfq insmod /lfq/lfq.ko
for m in $LFQ_KUNIT_MODULES; do
	n=${m#lfq_}
	n=${n%_kunit}
	lfq_run -t 600 "kunit-$n" insmod "/lfq/$m.ko"
	lfq_run "kunit-$n-rmmod" rmmod "$m"
done
lfq_run kunit-rmmod-lfq rmmod lfq
