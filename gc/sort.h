/*
 * gc/sort.h -- the one radix sort, for the arrays a collection puts in
 * order of a 64-bit key: weak records by registration sequence [F4],
 * remembered objects by address [Y5].  Not installed.
 */
#ifndef WGC_GC_SORT_H
#define WGC_GC_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Defines
 *   static void NAME(TYPE *items, TYPE *scratch, size_t n, unsigned low,
 *                    uint64_t bits)
 * a stable LSD radix sort of items[0, n) by KEY(x), an expression of the
 * item `x` of type TYPE giving a uint64_t.  It sorts on the key's bits from
 * `low` up, as long as `bits` has any set at or above them (a key's highest
 * bit, or every bit in which two keys differ), 11 bits a pass; `scratch`
 * holds n items.  The result is in `items`. */
#define WGC_DEFINE_RADIX_SORT(NAME, TYPE, KEY)                                \
    static void NAME(TYPE *items, TYPE *scratch, size_t n, unsigned low,     \
                     uint64_t bits)                                          \
    {                                                                        \
        enum { DIGIT = 11, BUCKETS = 1 << DIGIT };                           \
        TYPE *from = items;                                                  \
        TYPE *to = scratch;                                                  \
        for (unsigned shift = low; shift < 64 && (bits >> shift);            \
             shift += DIGIT) {                                               \
            size_t count[BUCKETS] = {0};                                     \
            for (size_t i = 0; i < n; i++) {                                 \
                TYPE x = from[i];                                            \
                count[((uint64_t)(KEY) >> shift) & (BUCKETS - 1)]++;         \
            }                                                                \
            size_t at = 0;                                                   \
            for (size_t d = 0; d < BUCKETS; d++) {                           \
                size_t c = count[d];                                         \
                count[d] = at;                                               \
                at += c;                                                     \
            }                                                                \
            for (size_t i = 0; i < n; i++) {                                 \
                TYPE x = from[i];                                            \
                to[count[((uint64_t)(KEY) >> shift) & (BUCKETS - 1)]++] = x; \
            }                                                                \
            TYPE *swap = from;                                               \
            from = to;                                                       \
            to = swap;                                                       \
        }                                                                    \
        if (from != items)                                                   \
            memcpy(items, from, n * sizeof *items);                          \
    }

#endif
