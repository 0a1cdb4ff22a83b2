/*
 * gc/trace.h -- the trace module: the tracer interface every walk over
 * slots goes through (wgc_visitor and its instances [M4]), the marker's
 * per-worker state, and what marking keeps for weak processing.  The
 * module is gc/mark.c (the tracer, worklist, drain and convergence [M1]),
 * gc/ephemeron.c [M2] and gc/weakproc.c [M3]; they alone write
 * heap->trace (docs/gc.md, "The trace module").  Not installed.
 */
#ifndef WGC_GC_TRACE_H
#define WGC_GC_TRACE_H

#include "gc/object.h"
#include "gc/vec.h"

/* A weak slot seen during marking whose target was not yet marked. */
typedef void (*weak_notify_fn)(wgc_heap *heap, void *owner, void *slot);

/* [M4] One instance of the tracer interface: a walk over slots (marking,
 * the weak fallback, the verifier, a diagnostic walk).  The public
 * wgc_visit* functions skip NULL slots (NULL keys for ephemerons) and
 * hand the rest to these, except that the marking instance is tested for
 * directly and inlined (docs/critical-path.md, "The tracer interface"). */
typedef struct wgc_trace_ops {
    void (*strong)(wgc_visitor *v, void *slot);
    void (*weak)(wgc_visitor *v, void *slot);
    /* A weak slot whose clearing calls notify(heap, owner, slot) inside
     * the collection [W3], in increasing seq [F4]. */
    void (*weak_notify)(wgc_visitor *v, void *slot, void *owner,
                        weak_notify_fn notify, uint64_t seq);
    /* An ephemeron, or with by_value a weak-map entry (wgc__visit_entry);
     * true iff it now waits for its key (only marking waits). */
    bool (*ephemeron)(wgc_visitor *v, void *key_slot, void *value_slot,
                      bool by_value);
    /* A walk that inspects the heap rather than collects it (verify,
     * diag): objects that keep weak slots out of marking and check them
     * afterwards (registry targets, in after_weak) report them to it with
     * wgc_visit_weak. */
    bool inspects;
} wgc_trace_ops;

struct wgc_visitor {
    wgc_heap *heap;
    const wgc_trace_ops *ops;
};

/* Whether the walk wants the weak slots marking does not see (above). */
static inline bool wgc__visit_inspects(const wgc_visitor *v)
{
    return v->ops->inspects;
}

/* ======================================================= the marker state */

typedef struct mark_segment mark_segment;

/* The type last scanned, by header word.  Objects of one type come in
 * runs (lists, trees): comparing the header is a branch the CPU predicts,
 * where reading the type is one more load on the marking's critical path. */
typedef struct type_cache {
    uintptr_t header;
    uint64_t words;
    void (*trace)(void *, wgc_visitor *);
} type_cache;

/* One marking worker: what it alone writes while it marks.  The heap has
 * one; a parallel marker would have one per thread and share the rest of
 * trace_state. */
typedef struct tracer {
    wgc_visitor v;            /* first: the visitor its callbacks get */
    mark_segment *stack;      /* [M1] its worklist, kept between collections */
    void **sp, **base, **end;
    bool overflow;            /* [M1] an object is marked but unscanned */
    type_cache tc;
    uint64_t ephemerons_resolved; /* into stats when marking converges */
} tracer;

/* A notifying weak slot whose target was unmarked when marking met it. */
typedef struct weak_record {
    void *slot;
    void *owner;              /* for notify: the object owning the slot */
    weak_notify_fn notify;
    uint64_t seq;             /* notify order within one collection */
} weak_record;

/* An ephemeron waiting for its key to be marked that needs a record: not
 * alone on its key, or not a key/value pair (see [M2] in gc/ephemeron.c).
 * A NULL key_slot: a weak-map entry waiting by value, value_slot its
 * value. */
typedef struct ephemeron {
    void *key_slot, *value_slot;
    uintptr_t next;           /* the next one waiting on the same key, [M2] */
} ephemeron;

/* The heap's trace substructure (heap->trace). */
typedef struct trace_state {
    tracer marker;            /* the one worker */
    vec weak_records;         /* notifying weak slots (weak_record) [M3] */
    vec weak_slots;           /* plain weak slots (void *): no notify, no
                               * order, so one word each [M3] */
    bool weak_overflow;       /* a weak slot could not be recorded [M3] */
    vec ephemerons;           /* records (ephemeron) [M2] */
    vec ephemeron_spans;      /* spans with ephemeron_heads this collection */
    vec ephemeron_head_pool;  /* zeroed page head arrays kept for the next one */
    bool ephemeron_overflow;  /* an ephemeron could not wait [M2] */
    bool entries_died;        /* a waiting weak-map entry's key died [M2] */
} trace_state;

/* ================================================= the collection's phases */

void wgc__trace_init(wgc_heap *heap);
void wgc__trace_free(wgc_heap *heap);
/* Phase 1: the roots, with the marker. */
void wgc__mark_roots(wgc_heap *heap);
/* [Y1] With the roots of a minor collection: the remembered objects. */
void wgc__mark_remembered(wgc_heap *heap);
/* Phase 2: empties the marker's worklist. */
void wgc__mark_drain(wgc_heap *heap);
/* Phase 3: drains, rescans after an overflow [M1], until nothing new is
 * marked and every ephemeron whose key is marked is traced [M2]. */
void wgc__mark_converge(wgc_heap *heap);
/* Phase 4: clears every dead weak slot and ephemeron, notifies [M3]. */
void wgc__process_weak(wgc_heap *heap);
/* After the weak step: whether a weak-map entry waited on a key that died
 * (only then need maps look for dead keys in their after_weak). */
bool wgc__entries_died(const wgc_heap *heap);

/* Reports every slot of `obj` to `v`: its pointer_words, then its trace. */
void wgc__trace_object(void *obj, wgc_visitor *v);
/* The notifying weak slot of wgc_trace_ops.weak_notify [W3] [F4]. */
void wgc__visit_weak_notify(wgc_visitor *v, void *slot, void *owner,
                            weak_notify_fn notify, uint64_t seq);
/* wgc_visit_ephemeron for a table that empties its own dead entries (the
 * weak map): an entry whose key is not yet marked waits by its value,
 * read now (slots do not change during marking), and true is returned.
 * Its slots are then left alone: when wgc__entries_died says so after the
 * weak step, the table empties every entry of an unmarked key in its
 * after_weak, before any user code runs [W3]. */
bool wgc__visit_entry(wgc_visitor *v, void *key_slot, void *value_slot);

/* ====================================================== weak/tables.c */

/* Runs config.sweep_weak_tables, if any [W16]: after convergence, before
 * the weak step. */
void wgc__sweep_weak_tables(wgc_heap *heap);

#endif
