/*
 * gc/hash.h -- the one hash of an address, for every table keyed by object
 * or span identity (the weak map's buckets, the page table, a registry's
 * tokens).  Included by gc/internal.h.
 *
 * [A1] (docs/weak.md) A table keyed by addresses takes its slot from
 *      wgc__addr_hash and from nothing else.  Heap addresses are anything
 *      but random: 16-byte aligned, cells of one size class at a fixed
 *      stride inside 64 KiB pages, pages in runs of 16, mappings stacked
 *      a power of two apart.  One multiply keeps some of that lattice:
 *      the middle bits of (addr >> 4) * phi, which the weak map and the
 *      registry's tokens used, put 65,536 keys into 13% of the buckets,
 *      and the low bits of the page number * phi, which the page table
 *      used, ignore the high bits by which stacked mappings differ.  Two
 *      multiplies with a fold between them spread such keys like random
 *      ones.  tests/test_hash.c holds the tables to that.
 */
#ifndef WGC_GC_HASH_H
#define WGC_GC_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The slot of `addr` in a table of `capacity` slots, a power of two (1
 * included): the top bits of the mixed address, which depend on all of
 * its bits. */
static inline size_t wgc__addr_hash(const void *addr, size_t capacity)
{
    uint64_t h = (uint64_t)(uintptr_t)addr * 0x9e3779b97f4a7c15ull;
    h ^= h >> 32;
    h *= 0xbf58476d1ce4e5b9ull;
    /* Two shifts: one of 64 would be undefined for capacity 1. */
    return (size_t)(h >> 1 >> (63 - (unsigned)__builtin_ctzll(capacity)));
}

#endif
