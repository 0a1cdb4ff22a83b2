/*
 * weak/weakmap.c -- a table keyed by object identity whose entries are
 * ephemerons (rules W12 to W14 and H1 of docs/weak.md).
 *
 * Open addressing with linear probing, key and value side by side: a hit
 * usually reads one slot, the one a plain table would read.  A slot is
 * FREE (never used since the last rehash; its value is never read), a
 * tombstone (key NULL: deleted, or emptied by a collection), or an entry.
 * Emptying is a store of NULL into the key, which is what the collector's
 * fallback (VISIT_FIX_WEAK) does to a dead ephemeron anyway: a collection
 * empties entries without allocating and without moving any, and lookups
 * probe past tombstones.  So FREE cannot be NULL.
 * Rehashing (growing, shrinking, dropping tombstones) happens in `set` and,
 * where memory allows, in after_weak.
 */
#include "weak/weak_internal.h"

#define WGC_SIG_WEAKMAP 0x574d4150u /* "WMAP" */
/* Every byte 0x01: a table is made FREE by memset, and no object (16-byte
 * aligned) has this address. */
#define FREE ((void *)(UINTPTR_MAX / 0xff))
#define MIN_CAPACITY 16u
#define MAX_CAPACITY ((uint32_t)1 << 31)

typedef struct entry {
    void *key;               /* FREE, NULL (a tombstone), or the key */
    void *value;
} entry;

struct wgc_weakmap {
    special sp;
    entry *slots;
    uint32_t capacity;       /* a power of two, or 0 before the first set */
    uint32_t count;          /* entries */
    uint32_t used;           /* entries and tombstones: at most capacity / 2 */
    bool waited;             /* an entry waited in this collection's marking */
};

static inline bool is_key(const void *key)
{
    return key && key != FREE;
}

static inline entry *find(const struct wgc_weakmap *m, const void *key)
{
    if (!m->capacity)
        return NULL;
    uint32_t mask = m->capacity - 1;
    for (size_t i = wgc__addr_hash(key, m->capacity);; i = (i + 1) & mask) {
        entry *e = &m->slots[i];
        if (e->key == key)
            return e;
        if (e->key == FREE)
            return NULL;
    }
}

/* The capacity that holds `count` entries at load 3/8 at most: room for
 * capacity / 8 more sets (or tombstones) before the next rehash. */
static uint32_t capacity_for(uint32_t count)
{
    uint64_t want = MIN_CAPACITY;
    while (((uint64_t)count + 1) * 8 > want * 3)
        want *= 2;
    return want > MAX_CAPACITY ? 0 : (uint32_t)want;
}

/* Moves the entries into a table of `capacity` (a power of two, room for
 * them), dropping tombstones. */
static bool rehash(wgc_heap *heap, struct wgc_weakmap *m, uint32_t capacity)
{
    entry *slots = capacity ? wgc__malloc(heap, (size_t)capacity * sizeof *slots) : NULL;
    if (!slots)
        return false;
    memset(slots, 0x01, (size_t)capacity * sizeof *slots); /* FREE keys */
    uint32_t mask = capacity - 1;
    for (uint32_t i = 0; i < m->capacity; i++) {
        if (!is_key(m->slots[i].key))
            continue;
        size_t j = wgc__addr_hash(m->slots[i].key, capacity);
        while (slots[j].key != FREE)
            j = (j + 1) & mask;
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->capacity = capacity;
    m->used = m->count;
    return true;
}

/* Entries wait by value [M2]: the collector never reads them again, and
 * after_weak empties those whose key died. */
static void trace_weakmap(void *obj, wgc_visitor *v)
{
    struct wgc_weakmap *m = obj;
    bool waited = false;
    for (uint32_t i = 0; i < m->capacity; i++)
        if (is_key(m->slots[i].key))
            waited |= wgc__visit_entry(v, &m->slots[i].key, &m->slots[i].value);
    if (waited)
        m->waited = true;
}

/* After the weak step: empty the entries whose key died while they waited
 * (only when such a key exists, and this map had entries waiting), count
 * what is left (the fallback may have emptied entries too), then shrink
 * or drop tombstones [W14]. */
static void after_weak(wgc_heap *heap, special *sp)
{
    struct wgc_weakmap *m = (struct wgc_weakmap *)sp;
    bool look = m->waited && heap->ephemeron_entries_died;
    m->waited = false;
    uint32_t count = 0;
    for (uint32_t i = 0; i < m->capacity; i++) {
        entry *e = &m->slots[i];
        if (!is_key(e->key))
            continue;
        if (look && !is_marked(heap, e->key)) {
            e->key = e->value = NULL;
            heap->stats.weak_slots_cleared++;
            continue;
        }
        count++;
    }
    m->count = count;
    if (m->capacity > MIN_CAPACITY &&
        (count <= m->capacity / 8 || m->used - count >= m->capacity / 4))
        rehash(heap, m, capacity_for(count)); /* out of memory: still correct */
}

static void destroy_weakmap(void *obj)
{
    struct wgc_weakmap *m = obj;
    free(m->slots);
    wgc__special_remove(&m->sp);
}

static const wgc_type weakmap_type = {.name = "WeakMap", .trace = trace_weakmap, .destroy = destroy_weakmap};
static const special_ops weakmap_ops = {after_weak, NULL, NULL};

static bool check_map(wgc_heap *heap, const wgc_weakmap *m)
{
    if (!wgc__check_heap(heap) || !m)
        return false;
    if (m->sp.sig != WGC_SIG_WEAKMAP || m->sp.heap != heap) {
        wgc__misuse(heap, "%p is not a live weak map of this heap", (const void *)m);
        return wgc__fail(heap, WGC_EINVAL);
    }
    return true;
}

wgc_weakmap *wgc_weakmap_new(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return NULL;
    struct wgc_weakmap *m = wgc_alloc(heap, &weakmap_type, sizeof *m);
    if (!m)
        return NULL;
    return wgc__special_add(heap, &m->sp, &weakmap_ops, WGC_SIG_WEAKMAP) ? m : NULL;
}

bool wgc_weakmap_set(wgc_heap *heap, wgc_weakmap *map, void *key, void *value)
{
    if (!wgc__enter(heap) || !check_map(heap, map))
        return false;
    if (!key || !wgc__is_allocated(heap, key) ||
        (value && !wgc__is_allocated(heap, value)))
        return wgc__fail(heap, WGC_EINVAL);
    /* One walk finds the key or the slot for it: the first tombstone, else
     * the FREE slot that ends the walk. */
    entry *slot = NULL;
    if (map->capacity) {
        uint32_t mask = map->capacity - 1;
        for (size_t i = wgc__addr_hash(key, map->capacity);; i = (i + 1) & mask) {
            entry *e = &map->slots[i];
            if (e->key == key) {
                e->value = value;
                return true;
            }
            if (!e->key && !slot)
                slot = e;
            if (e->key == FREE) {
                slot = slot ? slot : e;
                break;
            }
        }
    }
    if (!slot || (slot->key == FREE && ((uint64_t)map->used + 1) * 2 > map->capacity)) {
        uint32_t capacity = capacity_for(map->count + 1);
        if (!capacity || !rehash(heap, map, capacity))
            return wgc__fail(heap, WGC_ENOMEM);
        size_t i = wgc__addr_hash(key, map->capacity);
        while (map->slots[i].key != FREE)
            i = (i + 1) & (map->capacity - 1);
        slot = &map->slots[i];
    }
    if (slot->key == FREE)
        map->used++;
    *slot = (entry){key, value};
    map->count++;
    return true;
}

void *wgc_weakmap_get(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    entry *e = is_key(key) && check_map(heap, map) ? find(map, key) : NULL;
    return e ? e->value : NULL;
}

bool wgc_weakmap_has(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    return is_key(key) && check_map(heap, map) && find(map, key);
}

bool wgc_weakmap_delete(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    if (!is_key(key) || !wgc__enter(heap) || !check_map(heap, map))
        return false;
    entry *e = find(map, key);
    if (!e)
        return false;
    *e = (entry){NULL, NULL};
    map->count--;
    return true;
}

size_t wgc_weakmap_count(wgc_heap *heap, wgc_weakmap *map)
{
    return check_map(heap, map) ? map->count : 0;
}

void wgc__weakmap_shape(const wgc_weakmap *m, wgc__probe_shape *out)
{
    *out = (wgc__probe_shape){.slots = m->capacity, .used = m->used};
    for (uint32_t i = 0; i < m->capacity; i++) {
        if (!is_key(m->slots[i].key))
            continue;
        size_t home = wgc__addr_hash(m->slots[i].key, m->capacity);
        size_t walk = ((i - home) & (m->capacity - 1)) + 1;
        out->entries++;
        out->probes += walk;
        if (walk > out->longest)
            out->longest = walk;
    }
}
