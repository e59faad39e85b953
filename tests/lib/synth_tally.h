/* SPDX-License-Identifier: MIT */
/*
 * synth_tally.h - checking SYNTH records (struct lfq_event_synth) taken
 * from a record queue, for the VM tests that read them
 * (tests/vm/rec_sources.c, rec_ow_sources.c): whole, and in order per
 * producer, counted by the context they were made in.
 */
#ifndef LFQ_TEST_SYNTH_TALLY_H
#define LFQ_TEST_SYNTH_TALLY_H

#include <stdint.h>
#include <string.h>

#include "lfq_event.h"
#include "lfq_ring.h"

struct synth_tally {
	uint64_t next[LFQ_SYNTH_PRODUCERS_MAX];
	uint64_t got, bad, order, ctx[5];
};

/* An lfq_record_fn: one SYNTH record checked into the tally @ctx. */
static inline int synth_rec(void *ctx, const void *p, uint32_t len)
{
	struct synth_tally *t = ctx;
	struct lfq_event_synth ev;

	if (len != sizeof(ev)) {
		t->bad++;
		return 0;
	}
	memcpy(&ev, p, sizeof(ev));
	if (ev.hdr.type != LFQ_EVENT_SYNTH || ev.hdr.size != sizeof(ev) ||
	    ev.producer >= LFQ_SYNTH_PRODUCERS_MAX || ev.context > 4) {
		t->bad++;
		return 0;
	}
	if (ev.seq < t->next[ev.producer])
		t->order++;
	t->next[ev.producer] = ev.seq + 1;
	t->ctx[ev.context]++;
	t->got++;
	return 0;
}

#endif /* LFQ_TEST_SYNTH_TALLY_H */
