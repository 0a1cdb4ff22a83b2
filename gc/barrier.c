/*
 * gc/barrier.c -- the write barrier's out-of-line half [G6] [Y2].
 *
 * The inline half (wgc/heap.h) calls this only for an object whose header
 * has WGC_HEADER_BARRIER_ set: in the generational mode, an old object not
 * yet remembered.  The full mode never sets the bit, so there the call only
 * arrives from code built with WGC_NO_INLINE.
 */
#include "gc/internal.h"

void (wgc_write_barrier)(wgc_heap *heap, void *obj)
{
    if (!obj || !wgc__check_heap(heap))
        return;
#if WGC_DEBUG_CHECKS
    if (heap->callback != CALLBACK_NONE) {
        wgc__misuse(heap, "wgc_write_barrier on %p from inside a collection "
                          "(a trace callback, destructor or hook)", obj);
        return;
    }
    if (!wgc_is_object(heap, obj)) {
        wgc__misuse(heap, "wgc_write_barrier on %p, not a live object of "
                          "this heap", obj);
        return;
    }
    if (!heap->generational && (*header_of(obj) & WGC_HEADER_BARRIER_))
        wgc__misuse(heap, "object %p (type %s) has the barrier bit set in "
                          "the full-heap mode: its header was overwritten",
                    obj, type_of(obj)->name ? type_of(obj)->name : "?");
#endif
    uintptr_t *header = header_of(obj);
    if (!(*header & WGC_HEADER_BARRIER_))
        return;
    /* [Y2] Remembered once: the bit stays clear until the next collection
     * has scanned it.  Without room in the set the bit is cleared anyway
     * and the next collection is a major one, which needs no set. */
    WGC_ASSERT_IN(heap, heap->generational); /* only that mode sets the bit */
    *header &= ~WGC_HEADER_BARRIER_;
    void **slot = wgc__vec_push(heap, &heap->remembered);
    if (slot)
        *slot = obj;
    else
        heap->remembered_overflow = true;
}

/* [G10] The remembered set, between collections: empty in the full-heap
 * mode; in the generational one, old (marked) live objects whose barrier
 * bit is clear, remembered once each [Y2]. */
bool wgc__remembered_check(wgc_heap *heap)
{
    const vec *rs = &heap->remembered;
    if (!heap->generational && (rs->count || heap->remembered_overflow))
        return wgc__check_fail(heap, "remembered set: %zu objects (overflow %d) "
                               "in the full-heap mode [Y2]", rs->count,
                               heap->remembered_overflow);
    for (size_t i = 0; i < rs->count; i++) {
        void *obj = VEC_AT(rs, void *, i);
        if (!wgc__is_allocated(heap, obj) || !is_marked(heap, obj))
            return wgc__check_fail(heap, "remembered object %zu (%p) is not %s [Y2]",
                                   i, obj, wgc__is_allocated(heap, obj)
                                               ? "old (marked)" : "a live object");
        if (*header_of(obj) & WGC_HEADER_BARRIER_)
            return wgc__check_fail(heap, "remembered object %zu (%p, %s) has its "
                                   "barrier bit set [Y2]", i, obj,
                                   type_of(obj)->name ? type_of(obj)->name : "?");
    }
    return true;
}
