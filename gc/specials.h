/*
 * gc/specials.h -- objects with behaviour inside a collection: weak maps,
 * registries and groups (gc/specials.c).  Not installed.
 *
 * The collection knows them only as specials: a list in creation order and
 * one step after weak clearing.  Registries' and groups' cleanup queues are
 * finalize/'s (finalize/queue.h); the core sees of them only the hooks of
 * finalize/heap_part.h.
 */
#ifndef WGC_GC_SPECIALS_H
#define WGC_GC_SPECIALS_H

#include "gc/object.h"
#include "gc/vec.h"

typedef struct special special;
typedef struct special_ops {
    /* After weak slots are cleared, for a special that survived [W3]. */
    void (*after_weak)(wgc_heap *heap, special *sp);
    /* [G10] The special's own structure, between collections: true if it
     * holds, else reports the first problem (wgc__check_fail). */
    bool (*check)(wgc_heap *heap, const special *sp);
} special_ops;
struct special {
    uint32_t sig;
    uint32_t index;           /* position in heap->specials.all */
    const special_ops *ops;
    wgc_heap *heap;
};

/* heap->specials: gc/specials.c's, the only code that writes it [G7]. */
typedef struct special_set {
    vec all;                  /* every listed special, creation order; a
                               * dead one leaves NULL until the compaction */
} special_set;

/* ============================================================ specials.c */

void wgc__specials_init(wgc_heap *heap);
void wgc__specials_free(wgc_heap *heap);
/* Lists sp, a special just allocated (so still zero), and signs it with
 * `sig`.  On failure (WGC_ENOMEM) it stays unsigned and unlisted: garbage
 * whose destructor's wgc__special_remove does nothing. */
wgc_error wgc__special_add(wgc_heap *heap, special *sp, const special_ops *ops,
                      uint32_t sig);
/* Called by a special's destructor (in the sweep, or by wgc_heap_free):
 * unlists it if it was listed and marks it dead (WGC_SIG_DEAD); the
 * collection then closes the holes with wgc__specials_compact. */
void wgc__special_remove(special *sp);
/* The collection's step after weak clearing: after_weak of every marked
 * special, in creation order. */
void wgc__specials_after_weak(wgc_heap *heap);
void wgc__specials_compact(wgc_heap *heap);

#endif
