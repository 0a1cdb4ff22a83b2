/*
 * gc/trace.h -- the visitor and what marking keeps: the mark stack, weak records,
 * ephemerons (gc/mark.c), and the other walks that visit slots (gc/verify.c,
 * diag/walk.c).  Not installed.
 */
#ifndef WGC_GC_TRACE_H
#define WGC_GC_TRACE_H

#include "gc/object.h"
#include "gc/vec.h"

typedef enum visit_mode {
    VISIT_MARK,
    VISIT_FIX_WEAK,   /* fallback: clear dead weak slots by re-tracing */
    VISIT_VERIFY,
    VISIT_DIAG        /* diag/: a walk that marks nothing (docs/diag.md) */
} visit_mode;

struct wgc_visitor {
    wgc_heap *heap;
    visit_mode mode;
};

/* A weak slot seen during marking whose target was not yet marked. */
typedef void (*weak_notify_fn)(wgc_heap *heap, void *owner, void *slot);
typedef struct weak_record {
    void *slot;
    void *owner;              /* for notify: the object owning the slot */
    weak_notify_fn notify;
    uint64_t seq;             /* notify order within one collection */
} weak_record;

/* An ephemeron waiting for its key to be marked that needs a record: not
 * alone on its key, or not a key/value pair (see [M2] in gc/mark.c).  A
 * NULL key_slot: a weak-map entry waiting by value, value_slot its value. */
typedef struct ephemeron {
    void *key_slot, *value_slot;
    uintptr_t next;           /* the next one waiting on the same key, [M2] */
} ephemeron;

/* Objects with behaviour inside a collection: weak maps, registries,
 * groups.  They embed this header first and are listed in heap->specials
 * so the collection can fix them up after weak processing [W3]. */
typedef struct mark_segment mark_segment;

/* ============================================================ mark.c */

void wgc__mark_roots(wgc_heap *heap);
void wgc__mark_remembered(wgc_heap *heap);
void wgc__mark_drain(wgc_heap *heap);
void wgc__mark_converge(wgc_heap *heap);
void wgc__process_weak(wgc_heap *heap);
void wgc__mark_free(wgc_heap *heap);
/* Reports every slot of `obj` to `v`: its pointer_words, then its trace. */
void wgc__trace_object(void *obj, wgc_visitor *v);
/* A weak slot whose clearing calls notify(heap, owner, slot) inside the
 * collection, in the same step as every other weak slot [W3].  The
 * notifications of one collection run in increasing `seq` [F4]. */
void wgc__visit_weak_notify(wgc_visitor *v, void *slot, void *owner,
                            weak_notify_fn notify, uint64_t seq);
/* wgc_visit_ephemeron for a table that empties its own dead entries (the
 * weak map): an entry whose key is not yet marked waits by its value,
 * read now (slots do not change during marking), and true is returned.
 * Its slots are then left alone: when heap->ephemeron_entries_died is set
 * after the weak step, the table empties every entry of an unmarked key
 * in its after_weak, before any user code runs [W3]. */
bool wgc__visit_entry(wgc_visitor *v, void *key_slot, void *value_slot);

/* ====================================================== weak/tables.c */

/* Runs config.sweep_weak_tables, if any [W16]: after convergence, before
 * the weak step. */
void wgc__sweep_weak_tables(wgc_heap *heap);

/* ============================================================ verify.c */

/* A slot seen by the verifier (VISIT_VERIFY): reports a dangling target. */
void wgc__verify_slot(wgc_visitor *v, void *slot, const char *kind);

/* ============================================================ diag/walk.c */

/* Slots seen by a diagnostic walk (VISIT_DIAG): strong or weak, and the
 * two slots of an ephemeron [D2]. */
void wgc__diag_slot(wgc_visitor *v, void *slot, bool weak);
void wgc__diag_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot);


#endif
