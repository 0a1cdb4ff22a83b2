/*
 * gc/specials.c -- the list of specials (weak maps, registries, groups):
 * the only code that writes heap->specials (gc/specials.h) [G7].
 */
#include "gc/internal.h"

void wgc__specials_init(wgc_heap *heap)
{
    wgc__vec_init(&heap->specials.all, sizeof(special *));
}

void wgc__specials_free(wgc_heap *heap)
{
    wgc__vec_free(&heap->specials.all);
}

wgc_error wgc__special_add(wgc_heap *heap, special *sp, const special_ops *ops,
                           uint32_t sig)
{
    vec *all = &heap->specials.all;
    if (!wgc__vec_reserve(heap, all, 1))
        return WGC_ENOMEM;
    sp->ops = ops;
    sp->heap = heap;
    sp->index = (uint32_t)all->count;
    VEC_AT(all, special *, all->count++) = sp;
    sp->sig = sig;
    return WGC_OK;
}

/* Specials die in the sweep, many at once: each leaves a hole, and one
 * pass closes them all (wgc__specials_compact), keeping creation order. */
void wgc__special_remove(special *sp)
{
    if (sp->sig == 0)
        return; /* never listed: its constructor ran out of memory */
    /* [G7] Listed once, where its index says. */
    WGC_ASSERT_IN(sp->heap, sp->sig != WGC_SIG_DEAD &&
                                VEC_AT(&sp->heap->specials.all, special *, sp->index) == sp);
    VEC_AT(&sp->heap->specials.all, special *, sp->index) = NULL;
    sp->sig = WGC_SIG_DEAD;
}

void wgc__specials_after_weak(wgc_heap *heap)
{
    vec *all = &heap->specials.all;
    for (size_t i = 0; i < all->count; i++) {
        special *sp = VEC_AT(all, special *, i);
        if (sp->ops->after_weak && is_marked(heap, sp))
            sp->ops->after_weak(heap, sp);
    }
}

void wgc__specials_compact(wgc_heap *heap)
{
    vec *all = &heap->specials.all;
    special **items = (special **)all->items;
    size_t kept = 0;
    for (size_t i = 0; i < all->count; i++) {
        if (!items[i])
            continue;
        items[i]->index = (uint32_t)kept;
        items[kept++] = items[i];
    }
    all->count = kept;
}

/* [G10] Between collections the list is compact (the sweep closed its
 * holes), each special knows its place and heap, is signed and live, and
 * its own check holds. */
bool wgc__specials_check(wgc_heap *heap)
{
    vec *all = &heap->specials.all;
    for (size_t i = 0; i < all->count; i++) {
        special *sp = VEC_AT(all, special *, i);
        if (!sp)
            return wgc__check_fail(heap, "special %zu of %zu: a hole between "
                                   "collections [G7]", i, all->count);
        if (sp->index != i || sp->heap != heap || sp->sig == 0 ||
            sp->sig == WGC_SIG_DEAD || !sp->ops || !wgc__is_allocated(heap, sp))
            return wgc__check_fail(heap, "special %zu (%p): index %u, heap %p, "
                                   "signature %#x, %s [G7]", i, (void *)sp,
                                   sp->index, (void *)sp->heap, (unsigned)sp->sig,
                                   wgc__is_allocated(heap, sp) ? "live" : "not a live object");
        if (sp->ops->check && !sp->ops->check(heap, sp))
            return false;
    }
    return true;
}
