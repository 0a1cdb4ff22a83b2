/*
 * gc/roots.h -- the root sets: handles in slabs, frames, kept objects (gc/roots.c).
 * Not installed.
 */
#ifndef WGC_GC_ROOTS_H
#define WGC_GC_ROOTS_H

#include "gc/object.h"
#include "gc/vec.h"


/* A persistent handle's slot, in a slab the heap owns (gc/roots.c).  The
 * wgc_root pointer a user holds is not the slot's address but a token that
 * names the slot and its generation; `handle` is the token of the slot's
 * live handle, or of its last one with bit 0 set while the slot is free. */
typedef struct root_slot {
    void *object;
    struct root_slot *prev, *next; /* live: creation order; free: free list */
    uintptr_t handle;
} root_slot;
typedef struct root_slab root_slab;

/* heap->roots, the root sets but the frames: gc/roots.c's, the only code
 * that writes (or reads) it [R2].  Frames stay in heap->pub, where the inline
 * WGC_FRAME pushes them. */
typedef struct root_set {
    root_slot *first, *last;  /* live handles, creation order */
    root_slot *free;          /* free slots of the slabs, most recent first */
    root_slab *slabs;
    vec kept;                 /* keep-during-job objects, once each */
    bool kept_overflow;       /* kept objects missing from `kept` (it could
                               * not grow): found by their header bit */
#if WGC_DEBUG_CHECKS
    unsigned long stack_thread; /* the thread whose stack_lo is cached */
    const char *stack_lo;       /* its stack's lowest address [R1] */
#endif
} root_set;

/* ============================================================ roots.c */

void wgc__roots_init(wgc_heap *heap);

void wgc__roots_trace(wgc_heap *heap, wgc_visitor *v);
/* After each stretch of user code in a collection (hooks, trace callbacks,
 * destructors) and before anything reads the frames again: the frame
 * stack must be as at its start (`saved`).  A frame pushed there (by the
 * inline WGC_FRAME, which cannot see the phase) is misuse: undone, and
 * false, which the collection returns as WGC_EREENTRY. */
bool wgc__frames_check(wgc_heap *heap, wgc_frame *saved);
void wgc__roots_free(wgc_heap *heap);
/* Calls fn on every root slot in the order the collection traces them:
 * handles (creation order; index: ordinal), frames (innermost first;
 * index: the frame's depth, slot: its position in the frame), the kept
 * list (index: position); `at` is the slot's address.  Not the kept objects missing from the list
 * (kept_overflow) nor the embedder's callback: for diag/walk.c. */
void wgc__roots_each(wgc_heap *heap,
                     void (*fn)(void *arg, wgc_root_kind kind, size_t index,
                                size_t slot, void *at),
                     void *arg);
/* Keeps obj (a live object) until wgc_end_job, if keep_during_job is on.
 * Never fails: without memory it falls back to a walk of the heap. */
void wgc__keep(wgc_heap *heap, void *obj);


#endif
