/*
 * gc/object.h -- what every object is: a header word before it [G2], its type, its flag
 * bits, and its slots read as bytes.  Not installed.
 */
#ifndef WGC_GC_OBJECT_H
#define WGC_GC_OBJECT_H

#include "wgc.h"
#include "wgc_build_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define WGC_LIKELY(x) __builtin_expect(!!(x), 1)
#define WGC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Signature words catch stale or wrong handles [docs/gc.md: signatures]. */
#define WGC_SIG_HEAP WGC_HEAP_SIG_    /* "HEAP" */
#define WGC_SIG_DEAD 0xdeadbeefu

#define WGC_GRANULE 16
#define WGC_HEADER_SIZE sizeof(uintptr_t)

static inline uintptr_t *header_of(const void *obj)
{
    return (uintptr_t *)obj - 1;
}

static inline const wgc_type *type_of(const void *obj)
{
    return (const wgc_type *)(*header_of(obj) & ~(uintptr_t)7);
}

/* Header flag bits [G2]: the type pointer is 8-aligned, so the low three
 * bits are free.  Bit 0 is the write barrier's (WGC_HEADER_BARRIER_, in
 * wgc/heap.h [G6]); bit 1 says the object is kept for the current job
 * (keep-during-job), so that each target is listed once per job however
 * often it is kept. */
#define WGC_HEADER_KEPT ((uintptr_t)2)
_Static_assert(WGC_HEADER_KEPT != WGC_HEADER_BARRIER_, "one bit, one meaning");

/* Slots are read and written as bytes so that any pointer type may be
 * visited without breaking C's aliasing rules. */
static inline void *slot_load(const void *slot)
{
    void *p;
    memcpy(&p, slot, sizeof p);
    return p;
}

static inline void slot_store(void *slot, void *value)
{
    memcpy(slot, &value, sizeof value);
}

#endif
