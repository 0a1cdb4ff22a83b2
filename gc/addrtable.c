/*
 * gc/addrtable.c -- the address-keyed open-addressing table (gc/addrtable.h).
 */
#include "gc/addrtable.h"
#include "gc/internal.h"

#include <stdlib.h>
#include <string.h>

void wgc__addrtable_init(addrtable *t, size_t item_size, size_t min_capacity,
                         wgc_heap *heap)
{
    *t = (addrtable){.item_size = item_size, .min_capacity = min_capacity,
                     .heap = heap};
}

void wgc__addrtable_free(addrtable *t)
{
    free(t->items);
    t->items = NULL;
    t->capacity = t->used = 0;
}

/* The first empty or removed slot on key's probe sequence in `items`. */
static void *free_slot(char *items, size_t capacity, size_t item_size,
                       const void *key)
{
    size_t mask = capacity - 1;
    for (size_t i = wgc__addr_hash(key, capacity);; i = (i + 1) & mask) {
        char *item = items + i * item_size;
        if (!wgc__addrtable_live(item))
            return item;
    }
}

bool wgc__addrtable_reserve(addrtable *t)
{
    if ((t->used + 1) * 2 <= t->capacity)
        return true;
    size_t live = 0;
    for (size_t i = 0; i < t->capacity; i++)
        live += wgc__addrtable_live(wgc__addrtable_at(t, i));
    size_t capacity = t->min_capacity;
    while ((live + 1) * 3 > capacity)
        capacity *= 2;
    char *items = t->heap ? wgc__calloc(t->heap, capacity, t->item_size)
                          : calloc(capacity, t->item_size);
    if (!items)
        return false;
    for (size_t i = 0; i < t->capacity; i++) {
        const char *item = wgc__addrtable_at(t, i);
        if (wgc__addrtable_live(item))
            memcpy(free_slot(items, capacity, t->item_size, wgc__addrtable_key(item)),
                   item, t->item_size);
    }
    free(t->items);
    t->items = items;
    t->capacity = capacity;
    t->used = live;
    return true;
}

void *wgc__addrtable_add(addrtable *t, const void *key)
{
    void *item = free_slot(t->items, t->capacity, t->item_size, key);
    if (!wgc__addrtable_key(item))
        t->used++; /* a tombstone reused was counted already */
    *(const void **)item = key;
    return item;
}

bool wgc__addrtable_check(wgc_heap *heap, const addrtable *t, const char *name,
                          size_t *live)
{
    size_t used = 0, keys = 0;
    for (size_t i = 0; i < t->capacity; i++) {
        const void *key = wgc__addrtable_key(wgc__addrtable_at(t, i));
        used += key != NULL;
        keys += key != NULL && key != ADDR_GONE;
    }
    *live = keys;
    if (used != t->used || t->used * 2 > t->capacity ||
        (t->capacity & (t->capacity - 1)))
        return wgc__check_fail(heap, "%s %p: %zu slots used of %zu, counted %zu",
                               name, (const void *)t->items, used, t->capacity,
                               t->used);
    return true;
}
