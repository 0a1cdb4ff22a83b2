/*
 * weak/tables.c -- weak tables the embedder owns [W16]: the hook that runs
 * after marking has converged and before the weak step, and the one
 * question it may ask.
 */
#include "gc/internal.h"

void wgc__sweep_weak_tables(wgc_heap *heap)
{
    if (!heap->config.sweep_weak_tables)
        return;
    heap->config.sweep_weak_tables(heap, heap->config.sweep_weak_tables_user);
}

bool wgc_survives(const wgc_heap *heap, const void *obj)
{
    if (!wgc__check_heap(heap) || !obj)
        return false;
    if (heap->callback != CALLBACK_WEAK_TABLES) {
        wgc__misuse(heap, "wgc_survives(%p) outside config.sweep_weak_tables",
                    obj);
        return false;
    }
#if WGC_DEBUG_CHECKS
    if (!wgc__is_allocated(heap, obj)) {
        wgc__misuse(heap, "wgc_survives(%p): not an object of this heap", obj);
        return false;
    }
#endif
    return is_marked(heap, obj);
}
