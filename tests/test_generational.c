/*
 * tests/test_generational.c -- the generational mode (docs/generational.md):
 * what a minor collection frees and keeps [Y1], the barrier's remembered
 * objects [Y2], weak references, ephemerons and registries across minor
 * collections [Y4], the check for a missing barrier [Y3], stats and events.
 *
 * Each heap here asks for its mode explicitly, so these tests mean the same
 * whatever WGC_COLLECTOR says.
 */
#include "common.h"

/* An object with one strong and one weak slot. */
typedef struct pair {
    void *strong;
    void *weak;
} pair;

static void pair_trace(void *obj, wgc_visitor *v)
{
    pair *p = obj;
    wgc_visit(v, &p->strong);
    wgc_visit_weak(v, &p->weak);
}

static const wgc_type pair_type = {.name = "pair", .trace = pair_trace};

static unsigned minor_events, major_events, unbalanced;

static void count_events(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap, (void)user;
    static int open = -1;
    switch (e) {
    case WGC_EVENT_MINOR_START:
    case WGC_EVENT_COLLECT_START:
        unbalanced += open != -1;
        open = e;
        break;
    case WGC_EVENT_MINOR_END:
        unbalanced += open != WGC_EVENT_MINOR_START;
        minor_events++;
        open = -1;
        break;
    case WGC_EVENT_COLLECT_END:
        unbalanced += open != WGC_EVENT_COLLECT_START;
        major_events++;
        open = -1;
        break;
    }
}

static wgc_heap *gen_heap(void)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.collector = WGC_COLLECTOR_GENERATIONAL;
    cfg.auto_collect = false;
    cfg.stress_interval = 0;
    cfg.on_event = count_events;
    unsetenv("WGC_STRESS");
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    return h;
}

static pair *new_pair(wgc_heap *h)
{
    pair *p = wgc_alloc(h, &pair_type, sizeof *p);
    cr_assert_not_null(p);
    return p;
}

/* A WeakRef to obj, rooted; it reports whether obj is still alive. */
static wgc_root *watch(wgc_heap *h, void *obj)
{
    wgc_weakref *r = wgc_weakref_new(h, obj, NULL);
    cr_assert_not_null(r);
    return wgc_root_new(h, r);
}

static bool alive(wgc_heap *h, wgc_root *w)
{
    return wgc_weakref_deref(h, wgc_root_get(w)) != NULL;
}

Test(generational, Y1_minor_frees_young_garbage_and_keeps_old_garbage)
{
    wgc_heap *h = gen_heap();
    pair *old = new_pair(h);
    wgc_root *w_old = watch(h, old);
    wgc_root *keep = wgc_root_new(h, old);
    wgc_collect(h); /* old is old now */
    wgc_root_free(keep); /* old garbage from here on */
    pair *young = new_pair(h);
    wgc_root *w_young = watch(h, young);

    cr_assert(wgc_collect_minor(h));
    cr_assert_not(alive(h, w_young), "a young object nothing reaches survived a minor");
    cr_assert(alive(h, w_old), "a minor collection freed an old object");

    cr_assert(wgc_collect(h));
    cr_assert_not(alive(h, w_old), "a major collection kept old garbage");
    wgc_heap_free(h);
}

Test(generational, Y2_remembered_object_keeps_its_young_child)
{
    wgc_heap *h = gen_heap();
    pair *holder = new_pair(h);
    wgc_root *r = wgc_root_new(h, holder);
    wgc_collect(h);
    for (int round = 0; round < 3; round++) {
        node *child = wgc_alloc(h, &node_type, sizeof(node));
        cr_assert_not_null(child);
        WGC_STORE(h, (pair *)wgc_root_get(r), strong, child);
        wgc_root *w = watch(h, child);
        cr_assert(wgc_collect_minor(h));
        cr_assert(alive(h, w), "round %d: a young object stored (with the barrier) "
                  "into an old one died in a minor", round);
        cr_assert(wgc_debug_verify(h));
        wgc_root_free(w);
    }
    wgc_heap_stats st;
    cr_assert(wgc_stats(h, &st));
    cr_assert_eq(st.minor_collections, 3);
    cr_assert_eq(st.collections, 4);
    wgc_heap_free(h);
}

Test(generational, Y4_weak_slot_of_old_object_cleared_by_minor)
{
    wgc_heap *h = gen_heap();
    pair *holder = new_pair(h);
    wgc_root *r = wgc_root_new(h, holder);
    wgc_collect(h);
    node *young = wgc_alloc(h, &node_type, sizeof(node));
    holder = wgc_root_get(r);
    WGC_STORE(h, holder, weak, young);
    wgc_collect_minor(h);
    holder = wgc_root_get(r);
    cr_assert_null(holder->weak, "a weak slot in an old object kept a dead young target");

    /* A weak slot to an old target stays through minors, even once the
     * target is garbage: only a major frees old objects. */
    node *target = wgc_alloc(h, &node_type, sizeof(node));
    wgc_root *tr = wgc_root_new(h, target);
    WGC_STORE(h, (pair *)wgc_root_get(r), weak, target);
    wgc_collect_minor(h);
    wgc_root_free(tr);
    wgc_collect_minor(h);
    holder = wgc_root_get(r);
    cr_assert_eq(holder->weak, target, "a minor cleared a weak slot to an old object");
    wgc_collect(h);
    holder = wgc_root_get(r);
    cr_assert_null(holder->weak);
    wgc_heap_free(h);
}

Test(generational, Y4_weakmap_old_table_young_keys)
{
    wgc_heap *h = gen_heap();
    wgc_weakmap *m = wgc_weakmap_new(h);
    wgc_root *mr = wgc_root_new(h, m);
    node *old_key = wgc_alloc(h, &node_type, sizeof(node));
    wgc_root *kr = wgc_root_new(h, old_key);
    wgc_collect(h);

    /* A young key that dies, a young key that lives, an old key with a
     * young value that only the entry holds. */
    node *dead_key = wgc_alloc(h, &node_type, sizeof(node));
    node *live_key = wgc_alloc(h, &node_type, sizeof(node));
    wgc_root *lr = wgc_root_new(h, live_key);
    node *value = wgc_alloc(h, &node_type, sizeof(node));
    m = wgc_root_get(mr);
    cr_assert(wgc_weakmap_set(h, m, dead_key, NULL));
    cr_assert(wgc_weakmap_set(h, m, live_key, NULL));
    cr_assert(wgc_weakmap_set(h, m, wgc_root_get(kr), value));
    wgc_root *vw = watch(h, value);
    cr_assert_eq(wgc_weakmap_count(h, m), 3);

    wgc_collect_minor(h);
    m = wgc_root_get(mr);
    cr_assert_eq(wgc_weakmap_count(h, m), 2, "the dead young key's entry stayed");
    cr_assert(wgc_weakmap_has(h, m, wgc_root_get(lr)));
    cr_assert(alive(h, vw), "a value held by an entry of a live old key died in a minor");
    cr_assert_eq(wgc_weakmap_get(h, m, wgc_root_get(kr)), wgc_weakref_deref(h, wgc_root_get(vw)));

    /* The old key dies: only a major notices, and its value goes too. */
    wgc_root_free(kr);
    wgc_collect_minor(h);
    cr_assert_eq(wgc_weakmap_count(h, wgc_root_get(mr)), 2);
    wgc_collect(h);
    cr_assert_eq(wgc_weakmap_count(h, wgc_root_get(mr)), 1);
    cr_assert_not(alive(h, vw));
    wgc_heap_free(h);
}

static uintptr_t delivered[8];
static unsigned delivered_count;

static int record_cleanup(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap, (void)user;
    delivered[delivered_count++ % 8] = (uintptr_t)holdings;
    return 0;
}

Test(generational, Y4_old_registry_queues_young_target_in_minor)
{
    wgc_heap *h = gen_heap();
    wgc_registry *reg = wgc_registry_new(h, record_cleanup, NULL);
    wgc_root *rr = wgc_root_new(h, reg);
    wgc_collect(h);
    node *young = wgc_alloc(h, &node_type, sizeof(node));
    cr_assert(wgc_registry_register(wgc_root_get(rr), young, (void *)(uintptr_t)7, NULL));
    node *kept = wgc_alloc(h, &node_type, sizeof(node));
    wgc_root *kr = wgc_root_new(h, kept);
    cr_assert(wgc_registry_register(wgc_root_get(rr), kept, (void *)(uintptr_t)9, NULL));
    wgc_collect_minor(h);
    cr_assert_eq(wgc_run_cleanup(h, 10), 1);
    cr_assert_eq(delivered_count, 1);
    cr_assert_eq(delivered[0], 7);
    /* kept is old now: its death is seen by a major only. */
    wgc_root_free(kr);
    wgc_collect_minor(h);
    cr_assert_eq(wgc_run_cleanup(h, 10), 0);
    wgc_collect(h);
    cr_assert_eq(wgc_run_cleanup(h, 10), 1);
    cr_assert_eq(delivered[1], 9);
    wgc_heap_free(h);
}

static char logged[512];

static void capture_log(wgc_heap *heap, wgc_log_kind kind, const char *message, void *user)
{
    (void)heap, (void)kind, (void)user;
    snprintf(logged, sizeof logged, "%s", message);
}

Test(generational, Y3_missing_barrier_is_reported)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.collector = WGC_COLLECTOR_GENERATIONAL;
    cfg.auto_collect = false;
    cfg.log = capture_log;
    cfg.stress_interval = 0;
    unsetenv("WGC_STRESS");
    wgc_heap *h = wgc_heap_new(&cfg);
    pair *holder = new_pair(h);
    wgc_root *r = wgc_root_new(h, holder);
    wgc_collect(h);
    cr_assert(wgc_debug_verify(h), "a clean heap failed verification: %s", logged);
    node *young = wgc_alloc(h, &node_type, sizeof(node));
    holder = wgc_root_get(r);
    holder->weak = young; /* no barrier */
    cr_assert_not(wgc_debug_verify(h), "a missing barrier went unnoticed");
    cr_assert(strstr(logged, "missing write barrier"), "message: %s", logged);
    cr_assert(strstr(logged, "old pair object"), "no holder type: %s", logged);
    cr_assert(strstr(logged, "word 1"), "no field offset: %s", logged);
    cr_assert(strstr(logged, "young node object"), "no target type: %s", logged);
    /* The barrier, late, makes it right. */
    wgc_write_barrier(h, holder);
    cr_assert(wgc_debug_verify(h), "still reported after the barrier: %s", logged);
    wgc_heap_free(h);
}

Test(generational, stats_and_events_tell_minor_from_major)
{
    wgc_heap *h = gen_heap();
    wgc_collect(h);
    wgc_collect_minor(h);
    wgc_collect_minor(h);
    wgc_heap_stats st;
    wgc_stats(h, &st);
    cr_assert_eq(st.collections, 3);
    cr_assert_eq(st.minor_collections, 2);
    cr_assert_eq(minor_events, 2);
    cr_assert_eq(major_events, 1);
    cr_assert_eq(unbalanced, 0);
    cr_assert_geq(st.pause_total_ns, st.minor_pause_total_ns);
    cr_assert_geq(st.minor_pause_total_ns, st.minor_pause_max_ns);
    wgc_heap_free(h);
}

Test(generational, minor_request_in_full_mode_is_a_full_collection)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.collector = WGC_COLLECTOR_FULL;
    cfg.auto_collect = false;
    cfg.on_event = count_events;
    wgc_heap *h = wgc_heap_new(&cfg);
    pair *p = new_pair(h);
    wgc_root *keep = wgc_root_new(h, p);
    wgc_collect(h);
    wgc_root *w = watch(h, wgc_root_get(keep));
    wgc_root_free(keep);
    cr_assert(wgc_collect_minor(h));
    cr_assert_not(alive(h, w));
    wgc_heap_stats st;
    wgc_stats(h, &st);
    cr_assert_eq(st.minor_collections, 0);
    cr_assert_eq(minor_events, 0);
    wgc_heap_free(h);
}

Test(generational, collector_value_checked)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.collector = (wgc_collector)7;
    wgc_error why = WGC_OK;
    cr_assert_null(wgc_heap_create(&cfg, &why));
    cr_assert_eq(why, WGC_EINVAL);
}

/* [Y6] With auto-collection, a long-lived structure is old after the first
 * collection, and minors do not re-mark it: the policy runs majors only as
 * the old generation grows. */
Test(generational, Y6_auto_collections_are_mostly_minor)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.collector = WGC_COLLECTOR_GENERATIONAL;
    cfg.initial_heap_size = 256 * 1024;
    unsetenv("WGC_STRESS");
    cfg.stress_interval = 0;
    wgc_heap *h = wgc_heap_new(&cfg);
    node *list = NULL;
    WGC_FRAME(h, &list);
    for (int i = 0; i < 20000; i++) { /* 320 KB kept */
        node *n = wgc_alloc(h, &node_type, sizeof *n);
        n->next = list;
        list = n;
    }
    for (int i = 0; i < 400000; i++) /* 6.4 MB of garbage */
        cr_assert_not_null(wgc_alloc(h, &node_type, sizeof(node)));
    size_t len = 0;
    for (node *n = list; n; n = n->next)
        len++;
    cr_assert_eq(len, 20000);
    WGC_FRAME_POP(h);
    wgc_heap_stats st;
    wgc_stats(h, &st);
    cr_assert_geq(st.collections, 10);
    cr_assert_geq(st.minor_collections * 10, st.collections * 8,
                  "%llu of %llu collections were minor",
                  (unsigned long long)st.minor_collections,
                  (unsigned long long)st.collections);
    wgc_heap_free(h);
}

/* Many remembered objects (sorted by address before the minor scans
 * them, when there are many): every one keeps its young child. */
Test(generational, Y2_many_remembered_objects_keep_their_children)
{
    enum { N = 20000 };
    wgc_heap *h = gen_heap();
    node *list = NULL;
    WGC_FRAME(h, &list);
    for (int i = 0; i < N; i++) {
        node *cell = wgc_alloc(h, &node_type, sizeof(node));
        cell->next = list;
        list = cell;
    }
    wgc_collect(h); /* the cells are old now */
    node **cells = malloc(N * sizeof *cells);
    int n = 0;
    for (node *c = list; c; c = c->next)
        cells[n++] = c;
    cr_assert_eq(n, N);
    /* A young link after every other cell, stored in an order unlike
     * their addresses: half the cells are remembered. */
    for (int i = 0; i < N; i += 2) {
        node *c = cells[(size_t)i * 7919 % N];
        node *link = wgc_alloc(h, &node_type, sizeof(node));
        link->next = c->next;
        WGC_STORE(h, c, next, link);
    }
    wgc_collect_minor(h);
    int len = 0;
    for (node *c = list; c; c = c->next)
        len++;
    cr_assert_eq(len, N + N / 2, "the list lost young links: %d of %d", len, N + N / 2);
    cr_assert(wgc_debug_verify(h));
    free(cells);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

/* [Y6] At max_heap_size an allocation that finds no room after a minor
 * collection runs a major one: old garbage must not make it fail.  The
 * budgets vary so that, for some, a budget runs out (a minor collection)
 * in the very allocation that finds the heap full. */
Test(generational, Y6_heap_limit_collects_old_garbage)
{
    unsetenv("WGC_STRESS");
    for (size_t budget = 256 * 1024; budget <= 1024 * 1024; budget += 16 * 1024) {
        wgc_config cfg;
        wgc_config_init(&cfg);
        cfg.collector = WGC_COLLECTOR_GENERATIONAL;
        cfg.max_heap_size = 4 * MiB;
        cfg.initial_heap_size = budget;
        cfg.growth_factor = 1.2;
        cfg.stress_interval = 0;
        wgc_heap *h = wgc_heap_new(&cfg);
        kilo *list = NULL;
        WGC_FRAME(h, &list);
        for (int i = 0; i < 2500; i++) { /* about 2.5 MiB */
            kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
            cr_assert_not_null(k);
            k->next = list;
            list = k;
        }
        wgc_collect(h); /* the list is old: only a major frees it */
        list = NULL;
        for (int i = 0; i < 3000; i++) {
            kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
            cr_assert_not_null(k, "budget %zu: allocation %d failed (%s) with old "
                               "garbage in the heap", budget, i,
                               wgc_error_string(wgc_last_error(h)));
            k->next = i % 8 ? list : NULL; /* short lists: young garbage */
            list = k;
        }
        WGC_FRAME_POP(h);
        wgc_heap_free(h);
    }
}
