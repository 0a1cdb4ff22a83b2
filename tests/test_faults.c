/*
 * tests/test_faults.c -- fault injection (wgc_debug_fail_request).
 *
 * A representative workload (handles, small objects of many size classes
 * with and without destructors, large objects, a wide object that makes
 * the mark stack grow, garbage, explicit and automatic collections) is run
 * once to count its internal memory requests R.  Then for every k in
 * 1..R+1 it runs again on a fresh heap with the k-th request failing
 * (once, and in a second test from k on until the failure is seen).
 * Every operation that fails must return NULL with WGC_ENOMEM and leave
 * the heap consistent: wgc_debug_verify passes, every live object is
 * intact (checksums), the stats did not count the failed call; then
 * injection is turned off and the same operation must succeed.
 */
#include "common.h"

/* ============================================================ the objects */

typedef struct fobj {
    uint64_t id;
    uint64_t sum;
    struct fobj *link;
    uint32_t payload_len;
    uint8_t payload[];
} fobj;

static void fobj_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((fobj *)obj)->link);
}

static unsigned long fobj_destroyed;

static void fobj_destroy(void *obj)
{
    (void)obj;
    fobj_destroyed++;
}

static const wgc_type fobj_type = {.name = "fobj", .trace = fobj_trace};
static const wgc_type fobj_d_type = {.name = "fobj_d", .trace = fobj_trace, .destroy = fobj_destroy};
static const wgc_type fdata_type = {.name = "fdata"};
/* The same object described by a layout: scanned without callback. */
static const wgc_type fobj_layout_type = {.name = "fobj-layout",
                                          .pointer_words = WGC_WORD(fobj, link)};

typedef struct table {
    size_t count;
    void *items[];
} table;

static void table_trace(void *obj, wgc_visitor *v)
{
    table *t = obj;
    wgc_visit_array(v, t->items, t->count);
}

static const wgc_type table_type = {.name = "table", .trace = table_trace};

static uint64_t sum_of(uint64_t id)
{
    return id * 0x9e3779b97f4a7c15ull + 0x1234567;
}

static uint8_t byte_of(uint64_t id, size_t i)
{
    return (uint8_t)(id * 31 + i * 7);
}

/* ========================================================= the workload */

#define CAP 12000

typedef struct run {
    wgc_heap *h;
    wgc_root *table_root;
    wgc_root *extra[16];
    size_t extra_count;
    uint64_t failures;   /* failed operations seen */
    int op;              /* operation counter, for messages */
    uint64_t k;          /* injected request, 0: none */
    bool sticky;
} run;

static table *tab(run *r)
{
    return wgc_root_get(r->table_root);
}

/* Every live object is intact. */
static void check_live(run *r)
{
    table *t = tab(r);
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++) {
        fobj *o = t->items[i];
        if (!o)
            continue;
        cr_assert(wgc_is_object(r->h, o), "k=%llu op %d: slot %zu not an object",
                  (unsigned long long)r->k, r->op, i);
        if (wgc_type_of(o) == &fdata_type)
            continue;
        cr_assert_eq(o->sum, sum_of(o->id), "k=%llu op %d: object %zu corrupted",
                     (unsigned long long)r->k, r->op, i);
        for (uint32_t b = 0; b < o->payload_len; b++)
            cr_assert_eq(o->payload[b], byte_of(o->id, b), "k=%llu op %d: object "
                         "%zu payload byte %u corrupted", (unsigned long long)r->k,
                         r->op, i, b);
        if (o->link)
            cr_assert_eq(o->link->sum, sum_of(o->link->id));
    }
}

/* An operation failed: it must have failed cleanly. */
static void on_failure(run *r, const wgc_heap_stats *before, const char *what)
{
    r->failures++;
    cr_assert_eq(wgc_last_error(r->h), WGC_ENOMEM, "k=%llu op %d (%s): failed "
                 "with %s, not ENOMEM", (unsigned long long)r->k, r->op, what,
                 wgc_error_string(wgc_last_error(r->h)));
    cr_assert_neq(r->k, 0, "op %d (%s) failed without fault injection: %s",
                  r->op, what, wgc_error_string(wgc_last_error(r->h)));
    wgc_heap_stats after = get_stats(r->h);
    cr_assert_eq(after.objects_allocated, before->objects_allocated,
                 "k=%llu op %d (%s): a failed call counted an object",
                 (unsigned long long)r->k, r->op, what);
    cr_assert(wgc_debug_verify(r->h), "k=%llu op %d (%s): heap inconsistent "
              "after the failure", (unsigned long long)r->k, r->op, what);
    check_live(r);
    /* memory is available again */
    wgc_debug_fail_request(r->h, 0, false);
    wgc_clear_error(r->h);
}

/* Allocation that must succeed, after at most one clean failure. */
static void *alloc(run *r, const wgc_type *type, size_t size)
{
    r->op++;
    wgc_heap_stats before = get_stats(r->h);
    void *p = wgc_alloc(r->h, type, size);
    if (!p) {
        on_failure(r, &before, type->name);
        p = wgc_alloc(r->h, type, size);
        cr_assert_not_null(p, "k=%llu op %d: %s allocation fails after injection "
                           "was turned off: %s", (unsigned long long)r->k, r->op,
                           type->name, wgc_error_string(wgc_last_error(r->h)));
    }
    return p;
}

static wgc_root *root_new(run *r, void *obj)
{
    r->op++;
    wgc_heap_stats before = get_stats(r->h);
    wgc_root *root = wgc_root_new(r->h, obj);
    if (!root) {
        on_failure(r, &before, "wgc_root_new");
        root = wgc_root_new(r->h, obj);
        cr_assert_not_null(root);
    }
    return root;
}

static fobj *make(run *r, uint64_t id, size_t payload, bool destructor)
{
    const wgc_type *type = destructor ? &fobj_d_type : id % 2 ? &fobj_layout_type : &fobj_type;
    fobj *o = alloc(r, type, sizeof *o + payload);
    o->id = id;
    o->sum = sum_of(id);
    o->payload_len = (uint32_t)payload;
    for (size_t b = 0; b < payload; b++)
        o->payload[b] = byte_of(id, b);
    return o;
}

static void workload(run *r)
{
    table *t = alloc(r, &table_type, sizeof(table) + CAP * sizeof(void *));
    r->table_root = root_new(r, t);
    uint64_t id = 0;
    /* small objects of many classes, some large, with and without
     * destructors; a third dropped again; handles here and there */
    for (size_t i = 0; i < 1500; i++) {
        size_t payload = (i * 37) % 700;
        if (i % 150 == 149)
            payload = 9000 + i * 3; /* large */
        fobj *o = make(r, id++, payload, i % 3 == 0);
        t = tab(r);
        if (i > 0 && i % 4 == 0)
            o->link = t->items[i - 1];
        t->items[t->count++] = o;
        wgc_write_barrier(r->h, t);
        if (i % 3 == 1)
            t->items[i / 2] = NULL;
        if (i % 100 == 0 && r->extra_count < 16)
            r->extra[r->extra_count++] = root_new(r, o);
        if (i % 7 == 0)
            alloc(r, &fdata_type, (i * 13) % 3000); /* pointer-free garbage */
        if (i % 500 == 499) {
            r->op++;
            cr_assert(wgc_collect(r->h)); /* never fails */
            check_live(r);
        }
    }
    /* a wide fan-out: > 8190 children of one object grow the mark stack */
    t = tab(r);
    size_t base = t->count;
    for (size_t i = 0; i < 9000 && base + i < CAP; i++) {
        fobj *o = make(r, id++, 8, false);
        t = tab(r);
        t->items[base + i] = o;
        t->count = base + i + 1;
        wgc_write_barrier(r->h, t);
    }
    r->op++;
    cr_assert(wgc_collect(r->h));
    check_live(r);
    /* free some handles, drop the fan-out, collect (pages go to the pool
     * and back to the OS), then allocate again */
    for (size_t i = 0; i < r->extra_count; i += 2)
        wgc_root_free(r->extra[i]);
    t->count = base;
    r->op++;
    cr_assert(wgc_collect(r->h));
    check_live(r);
    for (size_t i = 0; i < 3000; i++) {
        fobj *o = make(r, id++, i % 300, i % 2 == 0);
        t = tab(r);
        t->items[(i * 7) % base] = o;
        wgc_write_barrier(r->h, t);
    }
    r->op++;
    cr_assert(wgc_collect(r->h));
    check_live(r);
}

static void finish(run *r)
{
    cr_assert(wgc_debug_verify(r->h), "k=%llu: verify failed at the end",
              (unsigned long long)r->k);
    check_live(r);
    wgc_heap_free(r->h);
}

static wgc_heap *fresh_heap(void)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 512 * 1024; /* collect often */
    return new_heap_cfg(&cfg);
}

/* The number of internal requests the workload makes. */
static uint64_t count_requests(void)
{
    run r = {.h = fresh_heap()};
    uint64_t start = wgc_debug_requests(r.h);
    workload(&r);
    uint64_t n = wgc_debug_requests(r.h) - start;
    cr_assert_eq(r.failures, 0);
    finish(&r);
    return n;
}

static void walk(bool sticky)
{
    uint64_t total = count_requests();
    cr_assert_gt(total, 10, "the workload makes only %llu requests",
                 (unsigned long long)total);
    fprintf(stderr, "test_faults: workload makes %llu requests; failing each "
            "in turn (%s)\n", (unsigned long long)total, sticky ? "sticky" : "once");
    uint64_t visible = 0;
    for (uint64_t k = 1; k <= total + 1; k++) {
        run r = {.h = fresh_heap(), .k = k, .sticky = sticky};
        wgc_debug_fail_request(r.h, k, sticky);
        workload(&r);
        /* the first failure turns injection off: at most one per run */
        cr_assert_leq(r.failures, 1, "k=%llu: one failed request made %llu "
                      "operations fail", (unsigned long long)k,
                      (unsigned long long)r.failures);
        if (k == total + 1)
            cr_assert_eq(r.failures, 0, "a request beyond the workload failed it");
        visible += r.failures;
        finish(&r);
    }
    fprintf(stderr, "test_faults: %llu of %llu injected failures surfaced as "
            "error results\n", (unsigned long long)visible, (unsigned long long)total);
    /* Most requests are on allocation paths and surface as errors.  Those
     * inside a collection are absorbed by its memory-free fallback, and a
     * single (non-sticky) page failure may be absorbed by the collection
     * wgc_alloc runs before giving up. */
    if (sticky)
        cr_assert_geq(visible, total / 2, "only %llu of %llu failed requests "
                      "were reported", (unsigned long long)visible,
                      (unsigned long long)total);
    else
        cr_assert_gt(visible, total / 5, "only %llu of %llu failed requests were "
                     "reported", (unsigned long long)visible,
                     (unsigned long long)total);
}

Test(faults, every_request_fails_once, .timeout = 600)
{
    walk(false);
}

Test(faults, every_request_fails_from_k_on, .timeout = 600)
{
    walk(true);
}

/* A collection with no memory at all still works: it needs none. */
Test(faults, collection_needs_no_memory)
{
    wgc_heap *h = fresh_heap();
    wgc_root *root = wgc_root_new(h, NULL);
    table *t = wgc_alloc(h, &table_type, sizeof(table) + 20000 * sizeof(void *));
    wgc_root_set(root, t);
    for (size_t i = 0; i < 20000; i++) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        cr_assert_not_null(c);
        c->id = i;
        if (i % 2)
            c->next = t->items[i - 1];
        t->items[i] = c;
        t->count = i + 1;
        wgc_write_barrier(h, t);
    }
    for (size_t i = 0; i < 20000; i += 3)
        t->items[i] = NULL;
    wgc_debug_fail_request(h, 1, true); /* every request fails from now on */
    uint64_t before = wgc_debug_requests(h);
    collect(h);
    collect(h);
    verify(h);
    cr_assert_geq(wgc_debug_requests(h), before);
    for (size_t i = 0; i < 20000; i++) {
        cnode *c = t->items[i];
        if (c)
            cr_assert_eq(c->id, i);
    }
    /* nulled odd items die; nulled even ones live on through item i+1 */
    cr_assert_eq(destroyed_count, 3333, "%lu destroyed", destroyed_count);
    wgc_debug_fail_request(h, 0, false);
    cr_assert_not_null(wgc_alloc(h, &cnode_type, sizeof(cnode)));
    wgc_root_free(root);
    wgc_heap_free(h);
}

/* With no memory for the ephemeron table, a chain of weak-map entries still
 * converges by rescanning, also when its keys are pointer-free (a marked
 * pointer-free key must count as progress).  The entries are inserted
 * against the chain, so every ephemeron would have to wait. */
Test(faults, ephemeron_chain_of_pointer_free_keys_without_memory)
{
    no_stress();
    enum { N = 50 };
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    wgc_root *keys[N + 1];
    for (int i = 0; i <= N; i++) {
        keys[i] = wgc_root_new(h, wgc_alloc(h, &blob_type, 8));
        cr_assert_not_null(wgc_root_get(keys[i]));
    }
    wgc_weakmap *map = wgc_weakmap_new(h);
    cr_assert_not_null(map);
    wgc_root *map_root = wgc_root_new(h, map);
    for (int i = N - 1; i >= 0; i--)
        cr_assert(wgc_weakmap_set(h, map, wgc_root_get(keys[i]), wgc_root_get(keys[i + 1])));
    void *last = wgc_root_get(keys[N]);
    for (int i = 1; i <= N; i++)
        wgc_root_free(keys[i]); /* only the chain holds them now */

    wgc_debug_fail_request(h, 1, true); /* every request of the collection fails */
    cr_assert(wgc_collect(h));
    wgc_debug_fail_request(h, 0, false);

    cr_assert_eq(wgc_weakmap_count(h, map), N, "the chain lost entries");
    void *key = wgc_root_get(keys[0]);
    for (int i = 0; i < N; i++)
        key = wgc_weakmap_get(h, map, key);
    cr_assert_eq(key, last, "the chain does not lead to its last key");
    cr_assert(wgc_debug_verify(h));
    wgc_root_free(map_root);
    wgc_root_free(keys[0]);
    wgc_heap_free(h);
}

/* A collection without memory for its weak records falls back to a full
 * pass (the fix-weak tracer, gc/weakproc.c), where group refs are notified in heap order.
 * Registry cells do not depend on records: their walk after marking needs
 * no memory, so their queue keeps registration order [F4] [F14]. */
static uintptr_t fault_log[16];
static size_t fault_log_n;

static int fault_log_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)h, (void)user;
    cr_assert_lt(fault_log_n, 16);
    fault_log[fault_log_n++] = (uintptr_t)holdings;
    return 0;
}

Test(faults, registry_order_kept_in_a_collection_without_memory)
{
    wgc_heap *h = fresh_heap();
    wgc_root *root = wgc_root_new(h, NULL);
    table *t = wgc_alloc(h, &table_type, sizeof(table) + 10 * sizeof(void *));
    cr_assert_not_null(t);
    t->count = 10;
    wgc_root_set(root, t);
    wgc_registry *reg = wgc_registry_new(h, fault_log_cb, NULL);
    cr_assert_not_null(reg);
    t->items[9] = reg;
    wgc_write_barrier(h, t);
    for (int i = 0; i < 8; i++) {
        t->items[i] = wgc_alloc(h, &node_type, sizeof(node));
        wgc_write_barrier(h, t);
        cr_assert_not_null(t->items[i]);
    }
    /* registration order against allocation (heap) order */
    for (int i = 7; i >= 0; i--)
        cr_assert(wgc_registry_register(reg, t->items[i], (void *)(uintptr_t)(2 * i + 1),
                                        NULL));
    /* a weak ref whose target dies needs a weak record: none can be had */
    t->items[8] = wgc_weakref_new(h, t->items[0], NULL);
    wgc_write_barrier(h, t);
    cr_assert_not_null(t->items[8]);
    for (int i = 0; i < 8; i++)
        t->items[i] = NULL;
    wgc_debug_fail_request(h, 1, true);
    collect(h);
    wgc_debug_fail_request(h, 0, false);
    cr_assert_null(wgc_weakref_deref(h, t->items[8]));
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 8);
    for (int k = 0; k < 8; k++)
        cr_assert_eq(fault_log[k], (uintptr_t)(2 * (7 - k) + 1), "delivery %d", k);
    wgc_root_free(root);
    wgc_heap_free(h);
}
