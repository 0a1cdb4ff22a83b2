/*
 * gc/barrier.c -- the write barrier's out-of-line half [G6].
 *
 * The inline half (wgc/heap.h) calls this only for an object whose header
 * has WGC_HEADER_BARRIER_ set.  The full-heap mode never sets it, so here
 * the call only arrives from code built with WGC_NO_INLINE, where it checks
 * its arguments in debug builds and does nothing else.
 */
#include "gc/internal.h"

void (wgc_write_barrier)(wgc_heap *heap, void *obj)
{
    if (!obj || !wgc__check_heap(heap))
        return;
#if WGC_DEBUG_CHECKS
    if (heap->callback != CALLBACK_NONE)
        wgc__misuse(heap, "wgc_write_barrier on %p from inside a collection "
                          "(a trace callback, destructor or hook)", obj);
    else if (!wgc_is_object(heap, obj))
        wgc__misuse(heap, "wgc_write_barrier on %p, not a live object of "
                          "this heap", obj);
    else if (*header_of(obj) & WGC_HEADER_BARRIER_)
        wgc__misuse(heap, "object %p (type %s) has the barrier bit set in "
                          "the full-heap mode: its header was overwritten",
                    obj, type_of(obj)->name ? type_of(obj)->name : "?");
#endif
}
