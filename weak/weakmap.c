/*
 * weak/weakmap.c -- a table keyed by object identity whose entries are
 * ephemerons (rules W10 to W13 of docs/weak.md).
 *
 * Entries live in a pool chained from buckets by index, so that a
 * collection can empty dead entries (their slots are ephemerons: cleared
 * in the weak step, or by after_weak for those that waited by value [M2])
 * and unlink them afterwards without allocating.  Each
 * entry remembers its bucket: an emptied entry no longer has a key to
 * hash, and a scan of the pool in memory order is far cheaper than a walk
 * of every chain.
 */
#include "weak/weak_internal.h"

#define WGC_SIG_WEAKMAP 0x574d4150u /* "WMAP" */
#define NIL UINT32_MAX

typedef struct entry {
    void *key;               /* NULL: free (or emptied by a collection) */
    void *value;
    uint32_t next;           /* in its bucket's chain, or the free list */
    uint32_t bucket;         /* NIL while on the free list */
} entry;

struct wgc_weakmap {
    special sp;
    entry *pool;
    uint32_t *buckets;       /* bucket_count heads, NIL-terminated chains */
    uint32_t pool_size;      /* entries in use or on the free list */
    uint32_t capacity;       /* pool capacity == bucket_count */
    uint32_t count;          /* live entries */
    uint32_t free_list;
    bool waited;             /* an entry waited in this collection's marking */
};

static uint32_t bucket_of(const struct wgc_weakmap *m, const void *key)
{
    return (uint32_t)wgc__addr_hash(key, m->capacity);
}

static entry *find(const struct wgc_weakmap *m, const void *key)
{
    if (!m->capacity)
        return NULL;
    for (uint32_t i = m->buckets[bucket_of(m, key)]; i != NIL; i = m->pool[i].next)
        if (m->pool[i].key == key)
            return &m->pool[i];
    return NULL;
}

/* Moves the live entries into tables of `capacity` (a power of two). */
static bool resize(wgc_heap *heap, struct wgc_weakmap *m, uint32_t capacity)
{
    entry *pool = wgc__malloc(heap, (size_t)capacity * sizeof *pool);
    uint32_t *buckets = pool ? wgc__malloc(heap, (size_t)capacity * sizeof *buckets) : NULL;
    if (!buckets) {
        free(pool);
        return false;
    }
    struct wgc_weakmap fresh = *m;
    fresh.pool = pool;
    fresh.buckets = buckets;
    fresh.capacity = capacity;
    fresh.pool_size = 0;
    fresh.free_list = NIL;
    for (uint32_t b = 0; b < capacity; b++)
        buckets[b] = NIL;
    for (uint32_t i = 0; i < m->pool_size; i++) {
        if (!m->pool[i].key)
            continue;
        uint32_t b = bucket_of(&fresh, m->pool[i].key);
        pool[fresh.pool_size] = (entry){m->pool[i].key, m->pool[i].value, buckets[b], b};
        buckets[b] = fresh.pool_size++;
    }
    free(m->pool);
    free(m->buckets);
    *m = fresh;
    return true;
}

/* Entries wait by value [M2]: the collector never reads them again, and
 * after_weak empties those whose key died. */
static void trace_weakmap(void *obj, wgc_visitor *v)
{
    struct wgc_weakmap *m = obj;
    bool waited = false;
    for (uint32_t i = 0; i < m->pool_size; i++)
        if (m->pool[i].key)
            waited |= wgc__visit_entry(v, &m->pool[i].key, &m->pool[i].value);
    if (waited)
        m->waited = true;
}

/* After the weak step: empty the entries whose key died while they waited
 * (only when such a key exists, and this map had entries waiting), unlink
 * emptied entries, then shrink [W12]. */
static void after_weak(wgc_heap *heap, special *sp)
{
    struct wgc_weakmap *m = (struct wgc_weakmap *)sp;
    bool look = m->waited && heap->ephemeron_entries_died;
    m->waited = false;
    for (uint32_t i = 0; i < m->pool_size; i++) {
        entry *e = &m->pool[i];
        if (look && e->key && !is_marked(heap, e->key)) {
            e->key = e->value = NULL;
            heap->stats.weak_slots_cleared++;
        }
        if (e->key || e->bucket == NIL)
            continue;
        uint32_t *link = &m->buckets[e->bucket];
        while (*link != i)
            link = &m->pool[*link].next;
        *link = e->next;
        *e = (entry){NULL, NULL, m->free_list, NIL};
        m->free_list = i;
        m->count--;
    }
    uint32_t want = m->capacity;
    while (want > 16 && m->count < want / 4)
        want /= 2;
    if (want < m->capacity)
        resize(heap, m, want); /* out of memory: stay larger, still correct */
}

static void destroy_weakmap(void *obj)
{
    struct wgc_weakmap *m = obj;
    free(m->pool);
    free(m->buckets);
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
    m->free_list = NIL;
    return wgc__special_add(heap, &m->sp, &weakmap_ops, WGC_SIG_WEAKMAP) ? m : NULL;
}

bool wgc_weakmap_set(wgc_heap *heap, wgc_weakmap *map, void *key, void *value)
{
    if (!wgc__enter(heap) || !check_map(heap, map))
        return false;
    if (!key || !wgc__is_allocated(heap, key) ||
        (value && !wgc__is_allocated(heap, value)))
        return wgc__fail(heap, WGC_EINVAL);
    entry *e = find(map, key);
    if (e) {
        e->value = value;
        return true;
    }
    if (map->free_list == NIL && map->pool_size == map->capacity) {
        if (map->capacity >= (UINT32_MAX >> 2) ||
            !resize(heap, map, map->capacity ? map->capacity * 2 : 16))
            return wgc__fail(heap, WGC_ENOMEM);
    }
    uint32_t i = map->free_list;
    if (i != NIL)
        map->free_list = map->pool[i].next;
    else
        i = map->pool_size++;
    uint32_t b = bucket_of(map, key);
    map->pool[i] = (entry){key, value, map->buckets[b], b};
    map->buckets[b] = i;
    map->count++;
    return true;
}

void *wgc_weakmap_get(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    entry *e = key && check_map(heap, map) ? find(map, key) : NULL;
    return e ? e->value : NULL;
}

bool wgc_weakmap_has(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    return key && check_map(heap, map) && find(map, key);
}

bool wgc_weakmap_delete(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    if (!key || !wgc__enter(heap) || !check_map(heap, map) || !map->capacity)
        return false;
    for (uint32_t *link = &map->buckets[bucket_of(map, key)]; *link != NIL;
         link = &map->pool[*link].next) {
        entry *e = &map->pool[*link];
        if (e->key != key)
            continue;
        uint32_t i = *link;
        *link = e->next;
        *e = (entry){NULL, NULL, map->free_list, NIL};
        map->free_list = i;
        map->count--;
        return true;
    }
    return false;
}

size_t wgc_weakmap_count(wgc_heap *heap, wgc_weakmap *map)
{
    return check_map(heap, map) ? map->count : 0;
}

void wgc__weakmap_shape(const wgc_weakmap *m, wgc__chain_shape *out)
{
    *out = (wgc__chain_shape){.buckets = m->capacity};
    for (uint32_t b = 0; b < m->capacity; b++) {
        size_t len = 0;
        for (uint32_t i = m->buckets[b]; i != NIL; i = m->pool[i].next)
            out->probes += ++len;
        out->entries += len;
        out->used += len != 0;
        if (len > out->longest)
            out->longest = len;
    }
}
