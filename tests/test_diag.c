/*
 * tests/test_diag.c -- wgc/diag.h: the census, retaining paths and heap
 * snapshots, and that none of them disturbs the heap [D1].  The snapshot's
 * format is checked by tests/check_heapsnapshot.py (meson test
 * 'diag-snapshot-format').
 */
#include "common.h"

#include <stddef.h>

/* ================================================================ helpers */

static wgc_heap *quiet_heap(void)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    return new_heap_cfg(&cfg);
}

static cnode *new_cnode(wgc_heap *h, uint64_t id)
{
    cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
    cr_assert_not_null(c, "allocation failed: %s", wgc_error_string(wgc_last_error(h)));
    c->id = id;
    return c;
}

static const wgc_census_entry *entry_of(const wgc_census *c, const wgc_type *t)
{
    for (size_t i = 0; i < c->type_count; i++)
        if (c->types[i].type == t)
            return &c->types[i];
    return NULL;
}

/* A fixed layout: pointer words 2 and 3 (bytes 16 and 24). */
typedef struct triple {
    uint64_t tag, count;
    void *left, *right;
} triple;

static const wgc_type triple_type = {
    .name = "triple",
    .pointer_words = WGC_WORD(triple, left) | WGC_WORD(triple, right)};

/* The embedder's root callback: a small VM stack. */
static void *vm_stack[4];

static void trace_vm_stack(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_array(v, vm_stack, 4);
}

static char *read_all(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    char *s = malloc((size_t)n + 1);
    rewind(f);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    return s;
}

/* ================================================================= census */

Test(diag, census_counts_reachable_objects_by_type)
{
    no_stress(); /* the garbage counted below must not be collected yet */
    wgc_heap *h = quiet_heap();
    wgc_root *list = wgc_root_new(h, NULL);
    build_clist(h, list, 10);
    void *blobs[5] = {0};
    WGC_FRAME(h, &blobs[0], &blobs[1], &blobs[2], &blobs[3], &blobs[4]);
    for (int i = 0; i < 5; i++)
        blobs[i] = wgc_alloc(h, &blob_type, 100); /* 108 -> 112-byte cells */
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(wgc_alloc(h, &node_type, sizeof(node))); /* garbage */

    wgc_census c;
    cr_assert(wgc_census_take(h, &c), "%s", wgc_error_string(wgc_last_error(h)));
    cr_assert_eq(c.type_count, 2, "types: %zu", c.type_count);
    const wgc_census_entry *cn = entry_of(&c, &cnode_type), *bl = entry_of(&c, &blob_type);
    cr_assert_not_null(cn);
    cr_assert_not_null(bl);
    cr_assert_null(entry_of(&c, &node_type), "garbage counted as reachable");
    cr_assert_eq(cn->objects, 10);
    cr_assert_eq(cn->bytes, 10 * 32); /* 24 bytes + header: 32-byte cells */
    cr_assert_str_eq(cn->name, "cnode");
    cr_assert_eq(bl->objects, 5);
    cr_assert_eq(bl->bytes, 5 * 112);
    cr_assert_eq(c.types[0].type, &blob_type, "most bytes first");
    cr_assert_eq(c.objects, 15);
    cr_assert_eq(c.bytes, 10 * 32 + 5 * 112);
    cr_assert_eq(c.allocated_objects, 18, "allocated: %zu", c.allocated_objects);
    cr_assert_eq(c.allocated_bytes, c.bytes + 3 * 16);
    wgc_census_release(&c);
    cr_assert_null(c.types);

    /* After a collection the census and the stats agree. */
    collect(h);
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.allocated_objects, 15);
    cr_assert_eq(c.allocated_bytes, c.bytes);
    cr_assert_eq(c.bytes, get_stats(h).live_bytes);
    wgc_census_release(&c);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

Test(diag, census_prints_a_table)
{
    wgc_heap *h = quiet_heap();
    wgc_root *list = wgc_root_new(h, NULL);
    build_clist(h, list, 3);
    wgc_census c;
    cr_assert(wgc_census_take(h, &c));
    FILE *f = tmpfile();
    cr_assert(wgc_census_print(&c, f));
    char *text = read_all(f);
    cr_assert_not_null(strstr(text, "           3             96  cnode\n"), "%s", text);
    cr_assert_not_null(strstr(text, "reachable, 1 types"), "%s", text);
    free(text);
    fclose(f);
    wgc_census_release(&c);
    wgc_heap_free(h);
}

Test(diag, census_follows_ephemerons_and_ignores_weak_slots)
{
    wgc_heap *h = quiet_heap();
    wgc_weakmap *m = wgc_weakmap_new(h);
    wgc_root *rm = wgc_root_new(h, m);
    cnode *live_key = new_cnode(h, 1);
    wgc_root *rk = wgc_root_new(h, live_key);
    (void)rk;
    void *v = wgc_alloc(h, &blob_type, 8);
    cr_assert(wgc_weakmap_set(h, m, live_key, v));
    /* garbage: a key nothing else holds; and a chain k0 -> k1 -> k2 -> k3
     * where each key's value is the next key, met against its order */
    cnode *dead_key = NULL, *k[4] = {0};
    WGC_FRAME(h, &dead_key, &k[0], &k[1], &k[2], &k[3], &v);
    dead_key = new_cnode(h, 2);
    v = wgc_alloc(h, &blob_type, 8);
    cr_assert(wgc_weakmap_set(h, m, dead_key, v));
    /* A WeakRef to garbage keeps it garbage. */
    wgc_root *rr = wgc_root_new(h, wgc_weakref_new(h, wgc_alloc(h, &node_type, 8), NULL));
    for (int i = 0; i < 4; i++)
        k[i] = new_cnode(h, 10 + (uint64_t)i);
    for (int i = 3; i > 0; i--)
        cr_assert(wgc_weakmap_set(h, m, k[i - 1], k[i]));
    wgc_root *rk0 = wgc_root_new(h, k[0]);
    WGC_FRAME_POP(h);

    wgc_census c;
    cr_assert(wgc_census_take(h, &c));
    const wgc_census_entry *cn = entry_of(&c, &cnode_type), *bl = entry_of(&c, &blob_type);
    cr_assert_eq(cn->objects, 5, "live key and the chain k0..k3: %zu", cn->objects);
    cr_assert_eq(bl->objects, 1, "only the live key's value");
    cr_assert_null(entry_of(&c, &node_type), "a WeakRef's target counted");
    wgc_census_release(&c);

    /* The next collection agrees. */
    collect(h);
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.bytes, get_stats(h).live_bytes);
    cr_assert_eq(c.allocated_objects, c.objects);
    wgc_census_release(&c);
    (void)rm, (void)rr, (void)rk0;
    wgc_heap_free(h);
}

/* [D1] A program collects at the same points, gets the same stats and the
 * same weak and cleanup outcomes with a census between every step. */
static int delivered[64];
static size_t delivered_count;

static int record_cleanup(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap, (void)user;
    delivered[delivered_count++ % 64] = (int)((cnode *)holdings)->id;
    return 0;
}

static void run_program(bool with_census, wgc_heap_stats *stats_out,
                        size_t *weak_alive, uint64_t *first_delivered)
{
    no_stress();
    delivered_count = 0;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 256 * 1024; /* several collections below */
    wgc_heap *h = new_heap_cfg(&cfg);
    wgc_root *list = wgc_root_new(h, NULL);
    wgc_registry *reg = wgc_registry_new(h, record_cleanup, NULL);
    wgc_root *rreg = wgc_root_new(h, reg);
    wgc_weakref *refs[50];
    wgc_root *rrefs[50];
    for (int i = 0; i < 50; i++) {
        cnode *target = new_cnode(h, (uint64_t)i);
        wgc_root *rt = wgc_root_new(h, target);
        cnode *holdings = new_cnode(h, 100 + (uint64_t)i);
        cr_assert(wgc_registry_register(reg, target, holdings, NULL));
        refs[i] = wgc_weakref_new(h, target, NULL);
        rrefs[i] = wgc_root_new(h, refs[i]);
        if (i % 3)
            wgc_root_free(rt); /* two in three targets die */
        for (int j = 0; j < 300; j++) {
            kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
            cr_assert_not_null(k);
            if (j % 7 == 0)
                wgc_root_set(list, k);
            if (with_census && j % 50 == 0) {
                wgc_census c;
                cr_assert(wgc_census_take(h, &c));
                wgc_census_release(&c);
                wgc_path p;
                if (wgc_is_object(h, target)) { /* maybe garbage, not yet reclaimed */
                    cr_assert(wgc_path_find(h, target, &p));
                    cr_assert_eq(p.length > 0, i % 3 == 0);
                    wgc_path_release(&p);
                }
            }
        }
        wgc_run_cleanup(h, SIZE_MAX);
    }
    collect(h);
    wgc_run_cleanup(h, SIZE_MAX);
    *weak_alive = 0;
    for (int i = 0; i < 50; i++)
        *weak_alive += wgc_weakref_deref(h, refs[i]) != NULL;
    *first_delivered = delivered_count ? (uint64_t)delivered[0] : 0;
    cr_assert(wgc_stats(h, stats_out));
    (void)rreg, (void)rrefs;
    wgc_heap_free(h);
}

Test(diag, census_and_paths_do_not_disturb_the_heap)
{
    wgc_heap_stats a, b;
    size_t alive_a, alive_b;
    uint64_t first_a, first_b;
    run_program(false, &a, &alive_a, &first_a);
    size_t delivered_a = delivered_count;
    run_program(true, &b, &alive_b, &first_b);
    cr_assert_gt(a.collections, 3, "the program should collect: %lu",
                 (unsigned long)a.collections);
    cr_assert_eq(a.collections, b.collections, "collections %lu vs %lu",
                 (unsigned long)a.collections, (unsigned long)b.collections);
    cr_assert_eq(a.bytes_allocated, b.bytes_allocated);
    cr_assert_eq(a.live_bytes, b.live_bytes);
    cr_assert_eq(a.weak_slots_cleared, b.weak_slots_cleared);
    cr_assert_eq(a.ephemerons_resolved, b.ephemerons_resolved);
    cr_assert_eq(a.cells_queued, b.cells_queued);
    cr_assert_eq(a.cells_delivered, b.cells_delivered);
    cr_assert_eq(alive_a, alive_b);
    cr_assert_eq(delivered_a, delivered_count);
    cr_assert_eq(first_a, first_b);
    cr_assert_eq(alive_a, 17, "targets 0, 3, ..., 48 stay rooted: %zu", alive_a);
    cr_assert_eq(delivered_a, 33);
}

/* Garbage stays garbage after a census: marks are untouched [D1]. */
Test(diag, census_leaves_garbage_to_the_next_collection)
{
    no_stress();
    wgc_heap *h = quiet_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    build_clist(h, r, 5);
    collect(h); /* the list survives: marked in the current bitmap */
    wgc_root_set(r, NULL);
    node *fresh = wgc_alloc(h, &node_type, sizeof(node));
    wgc_root *wr = wgc_root_new(h, wgc_weakref_new(h, fresh, NULL));
    wgc_census c;
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.objects, 1, "only the WeakRef: %zu", c.objects);
    cr_assert_eq(c.allocated_objects, 7);
    wgc_census_release(&c);
    wgc_heap_stats before = get_stats(h);
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, wgc_root_get(wr)));
    cr_assert_eq(get_stats(h).weak_slots_cleared, before.weak_slots_cleared + 1);
    cr_assert_eq(get_stats(h).live_bytes, 16);
    wgc_heap_free(h);
}

/* ============================================================ reentrancy */

static wgc_heap *reentry_heap;
static bool reentry_census_ok = true, reentry_alloc_ok = true;
static wgc_error reentry_census_error, reentry_alloc_error;

static void reentrant_trace(void *obj, wgc_visitor *v)
{
    wgc_census c;
    reentry_census_ok = wgc_census_take(reentry_heap, &c);
    reentry_census_error = wgc_last_error(reentry_heap);
    void *x = wgc_alloc(reentry_heap, &node_type, sizeof(node));
    reentry_alloc_ok = x != NULL;
    reentry_alloc_error = wgc_last_error(reentry_heap);
    wgc_visit(v, &((node *)obj)->next);
}

static const wgc_type reentrant_type = {.name = "reentrant", .trace = reentrant_trace};

Test(diag, refused_inside_a_collection_and_its_own_callbacks)
{
    wgc_heap *h = quiet_heap();
    reentry_heap = h;
    wgc_root *r = wgc_root_new(h, wgc_alloc(h, &reentrant_type, sizeof(node)));
    /* from a trace callback during a collection */
    collect(h);
    cr_assert(!reentry_census_ok);
    cr_assert_eq(reentry_census_error, WGC_EREENTRY);
    /* the census runs trace callbacks under the same rules */
    reentry_alloc_ok = true;
    wgc_clear_error(h);
    wgc_heap_stats before = get_stats(h);
    wgc_census c;
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.objects, 1);
    wgc_census_release(&c);
    cr_assert(!reentry_census_ok, "a census inside a census");
    cr_assert_eq(reentry_census_error, WGC_EREENTRY);
    cr_assert(!reentry_alloc_ok, "allocation from a trace callback in a census");
    cr_assert_eq(reentry_alloc_error, WGC_EREENTRY);
    cr_assert_eq(get_stats(h).objects_allocated, before.objects_allocated);
    /* and the heap allocates normally afterwards */
    cr_assert_not_null(wgc_alloc(h, &node_type, sizeof(node)));
    (void)r;
    wgc_heap_free(h);
}

Test(diag, bad_arguments)
{
    wgc_census c = {.objects = 99};
    cr_assert(!wgc_census_take(NULL, &c));
    cr_assert_eq(c.objects, 0);
    wgc_heap *h = quiet_heap();
    cr_assert(!wgc_census_take(h, NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_path p;
    int local;
    cr_assert(!wgc_path_find(h, &local, &p));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_eq(p.length, 0);
    cr_assert(!wgc_path_find(h, NULL, &p));
    cr_assert(!wgc_path_find(NULL, &local, &p));
    cr_assert(!wgc_snapshot_write(h, NULL, NULL));
    cr_assert(!wgc_snapshot_write_file(h, NULL));
    cr_assert(!wgc_census_print(NULL, stdout));
    cr_assert(!wgc_path_print(NULL, stdout));
    wgc_census_release(NULL);
    wgc_path_release(NULL);
    cr_assert_str_eq(wgc_root_kind_name(WGC_ROOT_FRAME), "frame");
    cr_assert_str_eq(wgc_root_kind_name((wgc_root_kind)42), "?");
    wgc_heap_free(h);
}

/* ================================================================== paths */

Test(diag, path_through_a_handle_names_offsets)
{
    wgc_heap *h = quiet_heap();
    cnode *a = new_cnode(h, 1);
    wgc_root *ra = wgc_root_new(h, NULL);
    wgc_root *r = wgc_root_new(h, a);
    (void)r;
    a->next = new_cnode(h, 2);
    wgc_write_barrier(h, a);
    a->next->other = new_cnode(h, 3);
    wgc_write_barrier(h, a->next);
    cnode *target = a->next->other;

    wgc_path p;
    cr_assert(wgc_path_find(h, target, &p));
    cr_assert_eq(p.length, 3);
    cr_assert_eq(p.root_kind, WGC_ROOT_HANDLE);
    cr_assert_eq(p.root_index, 1, "the second handle (the first holds NULL)");
    cr_assert_eq(p.steps[0].object, a);
    cr_assert_eq(p.steps[1].object, a->next);
    cr_assert(p.steps[1].in_object);
    cr_assert_eq(p.steps[1].slot, offsetof(cnode, next));
    cr_assert_eq(p.steps[2].object, target);
    cr_assert_eq(p.steps[2].slot, offsetof(cnode, other));
    cr_assert_str_eq(p.steps[2].name, "cnode");
    cr_assert_eq(p.steps[2].type, &cnode_type);
    cr_assert_null(p.steps[2].ephemeron_key);

    FILE *f = tmpfile();
    cr_assert(wgc_path_print(&p, f));
    char *text = read_all(f);
    cr_assert_not_null(strstr(text, "3 steps from a root"), "%s", text);
    cr_assert_not_null(strstr(text, "root: handle 1"), "%s", text);
    cr_assert_not_null(strstr(text, "cnode +8 -> "), "%s", text);
    free(text);
    fclose(f);
    wgc_path_release(&p);
    cr_assert_eq(p.length, 0);

    /* the object a handle holds: one step */
    cr_assert(wgc_path_find(h, a, &p));
    cr_assert_eq(p.length, 1);
    cr_assert_not_null(p.root_address);
    cr_assert_eq(p.root_index, 1);
    wgc_path_release(&p);
    (void)ra;
    wgc_heap_free(h);
}

Test(diag, path_through_a_frame)
{
    wgc_heap *h = quiet_heap();
    cnode *x = NULL, *y = NULL;
    WGC_FRAME(h, &x, &y);
    cnode *inner = NULL;
    {
        y = new_cnode(h, 1);
        y->next = new_cnode(h, 2);
        wgc_write_barrier(h, y);
        WGC_FRAME(h, &inner);
        wgc_path p;
        cr_assert(wgc_path_find(h, y->next, &p));
        cr_assert_eq(p.length, 2);
        cr_assert_eq(p.root_kind, WGC_ROOT_FRAME);
        cr_assert_eq(p.root_index, 1, "the outer frame, below the inner one");
        cr_assert_eq(p.root_slot, 1, "its second slot");
        cr_assert_eq(p.root_address, (const void *)&y);
        wgc_path_release(&p);
        FILE *f = tmpfile();
        cr_assert(wgc_why_alive(h, y->next, f));
        char *text = read_all(f);
        cr_assert_not_null(strstr(text, "root: frame 1 slot 1"), "%s", text);
        free(text);
        fclose(f);
        WGC_FRAME_POP(h);
    }
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

Test(diag, path_through_trace_roots_and_a_layout_type)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_vm_stack;
    wgc_heap *h = new_heap_cfg(&cfg);
    memset(vm_stack, 0, sizeof vm_stack);
    triple *t = wgc_alloc(h, &triple_type, sizeof *t);
    vm_stack[2] = t;
    vm_stack[3] = new_cnode(h, 7);
    t->right = new_cnode(h, 8);
    wgc_write_barrier(h, t);
    wgc_path p;
    cr_assert(wgc_path_find(h, t->right, &p));
    cr_assert_eq(p.length, 2);
    cr_assert_eq(p.root_kind, WGC_ROOT_CALLBACK);
    cr_assert_eq(p.root_index, 0, "the first non-NULL slot trace_roots reported");
    cr_assert_eq(p.root_address, (const void *)&vm_stack[2]);
    cr_assert_str_eq(p.steps[0].name, "triple");
    cr_assert(p.steps[1].in_object);
    cr_assert_eq(p.steps[1].slot, offsetof(triple, right));
    wgc_path_release(&p);
    cr_assert(wgc_path_find(h, vm_stack[3], &p));
    cr_assert_eq(p.root_index, 1);
    wgc_path_release(&p);
    wgc_heap_free(h);
}

Test(diag, path_is_shortest_and_takes_the_first_root)
{
    wgc_heap *h = quiet_heap();
    wgc_root *longer = wgc_root_new(h, NULL), *shorter = wgc_root_new(h, NULL);
    build_clist(h, longer, 20);
    cnode *target = wgc_root_get(longer);
    while (target->next)
        target = target->next; /* 20 steps from `longer` */
    cnode *c = new_cnode(h, 99);
    c->other = target;
    wgc_root_set(shorter, c);
    wgc_path p;
    cr_assert(wgc_path_find(h, target, &p));
    cr_assert_eq(p.length, 2, "length %zu", p.length);
    cr_assert_eq(p.root_index, 1);
    wgc_path_release(&p);
    wgc_root *again = wgc_root_new(h, c); /* a tie: the older handle wins */
    cr_assert(wgc_path_find(h, target, &p));
    cr_assert_eq(p.root_index, 1);
    wgc_path_release(&p);
    (void)again;
    wgc_heap_free(h);
}

Test(diag, unreachable_object_has_an_empty_path)
{
    wgc_heap *h = quiet_heap();
    cnode *g = new_cnode(h, 1);
    wgc_root *r = wgc_root_new(h, wgc_weakref_new(h, g, NULL));
    wgc_path p;
    cr_assert(wgc_path_find(h, g, &p), "%s", wgc_error_string(wgc_last_error(h)));
    cr_assert_eq(p.length, 0, "a WeakRef retained its target");
    cr_assert_null(p.steps);
    FILE *f = tmpfile();
    cr_assert(wgc_why_alive(h, g, f));
    char *text = read_all(f);
    cr_assert_not_null(strstr(text, "unreachable"), "%s", text);
    free(text);
    fclose(f);
    collect(h);
    cr_assert(!wgc_is_object(h, g), "it was garbage indeed");
    (void)r;
    wgc_heap_free(h);
}

Test(diag, path_through_weak_map_registry_and_weakref_holdings)
{
    wgc_heap *h = quiet_heap();
    wgc_weakmap *m = wgc_weakmap_new(h);
    wgc_root *rm = wgc_root_new(h, m);
    cnode *key = new_cnode(h, 1);
    wgc_root *rk = wgc_root_new(h, key);
    cnode *value = new_cnode(h, 2);
    cr_assert(wgc_weakmap_set(h, m, key, value));
    wgc_path p;
    cr_assert(wgc_path_find(h, value, &p));
    cr_assert_eq(p.length, 2);
    cr_assert_eq(p.root_index, 0);
    cr_assert_eq(p.steps[0].object, m);
    cr_assert_str_eq(p.steps[0].name, "WeakMap");
    cr_assert(!p.steps[1].in_object, "a weak map's entries are not in the object");
    cr_assert_eq(p.steps[1].slot, 1, "slot 0 is the key, 1 its value");
    cr_assert_eq(p.steps[1].ephemeron_key, key);
    FILE *f = tmpfile();
    cr_assert(wgc_path_print(&p, f));
    char *text = read_all(f);
    cr_assert_not_null(strstr(text, "WeakMap [1] -> "), "%s", text);
    cr_assert_not_null(strstr(text, "ephemeron value: its key"), "%s", text);
    free(text);
    fclose(f);
    wgc_path_release(&p);
    wgc_root_set(rk, NULL);
    cr_assert(wgc_path_find(h, value, &p));
    cr_assert_eq(p.length, 0, "a value whose key is unreachable");
    wgc_path_release(&p);

    /* registry: holdings strong, target weak */
    wgc_registry *reg = wgc_registry_new(h, record_cleanup, NULL);
    wgc_root *rreg = wgc_root_new(h, reg);
    cnode *target = NULL, *holdings = NULL, *t2 = NULL, *h2 = NULL;
    WGC_FRAME(h, &target, &holdings, &t2, &h2);
    target = new_cnode(h, 3);
    holdings = new_cnode(h, 4);
    cr_assert(wgc_registry_register(reg, target, holdings, NULL));
    /* WeakRef: holdings strong */
    t2 = new_cnode(h, 5);
    h2 = new_cnode(h, 6);
    wgc_root *rref = wgc_root_new(h, wgc_weakref_new(h, t2, h2));
    WGC_FRAME_POP(h); /* no more allocation: the locals stay valid */
    cr_assert(wgc_path_find(h, holdings, &p));
    cr_assert_eq(p.length, 2);
    cr_assert_eq(p.steps[0].object, reg);
    cr_assert_str_eq(p.steps[0].name, "FinalizationRegistry");
    cr_assert(!p.steps[1].in_object);
    cr_assert_eq(p.steps[1].slot, 0, "the first cell's holdings");
    wgc_path_release(&p);
    cr_assert(wgc_path_find(h, target, &p));
    cr_assert_eq(p.length, 0, "a registry retained its target");
    cr_assert(wgc_path_find(h, h2, &p));
    cr_assert_eq(p.length, 2);
    cr_assert_eq(p.steps[1].slot, 8, "holdings at +8");
    wgc_path_release(&p);
    cr_assert(wgc_path_find(h, t2, &p));
    cr_assert_eq(p.length, 0);
    (void)rm, (void)rreg, (void)rref;
    wgc_heap_free(h);
}

/* =============================================================== snapshot */

static bool count_sink(const void *data, size_t size, void *user)
{
    (void)data;
    *(size_t *)user += size;
    return true;
}

static bool refusing_sink(const void *data, size_t size, void *user)
{
    (void)data, (void)size, (void)user;
    return false;
}

Test(diag, snapshot_is_deterministic_and_reports_sink_failure)
{
    wgc_heap *h = quiet_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    build_clist(h, r, 100);
    wgc_weakmap *m = wgc_weakmap_new(h);
    wgc_root *rm = wgc_root_new(h, m);
    cr_assert(wgc_weakmap_set(h, m, wgc_root_get(r), new_cnode(h, 5)));
    FILE *a = tmpfile(), *b = tmpfile();
    cr_assert(wgc_snapshot_write_file(h, a));
    collect(h); /* moves nothing, but changes the bitmaps */
    cr_assert(wgc_snapshot_write_file(h, b));
    char *ta = read_all(a), *tb = read_all(b);
    cr_assert_str_eq(ta, tb);
    cr_assert_eq(strncmp(ta, "{\"snapshot\":{\"meta\":", 20), 0);
    cr_assert_not_null(strstr(ta, "\"node_count\":107,"), "5 synthetic, 100 list cells, the map, its value");
    free(ta);
    free(tb);
    fclose(a);
    fclose(b);
    size_t bytes = 0;
    cr_assert(wgc_snapshot_write(h, count_sink, &bytes));
    cr_assert_gt(bytes, 1000);
    cr_assert(!wgc_snapshot_write(h, refusing_sink, NULL));
    cr_assert_eq(wgc_last_error(h), WGC_ECALLBACK);
    (void)rm;
    wgc_heap_free(h);
}

/* ===================================================== roots and bad slots */

/* A root callback may report ephemerons and weak slots too. */
static void *eph_roots[3]; /* key, value, a weak slot */

static void trace_eph_roots(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_ephemeron(v, &eph_roots[0], &eph_roots[1]);
    wgc_visit_weak(v, &eph_roots[2]);
}

Test(diag, root_callback_ephemerons_and_weak_slots)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_eph_roots;
    wgc_heap *h = new_heap_cfg(&cfg);
    memset(eph_roots, 0, sizeof eph_roots);
    wgc_root *rk = wgc_root_new(h, NULL);
    cnode *key = new_cnode(h, 1);
    wgc_root_set(rk, key);
    eph_roots[0] = key;
    eph_roots[1] = new_cnode(h, 2);
    eph_roots[2] = new_cnode(h, 3);
    wgc_path p;
    cr_assert(wgc_path_find(h, eph_roots[1], &p));
    cr_assert_eq(p.length, 1);
    cr_assert_eq(p.root_kind, WGC_ROOT_CALLBACK);
    cr_assert_eq(p.root_index, 1, "the key is slot 0, the value slot 1");
    cr_assert_eq(p.steps[0].ephemeron_key, key);
    wgc_path_release(&p);
    cr_assert(wgc_path_find(h, eph_roots[2], &p));
    cr_assert_eq(p.length, 0, "a weak root slot retained its target");
    wgc_census c;
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.objects, 2);
    wgc_census_release(&c);
    /* the key unreachable: so is the value, as the collector sees it */
    wgc_root_set(rk, NULL);
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.objects, 0);
    wgc_census_release(&c);
    collect(h);
    cr_assert_null(eph_roots[0], "the collector agrees: the key died");
    cr_assert_null(eph_roots[1]);
    cr_assert_null(eph_roots[2]);
    wgc_heap_free(h);
}

/* [D4] A slot that does not hold an object is skipped, not followed. */
Test(diag, bad_slots_are_skipped)
{
    wgc_heap *h = quiet_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    cnode *a = new_cnode(h, 1);
    wgc_root_set(r, a);
    uint64_t not_an_object[8] = {0};
    a->next = (cnode *)&not_an_object[2];
    a->other = (cnode *)((char *)a + 16); /* inside a: not an object start */
    wgc_census c;
    cr_assert(wgc_census_take(h, &c));
    cr_assert_eq(c.objects, 1);
    wgc_census_release(&c);
    FILE *f = tmpfile();
    cr_assert(wgc_snapshot_write_file(h, f));
    fclose(f);
    a->next = a->other = NULL; /* before a debug build's collection sees them */
    wgc_heap_free(h);
}
