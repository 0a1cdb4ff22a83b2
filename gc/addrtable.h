/*
 * gc/addrtable.h -- the one open-addressing table keyed by address: the
 * page table (a set of spans), a registry's tokens (token -> first cell)
 * and the diagnostic walk's maps.  Not installed.
 *
 * Each item starts with its key, a `const void *`: NULL is an empty slot,
 * ADDR_GONE a removed key (a tombstone, which lookups walk past).  The
 * slot is wgc__addr_hash's [A1]; probing is linear; the load, tombstones
 * included, stays at most 1/2, and a rehash (which drops the tombstones)
 * leaves it at most 1/3, so add and remove are amortized O(1) however
 * they alternate.  The item size is the caller's: a lookup inlined with a
 * table whose items are one word reads one word per probe.
 */
#ifndef WGC_GC_ADDRTABLE_H
#define WGC_GC_ADDRTABLE_H

#include "gc/hash.h"
#include "gc/object.h"

#include <stdbool.h>
#include <stddef.h>

#define ADDR_GONE ((const void *)1)

typedef struct addrtable {
    char *items;
    size_t capacity;  /* a power of two, or 0 */
    size_t used;      /* keys, tombstones included */
    size_t item_size; /* at least a pointer: the key comes first */
    size_t min_capacity;
    wgc_heap *heap;   /* memory as counted internal requests; NULL: malloc's */
} addrtable;

void wgc__addrtable_init(addrtable *t, size_t item_size, size_t min_capacity,
                         wgc_heap *heap);
void wgc__addrtable_free(addrtable *t);

/* Item i (0 <= i < capacity), empty, removed or live. */
static inline void *wgc__addrtable_at(const addrtable *t, size_t i)
{
    return t->items + i * t->item_size;
}

static inline const void *wgc__addrtable_key(const void *item)
{
    return *(const void *const *)item;
}

/* Whether an item holds a key (neither empty nor removed). */
static inline bool wgc__addrtable_live(const void *item)
{
    const void *key = wgc__addrtable_key(item);
    return key != NULL && key != ADDR_GONE;
}

/* The item of `key` (never ADDR_GONE: keys are aligned); NULL if absent,
 * always for NULL (the page table is asked about span_of anything, a small
 * integer too).  `item_size`
 * is the table's: a constant here lets the probe loop use a fixed stride. */
static inline void *wgc__addrtable_find_sized(const addrtable *t, const void *key,
                                              size_t item_size)
{
    if (t->capacity == 0)
        return NULL;
    size_t mask = t->capacity - 1;
    for (size_t i = wgc__addr_hash(key, t->capacity);; i = (i + 1) & mask) {
        void *item = t->items + i * item_size;
        const void *k = wgc__addrtable_key(item);
        if (k == NULL)
            return NULL;
        if (k == key)
            return item;
    }
}

static inline void *wgc__addrtable_find(const addrtable *t, const void *key)
{
    return wgc__addrtable_find_sized(t, key, t->item_size);
}

/* Room for one more key: false if memory was refused (the table is as it
 * was).  Call before each wgc__addrtable_add. */
bool wgc__addrtable_reserve(addrtable *t);
/* The item for `key`, absent from the table, with room reserved; its key
 * is set and the rest of the item is for the caller to fill. */
void *wgc__addrtable_add(addrtable *t, const void *key);
/* Removes the item found by wgc__addrtable_find (or a live one met in a
 * walk over the items: the walk may go on). */
static inline void wgc__addrtable_remove_at(void *item)
{
    *(const void **)item = ADDR_GONE;
}

/* [G10] Its count of used slots is exact and the load at most 1/2; *live
 * gets the keys it holds.  `name` is for the report (wgc__check_fail). */
bool wgc__addrtable_check(wgc_heap *heap, const addrtable *t, const char *name,
                          size_t *live);

#endif
