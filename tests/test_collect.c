/*
 * tests/test_collect.c -- collections: deep structures, heap growth and
 * shrinking, the maximum heap size, auto-collection on and off, the
 * collection policy, the event hook, stats.
 *
 * Sizes: the deep list has 10,000,000 nodes normally, 100,000 under
 * valgrind, 20,000 under the stress switch (WGC_STRESS).
 */
#include "common.h"

#include <math.h>
#include <pthread.h>
#include <sys/resource.h>

/* ======================================================== deep structures */

typedef struct deep_job {
    wgc_heap *heap;
    wgc_root *root;
    size_t n;
    size_t lengths[3];
} deep_job;

/* Runs on a thread with a 256 KiB stack: a marker that recursed would
 * overflow it long before the end of the list. */
static void *deep_collections(void *arg)
{
    deep_job *job = arg;
    for (int i = 0; i < 3; i++) {
        wgc_collect(job->heap);
        job->lengths[i] = list_length(wgc_root_get(job->root));
    }
    return NULL;
}

static void run_small_stack(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t t;
    cr_assert_eq(pthread_attr_init(&attr), 0);
    cr_assert_eq(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
    cr_assert_eq(pthread_create(&t, &attr, fn, arg), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
}

Test(collect, ten_million_node_list, .timeout = 240)
{
    /* with collect-every-N stress, building is quadratic: keep it short */
    size_t n = stress_interval() ? 20000 : scaled(10000000, 100000);
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    node *head = NULL;
    WGC_FRAME(h, &head);
    for (size_t i = 0; i < n; i++) {
        node *c = wgc_alloc(h, &node_type, sizeof *c);
        cr_assert_not_null(c, "node %zu: %s", i, wgc_error_string(wgc_last_error(h)));
        c->next = head;
        head = c;
    }
    wgc_root_set(r, head);
    head = NULL;
    cr_assert(WGC_FRAME_POP(h));
    wgc_heap_stats s = get_stats(h);
    if (n * 16 > 8 * MiB) /* beyond the first budget */
        cr_assert_gt(s.collections, 0, "building %zu nodes never collected", n);

    deep_job job = {h, r, n, {0}};
    run_small_stack(deep_collections, &job);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(job.lengths[i], n, "collection %d: list has %zu of %zu nodes",
                     i, job.lengths[i], n);
    s = get_stats(h);
    cr_assert_geq(s.live_bytes, n * 16, "live %zu for %zu nodes", s.live_bytes, n);
    cr_assert_leq(s.live_bytes, n * 16 + 64 * 1024);
    size_t big_heap = s.heap_size;
    cr_assert_geq(big_heap, n * 16);

    wgc_root_set(r, NULL);
    run_small_stack(deep_collections, &job);
    cr_assert_eq(job.lengths[0], 0);
    s = get_stats(h);
    cr_assert_lt(s.live_bytes, 1024, "live bytes %zu after dropping the list",
                 s.live_bytes);
    cr_assert_lt(s.heap_size, 16 * MiB, "heap still %zu bytes (was %zu)",
                 s.heap_size, big_heap);
    verify(h);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* A deep chain through objects with destructors, mixed with large objects:
 * every destructor runs exactly once when the chain is dropped. */
Test(collect, deep_chain_with_destructors_and_large_objects)
{
    size_t n = scaled(300000, 20000);
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    for (size_t i = 0; i < n; i++) {
        cnode *c;
        if (i % 5000 == 0)
            c = wgc_alloc(h, &cnode_type, 20000 + i % 7); /* a large one */
        else
            c = wgc_alloc(h, &cnode_type, sizeof *c);
        cr_assert_not_null(c);
        c->id = i;
        c->next = wgc_root_get(r);
        wgc_root_set(r, c);
    }
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    size_t i = n;
    for (cnode *c = wgc_root_get(r); c; c = c->next)
        cr_assert_eq(c->id, --i);
    cr_assert_eq(i, 0);
    wgc_root_set(r, NULL);
    collect(h);
    cr_assert_eq(destroyed_count, n);
    cr_assert_eq(get_stats(h).live_bytes, 0);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* A wide tree: one object with 100,000 children, each with 3 children:
 * the mark stack has to grow well past one segment. */
typedef struct wide {
    size_t count;
    void *kids[];
} wide;

static void wide_trace(void *obj, wgc_visitor *v)
{
    wide *w = obj;
    wgc_visit_array(v, w->kids, w->count);
}

static const wgc_type wide_type = {.name = "wide", .trace = wide_trace};

Test(collect, wide_tree)
{
    size_t n = scaled(100000, 20000);
    wgc_heap *h = new_heap();
    wide *top = wgc_alloc(h, &wide_type, sizeof *top + n * sizeof(void *));
    cr_assert_not_null(top);
    wgc_root *r = wgc_root_new(h, top);
    for (size_t i = 0; i < n; i++) {
        wide *kid = wgc_alloc(h, &wide_type, sizeof *kid + 3 * sizeof(void *));
        cr_assert_not_null(kid);
        top->kids[i] = kid;
        top->count = i + 1;
        wgc_write_barrier(h, top);
        for (int k = 0; k < 3; k++) {
            cnode *leaf = wgc_alloc(h, &cnode_type, sizeof *leaf);
            cr_assert_not_null(leaf);
            leaf->id = i * 3 + (size_t)k;
            kid->kids[k] = leaf;
            kid->count = (size_t)k + 1;
            wgc_write_barrier(h, kid);
        }
    }
    collect(h);
    verify(h);
    cr_assert_eq(destroyed_count, 0);
    for (size_t i = 0; i < n; i += 997)
        for (int k = 0; k < 3; k++)
            cr_assert_eq(((cnode *)((wide *)top->kids[i])->kids[k])->id, i * 3 + (size_t)k);
    wgc_root_free(r);
    collect(h);
    cr_assert_eq(destroyed_count, 3 * n);
    wgc_heap_free(h);
}

/* ================================================== growth and shrinking */

Test(collect, heap_grows_and_shrinks)
{
    size_t big = scaled(64 * MiB, 16 * MiB);
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    size_t start = get_stats(h).heap_size;
    for (size_t bytes = 0; bytes < big; bytes += sizeof(kilo)) {
        kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
        cr_assert_not_null(k);
        k->next = wgc_root_get(r);
        wgc_root_set(r, k);
    }
    collect(h);
    wgc_heap_stats grown = get_stats(h);
    cr_assert_geq(grown.heap_size, big, "heap %zu holds a %zu-byte structure",
                  grown.heap_size, big);
    cr_assert_geq(grown.live_bytes, big);
    wgc_root_set(r, NULL);
    collect(h);
    wgc_heap_stats shrunk = get_stats(h);
    cr_assert_lt(shrunk.heap_size, grown.heap_size / 2,
                 "heap_size %zu did not go down from %zu after dropping",
                 shrunk.heap_size, grown.heap_size);
    cr_assert_leq(shrunk.heap_size, 8 * MiB);
    cr_assert_geq(shrunk.heap_size, start);
    /* and it grows again */
    for (size_t bytes = 0; bytes < big; bytes += sizeof(kilo)) {
        kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
        cr_assert_not_null(k);
        k->next = wgc_root_get(r);
        wgc_root_set(r, k);
    }
    cr_assert_geq(get_stats(h).heap_size, big);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* [C2] Short-lived garbage in a steady state: the pages a collection
 * empties are the ones the next cycle fills, so none goes back to the OS
 * and none is faulted in again.  Before the fix each collection kept
 * target / 64 KiB + 1 pages, one fewer than a cycle takes, so nearly every
 * collection unmapped a page and the next faulted a fresh one in (about 16
 * minor faults per collection). */
static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

Test(collect, steady_garbage_keeps_its_pages)
{
    no_stress();
    wgc_heap *h = new_heap(); /* 4 MiB budget */
    wgc_root *r = wgc_root_new(h, NULL);
    build_clist(h, r, 1000);
    size_t per_cycle = 4 * MiB / 512 + 1;
    for (size_t i = 0; i < 20 * per_cycle; i++) /* warm up */
        cr_assert_not_null(wgc_alloc(h, &blob_type, 500));
    wgc_heap_stats before = get_stats(h);
    long faults = minor_faults();
    for (size_t i = 0; i < 200 * per_cycle; i++)
        cr_assert_not_null(wgc_alloc(h, &blob_type, 500));
    faults = minor_faults() - faults;
    wgc_heap_stats after = get_stats(h);
    uint64_t n = after.collections - before.collections;
    cr_assert_geq(n, 190);
    cr_assert_eq(after.heap_size, before.heap_size);
    printf("steady_garbage_keeps_its_pages: %ld minor faults in %llu "
           "collections\n", faults, (unsigned long long)n);
    /* memory tools fault in their own bookkeeping */
    if (!under_valgrind() && !TEST_ASAN)
        cr_assert_lt((uint64_t)faults, n, "%ld minor faults in %llu collections",
                     faults, (unsigned long long)n);
    cr_assert_eq(list_length(wgc_root_get(r)), 1000);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* [C2] Pages the heap no longer needs, though not far beyond its target,
 * go back once they have sat unused for a few collections. */
Test(collect, idle_pages_go_back_after_some_collections)
{
    no_stress();
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    size_t n = scaled(16384, 8192); /* 16 or 8 MiB of kilo */
    for (size_t i = 0; i < n; i++) {
        kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
        cr_assert_not_null(k);
        k->next = wgc_root_get(r);
        wgc_root_set(r, k);
    }
    collect(h);
    size_t grown = get_stats(h).heap_size;
    /* drop the newest three quarters: their pages empty */
    kilo *k = wgc_root_get(r);
    for (size_t i = 0; i < n * 3 / 4; i++)
        k = k->next;
    wgc_root_set(r, k);
    collect(h);
    wgc_heap_stats s = get_stats(h);
    size_t target = (s.live_bytes * 2 > 4 * MiB ? s.live_bytes * 2 : 4 * MiB) + 65536;
    for (int i = 0; i < 12; i++)
        collect(h);
    s = get_stats(h);
    cr_assert_lt(s.heap_size, grown);
    cr_assert_leq(s.heap_size, target, "heap %zu after 12 idle collections, "
                  "target %zu, was %zu", s.heap_size, target, grown);
    wgc_root_free(r);
    wgc_heap_free(h);
}

Test(collect, large_objects_return_memory)
{
    wgc_heap *h = new_heap();
    /* the large objects hang off a rooted pointer array */
    wide *w = wgc_alloc(h, &wide_type, sizeof *w + 24 * sizeof(void *));
    cr_assert_not_null(w);
    wgc_root *r = wgc_root_new(h, w);
    void *objs[24];
    for (int i = 0; i < 24; i++) {
        objs[i] = wgc_alloc(h, &blob_type, MiB + (size_t)i * 4096);
        cr_assert_not_null(objs[i]);
        w->kids[i] = objs[i];
        w->count = (size_t)i + 1;
        wgc_write_barrier(h, w);
    }
    collect(h);
    wgc_heap_stats grown = get_stats(h);
    cr_assert_geq(grown.heap_size, 24 * MiB);
    cr_assert_geq(grown.live_bytes, 24 * MiB);
    for (int i = 0; i < 24; i++)
        cr_assert(wgc_is_object(h, objs[i]));
    w->count = 4; /* drop 20 of them */
    collect(h);
    wgc_heap_stats shrunk = get_stats(h);
    cr_assert_leq(shrunk.heap_size, grown.heap_size - 20 * MiB,
                  "heap %zu -> %zu", grown.heap_size, shrunk.heap_size);
    for (int i = 0; i < 4; i++)
        cr_assert(wgc_is_object(h, objs[i]));
    for (int i = 4; i < 24; i++)
        cr_assert_not(wgc_is_object(h, objs[i]));
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* ======================================================= maximum heap size */

Test(collect, max_heap_size_fails_cleanly_and_recovers)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 4 * MiB;
    cfg.max_heap_size = 16 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    wgc_root *r = wgc_root_new(h, NULL);
    size_t count = 0;
    kilo *k;
    for (;;) {
        k = wgc_alloc(h, &kilo_type, sizeof *k);
        if (!k)
            break;
        memset(k->data, (int)(count & 0xff), sizeof k->data);
        k->next = wgc_root_get(r);
        wgc_root_set(r, k);
        count++;
        cr_assert_lt(count, 100000, "16 MiB heap holds %zu KiB", count);
    }
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX, "error %s",
                 wgc_error_string(wgc_last_error(h)));
    cr_assert_gt(count, 8000, "only %zu KiB fit in a 16 MiB heap", count);
    wgc_heap_stats s = get_stats(h);
    cr_assert_leq(s.heap_size, 16 * MiB, "heap_size %zu over the maximum", s.heap_size);
    verify(h);
    /* everything allocated is intact */
    size_t i = count;
    for (kilo *p = wgc_root_get(r); p; p = p->next) {
        i--;
        cr_assert_eq(p->data[0], (unsigned char)(i & 0xff));
        cr_assert_eq(p->data[999], (unsigned char)(i & 0xff));
    }
    cr_assert_eq(i, 0);
    /* a large object fails too, and a huge one at once */
    cr_assert_null(wgc_alloc(h, &blob_type, 2 * MiB));
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    cr_assert_null(wgc_alloc(h, &blob_type, 64 * MiB));
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    /* drop the roots: the heap is usable again */
    wgc_root_set(r, NULL);
    wgc_clear_error(h);
    for (size_t j = 0; j < count; j++) {
        k = wgc_alloc(h, &kilo_type, sizeof *k);
        cr_assert_not_null(k, "allocation %zu after recovery: %s", j,
                           wgc_error_string(wgc_last_error(h)));
    }
    void *large = wgc_alloc(h, &blob_type, 2 * MiB);
    cr_assert_not_null(large, "large object after recovery: %s",
                       wgc_error_string(wgc_last_error(h)));
    verify(h);
    cr_assert_leq(get_stats(h).heap_size, 16 * MiB);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* When garbage fills the heap to its maximum, allocation collects first. */
Test(collect, max_heap_size_collects_before_failing)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 4 * MiB;
    cfg.max_heap_size = 8 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    size_t total = scaled(128 * MiB, 24 * MiB);
    for (size_t bytes = 0; bytes < total; bytes += sizeof(kilo)) {
        kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
        cr_assert_not_null(k, "garbage allocation failed at %zu bytes: %s", bytes,
                           wgc_error_string(wgc_last_error(h)));
    }
    for (int i = 0; i < 20; i++)
        cr_assert_not_null(wgc_alloc(h, &blob_type, 3 * MiB), "large %d: %s", i,
                           wgc_error_string(wgc_last_error(h)));
    wgc_heap_stats s = get_stats(h);
    cr_assert_leq(s.heap_size, 8 * MiB);
    cr_assert_gt(s.collections, 2);
    wgc_heap_free(h);
}

/* The same with initial_heap_size == max_heap_size: the empty pages that
 * garbage leaves in the pool must make room for a large object. */
Test(collect, max_heap_pooled_pages_make_room_for_large)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 8 * MiB;
    cfg.max_heap_size = 8 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    for (size_t bytes = 0; bytes < 24 * MiB; bytes += sizeof(kilo))
        cr_assert_not_null(wgc_alloc(h, &kilo_type, sizeof(kilo)));
    collect(h); /* nothing is live: every page is empty */
    cr_assert_eq(get_stats(h).live_bytes, 0);
    void *big = wgc_alloc(h, &blob_type, 3 * MiB);
    cr_assert_not_null(big, "3 MiB in an empty 8 MiB heap: %s (heap_size %zu)",
                       wgc_error_string(wgc_last_error(h)), get_stats(h).heap_size);
    cr_assert_leq(get_stats(h).heap_size, 8 * MiB);
    wgc_heap_free(h);
}

Test(collect, max_heap_size_without_auto_collect)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 2 * MiB;
    cfg.max_heap_size = 4 * MiB;
    cfg.auto_collect = false;
    wgc_heap *h = new_heap_cfg(&cfg);
    size_t count = 0;
    while (wgc_alloc(h, &kilo_type, sizeof(kilo)))
        count++;
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    cr_assert_gt(count, 3000);
    cr_assert_eq(get_stats(h).collections, 0);
    collect(h); /* all of it was garbage */
    cr_assert_not_null(wgc_alloc(h, &kilo_type, sizeof(kilo)));
    wgc_heap_free(h);
}

/* ======================================================== auto collection */

Test(collect, auto_collect_off_collects_only_on_request)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.initial_heap_size = 1 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    size_t n = scaled(200000, 20000);
    for (size_t i = 0; i < n; i++)
        cr_assert_not_null(wgc_alloc(h, &cblob_type, 200));
    for (int i = 0; i < 10; i++)
        cr_assert_not_null(wgc_alloc(h, &blob_type, 2 * MiB));
    wgc_heap_stats s = get_stats(h);
    cr_assert_eq(s.collections, 0, "%llu collections with auto_collect off",
                 (unsigned long long)s.collections);
    cr_assert_eq(destroyed_count, 0);
    cr_assert_geq(s.heap_size, n * 200 + 20 * MiB);
    collect(h);
    s = get_stats(h);
    cr_assert_eq(s.collections, 1);
    cr_assert_eq(destroyed_count, n);
    cr_assert_eq(s.live_bytes, 0);
    cr_assert_lt(s.heap_size, 8 * MiB);
    wgc_heap_free(h);
}

Test(collect, auto_collect_bounds_the_heap)
{
    no_stress();
    wgc_heap *h = new_heap(); /* 4 MiB initial, growth 2 */
    wgc_root *r = wgc_root_new(h, NULL);
    build_clist(h, r, 10000); /* a small live set */
    size_t total = scaled(512 * MiB, 64 * MiB);
    for (size_t bytes = 0; bytes < total; bytes += 64)
        cr_assert_not_null(wgc_alloc(h, &blob_type, 56));
    wgc_heap_stats s = get_stats(h);
    /* ~one collection per 4 MiB of allocation */
    cr_assert_geq(s.collections, total / (5 * MiB), "%llu collections",
                  (unsigned long long)s.collections);
    cr_assert_leq(s.collections, total / (3 * MiB) + 2, "%llu collections",
                  (unsigned long long)s.collections);
    cr_assert_lt(s.heap_size, 16 * MiB, "heap grew to %zu on garbage", s.heap_size);
    cr_assert_eq(destroyed_count, 0);
    collect(h);
    cr_assert_eq(list_length(wgc_root_get(r)), 10000);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* The next collection comes after live_bytes * (growth_factor - 1) bytes. */
static uint64_t collections_seen;

static void count_end(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap, (void)user;
    if (e == WGC_EVENT_COLLECT_END || e == WGC_EVENT_MINOR_END)
        collections_seen++;
}

static void growth_policy(double growth)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 1 * MiB;
    cfg.growth_factor = growth;
    cfg.on_event = count_end;
    wgc_heap *h = new_heap_cfg(&cfg);
    wgc_root *r = wgc_root_new(h, NULL);
    for (size_t i = 0; i < 8192; i++) { /* 8 MiB live */
        kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
        k->next = wgc_root_get(r);
        wgc_root_set(r, k);
    }
    collect(h);
    size_t live = get_stats(h).live_bytes;
    cr_assert_geq(live, 8 * MiB);
    uint64_t before = collections_seen;
    size_t bytes = 0;
    while (collections_seen == before) {
        void *p = wgc_alloc(h, &blob_type, 1000);
        cr_assert_not_null(p);
        bytes += wgc_size_of(p) + 8;
        cr_assert_lt(bytes, (size_t)(growth * (double)live) + 4 * MiB);
    }
    double expected = (double)live * (growth - 1.0);
    cr_assert(fabs((double)bytes - expected) < expected * 0.05 + 256 * 1024,
              "growth %.1f: collected after %zu bytes, expected ~%.0f",
              growth, bytes, expected);
    wgc_root_free(r);
    wgc_heap_free(h);
}

Test(collect, growth_factor_2)
{
    growth_policy(2.0);
}

Test(collect, growth_factor_1_5)
{
    growth_policy(1.5);
}

Test(collect, initial_heap_size_is_the_floor)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 8 * MiB;
    cfg.on_event = count_end;
    wgc_heap *h = new_heap_cfg(&cfg);
    size_t bytes = 0;
    while (collections_seen == 0) {
        void *p = wgc_alloc(h, &blob_type, 1000);
        cr_assert_not_null(p);
        bytes += wgc_size_of(p) + 8;
        cr_assert_lt(bytes, 16 * MiB);
    }
    cr_assert_geq(bytes, 8 * MiB - 128 * 1024, "first collection after %zu bytes", bytes);
    collect(h); /* nothing live: the next budget is the floor again */
    uint64_t before = collections_seen;
    bytes = 0;
    while (collections_seen == before) {
        void *p = wgc_alloc(h, &blob_type, 1000);
        cr_assert_not_null(p);
        bytes += wgc_size_of(p) + 8;
        cr_assert_lt(bytes, 16 * MiB);
    }
    cr_assert_geq(bytes, 8 * MiB - 128 * 1024, "next collection after %zu bytes", bytes);
    wgc_heap_free(h);
}

/* Same program, same collection points. */
static uint64_t alloc_index;
static uint64_t points[2][64];
static size_t npoints[2];
static int run_id;

static void record_point(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap, (void)user;
    if ((e == WGC_EVENT_COLLECT_START || e == WGC_EVENT_MINOR_START) &&
        npoints[run_id] < 64)
        points[run_id][npoints[run_id]++] = alloc_index;
}

Test(collect, deterministic_collection_points)
{
    for (run_id = 0; run_id < 2; run_id++) {
        wgc_config cfg;
        wgc_config_init(&cfg);
        cfg.initial_heap_size = 256 * 1024;
        cfg.on_event = record_point;
        wgc_heap *h = new_heap_cfg(&cfg);
        wgc_root *r = wgc_root_new(h, NULL);
        uint64_t x = 12345;
        for (alloc_index = 0; alloc_index < 100000; alloc_index++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t size = (x >> 33) % 300;
            cnode *c = wgc_alloc(h, &cnode_type, size < 24 ? 24 : size);
            cr_assert_not_null(c);
            if ((x >> 20) % 4 == 0) { /* keep a quarter */
                c->next = wgc_root_get(r);
                wgc_root_set(r, c);
            }
        }
        wgc_root_free(r);
        wgc_heap_free(h);
    }
    cr_assert_gt(npoints[0], 3);
    cr_assert_eq(npoints[0], npoints[1]);
    for (size_t i = 0; i < npoints[0]; i++)
        cr_assert_eq(points[0][i], points[1][i], "collection %zu at allocation "
                     "%llu, then %llu", i, (unsigned long long)points[0][i],
                     (unsigned long long)points[1][i]);
}

/* [G4] The trigger is exact: an allocation collects first iff bytes were
 * allocated since the last collection and its own bytes (its cell, header
 * and rounding included; a large object's size) would take them past the
 * budget.  Checked allocation by allocation, so it holds whatever the runs
 * look like (one cell under valgrind and ASan, split by the debug
 * quarantine): before the fix runs were charged whole when handed out, and
 * with a 512 KiB budget and sizes spread over the classes the first
 * collection came after about 34 KB. */
static uint64_t trigger_collections;

static void count_trigger(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap, (void)user;
    if (e == WGC_EVENT_COLLECT_START || e == WGC_EVENT_MINOR_START)
        trigger_collections++;
}

Test(collect, trigger_counts_the_bytes_allocated_exactly)
{
    no_stress();
    const char *env = getenv("WGC_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : 13;
    printf("trigger_counts_the_bytes_allocated_exactly: seed %llu (WGC_SEED=N "
           "replays)\n", (unsigned long long)seed);
    const size_t budget = 512 * 1024; /* nothing survives: always the floor */
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = budget;
    cfg.on_event = count_trigger;
    wgc_heap *h = new_heap_cfg(&cfg);
    uint64_t x = seed, since = 0, expected = 0;
    size_t n = scaled(200000, 40000);
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t size = (x >> 60) == 0 ? 8200 + (x >> 20) % 100000 /* large */
                                     : (x >> 33) % 2000;
        uint64_t before = trigger_collections;
        void *obj = wgc_alloc(h, (x >> 40) & 1 ? &blob_type : &node_type,
                              size < 8 ? 8 : size);
        cr_assert_not_null(obj);
        size_t bytes = size > 8184 ? size : wgc_size_of(obj) + 8;
        bool collects = since > 0 && since + bytes > budget;
        cr_assert_eq(trigger_collections - before, collects ? 1 : 0,
                     "seed %llu, allocation %zu of %zu bytes after %llu since "
                     "the last collection: %llu collections, expected %d",
                     (unsigned long long)seed, i, bytes,
                     (unsigned long long)since,
                     (unsigned long long)(trigger_collections - before), collects);
        since = collects ? bytes : since + bytes;
        expected += collects;
    }
    cr_assert_gt(expected, 10);
    wgc_heap_free(h);
}

/* ============================================================ event hook */

typedef struct event_log {
    wgc_event events[256];
    uint64_t collections_at[256];
    size_t count; /* all events; the first 256 are recorded */
} event_log;

static void log_event(wgc_heap *heap, wgc_event e, void *user)
{
    event_log *log = user;
    wgc_heap_stats s;
    cr_assert(wgc_stats(heap, &s), "wgc_stats fails inside the event hook");
    if (log->count < 256) {
        log->events[log->count] = e;
        log->collections_at[log->count] = s.collections;
    }
    log->count++;
}

Test(collect, event_hook_start_end)
{
    static event_log log;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.on_event = log_event;
    cfg.on_event_user = &log;
    cfg.initial_heap_size = 1 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    collect(h);
    cr_assert_eq(log.count, 2);
    cr_assert_eq(log.events[0], WGC_EVENT_COLLECT_START);
    cr_assert_eq(log.events[1], WGC_EVENT_COLLECT_END);
    cr_assert_eq(log.collections_at[0], 0, "START sees the count before");
    cr_assert_eq(log.collections_at[1], 1, "END sees the count after");
    /* automatic collections are reported too */
    for (int i = 0; i < 20000; i++)
        wgc_alloc(h, &blob_type, 500);
    wgc_heap_stats s = get_stats(h);
    cr_assert_gt(s.collections, 3);
    cr_assert_eq(log.count, 2 * s.collections);
    /* each collection is one START/END pair of its kind: minor ones (the
     * generational mode's automatic collections) as MINOR_START/MINOR_END */
    uint64_t minors = 0;
    for (size_t i = 0; i < log.count && i < 256; i++) {
        wgc_event start = i % 2 ? log.events[i - 1] : log.events[i];
        cr_assert(start == WGC_EVENT_COLLECT_START || start == WGC_EVENT_MINOR_START);
        if (i % 2)
            cr_assert_eq(log.events[i], start == WGC_EVENT_MINOR_START
                                            ? WGC_EVENT_MINOR_END : WGC_EVENT_COLLECT_END);
        else
            minors += start == WGC_EVENT_MINOR_START;
        cr_assert_eq(log.collections_at[i], i / 2 + i % 2);
    }
    if (log.count <= 256)
        cr_assert_eq(minors, s.minor_collections);
    wgc_heap_free(h);
    cr_assert_eq(log.count, 2 * s.collections, "wgc_heap_free reported a collection");
}

/* ================================================================== stats */

Test(collect, stats)
{
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    wgc_heap_stats prev = get_stats(h);
    cr_assert_eq(prev.live_bytes, 0);
    cr_assert_eq(prev.pause_total_ns, 0);
    for (int round = 1; round <= 5; round++) {
        build_clist(h, r, 1000);
        collect(h);
        wgc_heap_stats s = get_stats(h);
        cr_assert_gt(s.collections, prev.collections);
        cr_assert_geq(s.bytes_allocated, prev.bytes_allocated + 1000 * 24);
        cr_assert_geq(s.objects_allocated, prev.objects_allocated + 1000);
        cr_assert_eq(s.live_bytes, (size_t)round * 1000 * 32);
        cr_assert_geq(s.heap_size, s.live_bytes);
        cr_assert_gt(s.pause_last_ns, 0);
        cr_assert_geq(s.pause_max_ns, s.pause_last_ns);
        cr_assert_geq(s.pause_total_ns, s.pause_max_ns);
        cr_assert_geq(s.pause_total_ns, prev.pause_total_ns + s.pause_last_ns);
        prev = s;
    }
    cr_assert_not(wgc_stats(h, NULL));
    wgc_root_free(r);
    wgc_heap_free(h);
}
