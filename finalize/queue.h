/*
 * finalize/queue.h -- the cleanup-queue protocol between the queue owners
 * (finalize/registry.c, weak/group.c) and the safe point that drains them
 * (finalize/cleanup.c).  Rules F4, F7, F8 of docs/finalize.md.  Not
 * installed.
 *
 * [F15] Only finalize/ writes heap->cleanup: the owners reach it through
 * the functions below.  An owner writes its own queue and `pending`.
 */
#ifndef WGC_FINALIZE_QUEUE_H
#define WGC_FINALIZE_QUEUE_H

#include "gc/internal.h"

typedef struct owner_ops {
    /* The key of the first queued entry (false if none will be delivered
     * by wgc_run_cleanup) [F4]. */
    bool (*queue_head)(queue_owner *o, uint64_t *epoch, uint64_t *seq);
    /* Takes the first entry off the queue and runs its callback; returns
     * the callback's result.  arg: NULL from wgc_run_cleanup. */
    int (*deliver)(queue_owner *o, void *arg);
} owner_ops;

/* The head of a registry or group: first in its struct, so its address is
 * the object's. */
struct queue_owner {
    special sp;               /* first: the object is a special */
    const owner_ops *ops;
    size_t pending;           /* entries in its cleanup queue */
    queue_owner *prev, *next; /* heap->cleanup's list, creation order */
};

/* Lists o (an owner just allocated, so still zero) as a special signed
 * `sig` and as a queue owner.  On failure (WGC_ENOMEM) it is neither: its
 * destructor's wgc__owner_remove does nothing. */
wgc_error wgc__owner_add(wgc_heap *heap, queue_owner *o, const special_ops *sops,
                         const owner_ops *ops, uint32_t sig);
/* For the owner's destructor: unlists it, as a special too. */
void wgc__owner_remove(queue_owner *o);
/* The argument check of a registry's or group's public functions: a live
 * owner of `type` signed `sig` (reported as misuse otherwise) on a valid
 * heap.  Debug builds read nothing of a dead one, whose memory may be gone
 * [F8]. */
bool wgc__owner_check(const queue_owner *o, uint32_t sig, const wgc_type *type,
                      const char *kind);
/* Delivers up to `max` entries of o's queue with deliver(o, arg), o
 * rooted; *ran says how many.  Stops at a failing callback: WGC_ECALLBACK,
 * for the entry point to record. */
wgc_error wgc__drain(queue_owner *o, size_t max,
                     int (*deliver)(queue_owner *, void *), void *arg, size_t *ran);

/* The next registration's sequence number [F4]. */
static inline uint64_t wgc__next_seq(wgc_heap *heap)
{
    return heap->cleanup.next_seq++;
}

#endif
