/*
 * gc/internal.h -- the heap's internal structures, shared by gc/, weak/ and
 * finalize/.  Not installed.  docs/gc.md explains the design; the tags
 * [G4], [G5] below name two of its invariants.
 *
 * [G1]-[G3], on where objects live, open gc/space.h.
 * [G4] A collection starts only in wgc_alloc's slow path or wgc_collect;
 *      the trigger counts the bytes of the cells (and large objects) the
 *      program took, never runs or pages: see docs/gc.md.
 * [G5] During a collection no user code runs except trace callbacks and
 *      the root callback (then destructors and the event/notify hooks,
 *      which must not touch the heap).  heap->callback names the user
 *      code running; while there is any, allocation and collection
 *      refuse.  Whether a cycle is in progress is another fact,
 *      heap->cycle.phase [C3].
 */
#ifndef WGC_GC_INTERNAL_H
#define WGC_GC_INTERNAL_H

#include "gc/object.h"
#include "gc/vec.h"
#include "gc/space.h"
#include "gc/trace.h"
#include "gc/specials.h"
#include "gc/roots.h"
#include "finalize/heap_part.h"
#include "gc/hash.h"
#include "gc/check.h"

#include <stdlib.h>
#include <string.h>

/* ==================================================================== heap */

/* [G5] Which user code the library runs now.  While it is not
 * CALLBACK_NONE, every entry point that changes the heap refuses. */
typedef enum in_callback {
    CALLBACK_NONE = 0,
    CALLBACK_TRACE,       /* trace callbacks, trace_roots */
    CALLBACK_WEAK_TABLES, /* config.sweep_weak_tables [W16] */
    CALLBACK_DESTRUCTOR,  /* destructors, in a collection */
    CALLBACK_HOOK,        /* on_event, cleanup_pending, the log */
    CALLBACK_HEAP_FREE    /* destructors run by wgc_heap_free */
} in_callback;

/* [C3] Where the collection cycle is: its phases in order, then
 * CYCLE_IDLE.  gc/collect.c runs one phase per step. */
typedef enum cycle_phase {
    CYCLE_IDLE = 0,
    CYCLE_START,      /* retire runs, the start hook */
    CYCLE_ROOTS,      /* flip bitmaps, mark the roots */
    CYCLE_DRAIN,      /* trace until the mark stack is empty */
    CYCLE_EPHEMERONS, /* converge: rescans after overflow [M1] [M2] */
    CYCLE_WEAK_TABLES, /* the embedder's weak tables [W16] */
    CYCLE_WEAK,       /* clear weak references, queue cleanups [W3] */
    CYCLE_SPECIALS,   /* weak maps drop dead entries [W3] */
    CYCLE_DESTRUCT,   /* destructors of dead objects */
    CYCLE_SWEEP,      /* pages and large objects back to the allocator */
    CYCLE_BUDGET,     /* the next trigger [C2], stats */
    CYCLE_NOTIFY,     /* the log, cleanup_pending, the end hook */
    CYCLE_RELEASE,    /* memory back to the OS, after the pause [C2] */
    CYCLE_PHASES
} cycle_phase;

/* What a collection is asked to be: the policy's choice [Y6], or a kind. */
typedef enum collect_kind { COLLECT_AUTO, COLLECT_MINOR, COLLECT_MAJOR } collect_kind;

/* The state of one collection cycle, kept across its phases. */
typedef struct cycle {
    cycle_phase phase;
    bool minor;               /* [Y1] marks only young objects */
    uint64_t start_ns, cpu_start_ns; /* for the pause */
    size_t live_before, live;
    size_t allocated;         /* bytes allocated since the last collection */
    wgc_frame *frames;        /* the frame stack as the cycle found it */
    bool frames_misused;      /* a callback left it changed: WGC_EREENTRY */
} cycle;

struct wgc_heap {
    wgc_heap_inline_ pub;     /* first: what the inline fast paths read */
    in_callback callback;     /* [G5] */
    cycle cycle;              /* [C3] */
    wgc_error error;
    wgc_config config;

    space space;              /* gc/pages.c and gc/alloc.c write it */

    /* collection policy */
    uint64_t epoch;           /* collections so far: orders cleanups [F4] */
    uint64_t mark_epoch;      /* [Y1] majors so far: what marks compare */
    unsigned alloc_bits;      /* marks[alloc_bits] is [G3]'s bitmap */
    size_t budget;            /* [G4] bytes the program may allocate between
                               * two collections */
    size_t external_bytes;    /* [G4] wgc_external_alloc minus _free */
    size_t charged;           /* [G4] bytes of cells handed to runs (their
                               * unused rest given back) and of large objects
                               * since the last collection */
    uint64_t stress_countdown;

    root_set roots;           /* gc/roots.c's; frames: pub.frames */

    /* the generational mode [Y2] */
    bool generational;
    vec remembered;           /* old objects the barrier saw written */
    bool remembered_overflow; /* one missing from `remembered`: next is major */
    size_t major_at;          /* [Y6] old bytes that make the next a major */

    trace_state trace;        /* gc/mark.c, ephemeron.c, weakproc.c */
    bool queued_cleanup;      /* this collection queued cleanup work */

    /* objects whose type has a destructor, in allocation order */
    vec destructibles;
    size_t destructibles_old; /* [Y5] of those, the ones older than the
                               * last collection: a prefix */
    size_t live_small, live_large; /* bytes after the last collection */
    special_set specials;     /* gc/specials.c's */
    cleanup_state cleanup;    /* finalize/'s (finalize/heap_part.h) */

    wgc_heap_stats stats;

    /* fault injection */
    uint64_t requests, fail_at;
    bool fail_sticky;

#if WGC_VALGRIND || WGC_ASAN
    bool memcheck;            /* running under valgrind: annotate */
#endif
#if WGC_DEBUG_CHECKS
    unsigned long owner_thread; /* thread collecting, 0 when none */
    const void *tracing;        /* object whose trace callback runs */
#endif
};


/* The bitmap the running (or last) collection marks in. */
static inline unsigned mark_bits(const wgc_heap *heap)
{
    return (unsigned)(heap->mark_epoch & 1);
}

/* [Y5] Whether a minor collection is running: then an object that keeps
 * its own side tables (a registry, a weak map) need only look at what was
 * added since the last collection. */
static inline bool collecting_minor(const wgc_heap *heap)
{
    return heap->cycle.phase != CYCLE_IDLE && heap->cycle.minor;
}

/* Whether obj is marked by the running (or last) collection. */
static inline bool is_marked(const wgc_heap *heap, const void *obj)
{
    const span *s = span_of(obj);
    if (s->kind == SPAN_LARGE)
        return ((const large *)s)->mark_epoch == heap->mark_epoch;
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

/* For entry points that mutate: checks the heap and that no callback runs [G5] (and in
 * debug builds the thread). */
static inline bool wgc__enter(wgc_heap *heap)
{
    if (!wgc__check_heap(heap))
        return false;
    if (WGC_LIKELY(heap->callback == CALLBACK_NONE) && !WGC_DEBUG_CHECKS)
        return true;
    return wgc__enter_refused(heap);
}
/* [G8] Errors: internal functions return a wgc_error (WGC_OK on success)
 * and record nothing; only an entry point records, with these two. */
/* Records `err` on heap and returns false: `return wgc__fail(h, E);`. */
bool wgc__fail(wgc_heap *heap, wgc_error err);
/* Records `err` unless it is WGC_OK; true for WGC_OK. */
static inline bool wgc__record(wgc_heap *heap, wgc_error err)
{
    return err == WGC_OK || wgc__fail(heap, err);
}
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

/* A collection of the kind the policy chooses [Y6].  WGC_EREENTRY when a
 * callback it ran left the frame stack changed (wgc__frames_check), for
 * an entry point that collects on request to record; else WGC_OK. */
wgc_error wgc__collect(wgc_heap *heap);
wgc_error wgc__collect_as(wgc_heap *heap, collect_kind kind);
/* Debug: [Y3] no old object whose barrier bit is set points to a young
 * one; each one that does is reported ("missing write barrier"). */
bool wgc__verify_barrier(wgc_heap *heap);
/* Invokes fn(heap, obj, arg) on every live object, pages first. */
void wgc__each_object(wgc_heap *heap, bool marked_only,
                      void (*fn)(wgc_heap *, void *, void *), void *arg);

/* ======================================================== memory tools */

#include "gc/memtool.h"

#endif
