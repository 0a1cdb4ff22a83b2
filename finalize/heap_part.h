/*
 * finalize/heap_part.h -- what the core sees of finalization: the layout of
 * heap->cleanup, for the heap struct alone (only finalize/ reads or writes
 * it, through finalize/queue.h), and the questions the core asks.  Not
 * installed.  [F15]
 */
#ifndef WGC_FINALIZE_HEAP_PART_H
#define WGC_FINALIZE_HEAP_PART_H

#include "gc/object.h"

typedef struct queue_owner queue_owner;

/* heap->cleanup: the owners of cleanup queues and the numbering of
 * registrations.  Zero is its initial state. */
typedef struct cleanup_state {
    /* registries and groups, creation order, so that a safe point never
     * walks the weak maps [F4] */
    queue_owner *first, *last;
    /* sequence numbers order registrations heap-wide [F4] */
    uint64_t next_seq;
    /* cleanup callbacks and executors running now (they nest: a callback
     * may drain): "inside a user callback", apart from the phase [F7] */
    unsigned depth;
} cleanup_state;

/* ==================================================== for the core */

/* Whether a cleanup callback or group executor is running: wgc_heap_free
 * refuses then [F7]. */
bool wgc__in_cleanup(const wgc_heap *heap);
/* Every sequence number handed out so far is below it: weak records sort
 * by seq over this many bits. */
uint64_t wgc__seq_end(const wgc_heap *heap);

#endif
