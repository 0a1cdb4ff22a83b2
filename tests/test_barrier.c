/*
 * tests/test_barrier.c -- the write barrier's contract [G6]: WGC_STORE
 * stores, the barrier never fails, allocates, collects or records an error,
 * and stores made through it keep the object graph intact across
 * collections in every collector mode.
 */
#include "common.h"

Test(barrier, store_macro_stores_and_keeps_the_graph)
{
    wgc_heap *h = wgc_heap_new(NULL);
    node *old = NULL, *fresh = NULL;
    WGC_FRAME(h, &old, &fresh);
    old = wgc_alloc(h, &node_type, sizeof *old);
    cr_assert(old);
    /* old survives collections, then receives a pointer to each new node,
     * whose only path is through old. */
    cr_assert(wgc_collect(h));
    for (int i = 0; i < 1000; i++) {
        fresh = wgc_alloc(h, &node_type, sizeof *fresh);
        cr_assert(fresh);
        WGC_STORE(h, fresh, next, old->next); /* into a new object: allowed */
        WGC_STORE(h, old, next, fresh);
        cr_assert_eq(old->next, fresh);
        fresh = NULL;
        if (i % 100 == 0)
            cr_assert(wgc_collect(h));
    }
    cr_assert(wgc_collect(h));
    int n = 0;
    for (node *p = old->next; p; p = p->next) {
        cr_assert(wgc_is_object(h, p));
        n++;
    }
    cr_assert_eq(n, 1000);
    wgc_heap_stats st;
    cr_assert(wgc_stats(h, &st));
    cr_assert_eq(st.live_bytes, 1001 * 16, "live %zu", st.live_bytes);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

Test(barrier, null_arguments_have_no_effect)
{
    wgc_heap *h = wgc_heap_new(NULL);
    node *n = wgc_alloc(h, &node_type, sizeof *n);
    wgc_clear_error(h);
    wgc_write_barrier(NULL, n);
    wgc_write_barrier(h, NULL);
    (wgc_write_barrier)(NULL, n);  /* the out-of-line function too */
    (wgc_write_barrier)(h, NULL);
    cr_assert_eq(wgc_last_error(h), WGC_OK);
    wgc_heap_free(h);
}

/* The out-of-line function (what WGC_NO_INLINE code calls) accepts every
 * live object, of every kind, and changes nothing: no error, no
 * collection, no allocation. */
Test(barrier, out_of_line_call_changes_nothing)
{
    wgc_heap *h = wgc_heap_new(NULL);
    static const wgc_type blob_type = {.name = "blob"};
    void *objs[3] = {0};
    WGC_FRAME(h, &objs[0], &objs[1], &objs[2]);
    objs[0] = wgc_alloc(h, &node_type, sizeof(node));
    objs[1] = wgc_alloc(h, &blob_type, 100);         /* pointer-free */
    objs[2] = wgc_alloc(h, &node_type, 100 * 1024);  /* large */
    cr_assert(objs[0] && objs[1] && objs[2]);
    wgc_heap_stats before, after;
    cr_assert(wgc_stats(h, &before));
    for (int i = 0; i < 3; i++)
        (wgc_write_barrier)(h, objs[i]);
    cr_assert(wgc_stats(h, &after));
    cr_assert_eq(after.collections, before.collections);
    cr_assert_eq(after.objects_allocated, before.objects_allocated);
    cr_assert_eq(wgc_last_error(h), WGC_OK);
    cr_assert_eq(wgc_type_of(objs[0]), &node_type, "the header's type is intact");
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}
