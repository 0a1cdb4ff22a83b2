/*
 * gc/specials.h -- objects with behaviour inside a collection (weak maps, registries,
 * groups) and the cleanup queues of registries and groups.  Not installed.
 */
#ifndef WGC_GC_SPECIALS_H
#define WGC_GC_SPECIALS_H

#include "gc/object.h"
#include "gc/vec.h"

typedef struct special special;
typedef struct special_ops {
    /* After weak slots are cleared, for a special that survived. */
    void (*after_weak)(wgc_heap *heap, special *sp);
    /* Groups and registries own cleanup queues [F4]: the key of the
     * first queued entry (false if none will be delivered by
     * wgc_run_cleanup), and its delivery (the callback's result). */
    bool (*queue_head)(special *sp, uint64_t *epoch, uint64_t *seq);
    int (*deliver)(special *sp, void *arg); /* arg: NULL from run_cleanup */
} special_ops;
struct special {
    uint32_t sig;
    uint32_t index;           /* position in heap->specials */
    uint32_t owner_index;     /* position in heap->owners, if it owns a queue */
    const special_ops *ops;
    wgc_heap *heap;
    size_t pending;           /* entries in its cleanup queue */
};


/* Lists sp, a special just allocated (so still zero), and signs it with
 * `sig`.  On failure (WGC_ENOMEM) it stays unsigned and unlisted: garbage
 * whose destructor's wgc__special_remove does nothing. */
bool wgc__special_add(wgc_heap *heap, special *sp, const special_ops *ops,
                      uint32_t sig);
/* The argument check of a registry's or group's public functions (in
 * finalize/cleanup.c): a live special of `type` signed `sig` (reported as
 * misuse otherwise) on a valid heap.  Debug builds read nothing of a dead
 * one, whose memory may be gone [F8]. */
bool wgc__special_check(const special *sp, uint32_t sig, const wgc_type *type,
                        const char *kind);
/* Delivers up to `max` entries of one owner's queue with deliver(sp, arg),
 * the owner rooted; stops at a failing callback (WGC_ECALLBACK). */
size_t wgc__drain(special *sp, size_t max, int (*deliver)(special *, void *),
                  void *arg);
/* Called by a special's destructor (in the sweep): unlists it if it was
 * listed and marks it dead; the collection then compacts the list with
 * wgc__specials_compact. */
void wgc__special_remove(special *sp);
void wgc__specials_compact(wgc_heap *heap);


#endif
