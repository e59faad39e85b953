/* SPDX-License-Identifier: MIT */
/*
 * rec_pattern.h - records whose length and every byte follow from their
 * producer (0 to 3) and sequence number, for the elastic record queue
 * tests (tests/host/rec_elastic_mt.c, tests/vm/elastic_records.c): a
 * consumer that knows each producer's next sequence number checks a
 * record whole, and a record lost, repeated, reordered or torn shows in
 * its length or bytes. Byte 0 names the producer (bits 6-7) and the
 * sequence's low 6 bits, so even a 1-byte record says whose it is.
 * Header-only, static inline.
 */
#ifndef LFQ_TEST_REC_PATTERN_H
#define LFQ_TEST_REC_PATTERN_H

#include <stdint.h>
#include <string.h>

#include "test_util.h"

#define RP_WHO_MAX	4u	/* producers a pattern tells apart */

/* Bytes a record of @len takes in a ring: its header, then @len to 8. */
static inline uint32_t rp_size(uint32_t len)
{
	return 8 + ((len + 7) & ~7u);
}

/*
 * Record (@who, @seq)'s length: 1 to @max, mostly up to 96 bytes, an
 * eighth of them up to @max, every 61st @max, every 67th one byte.
 */
static inline uint32_t rp_len(uint32_t who, uint64_t seq, uint32_t max)
{
	uint64_t m = mix64((uint64_t)who << 48 ^ seq ^ 0x5eed5eedull);

	if (seq % 61 == 7)
		return max;
	if (seq % 67 == 3)
		return 1;
	return 1 + (uint32_t)(m % 8 ? (m >> 8) % (max < 96 ? max : 96) :
				     (m >> 8) % max);
}

static inline uint64_t rp_key(uint32_t who, uint64_t seq)
{
	return ((uint64_t)who << 56 ^ seq) * 0x9e3779b97f4a7c15ull;
}

static inline unsigned char rp_tag(uint32_t who, uint64_t seq)
{
	return (unsigned char)(who << 6 | (seq & 63));
}

/* Write record (@who, @seq)'s @len bytes at @b. */
static inline void rp_fill(unsigned char *b, uint32_t len, uint32_t who,
			   uint64_t seq)
{
	uint64_t k = rp_key(who, seq), w;
	uint32_t i;

	for (i = 0; i < len; i += 8) {
		w = mix64(k + i);
		memcpy(b + i, &w, len - i < 8 ? len - i : 8);
	}
	b[0] = rp_tag(who, seq);
}

/* Whether the @len bytes at @b are record (@who, @seq)'s. */
static inline int rp_same(const unsigned char *b, uint32_t len, uint32_t who,
			  uint64_t seq)
{
	uint64_t k = rp_key(who, seq), w;
	uint32_t i;

	if (!len || b[0] != rp_tag(who, seq))
		return 0;
	w = mix64(k);
	if (len > 1 && memcmp(b + 1, (const unsigned char *)&w + 1,
			      (len < 8 ? len : 8) - 1))
		return 0;
	for (i = 8; i < len; i += 8) {
		w = mix64(k + i);
		if (memcmp(b + i, &w, len - i < 8 ? len - i : 8))
			return 0;
	}
	return 1;
}

/* The producer a record names (RP_WHO_MAX and above: none of them). */
static inline uint32_t rp_who(const unsigned char *b, uint32_t len)
{
	return len ? b[0] >> 6 : RP_WHO_MAX;
}

#endif /* LFQ_TEST_REC_PATTERN_H */
