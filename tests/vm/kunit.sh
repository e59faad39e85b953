# tests/vm/kunit.sh - guest script prefix for the debug kernel: runs the
# KUnit suites (kmod/tests/*.ko, KTAP on the console) before the integration
# tests of tests/vm/guest.sh, which loads lfq.ko again itself.
. /lfq/guest-lib.sh
lfq_run kunit-insmod-lfq insmod /lfq/lfq.ko
lfq_run -t 600 kunit insmod /lfq/lfq_kunit.ko
lfq_run kunit-rmmod rmmod lfq_kunit
lfq_run -t 600 kunit-mpsc insmod /lfq/lfq_mpsc_kunit.ko
lfq_run kunit-mpsc-rmmod rmmod lfq_mpsc_kunit
lfq_run -t 600 kunit-kapi insmod /lfq/lfq_kapi_kunit.ko
lfq_run kunit-kapi-rmmod rmmod lfq_kapi_kunit
lfq_run kunit-rmmod-lfq rmmod lfq
