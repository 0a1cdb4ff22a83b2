/*
 * tests/test_multi.c -- several heaps in one process: no shared state,
 * objects of one are not objects of another, each collects on its own.
 */
#include "common.h"

/* Each heap counts its own destructions, through the object's payload. */
typedef struct tagged {
    struct tagged *next;
    unsigned *counter;
    uint64_t id;
} tagged;

static void tagged_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((tagged *)obj)->next);
}

static void tagged_destroy(void *obj)
{
    (*((tagged *)obj)->counter)++;
}

static const wgc_type tagged_type = {.name = "tagged", .trace = tagged_trace, .destroy = tagged_destroy};

static tagged *push(wgc_heap *h, wgc_root *r, unsigned *counter, uint64_t id)
{
    tagged *t = wgc_alloc(h, &tagged_type, sizeof *t);
    cr_assert_not_null(t);
    t->counter = counter;
    t->id = id;
    t->next = wgc_root_get(r);
    wgc_root_set(r, t);
    return t;
}

Test(multi, objects_belong_to_their_heap)
{
    enum { H = 4 };
    wgc_heap *heaps[H];
    wgc_root *roots[H];
    void *small[H], *large[H];
    for (int i = 0; i < H; i++) {
        heaps[i] = new_heap();
        roots[i] = wgc_root_new(heaps[i], NULL);
    }
    for (int i = 0; i < H; i++) {
        small[i] = wgc_alloc(heaps[i], &node_type, 16);
        cr_assert_not_null(small[i]);
        wgc_root_set(roots[i], small[i]); /* rooted before the next allocation */
        large[i] = wgc_alloc(heaps[i], &blob_type, 100000);
        cr_assert_not_null(large[i]);
        node *n = small[i];
        n->next = large[i]; /* keep both alive from the handle */
    }
    for (int i = 0; i < H; i++) {
        for (int j = 0; j < H; j++) {
            cr_assert_eq(wgc_is_object(heaps[i], small[j]), i == j,
                         "heap %d, small object of heap %d", i, j);
            cr_assert_eq(wgc_is_object(heaps[i], large[j]), i == j,
                         "heap %d, large object of heap %d", i, j);
        }
    }
    for (int i = 0; i < H; i++) {
        wgc_root_free(roots[i]);
        wgc_heap_free(heaps[i]);
    }
}

Test(multi, interleaved_lists_collect_independently)
{
    wgc_heap *a = new_heap(), *b = new_heap();
    wgc_root *ra = wgc_root_new(a, NULL), *rb = wgc_root_new(b, NULL);
    unsigned dead_a = 0, dead_b = 0;
    size_t n = scaled(100000, 10000);
    for (size_t i = 0; i < n; i++) {
        push(a, ra, &dead_a, i);
        push(b, rb, &dead_b, i);
        if (i % 3 == 0) { /* garbage in both */
            tagged *ga = wgc_alloc(a, &tagged_type, sizeof *ga);
            ga->counter = &dead_a;
            tagged *gb = wgc_alloc(b, &tagged_type, sizeof *gb);
            gb->counter = &dead_b;
        }
    }
    size_t garbage = (n + 2) / 3;
    collect(a);
    cr_assert_eq(dead_a, garbage);
    collect(b);
    cr_assert_eq(dead_b, garbage);
    /* each heap's list holds only its own objects */
    size_t i = n;
    for (tagged *t = wgc_root_get(ra); t; t = t->next) {
        cr_assert_eq(t->id, --i);
        cr_assert(wgc_is_object(a, t));
        cr_assert_not(wgc_is_object(b, t));
        cr_assert_eq(t->counter, &dead_a);
    }
    cr_assert_eq(i, 0);
    /* dropping a's list does not touch b */
    wgc_root_set(ra, NULL);
    collect(a);
    cr_assert_eq(dead_a, garbage + n);
    cr_assert_eq(dead_b, garbage);
    collect(b);
    cr_assert_eq(dead_b, garbage);
    cr_assert_eq(get_stats(a).live_bytes, 0);
    cr_assert_geq(get_stats(b).live_bytes, n * sizeof(tagged));
    wgc_root_free(ra);
    wgc_heap_free(a);
    /* b lives on after a is gone */
    for (size_t k = 0; k < 1000; k++)
        push(b, rb, &dead_b, n + k);
    collect(b);
    cr_assert_eq(dead_b, garbage);
    cr_assert_eq(((tagged *)wgc_root_get(rb))->id, n + 999);
    wgc_root_free(rb);
    wgc_heap_free(b);
    cr_assert_eq(dead_b, garbage + n + 1000);
}

Test(multi, different_configs_side_by_side)
{
    no_stress();
    wgc_config manual, small;
    wgc_config_init(&manual);
    manual.auto_collect = false;
    wgc_config_init(&small);
    small.initial_heap_size = 256 * 1024;
    wgc_heap *m = new_heap_cfg(&manual), *s = new_heap_cfg(&small);
    for (int i = 0; i < 50000; i++) {
        cr_assert_not_null(wgc_alloc(m, &blob_type, 100));
        cr_assert_not_null(wgc_alloc(s, &blob_type, 100));
    }
    cr_assert_eq(get_stats(m).collections, 0);
    cr_assert_gt(get_stats(s).collections, 5);
    cr_assert_eq(get_stats(m).objects_allocated, 50000);
    cr_assert_eq(get_stats(s).objects_allocated, 50000);
    wgc_heap_free(s);
    collect(m);
    cr_assert_eq(get_stats(m).collections, 1);
    wgc_heap_free(m);
}

/* A root callback sees only its own heap's collections. */
static unsigned traced[2];

static void trace_counter(wgc_visitor *v, void *user)
{
    (void)v;
    traced[(uintptr_t)user]++;
}

Test(multi, root_callbacks_per_heap)
{
    wgc_config c0, c1;
    wgc_config_init(&c0);
    c0.trace_roots = trace_counter;
    c0.trace_roots_user = (void *)(uintptr_t)0;
    c1 = c0;
    c1.trace_roots_user = (void *)(uintptr_t)1;
    wgc_heap *h0 = new_heap_cfg(&c0), *h1 = new_heap_cfg(&c1);
    collect(h0);
    collect(h0);
    cr_assert_geq(traced[0], 2);
    cr_assert_eq(traced[1], 0, "heap 1's root callback ran for heap 0");
    unsigned t0 = traced[0];
    collect(h1);
    cr_assert_geq(traced[1], 1);
    cr_assert_eq(traced[0], t0, "heap 0's root callback ran for heap 1");
    wgc_heap_free(h0);
    wgc_heap_free(h1);
}

/* Many heaps made and freed: nothing accumulates (valgrind checks leaks). */
Test(multi, many_heaps_created_and_freed)
{
    for (int round = 0; round < 50; round++) {
        wgc_heap *h[8];
        for (int i = 0; i < 8; i++) {
            h[i] = new_heap();
            wgc_root *r = wgc_root_new(h[i], NULL);
            build_clist(h[i], r, 100);
            wgc_alloc(h[i], &blob_type, 20000);
        }
        for (int i = 7; i >= 0; i -= 2)
            wgc_heap_free(h[i]);
        for (int i = 0; i < 8; i += 2)
            wgc_heap_free(h[i]);
    }
    cr_assert_eq(destroyed_count, 50 * 8 * 100);
}
