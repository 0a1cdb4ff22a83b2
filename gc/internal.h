/*
 * gc/internal.h -- the heap's internal structures, shared by gc/, weak/ and
 * finalize/.  Not installed.  docs/gc.md explains the design; the tags
 * [G1]... below name its invariants.
 *
 * [G1] Memory: small objects live in 64 KiB pages aligned to 64 KiB, one
 *      size class and one kind (traced or pointer-free) per page; large
 *      objects each have their own mapping, also 64 KiB aligned, whose
 *      start holds a span header.  So span_of(obj) is one mask for both.
 * [G2] Every object is preceded by one header word: its wgc_type pointer.
 *      Objects are 16-byte aligned; cells are multiples of 16 bytes.
 * [G3] Between collections a cell of a page is allocated iff it is marked
 *      in the page's current bitmap (it survived the last collection) or
 *      it lies below the page's allocation frontier (alloc_end, or the
 *      allocator's cursor for the page being allocated from).  Allocation
 *      only moves frontiers forward, through free runs found between
 *      marked cells: lazy sweeping costs nothing but the bitmap scan.
 * [G4] A collection starts only in wgc_alloc's slow path or wgc_collect;
 *      the trigger counts the bytes of the cells (and large objects) the
 *      program took, never runs or pages: see docs/gc.md.
 * [G5] During a collection no user code runs except trace callbacks and
 *      the root callback (then destructors and the event/notify hooks,
 *      which must not touch the heap).  phase != PHASE_MUTATOR means
 *      "inside a collection": allocation and collection refuse.
 */
#ifndef WGC_GC_INTERNAL_H
#define WGC_GC_INTERNAL_H

#include "gc/object.h"
#include "gc/vec.h"
#include "gc/space.h"
#include "gc/trace.h"
#include "gc/specials.h"
#include "gc/roots.h"
#include "gc/hash.h"

#include <stdlib.h>
#include <string.h>

/* ==================================================================== heap */

typedef enum phase {
    PHASE_MUTATOR = 0,
    PHASE_MARK,       /* trace and root callbacks run */
    PHASE_WEAK_TABLES, /* config.sweep_weak_tables runs [W16] */
    PHASE_SWEEP,      /* destructors run */
    PHASE_HOOK,       /* event and cleanup-pending hooks run */
    PHASE_FREE        /* wgc_heap_free is running destructors */
} phase;

struct wgc_heap {
    wgc_heap_inline_ pub;     /* first: what the inline fast paths read */
    phase phase;
    wgc_error error;
    wgc_config config;

    allocator allocators[2][WGC_CLASS_COUNT]; /* [atomic][class] */

    /* pages */
    page *free_pages;         /* empty pages ready for reuse */
    size_t free_page_count;
    char *reserve;            /* mapped pages not yet handed out */
    size_t reserve_pages;
    size_t page_count;        /* pages in allocators and the free pool */
    large *large_objects;
    size_t large_bytes;
    vec page_table;           /* open-addressed set of span addresses */
    size_t page_table_used;

    /* collection policy */
    uint64_t epoch;
    unsigned alloc_bits;      /* marks[alloc_bits] is [G3]'s bitmap */
    uint64_t large_allocs;
    size_t budget;            /* [G4] bytes the program may allocate between
                               * two collections */
    size_t external_bytes;    /* [G4] wgc_external_alloc minus _free */
    size_t charged;           /* [G4] bytes of cells handed to runs (their
                               * unused rest given back) and of large objects
                               * since the last collection */
    large *unmap_large;       /* dead large objects, unmapped after the pause */
    uint64_t stress_countdown;

    /* roots */
    root_slot *roots_first, *roots_last; /* live handles, creation order */
    root_slot *roots_free;    /* free slots of the slabs, most recent first */
    root_slab *root_slabs;    /* frames: pub.frames */
    vec kept;                 /* keep-during-job objects, once each */
    bool kept_overflow;       /* kept objects missing from `kept` (it could
                               * not grow): found by their header bit */

    trace_state trace;        /* gc/mark.c, ephemeron.c, weakproc.c */
    bool queued_cleanup;      /* this collection queued cleanup work */

    /* objects whose type has a destructor, in allocation order */
    vec destructibles;
    /* weak maps, registries and groups, in creation order; and of those the
     * owners of cleanup queues (registries, groups), so that a safe point
     * never walks the weak maps */
    vec specials;
    vec owners;

    /* finalization: sequence numbers order registrations heap-wide */
    uint64_t next_seq;
    /* cleanup callbacks and executors running now (they nest: a callback
     * may drain): "inside a user callback", apart from the phase [F7] */
    unsigned cleanup_depth;

    wgc_heap_stats stats;
    uint64_t claimed_bytes;   /* bytes handed to runs and large objects */

    /* fault injection */
    uint64_t requests, fail_at;
    bool fail_sticky;

#if WGC_VALGRIND || WGC_ASAN
    bool memcheck;            /* running under valgrind: annotate */
#endif
#if WGC_DEBUG_CHECKS
    unsigned long owner_thread; /* thread collecting, 0 when none */
    const void *tracing;        /* object whose trace callback runs */
    unsigned long stack_thread; /* the thread whose stack_lo is cached */
    const char *stack_lo;       /* its stack's lowest address [R1] */
#endif
};


/* The bitmap the running (or last) collection marks in. */
static inline unsigned mark_bits(const wgc_heap *heap)
{
    return (unsigned)(heap->epoch & 1);
}

/* Whether obj is marked by the running (or last) collection. */
static inline bool is_marked(const wgc_heap *heap, const void *obj)
{
    const span *s = span_of(obj);
    if (s->kind == SPAN_LARGE)
        return ((const large *)s)->mark_epoch == heap->epoch;
    const page *p = (const page *)s;
    size_t g = (size_t)((const char *)obj - (const char *)p) / WGC_GRANULE;
    return (p->marks[mark_bits(heap)][g / 64] >> (g % 64)) & 1;
}

/* ============================================================ heap.c */

bool wgc__bad_heap(const wgc_heap *heap);
bool wgc__enter_refused(wgc_heap *heap);
/* Every entry point's first check: cheap, so inline. */
static inline bool wgc__check_heap(const wgc_heap *heap)
{
    if (WGC_UNLIKELY(!heap))
        return false;
    return WGC_LIKELY(heap->pub.sig == WGC_SIG_HEAP) || wgc__bad_heap(heap);
}

/* For entry points that mutate: checks the heap and the phase [G5] (and in
 * debug builds the thread). */
static inline bool wgc__enter(wgc_heap *heap)
{
    if (!wgc__check_heap(heap))
        return false;
    if (WGC_LIKELY(heap->phase == PHASE_MUTATOR) && !WGC_DEBUG_CHECKS)
        return true;
    return wgc__enter_refused(heap);
}
/* Records `err` on heap and returns false: `return wgc__fail(h, E);`. */
bool wgc__fail(wgc_heap *heap, wgc_error err);
void wgc__misuse(const wgc_heap *heap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line to config.log, or to stderr without one (or without a live
 * heap). */
void wgc__log(const wgc_heap *heap, wgc_log_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Internal memory requests: counted, and failed on demand. */
bool wgc__request(wgc_heap *heap);
void *wgc__malloc(wgc_heap *heap, size_t size);
void *wgc__calloc(wgc_heap *heap, size_t count, size_t size);

/* ============================================================ collect.c */

void wgc__collect(wgc_heap *heap);
/* Invokes fn(heap, obj, arg) on every live object, pages first. */
void wgc__each_object(wgc_heap *heap, bool marked_only,
                      void (*fn)(wgc_heap *, void *, void *), void *arg);

/* ======================================================== memory tools */

#include "gc/memtool.h"

#endif
