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

/* ============================================================ roots.c */

void wgc__roots_trace(wgc_heap *heap, wgc_visitor *v);
/* After each stretch of user code in a collection (hooks, trace callbacks,
 * destructors) and before anything reads the frames again: the frame
 * stack must be as at its start (`saved`).  A frame pushed there (by the
 * inline WGC_FRAME, which cannot see the phase) is misuse, undone and
 * reported (WGC_EREENTRY). */
void wgc__frames_check(wgc_heap *heap, wgc_frame *saved);
void wgc__roots_free(wgc_heap *heap);
/* Keeps obj (a live object) until wgc_end_job, if keep_during_job is on.
 * Never fails: without memory it falls back to a walk of the heap. */
void wgc__keep(wgc_heap *heap, void *obj);


#endif
