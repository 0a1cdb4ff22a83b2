/*
 * gc/vec.h -- the one growable vector, for every list the heap keeps.  Not installed.
 */
#ifndef WGC_GC_VEC_H
#define WGC_GC_VEC_H

#include "gc/object.h"

#include <stddef.h>

/* A vector of fixed-size items whose growth is an internal memory request
 * (counted and failable, see wgc_debug_fail_request). */
typedef struct vec {
    char *items;
    size_t count, capacity, item_size;
} vec;


void wgc__vec_init(vec *v, size_t item_size);
bool wgc__vec_reserve(wgc_heap *heap, vec *v, size_t extra);
void *wgc__vec_grow_push(wgc_heap *heap, vec *v);
/* A new last item; NULL when growth fails. */
static inline void *wgc__vec_push(wgc_heap *heap, vec *v)
{
    if (WGC_LIKELY(v->count < v->capacity))
        return v->items + v->item_size * v->count++;
    return wgc__vec_grow_push(heap, v);
}
void wgc__vec_free(vec *v);
#define VEC_AT(v, type, i) (((type *)(v)->items)[i])

#endif
