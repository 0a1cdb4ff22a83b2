/*
 * diag/walk.c -- a breadth-first walk of the reachable objects that marks
 * nothing: the census, the retaining paths and the snapshot read its
 * result.  Rules D1 to D4 of docs/diag.md.
 *
 * The walk is the collector's reachability without the collector's
 * state: its own visited set (an address-keyed map), its own queue (the
 * node array, scanned in order), and its own table of ephemerons waiting
 * for their keys.  The trace callbacks report slots to the walk's
 * instance of the tracer interface (diag_ops below, [M4]).
 */
#include "diag/diag_internal.h"

/* ========================================================== small pieces */

static bool dvec_push(dwalk *w, dvec *v, const void *item)
{
    if (v->count == v->capacity) {
        size_t capacity = v->capacity ? v->capacity * 2 : 64;
        char *items = capacity <= SIZE_MAX / v->item_size
                          ? realloc(v->items, capacity * v->item_size) : NULL;
        if (!items) {
            w->oom = true;
            return false;
        }
        v->items = items;
        v->capacity = capacity;
    }
    memcpy(v->items + v->count++ * v->item_size, item, v->item_size);
    return true;
}

void wgc__dmap_init(dmap *m)
{
    wgc__addrtable_init(m, sizeof(dmap_slot), 256, NULL);
}

size_t wgc__dmap_get(const dmap *m, const void *key)
{
    const dmap_slot *slot = wgc__addrtable_find_sized(m, key, sizeof(dmap_slot));
    return slot ? slot->value : DIAG_NONE;
}

bool wgc__dmap_put(dmap *m, void *key, size_t value)
{
    dmap_slot *slot = wgc__addrtable_find_sized(m, key, sizeof(dmap_slot));
    if (!slot) {
        if (!wgc__addrtable_reserve(m))
            return false;
        slot = wgc__addrtable_add(m, key);
    }
    slot->value = value;
    return true;
}

void wgc__dmap_free(dmap *m)
{
    wgc__addrtable_free(m);
}

size_t wgc__diag_bytes(const void *obj)
{
    const span *s = span_of(obj);
    if (s->kind == SPAN_LARGE)
        return ((const large *)s)->size;
    return ((const page *)s)->cell_size;
}

const char *wgc__diag_name(const wgc_type *t)
{
    return t && t->name ? t->name : "(unnamed)";
}

/* ========================================================== the walk */

/* A new node for obj unless it was reached already [D3]. */
/* The entry of obj in the visited set; NULL if its span has no table and
 * `create` is false, or memory was refused. */
static uint32_t *seen_entry(dwalk *w, const void *obj, bool create)
{
    dseen *d = &w->seen;
    const span *s = span_of(obj);
    if (s != d->last) {
        size_t i = wgc__dmap_get(&d->spans, s);
        if (i == DIAG_NONE) {
            if (!create)
                return NULL;
            if (d->count == d->capacity) {
                size_t capacity = d->capacity ? d->capacity * 2 : 64;
                uint32_t **tables = realloc(d->tables, capacity * sizeof *tables);
                if (!tables)
                    return NULL;
                d->tables = tables;
                d->capacity = capacity;
            }
            uint32_t *t = calloc(s->kind == SPAN_LARGE ? 1 : WGC_PAGE_GRANULES,
                                 sizeof *t);
            if (!t || !wgc__dmap_put(&d->spans, (void *)s, d->count)) {
                free(t);
                return NULL;
            }
            i = d->count;
            d->tables[d->count++] = t;
        }
        d->last = s;
        d->last_table = d->tables[i];
    }
    if (s->kind == SPAN_LARGE)
        return d->last_table;
    return &d->last_table[(size_t)((const char *)obj - (const char *)s) / WGC_GRANULE];
}

size_t wgc__diag_node_of(dwalk *w, const void *obj)
{
    uint32_t *e = seen_entry(w, obj, false);
    return e && *e ? (size_t)*e - 1 : DIAG_NONE;
}

/* A new node for obj unless it was reached already [D3]. */
static void reach(dwalk *w, void *obj, size_t parent, size_t root, dslot slot,
                  void *key)
{
    if (w->oom)
        return;
    uint32_t *e = seen_entry(w, obj, true);
    if (!e || w->nodes.count >= UINT32_MAX - 1) {
        w->oom = true;
        return;
    }
    if (*e)
        return;
    dnode n = {obj, parent, root, slot, key, 0};
    if (dvec_push(w, &w->nodes, &n))
        *e = (uint32_t)w->nodes.count;
}

/* Where `slot` lies in the holder being reported on; counts it. */
static dslot slot_of(dwalk *w, const void *slot)
{
    size_t ordinal = w->ordinal++;
    const char *s = slot;
    if (w->holder_start && s >= w->holder_start &&
        s < w->holder_start + w->holder_size)
        return (dslot){(size_t)(s - w->holder_start), true};
    return (dslot){ordinal, false};
}

/* A root slot reported now (holder DIAG_NONE): its record. */
static size_t add_root(dwalk *w, const void *address, void *target, void *key,
                       bool weak)
{
    droot r = {w->root_kind, w->root_index, w->root_slot, address, target, key, weak};
    if (w->root_kind == WGC_ROOT_CALLBACK)
        r.index = w->ordinal++;
    if (!dvec_push(w, &w->roots, &r))
        return DIAG_NONE;
    return w->roots.count - 1;
}

/* A target the walk may follow: a live object of the heap [D4]. */
static bool followable(dwalk *w, void *target)
{
    if (wgc__is_allocated(w->heap, target))
        return true;
    w->dangling++;
    return false;
}

static void diag_slot(wgc_visitor *v, void *slot, bool weak)
{
    dwalk *w = (dwalk *)v;
    void *target = slot_load(slot);
    if (!target || w->oom || !followable(w, target))
        return;
    if (w->holder == DIAG_NONE) {
        size_t r = add_root(w, slot, target, NULL, weak);
        if (r != DIAG_NONE && !weak)
            reach(w, target, DIAG_NONE, r, (dslot){0, false}, NULL);
        return;
    }
    dslot where = slot_of(w, slot);
    if (w->record_edges) {
        dedge e = {target, NULL, where, weak};
        dvec_push(w, &w->edges, &e);
    }
    if (!weak)
        reach(w, target, w->holder, 0, where, NULL);
}

/* [D2] The value follows only once the key is reached: now if it already
 * is, else when the key's node is scanned (see scan_node). */
static void diag_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot)
{
    dwalk *w = (dwalk *)v;
    void *key = slot_load(key_slot);
    if (w->oom || !followable(w, key))
        return;
    void *value = slot_load(value_slot);
    if (value && !followable(w, value))
        value = NULL;
    size_t root = DIAG_NONE;
    dslot kslot = {0, false}, vslot = {0, false};
    if (w->holder == DIAG_NONE) {
        add_root(w, key_slot, key, NULL, true);
        if (value)
            root = add_root(w, value_slot, value, key, false);
        if (w->oom)
            return;
    } else {
        kslot = slot_of(w, key_slot);
        vslot = slot_of(w, value_slot);
        if (w->record_edges) {
            dedge k = {key, NULL, kslot, true}, val = {value, key, vslot, false};
            dvec_push(w, &w->edges, &k);
            if (value)
                dvec_push(w, &w->edges, &val);
        }
    }
    if (!value)
        return;
    if (wgc__diag_node_of(w, key) != DIAG_NONE) {
        reach(w, value, w->holder, root, vslot, key);
        return;
    }
    size_t first = wgc__dmap_get(&w->waiting, key);
    dpending p = {w->holder, root, value, vslot, first};
    if (dvec_push(w, &w->pending, &p) &&
        !wgc__dmap_put(&w->waiting, key, w->pending.count - 1))
        w->oom = true;
}

static void diag_strong(wgc_visitor *v, void *slot)
{
    diag_slot(v, slot, false);
}

static void diag_weak(wgc_visitor *v, void *slot)
{
    diag_slot(v, slot, true);
}

static void diag_weak_notify(wgc_visitor *v, void *slot, void *owner,
                             weak_notify_fn notify, uint64_t seq)
{
    (void)owner, (void)notify, (void)seq;
    diag_slot(v, slot, true);
}

static bool diag_ephemeron_op(wgc_visitor *v, void *key_slot, void *value_slot,
                              bool by_value)
{
    (void)by_value;
    diag_ephemeron(v, key_slot, value_slot);
    return false;
}

/* The walk's instance of the tracer interface [M4]: it marks nothing, and
 * sees the registry targets marking leaves out. */
static const wgc_trace_ops diag_ops = {
    .strong = diag_strong,
    .weak = diag_weak,
    .weak_notify = diag_weak_notify,
    .ephemeron = diag_ephemeron_op,
    .inspects = true,
};

/* Scans node i: releases the values waiting for it as a key [D2], then
 * reports its slots (pointer-free objects have none). */
static void scan_node(dwalk *w, size_t i)
{
    void *obj = DVEC_AT(&w->nodes, dnode, i).obj;
    DVEC_AT(&w->nodes, dnode, i).first_edge = w->edges.count;
    size_t p = wgc__dmap_get(&w->waiting, obj);
    while (p != DIAG_NONE && !w->oom) {
        dpending pd = DVEC_AT(&w->pending, dpending, p);
        reach(w, pd.value, pd.holder, pd.root, pd.slot, obj);
        p = pd.next;
    }
    const wgc_type *t = type_of(obj);
    if (wgc_type_pointer_free_(t))
        return;
    w->holder = i;
    w->holder_start = obj;
    w->holder_size = wgc_size_of(obj);
    w->ordinal = 0;
    wgc__trace_object(obj, &w->v);
}

static void walk_root(void *arg, wgc_root_kind kind, size_t index, size_t slot,
                      void *at)
{
    dwalk *w = arg;
    w->root_kind = kind;
    w->root_index = index;
    w->root_slot = slot;
    diag_slot(&w->v, at, false);
}

/* Reports the root slots in the collector's order (gc/roots.c): handles,
 * frames innermost first, kept objects, the embedder's callback. */
static void walk_roots(dwalk *w)
{
    wgc_heap *heap = w->heap;
    w->holder = DIAG_NONE;
    w->holder_start = NULL;
    wgc__roots_each(heap, walk_root, w);
    w->root_kind = WGC_ROOT_CALLBACK;
    w->root_index = 0;
    w->root_slot = 0;
    w->ordinal = 0;
    if (heap->config.trace_roots)
        heap->config.trace_roots(&w->v, heap->config.trace_roots_user);
}

wgc_error wgc__diag_walk(wgc_heap *heap, dwalk *w, bool record_edges,
                         const void *stop_at)
{
    *w = (dwalk){.v = {heap, &diag_ops}, .heap = heap,
                 .record_edges = record_edges, .stop_at = stop_at};
    w->nodes.item_size = sizeof(dnode);
    w->roots.item_size = sizeof(droot);
    w->edges.item_size = sizeof(dedge);
    w->pending.item_size = sizeof(dpending);
    wgc__dmap_init(&w->seen.spans);
    wgc__dmap_init(&w->waiting);
    /* [D1] As in a collection, callbacks may not change the heap: the
     * phase refuses every entry point, and emptied runs send the inline
     * allocation path there too.  The runs are put back exactly, so the
     * next allocations (and the collection points) are those they would
     * have been. */
    wgc_run_ runs[2][WGC_SIZE_CLASSES_];
    memcpy(runs, heap->pub.runs, sizeof runs);
    for (int atomic = 0; atomic < 2; atomic++)
        for (int c = 0; c < WGC_SIZE_CLASSES_; c++)
            heap->pub.runs[atomic][c].limit = heap->pub.runs[atomic][c].cursor;
    heap->callback = CALLBACK_TRACE;

    walk_roots(w);
    for (size_t i = 0; i < w->nodes.count && !w->oom; i++) {
        if (stop_at && wgc__diag_node_of(w, stop_at) != DIAG_NONE)
            break;
        scan_node(w, i);
    }

    heap->callback = CALLBACK_NONE;
    memcpy(heap->pub.runs, runs, sizeof runs);
    return w->oom ? WGC_ENOMEM : WGC_OK;
}

void wgc__diag_walk_free(dwalk *w)
{
    for (size_t i = 0; i < w->seen.count; i++)
        free(w->seen.tables[i]);
    free(w->seen.tables);
    wgc__dmap_free(&w->seen.spans);
    w->seen = (dseen){0};
    wgc__dmap_free(&w->waiting);
    free(w->nodes.items);
    free(w->roots.items);
    free(w->edges.items);
    free(w->pending.items);
    w->nodes = w->roots = w->edges = w->pending = (dvec){0};
}
