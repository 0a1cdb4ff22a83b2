/*
 * weak/weakmap.c -- a table keyed by object identity whose entries are
 * ephemerons (rules W12 to W14 and A1 of docs/weak.md).
 *
 * Two arrays.  The pool holds the entries, in the order they were made
 * (free ones reused): it is what the collector traces, so a map whose keys
 * were made and inserted in the same order is traced in address order, as
 * marking likes it.  The index is open addressing with linear probing at
 * load 1/2 at most, each slot a copy of its entry's key and value: a hit
 * reads one slot, the one a plain table would read, and no entry.  (A
 * table traced in hash order made every collection of a large map jump
 * around its keys; chains from buckets made every lookup jump through
 * the pool.)
 *
 * A slot is FREE (never used since the last rehash; its value is never
 * read), a tombstone (key NULL) or a copy.  The collector empties a dead
 * entry by storing NULL into its key and value (after_weak, or the
 * fallback pass, the fix-weak tracer of gc/weakproc.c); after_weak then turns its slot into a
 * tombstone and frees the entry: no memory needed, nothing moved, and
 * no user code runs in between, so the copies are never seen stale.
 * Rehashing (growing, shrinking, dropping tombstones, compacting the pool
 * in order) happens in `set` and, where memory allows, in after_weak.
 */
#include "weak/weak_internal.h"

/* Every byte 0x01: an index is made FREE by memset, and no object (16-byte
 * aligned) has this address. */
#define FREE ((void *)(UINTPTR_MAX / 0xff))
#define NIL UINT32_MAX
#define MIN_CAPACITY 16u
#define MAX_CAPACITY ((uint32_t)1 << 31)

static inline bool is_key(const void *key)
{
    return key && key != FREE;
}

/* The slot holding `key`, or NIL. */
static inline uint32_t find(const struct wgc_weakmap *m, const void *key)
{
    if (!m->capacity)
        return NIL;
    uint32_t mask = m->capacity - 1;
    for (size_t i = wgc__addr_hash(key, m->capacity);; i = (i + 1) & mask) {
        if (m->slots[i].key == key)
            return (uint32_t)i;
        if (m->slots[i].key == FREE)
            return NIL;
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

/* Copies entry `e` (number i of pool) into a FREE slot of the index. */
static void index_put(wm_slot *slots, uint32_t *owner, uint32_t capacity,
                      wm_entry *e, uint32_t i)
{
    WGC_ASSERT(is_key(e->key));
    size_t s = wgc__addr_hash(e->key, capacity);
    while (slots[s].key != FREE)
        s = (s + 1) & (capacity - 1);
    slots[s] = (wm_slot){e->key, e->value};
    owner[s] = i;
    e->slot = (uint32_t)s;
}

/* Moves the entries, in order, into tables for `capacity` (a power of two
 * with room for them), dropping tombstones and free entries. */
static bool rehash(wgc_heap *heap, struct wgc_weakmap *m, uint32_t capacity)
{
    if (!capacity)
        return false;
    wm_slot *slots = wgc__malloc(heap, (size_t)capacity * sizeof *slots);
    uint32_t *owner = slots ? wgc__malloc(heap, (size_t)capacity * sizeof *owner) : NULL;
    wm_entry *pool = owner ? wgc__malloc(heap, (size_t)capacity / 2 * sizeof *pool) : NULL;
    if (!pool) {
        free(slots);
        free(owner);
        return false;
    }
    memset(slots, 0x01, (size_t)capacity * sizeof *slots); /* FREE keys */
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->pool_size; i++) {
        if (!m->pool[i].key)
            continue;
        pool[n] = (wm_entry){m->pool[i].key, m->pool[i].value, NIL, NIL};
        index_put(slots, owner, capacity, &pool[n], n);
        n++;
    }
    free(m->slots);
    free(m->owner);
    free(m->pool);
    m->slots = slots;
    m->owner = owner;
    m->pool = pool;
    m->capacity = capacity;
    m->used = m->count = m->pool_size = n;
    m->free_list = NIL;
    return true;
}

/* Entries wait by value [M2]: the collector never reads them again, and
 * after_weak empties those whose key died. */
static void trace_weakmap(void *obj, wgc_visitor *v)
{
    struct wgc_weakmap *m = obj;
    bool waited = false;
    m->traced = true;
    for (uint32_t i = 0; i < m->pool_size; i++)
        if (m->pool[i].key)
            waited |= wgc__visit_entry(v, &m->pool[i].key, &m->pool[i].value);
    if (waited)
        m->waited = true;
}

/* After the weak step: empty the entries whose key died while they waited
 * (only when such a key exists, and this map had entries waiting), turn
 * the slots of emptied entries (also those the fallback pass emptied) into
 * tombstones and free the entries, then shrink or drop tombstones [W14]. */
static void after_weak(wgc_heap *heap, special *sp)
{
    struct wgc_weakmap *m = (struct wgc_weakmap *)sp;
    /* A map no collection traced (an old one in a minor) holds old keys
     * only [Y3], none of which died: nothing to look at. */
    if (!m->traced)
        return;
    m->traced = false;
    bool look = m->waited && wgc__entries_died(heap);
    m->waited = false;
    for (uint32_t i = 0; i < m->pool_size; i++) {
        wm_entry *e = &m->pool[i];
        if (e->slot == NIL)
            continue;
        if (look && e->key && !is_marked(heap, e->key)) {
            e->key = e->value = NULL;
            heap->stats.weak_slots_cleared++;
        }
        if (e->key)
            continue;
        m->slots[e->slot] = (wm_slot){NULL, NULL};
        *e = (wm_entry){NULL, NULL, NIL, m->free_list};
        m->free_list = i;
        m->count--;
    }
    if (m->capacity > MIN_CAPACITY &&
        (m->count <= m->capacity / 8 || m->used - m->count >= m->capacity / 4))
        rehash(heap, m, capacity_for(m->count)); /* out of memory: still correct */
}

static void destroy_weakmap(void *obj)
{
    struct wgc_weakmap *m = obj;
    free(m->slots);
    free(m->owner);
    free(m->pool);
    wgc__special_remove(&m->sp);
}

static const wgc_type weakmap_type = {.name = "WeakMap", .trace = trace_weakmap, .destroy = destroy_weakmap};
/* [G10] Index and pool agree, between collections: every entry in use
 * holds a live key (dead ones were emptied and freed in after_weak [W3])
 * and its slot, which copies it and names it as owner, and which a lookup
 * of its key reaches; the counts add up; the free list holds the rest of
 * the pool. */
static bool weakmap_check(wgc_heap *heap, const special *sp)
{
    const struct wgc_weakmap *m = (const struct wgc_weakmap *)sp;
    if (m->capacity & (m->capacity - 1) || m->used > m->capacity / 2 ||
        m->pool_size > m->capacity / 2 || m->count > m->used)
        return wgc__check_fail(heap, "weak map %p: capacity %u, %u slots used, "
                               "%u entries, pool of %u", (const void *)m,
                               m->capacity, m->used, m->count, m->pool_size);
    uint32_t entries = 0, used = 0, keys = 0, free_entries = 0;
    for (uint32_t i = 0; i < m->pool_size; i++) {
        const wm_entry *e = &m->pool[i];
        if (e->slot == NIL)
            continue;
        entries++;
        const wm_slot *sl = e->slot < m->capacity ? &m->slots[e->slot] : NULL;
        if (!sl || m->owner[e->slot] != i || sl->key != e->key || sl->value != e->value)
            return wgc__check_fail(heap, "weak map %p: entry %u (key %p) and its "
                                   "index slot %u disagree", (const void *)m, i,
                                   e->key, e->slot);
        if (!e->key || !wgc__is_allocated(heap, e->key) ||
            (e->value && !wgc__is_allocated(heap, e->value)))
            return wgc__check_fail(heap, "weak map %p: entry %u has key %p, value "
                                   "%p: not both live objects [W3]", (const void *)m,
                                   i, e->key, e->value);
        if (find(m, e->key) != e->slot)
            return wgc__check_fail(heap, "weak map %p: a lookup of entry %u's key "
                                   "%p does not reach its slot %u", (const void *)m,
                                   i, e->key, e->slot);
    }
    for (uint32_t s = 0; s < m->capacity; s++) {
        used += m->slots[s].key != FREE;
        keys += is_key(m->slots[s].key);
        if (is_key(m->slots[s].key) &&
            (m->owner[s] >= m->pool_size || m->pool[m->owner[s]].slot != s))
            return wgc__check_fail(heap, "weak map %p: slot %u (key %p) names entry "
                                   "%u, which is not its", (const void *)m, s,
                                   m->slots[s].key, m->owner[s]);
    }
    for (uint32_t i = m->free_list; i != NIL; i = m->pool[i].next, free_entries++)
        if (i >= m->pool_size || free_entries >= m->pool_size ||
            m->pool[i].slot != NIL || m->pool[i].key)
            return wgc__check_fail(heap, "weak map %p: free entry %u is in use, or "
                                   "past the pool of %u", (const void *)m, i,
                                   m->pool_size);
    if (entries != m->count || keys != m->count || used != m->used ||
        entries + free_entries != m->pool_size)
        return wgc__check_fail(heap, "weak map %p: %u entries in the pool, %u keys "
                               "and %u used slots in the index, %u free entries; "
                               "counted %u entries, %u used, pool of %u",
                               (const void *)m, entries, keys, used, free_entries,
                               m->count, m->used, m->pool_size);
    return true;
}

static const special_ops weakmap_ops = {after_weak, weakmap_check};

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
    wgc_error err = wgc__special_add(heap, &m->sp, &weakmap_ops, WGC_SIG_WEAKMAP);
    return wgc__record(heap, err) ? m : NULL;
}

bool wgc_weakmap_set(wgc_heap *heap, wgc_weakmap *map, void *key, void *value)
{
    if (!wgc__enter(heap))
        return false;
    if (!map)
        return wgc__fail(heap, WGC_EINVAL);
    if (!check_map(heap, map))
        return false;
    if (!key || !wgc__is_allocated(heap, key) ||
        (value && !wgc__is_allocated(heap, value)))
        return wgc__fail(heap, WGC_EINVAL);
    /* One walk finds the key or the slot for it: the first tombstone, else
     * the FREE slot that ends the walk. */
    size_t at = NIL;
    if (map->capacity) {
        uint32_t mask = map->capacity - 1;
        for (size_t i = wgc__addr_hash(key, map->capacity);; i = (i + 1) & mask) {
            wm_slot *sl = &map->slots[i];
            if (sl->key == key) {
                sl->value = value;
                map->pool[map->owner[i]].value = value;
                wgc_write_barrier(heap, map); /* [G6] the entries are the map's fields */
                return true;
            }
            if (!sl->key && at == NIL)
                at = i;
            if (sl->key == FREE) {
                at = at == NIL ? i : at;
                break;
            }
        }
    }
    if (at == NIL ||
        (map->slots[at].key == FREE && ((uint64_t)map->used + 1) * 2 > map->capacity)) {
        if (!rehash(heap, map, capacity_for(map->count + 1)))
            return wgc__fail(heap, WGC_ENOMEM);
        at = wgc__addr_hash(key, map->capacity);
        while (map->slots[at].key != FREE)
            at = (at + 1) & (map->capacity - 1);
    }
    /* used <= capacity / 2 bounds the entries: the pool has room. */
    uint32_t e = map->free_list;
    if (e != NIL)
        map->free_list = map->pool[e].next;
    else
        e = map->pool_size++;
    if (map->slots[at].key == FREE)
        map->used++;
    map->slots[at] = (wm_slot){key, value};
    map->owner[at] = e;
    map->pool[e] = (wm_entry){key, value, (uint32_t)at, NIL};
    map->count++;
    wgc_write_barrier(heap, map);
    return true;
}

void *wgc_weakmap_get(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    uint32_t s = is_key(key) && check_map(heap, map) ? find(map, key) : NIL;
    return s != NIL ? map->slots[s].value : NULL;
}

bool wgc_weakmap_has(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    return is_key(key) && check_map(heap, map) && find(map, key) != NIL;
}

bool wgc_weakmap_delete(wgc_heap *heap, wgc_weakmap *map, const void *key)
{
    if (!is_key(key) || !wgc__enter(heap) || !check_map(heap, map))
        return false;
    uint32_t s = find(map, key);
    if (s == NIL)
        return false;
    uint32_t e = map->owner[s];
    map->slots[s] = (wm_slot){NULL, NULL};
    map->pool[e] = (wm_entry){NULL, NULL, NIL, map->free_list};
    map->free_list = e;
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
    size_t in_pool = 0;
    for (uint32_t i = 0; i < m->pool_size; i++)
        in_pool += m->pool[i].key != NULL;
    if (in_pool != m->count)
        out->mismatches++;
    for (uint32_t i = 0; i < m->capacity; i++) {
        if (!is_key(m->slots[i].key))
            continue;
        size_t home = wgc__addr_hash(m->slots[i].key, m->capacity);
        size_t walk = ((i - home) & (m->capacity - 1)) + 1;
        const wm_entry *e = &m->pool[m->owner[i]];
        if (m->owner[i] >= m->pool_size || e->key != m->slots[i].key ||
            e->value != m->slots[i].value || e->slot != i)
            out->mismatches++;
        out->entries++;
        out->probes += walk;
        if (walk > out->longest)
            out->longest = walk;
    }
}
