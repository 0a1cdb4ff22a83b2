/*
 * gc/ephemeron.h -- the [M2] table of ephemerons waiting on their keys,
 * inline: gc/ephemeron.c makes them wait and clears them, and the drain
 * of gc/mark.c releases them.  For those two files only.  Not installed.
 */
#ifndef WGC_GC_EPHEMERON_H
#define WGC_GC_EPHEMERON_H

#include "gc/marker.h"

/* [M2] The ephemerons waiting on a key hang from one word of its span's
 * side array (a word per 16-byte granule; one word for a large object):
 *
 *   0                       nothing waits on the key;
 *   a key slot (tag 0)      one ephemeron waits, a pair: its value slot is
 *                           the word after its key slot;
 *   a value | WAIT_VALUE    one weak-map entry waits (wgc__visit_entry):
 *                           its value object itself (NULL allowed), its
 *                           slots are the map's business;
 *   (i << 2) | WAIT_RECORD  record i of heap->trace.ephemerons, whose
 *                           `next` continues the list in the same encoding
 *                           (a record with a NULL key slot holds a value).
 *
 * So the usual ephemeron, alone on its key, waits and is released without
 * a record: one word written, one read back; a weak-map entry is not even
 * read again.  Records (24 bytes, and a page fault per 170 of them the
 * first time) were most of the cost of a chain traced against its order. */
#define WAIT_TAGS ((uintptr_t)3)
#define WAIT_RECORD ((uintptr_t)1)
#define WAIT_VALUE ((uintptr_t)2)

static inline uintptr_t *waiting_head(span *s, const void *key)
{
    if (s->kind == SPAN_LARGE)
        return &s->ephemeron_heads[0];
    return &s->ephemeron_heads[(size_t)((const char *)key - (const char *)s) / WGC_GRANULE];
}

/* Decodes the waiting ephemeron `w` (non-zero) and returns the next one of
 * the same key (0 at the end): its slots, or a NULL key slot and in
 * *value_slot the value itself (a weak-map entry's). */
static inline uintptr_t waiting_slots(const trace_state *ts, uintptr_t w,
                                      void **key_slot, void **value_slot)
{
    switch (w & WAIT_TAGS) {
    case WAIT_RECORD: {
        const ephemeron *e = &VEC_AT(&ts->ephemerons, ephemeron, w >> 2);
        *key_slot = e->key_slot;
        *value_slot = e->value_slot;
        return e->next;
    }
    case WAIT_VALUE:
        *key_slot = NULL;
        *value_slot = (void *)(w & ~WAIT_TAGS);
        return 0;
    default:
        *key_slot = (void *)w;
        *value_slot = (char *)w + sizeof(void *);
        return 0;
    }
}

/* `key` was just marked: mark the values waiting on it [M2].  Inline: the
 * drain releases keys in its loop, and a chain of ephemerons is one
 * release after another (docs/critical-path.md, Ephemerons). */
static inline void ephemerons_release(tracer *t, void *key)
{
    span *s = span_of(key);
    uintptr_t *head = waiting_head(s, key);
    uintptr_t w = *head;
    if (w == 0)
        return; /* another key of the span waits */
    *head = 0;
    s->ephemeron_keys--;
    const trace_state *ts = &t->v.heap->trace;
    do {
        void *key_slot, *value_slot;
        w = waiting_slots(ts, w, &key_slot, &value_slot);
        t->ephemerons_resolved++;
#if WGC_DEBUG_CHECKS
        wgc_visit(&t->v, key_slot ? value_slot : &value_slot); /* checks the slot */
#else
        /* Mark the value directly.  Each release waits for the one before
         * it (a chain's next key is this value), so a store and reload of
         * a slot for wgc_visit shows. */
        void *value = key_slot ? slot_load(value_slot) : value_slot;
        if (value)
            mark(t, value);
#endif
    } while (w);
}

#endif
