/*
 * tests/test_debug.c -- what debug builds add, checked in the build at hand:
 * a dead cell is quarantined for one collection in debug builds and reused
 * at once otherwise; misuse is reported on stderr in debug builds.
 */
#include "common.h"

#include <criterion/redirect.h>

/* A lone object in a fresh heap sits in the first cell of its page: once
 * dead, the next allocation of its size takes that cell again, unless the
 * cell is quarantined. */
Test(debug, dead_cell_quarantined_exactly_in_debug_builds)
{
    no_stress(); /* collections at allocations would end the quarantine */
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    void *dead = wgc_alloc(h, &node_type, sizeof(node));
    cr_assert_not_null(dead);
    cr_assert(wgc_collect(h));
    cr_assert(!wgc_is_object(h, dead), "an unrooted object survived");
    void *next = wgc_alloc(h, &node_type, sizeof(node));
    cr_assert_not_null(next);
    if (wgc_debug_checks_enabled())
        cr_assert_neq(next, dead, "debug build reused a cell that just died");
    else
        cr_assert_eq(next, dead, "release build did not reuse the free cell first");
    wgc_heap_free(h);
}

/* Quarantine delays reuse by one collection; it must not stop it. */
Test(debug, quarantine_still_reuses_memory)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    for (int i = 0; i < 2000; i++) {
        for (int j = 0; j < 100; j++)
            cr_assert_not_null(wgc_alloc(h, &node_type, sizeof(node)));
        cr_assert(wgc_collect(h));
    }
    wgc_heap_stats s = get_stats(h);
    cr_assert_leq(s.heap_size, cfg.initial_heap_size,
                  "200,000 dead objects grew the heap to %zu bytes", s.heap_size);
    wgc_heap_free(h);
}

static wgc_heap *popped_heap;

static void pop_from_other_frame(void)
{
    void *x = NULL;
    WGC_FRAME(popped_heap, &x);
    wgc_frame other = {0};
    cr_assert(!wgc_frame_pop(popped_heap, &other));
    cr_assert_eq(wgc_last_error(popped_heap), WGC_ESTATE);
    cr_assert(WGC_FRAME_POP(popped_heap));
}

/* Misuse messages go to stderr in debug builds only; the error results are
 * the same in every build. */
Test(debug, misuse_reported_on_stderr_in_debug_builds, .init = cr_redirect_stderr)
{
    no_stress();
    popped_heap = wgc_heap_new(NULL);
    cr_assert_not_null(popped_heap);
    pop_from_other_frame();
    wgc_heap_free(popped_heap);
    fflush(stderr);
    if (wgc_debug_checks_enabled())
        cr_assert_stderr_neq_str("", "debug build printed no misuse message");
    else
        cr_assert_stderr_eq_str("", "release build printed a misuse message");
}
