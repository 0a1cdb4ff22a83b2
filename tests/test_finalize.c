/*
 * tests/test_finalize.c -- FinalizationRegistry, the cleanup queue, safe
 * points and determinism.  One test per rule F0..F13 of docs/finalize.md
 * (named after the rule), then the extra cases of issue 4.
 *
 * Rooting: objects a test keeps are in R[] (traced by the root callback),
 * so the tests hold under WGC_STRESS=N.  Where a test checks what one
 * collection did, auto_collect is off and the objects under test stay
 * rooted until the point tested, so extra stress collections (which
 * happen at allocations) cannot change the outcome.
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wgc.h"

#include "tools.h"

/* ================================================================ objects */

typedef struct obj {
    struct obj *a, *b;
    uint64_t id;
} obj;

#define MAX_IDS 1000
static unsigned char died[MAX_IDS];
static unsigned long died_count;
static int in_collection; /* set by the event hook between START and END */

static void obj_trace(void *o, wgc_visitor *v)
{
    wgc_visit(v, &((obj *)o)->a);
    wgc_visit(v, &((obj *)o)->b);
}

static void obj_destroy(void *o)
{
    uint64_t id = ((obj *)o)->id;
    cr_assert(in_collection, "a destructor ran outside a collection");
    if (id < MAX_IDS)
        died[id]++;
    died_count++;
}

static const wgc_type obj_type = {.name = "obj", .trace = obj_trace, .destroy = obj_destroy};
static const wgc_type plain_type = {.name = "plain", .trace = obj_trace};

/* ================================================================== roots */

#define NROOTS 64
static void *R[NROOTS];
static void **big;       /* optional extra roots */
static size_t big_count;

static void trace_R(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_array(v, R, NROOTS);
    if (big)
        wgc_visit_array(v, big, big_count);
}

static int notified;            /* cleanup_pending calls */
static int notified_outside;    /* ... made outside a collection */

static void on_event(wgc_heap *h, wgc_event e, void *user)
{
    (void)h, (void)user;
    in_collection = e == WGC_EVENT_COLLECT_START || e == WGC_EVENT_MINOR_START;
}

static void notify(wgc_heap *h, void *user)
{
    (void)h, (void)user;
    notified++;
    if (!in_collection)
        notified_outside++;
}

static wgc_heap *heap_with(bool auto_collect)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = auto_collect;
    cfg.trace_roots = trace_R;
    cfg.on_event = on_event;
    cfg.cleanup_pending = notify;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h, "wgc_heap_new failed");
    return h;
}

/* wgc_heap_free runs the destructors of the objects still alive */
static void free_heap(wgc_heap *h)
{
    in_collection = 1;
    wgc_heap_free(h);
    in_collection = 0;
}

static obj *mk(wgc_heap *h, uint64_t id)
{
    obj *o = wgc_alloc(h, &obj_type, sizeof *o);
    cr_assert_not_null(o, "wgc_alloc failed: %s", wgc_error_string(wgc_last_error(h)));
    o->id = id;
    return o;
}

static void collect(wgc_heap *h)
{
    cr_assert(wgc_collect(h), "wgc_collect failed");
    cr_assert_not(in_collection);
    cr_assert(wgc_debug_verify(h), "heap invariants broken after a collection");
}

static wgc_heap_stats stats(wgc_heap *h)
{
    wgc_heap_stats s;
    cr_assert(wgc_stats(h, &s));
    return s;
}

#define H(x) ((void *)(uintptr_t)(x)) /* an integer as holdings */

/* ========================================================= the callback log */

/* Every callback appends (tag, holdings-or-id) to one log. */
#define LOG_MAX 8192
static uintptr_t cb_log[LOG_MAX];
static size_t cb_n;
static long cb_fail_at = -1; /* the callback with this index fails */

static int log_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)h;
    cr_assert_not(in_collection, "cleanup callback ran inside a collection");
    cr_assert_lt(cb_n, LOG_MAX);
    uintptr_t tag = (uintptr_t)user;
    uintptr_t v = wgc_is_object(h, holdings) ? (uintptr_t)((obj *)holdings)->id
                                             : (uintptr_t)holdings;
    cb_log[cb_n] = tag * 1000000 + v;
    return (long)cb_n++ == cb_fail_at;
}

static int log_exec(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    cr_assert_null(wgc_weakref_deref(h, ref));
    return log_cb(h, holdings, user);
}

static void expect_log(const uintptr_t *want, size_t n)
{
    cr_assert_eq(cb_n, n, "%zu callbacks ran, expected %zu", cb_n, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(cb_log[i], want[i], "delivery %zu: got %lu, expected %lu", i,
                     (unsigned long)cb_log[i], (unsigned long)want[i]);
}

/* ================================================================ F0..F3 */

Test(finalize, F1_register_argument_rules)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    wgc_registry *reg = R[0];
    R[1] = mk(h, 1);
    int local;
    uint64_t before = stats(h).cells_registered;
    wgc_clear_error(h);
    cr_assert_not(wgc_registry_register(reg, NULL, H(5), NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_not(wgc_registry_register(reg, R[1], R[1], NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_not(wgc_registry_register(reg, &local, H(5), NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_not(wgc_registry_register(reg, R[1], H(5), &local));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_not(wgc_registry_register(reg, R[1], H(5), H(0x10)));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_not(wgc_registry_register(NULL, R[1], H(5), NULL));
    cr_assert_eq(stats(h).cells_registered, before, "a rejected register made a cell");
    cr_assert_null(wgc_registry_new(h, NULL, NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_null(wgc_registry_new(NULL, log_cb, NULL));
    /* nothing registered: its death delivers nothing */
    R[1] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(reg), 0);

    /* holdings may be anything: NULL, an integer, a C pointer, an object */
    R[2] = mk(h, 2);
    R[3] = mk(h, 3);
    cr_assert(wgc_registry_register(reg, R[2], NULL, NULL));
    cr_assert(wgc_registry_register(reg, R[2], H(7), NULL));
    cr_assert(wgc_registry_register(reg, R[2], &local, NULL));
    cr_assert(wgc_registry_register(reg, R[2], R[3], NULL));
    /* the registry may register itself (as target, and as holdings) */
    cr_assert(wgc_registry_register(reg, reg, H(8), NULL));
    cr_assert(wgc_registry_register(reg, R[3], reg, NULL));
    /* the token may be the target or the holdings */
    R[4] = mk(h, 4);
    R[5] = mk(h, 5);
    cr_assert(wgc_registry_register(reg, R[4], H(9), R[4]));
    cr_assert(wgc_registry_register(reg, R[5], R[3], R[3]));
    R[2] = R[3] = NULL;
    collect(h);
    cr_assert(died[2]);
    cr_assert_not(died[3], "holdings collected while the cell is live");
    cr_assert_eq(wgc_registry_pending(reg), 4);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 4);
    cr_assert_eq(cb_n, 4);
    cr_assert_eq(cb_log[0], 1000000 + 0);
    cr_assert_eq(cb_log[1], 1000000 + 7);
    cr_assert_eq(cb_log[2], 1000000 + (uintptr_t)&local);
    cr_assert_eq(cb_log[3], 1000000 + 3);
    /* a target that is its own token is not kept alive by that */
    R[4] = NULL;
    collect(h);
    cr_assert(died[4], "a target that is its own token was kept alive");
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 1);
    cr_assert_eq(cb_log[4], 1000000 + 9);
    free_heap(h);
}

Test(finalize, F1_token_is_holdings)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1); /* target */
    R[2] = mk(h, 2); /* holdings and token */
    cr_assert(wgc_registry_register(R[0], R[1], R[2], R[2]));
    void *token = R[2];
    R[2] = NULL; /* the cell keeps the holdings, so the token too */
    collect(h);
    cr_assert_not(died[2]);
    cr_assert(wgc_registry_unregister(R[0], token));
    cr_assert_not(wgc_registry_unregister(R[0], token));
    R[1] = NULL;
    collect(h);
    cr_assert(died[1] && died[2]);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    free_heap(h);
}

Test(finalize, F2_registering_twice_gives_two_callbacks)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = wgc_registry_new(h, log_cb, H(2));
    R[2] = mk(h, 1);
    cr_assert(wgc_registry_register(R[0], R[2], H(10), NULL));
    cr_assert(wgc_registry_register(R[0], R[2], H(11), NULL));
    cr_assert(wgc_registry_register(R[1], R[2], H(12), NULL));
    cr_assert_eq(stats(h).cells_registered, 3);
    R[2] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 2);
    cr_assert_eq(wgc_registry_pending(R[1]), 1);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 3);
    uintptr_t want[] = {1000010, 1000011, 2000012};
    expect_log(want, 3);
    cr_assert_eq(stats(h).cells_delivered, 3);
    free_heap(h);
}

Test(finalize, F3_cells_queued_in_the_collection_that_empties_weak_refs)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1);
    R[2] = wgc_weakref_new(h, R[1], NULL);
    R[3] = wgc_weakmap_new(h);
    cr_assert(wgc_registry_register(R[0], R[1], H(5), NULL));
    cr_assert(wgc_weakmap_set(h, R[3], R[1], R[3]));
    for (int i = 0; i < 3; i++) {
        collect(h);
        cr_assert_eq(wgc_registry_pending(R[0]), 0);
        cr_assert_not_null(wgc_weakref_deref(h, R[2]));
    }
    R[1] = NULL;
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[2]));
    cr_assert_eq(wgc_weakmap_count(h, R[3]), 0);
    cr_assert_eq(wgc_registry_pending(R[0]), 1, "cell not queued in the same collection");
    cr_assert_eq(stats(h).cells_queued, 1);
    free_heap(h);
}

/* ==================================================================== F4 */

Test(finalize, F4_order_found_dead_then_registration)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = wgc_registry_new(h, log_cb, H(2));
    /* allocate targets 0..7, register them in a scrambled order so that
     * neither allocation order nor addresses match registration order */
    for (int i = 0; i < 8; i++)
        R[10 + i] = mk(h, i);
    int reg_order[8] = {5, 2, 7, 0, 3, 6, 1, 4};
    for (int k = 0; k < 8; k++) {
        int i = reg_order[k];
        cr_assert(wgc_registry_register(R[k % 2], R[10 + i], H(i), NULL));
    }
    /* first collection: targets 0, 1, 6, 7 die; second: the rest */
    R[10] = R[11] = R[16] = R[17] = NULL;
    collect(h);
    for (int i = 0; i < 8; i++)
        R[10 + i] = NULL;
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 8);
    /* registration order of the first batch: 7 (k2), 0 (k3), 6 (k5), 1 (k6);
     * of the second: 5 (k0), 2 (k1), 3 (k4), 4 (k7) */
    uintptr_t want[] = {1000007, 2000000, 2000006, 1000001,
                        1000005, 2000002, 1000003, 2000004};
    expect_log(want, 8);
    free_heap(h);
}

/* ================================================================ F5, F6 */

Test(finalize, F5_each_cell_delivered_at_most_once)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1);
    R[2] = mk(h, 2); /* token */
    cr_assert(wgc_registry_register(R[0], R[1], H(1), R[2]));
    R[1] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_cleanup_some(R[0], 10), 1);
    cr_assert_eq(wgc_registry_cleanup_some(R[0], 10), 0);
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(wgc_collect_and_cleanup(h), 0);
    cr_assert_not(wgc_registry_unregister(R[0], R[2]),
                  "unregister after delivery must return false");
    cr_assert_eq(cb_n, 1);
    cr_assert_eq(stats(h).cells_delivered, 1);
    cr_assert_eq(stats(h).cells_unregistered, 0);
    free_heap(h);
}

Test(finalize, F6_unregister_after_death_before_cleanup_wins)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1);
    R[2] = mk(h, 2); /* token shared by two cells */
    R[3] = mk(h, 3); /* another target, other token */
    cr_assert(wgc_registry_register(R[0], R[1], H(1), R[2]));
    cr_assert(wgc_registry_register(R[0], R[3], H(2), R[2]));
    cr_assert(wgc_registry_register(R[0], R[3], H(3), R[3]));
    R[1] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 1);
    /* removes the queued cell and the live one with the same token */
    cr_assert(wgc_registry_unregister(R[0], R[2]));
    cr_assert_eq(wgc_registry_pending(R[0]), 0);
    cr_assert_not(wgc_registry_unregister(R[0], R[2]));
    cr_assert_eq(stats(h).cells_unregistered, 2);
    R[3] = NULL;
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 1);
    uintptr_t want[] = {1000003};
    expect_log(want, 1);
    cr_assert_not(wgc_registry_unregister(R[0], NULL));
    cr_assert_not(wgc_registry_unregister(NULL, R[2]));
    free_heap(h);
}

/* ==================================================================== F7 */

/* The F7 callback: checks that the target is gone, then allocates,
 * collects, registers, unregisters and creates WeakRefs. */
static int f7_calls;
static int f7_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)user;
    cr_assert_not(in_collection);
    f7_calls++;
    cr_assert(wgc_is_object(h, holdings));
    obj *ho = holdings;
    cr_assert_eq(ho->id, (uint64_t)(100 + f7_calls - 1));
    cr_assert_null(wgc_weakref_deref(h, R[5]), "the dead target is visible in a callback");
    if (f7_calls == 1) {
        /* unregister a pending cell of this registry: never delivered */
        cr_assert(wgc_registry_unregister(R[0], R[6]));
        /* register a new object (garbage at once), create a WeakRef */
        obj *fresh = NULL;
        WGC_FRAME(h, &fresh, &ho);
        fresh = mk(h, 50);
        cr_assert(wgc_registry_register(R[0], fresh, H(77), NULL));
        R[7] = wgc_weakref_new(h, fresh, ho);
        cr_assert_not_null(R[7]);
        for (int i = 0; i < 100; i++)
            cr_assert_not_null(mk(h, MAX_IDS));
        cr_assert(wgc_collect(h));
        WGC_FRAME_POP(h);
        cr_assert_eq(ho->id, 100, "holdings lost during their own callback");
    }
    return 0;
}

Test(finalize, F7_callback_gets_holdings_and_may_use_the_api)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, f7_cb, NULL);
    R[1] = mk(h, 1);
    R[5] = wgc_weakref_new(h, R[1], NULL);
    R[2] = mk(h, 100);
    R[3] = mk(h, 101);
    R[6] = mk(h, 60); /* token of the second cell */
    cr_assert(wgc_registry_register(R[0], R[1], R[2], NULL));
    cr_assert(wgc_registry_register(R[0], R[1], R[3], R[6]));
    R[1] = R[2] = R[3] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 2);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 1, "unregistered pending cell delivered");
    cr_assert_eq(f7_calls, 1);
    /* the callback's collection already queued the new cell?  It found
     * `fresh` rooted by the callback's frame, so no: it dies now */
    collect(h);
    cr_assert(died[50]);
    cr_assert_null(wgc_weakref_deref(h, R[7]));
    cr_assert_eq(wgc_registry_pending(R[0]), 1);
    free_heap(h);
}

/* ============================================================== F8, F9 */

Test(finalize, F8_dead_registry_collected_with_its_queue)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    for (int i = 0; i < 5; i++) {
        R[1 + i] = mk(h, 1 + i);
        R[10 + i] = mk(h, 10 + i);
        cr_assert(wgc_registry_register(R[0], R[1 + i], R[10 + i], NULL));
        R[1 + i] = R[10 + i] = NULL;
    }
    /* the registry registers itself too */
    cr_assert(wgc_registry_register(R[0], R[0], H(99), NULL));
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 5);
    for (int i = 0; i < 5; i++)
        cr_assert_not(died[10 + i]);
    R[20] = wgc_weakref_new(h, R[0], NULL);
    R[0] = NULL;
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[20]), "registry with a queue kept alive");
    for (int i = 0; i < 5; i++)
        cr_assert(died[10 + i], "holdings of a dead registry's queue kept");
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(cb_n, 0, "a dead registry's callback ran");
    free_heap(h);
}

/* [F8] A dead registry whose page went back to the OS (issue 13, item 5):
 * undefined in release builds; debug builds report it and answer
 * false/0 without touching its memory. */
static bool page_unmapped(const void *p)
{
    unsigned char vec;
    void *page = (void *)((uintptr_t)p & ~(uintptr_t)0xffff);
    return mincore(page, 4096, &vec) != 0;
}

Test(finalize, F8_dead_registry_returned_to_the_os)
{
    if (!wgc_debug_checks_enabled())
        cr_skip_test("using a dead registry is undefined in release builds");
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.initial_heap_size = 64 << 10;
    cfg.trace_roots = trace_R;
    cfg.on_event = on_event;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    for (int i = 0; i < 20000; i++) {
        obj *o = wgc_alloc(h, &plain_type, sizeof *o);
        cr_assert_not_null(o);
        o->a = R[1];
        R[1] = o;
    }
    wgc_registry *reg = wgc_registry_new(h, log_cb, NULL);
    R[0] = reg;
    R[2] = mk(h, 1);
    cr_assert(wgc_registry_register(reg, R[2], H(1), R[2]));
    R[0] = R[1] = R[2] = NULL;
    collect(h);
    collect(h);
    cr_log_info("the dead registry's page %s unmapped",
                page_unmapped(reg) ? "was" : "was not");
    R[3] = mk(h, 3);
    cr_assert_not(wgc_registry_register(reg, R[3], H(2), NULL), "a dead registry registered");
    cr_assert_not(wgc_registry_unregister(reg, R[3]));
    cr_assert_eq(wgc_registry_cleanup_some(reg, 5), 0);
    cr_assert_eq(wgc_registry_pending(reg), 0);
    cr_assert_eq(cb_n, 0);
    cr_assert(wgc_debug_verify(h));
    free_heap(h);
}

Test(finalize, F9_holdings_alive_until_callback_ran)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1);
    R[2] = mk(h, 2); /* holdings, with a child */
    ((obj *)R[2])->a = mk(h, 3);
    wgc_write_barrier(h, R[2]);
    cr_assert(wgc_registry_register(R[0], R[1], R[2], NULL));
    R[3] = wgc_weakref_new(h, R[2], NULL);
    R[1] = R[2] = NULL;
    for (int i = 0; i < 4; i++) {
        collect(h);
        cr_assert_not(died[2] || died[3], "queued holdings collected");
        cr_assert_not_null(wgc_weakref_deref(h, R[3]));
    }
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 1);
    uintptr_t want[] = {1000002};
    expect_log(want, 1);
    collect(h);
    cr_assert(died[2] && died[3], "holdings kept after delivery");
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    free_heap(h);
}

/* =================================================================== F10 */

Test(finalize, F10_cleanup_pending_notifier)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1);
    R[2] = mk(h, 2);
    cr_assert(wgc_registry_register(R[0], R[1], H(1), NULL));
    collect(h);
    cr_assert_eq(notified, 0, "notified though nothing was queued");
    R[1] = NULL;
    collect(h);
    cr_assert_eq(notified, 1);
    cr_assert_eq(notified_outside, 0, "the notifier must run inside the collection");
    /* queued but undelivered cells from before do not notify again */
    collect(h);
    cr_assert_eq(notified, 1);
    /* a group ref queued notifies too */
    R[3] = wgc_group_new(h, log_exec, H(2));
    R[4] = wgc_group_make_ref(R[3], R[2], H(2));
    R[2] = NULL;
    collect(h);
    cr_assert_eq(notified, 2);
    cr_assert_eq(cb_n, 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2);
    collect(h);
    cr_assert_eq(notified, 2);
    free_heap(h);
}

/* =================================================================== F11 */

Test(finalize, F11_failing_callback_stops_the_drain)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = wgc_group_new(h, log_exec, H(2));
    for (int i = 0; i < 6; i++) {
        R[10 + i] = mk(h, i);
        if (i % 2)
        {
            R[20 + i] = wgc_group_make_ref(R[1], R[10 + i], H(i));
            cr_assert_not_null(R[20 + i]);
        }
        else
            cr_assert(wgc_registry_register(R[0], R[10 + i], H(i), NULL));
    }
    /* the targets die together, in this collection: dropped one by one, a
     * stress collection would take each at its own, and the generational
     * mode would promote the group refs' targets (rooted by make_ref while
     * it allocates) so that they die only at this major one */
    for (int i = 0; i < 6; i++)
        R[10 + i] = NULL;
    collect(h);
    cb_fail_at = 2;
    wgc_clear_error(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 3, "the failing callback counts as run");
    cr_assert_eq(wgc_last_error(h), WGC_ECALLBACK);
    cr_assert_eq(wgc_cleanup_pending(h), 3, "undelivered cells must stay queued");
    /* a collection in between changes nothing */
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 3);
    /* cleanup_some on the registry fails the same way */
    cb_fail_at = 3;
    wgc_clear_error(h);
    cr_assert_eq(wgc_registry_cleanup_some(R[0], 10), 1);
    cr_assert_eq(wgc_last_error(h), WGC_ECALLBACK);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2);
    uintptr_t want[] = {1000000, 2000001, 1000002, 1000004, 2000003, 2000005};
    expect_log(want, 6);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    /* collect_and_cleanup stops at a failing callback too */
    for (int i = 0; i < 3; i++) {
        R[10 + i] = mk(h, 10 + i);
        cr_assert(wgc_registry_register(R[0], R[10 + i], H(10 + i), NULL));
        R[10 + i] = NULL;
    }
    cb_fail_at = 6;
    cr_assert_eq(wgc_collect_and_cleanup(h), 1);
    cr_assert_eq(wgc_cleanup_pending(h), 2);
    cr_assert_eq(wgc_collect_and_cleanup(h), 2);
    cr_assert_eq(cb_log[6], 1000010);
    cr_assert_eq(cb_log[7], 1000011);
    cr_assert_eq(cb_log[8], 1000012);
    free_heap(h);
}

/* =================================================================== F12 */

/* Each delivery makes a new registered target that is garbage at once,
 * until the holdings count reaches `chain_len`. */
static long chain_len;
static long chain_calls;
static int chain_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)user;
    chain_calls++;
    long n = (long)(uintptr_t)holdings;
    if (n < chain_len) {
        obj *t = mk(h, MAX_IDS);
        cr_assert(wgc_registry_register(R[0], t, H(n + 1), NULL));
    }
    return 0;
}

Test(finalize, F12_collect_and_cleanup_reaches_a_fixed_point)
{
    wgc_heap *h = heap_with(false);
    chain_len = 25;
    R[0] = wgc_registry_new(h, chain_cb, NULL);
    for (int i = 0; i < 3; i++) {
        R[1] = mk(h, MAX_IDS);
        cr_assert(wgc_registry_register(R[0], R[1], H(1), NULL));
    }
    R[1] = NULL;
    cr_assert_eq(wgc_collect_and_cleanup(h), 3 * 25);
    cr_assert_eq(chain_calls, 75);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(wgc_collect_and_cleanup(h), 0);
    /* a group without executor: its refs stay queued, and the loop ends */
    R[2] = wgc_group_new(h, NULL, NULL);
    R[3] = mk(h, 1);
    R[4] = wgc_group_make_ref(R[2], R[3], NULL);
    R[3] = NULL;
    cr_assert_eq(wgc_collect_and_cleanup(h), 0);
    cr_assert_eq(wgc_group_pending(R[2]), 1);
    cr_assert_eq(wgc_collect_and_cleanup(NULL), 0);
    free_heap(h);
}

/* [F12] whatever the queues held on entry (issue 13, item 1): cells
 * queued by an earlier collection make the first collection of
 * wgc_collect_and_cleanup queue nothing, yet the garbage their callbacks
 * register must still be collected and delivered. */
Test(finalize, F12_fixed_point_when_queues_were_filled_on_entry)
{
    wgc_heap *h = heap_with(false);
    chain_len = 10;
    R[0] = wgc_registry_new(h, chain_cb, NULL);
    for (int i = 0; i < 3; i++) {
        R[1] = mk(h, MAX_IDS);
        cr_assert(wgc_registry_register(R[0], R[1], H(1), NULL));
    }
    R[1] = NULL;
    collect(h); /* an earlier collection (wgc_collect or an auto one) */
    cr_assert_eq(wgc_registry_pending(R[0]), 3);
    cr_assert_eq(wgc_collect_and_cleanup(h), 3 * 10);
    cr_assert_eq(chain_calls, 30);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    free_heap(h);
}

/* The same for groups: an executor's follow-up ref (kept alive in a
 * rooted holder) to fresh garbage is delivered by the same call. */
static long group_chain_calls;
static int group_chain_exec(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)ref, (void)user;
    group_chain_calls++;
    long n = (long)(uintptr_t)holdings;
    if (n < chain_len) {
        obj *t = mk(h, MAX_IDS);
        R[5] = wgc_group_make_ref(R[2], t, H(n + 1)); /* rooted */
        cr_assert_not_null(R[5]);
    }
    return 0;
}

Test(finalize, F12_group_follow_up_refs_are_delivered)
{
    wgc_heap *h = heap_with(false);
    chain_len = 8;
    R[2] = wgc_group_new(h, group_chain_exec, NULL);
    R[3] = mk(h, MAX_IDS);
    R[5] = wgc_group_make_ref(R[2], R[3], H(1));
    R[3] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[2]), 1);
    cr_assert_eq(wgc_collect_and_cleanup(h), 8);
    cr_assert_eq(group_chain_calls, 8);
    cr_assert_eq(wgc_group_pending(R[2]), 0);
    /* and from empty queues too */
    group_chain_calls = 0;
    R[3] = mk(h, MAX_IDS);
    R[5] = wgc_group_make_ref(R[2], R[3], H(3));
    R[3] = NULL;
    cr_assert_eq(wgc_collect_and_cleanup(h), 6);
    cr_assert_eq(group_chain_calls, 6);
    free_heap(h);
}

/* =================================================================== F13 */

Test(finalize, F13_destructors_are_not_finalizers)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = mk(h, 1);
    cr_assert(wgc_registry_register(R[0], R[1], H(1), NULL));
    R[1] = NULL;
    collect(h);
    /* the destructor ran inside the collection (it asserts that), the
     * registry callback did not */
    cr_assert_eq(died[1], 1);
    cr_assert_eq(cb_n, 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 1);
    cr_assert_eq(died[1], 1, "destructor ran twice");
    /* wgc_heap_free runs destructors of live objects, drops queued cells */
    R[2] = mk(h, 2);
    R[3] = mk(h, 3);
    cr_assert(wgc_registry_register(R[0], R[3], H(3), NULL));
    R[3] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 1);
    free_heap(h);
    cr_assert_eq(died[2], 1, "wgc_heap_free did not run a destructor");
    cr_assert_eq(cb_n, 1, "wgc_heap_free ran a queued cleanup");
}

/* ============================================================== extras */

Test(finalize, F0_callbacks_run_only_at_safe_points)
{
    wgc_heap *h = heap_with(true);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = wgc_group_new(h, log_exec, H(2));
    for (int i = 0; i < 4000; i++) {
        R[2] = mk(h, MAX_IDS);
        cr_assert(wgc_registry_register(R[0], R[2], H(i), NULL));
        if (i % 4 == 0) {
            /* group refs stay alive, in a strong list of holders at R[3] */
            obj *holder = mk(h, MAX_IDS);
            holder->a = R[3];
            R[3] = holder;
            holder->b = (obj *)wgc_group_make_ref(R[1], R[2], H(i));
            wgc_write_barrier(h, holder);
            cr_assert_not_null(holder->b);
        }
        /* big allocations, so that wgc_alloc collects now and then */
        obj *junk = wgc_alloc(h, &obj_type, 4000);
        cr_assert_not_null(junk);
        junk->id = MAX_IDS;
    }
    R[2] = NULL;
    collect(h);
    cr_assert_gt(stats(h).collections, 2);
    cr_assert_eq(cb_n, 0, "a cleanup callback ran inside wgc_alloc or wgc_collect");
    cr_assert_eq(wgc_cleanup_pending(h), 4000 + 1000);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 5000);
    cr_assert_eq(cb_n, 5000);
    cr_assert_eq(stats(h).cells_delivered, 4000);
    free_heap(h);
}

/* 1,000,000 registrations, 90% of the targets dying, drained every 10,000
 * allocations: exactly the dead ones delivered, each once.  Under valgrind
 * (RUNNING_ON_VALGRIND) and under WGC_STRESS (a collection every N
 * allocations over a large live set) 100,000 / 20,000 registrations keep
 * the run short; the checks are the same. */
static unsigned char *delivered;
static size_t delivered_count;

static int count_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)h, (void)user;
    size_t i = (size_t)(uintptr_t)holdings;
    cr_assert(i % 10 != 0, "a live target's cell (%zu) was delivered", i);
    cr_assert_eq(delivered[i], 0, "cell %zu delivered twice", i);
    delivered[i] = 1;
    delivered_count++;
    return 0;
}

Test(finalize, million_registrations_ninety_percent_die, .timeout = 120)
{
    size_t n = under_valgrind() ? 100000 : stress_interval() ? 20000 : 1000000;
    wgc_heap *h = heap_with(true);
    big_count = n / 10;
    big = calloc(big_count, sizeof *big);
    delivered = calloc(n, 1);
    cr_assert(big && delivered);
    R[0] = wgc_registry_new(h, count_cb, NULL);
    size_t drained = 0;
    for (size_t i = 0; i < n; i++) {
        obj *t = mk(h, MAX_IDS);
        if (i % 10 == 0)
            big[i / 10] = t; /* 10% stay alive */
        cr_assert(wgc_registry_register(R[0], t, H(i), NULL));
        if (i % 10000 == 9999)
            drained += wgc_run_cleanup(h, SIZE_MAX);
    }
    collect(h);
    drained += wgc_run_cleanup(h, SIZE_MAX);
    size_t dead = n - n / 10;
    cr_assert_eq(drained, dead, "delivered %zu, expected %zu", drained, dead);
    cr_assert_eq(delivered_count, dead);
    wgc_heap_stats s = stats(h);
    cr_assert_eq(s.cells_registered, n);
    cr_assert_eq(s.cells_queued, dead);
    cr_assert_eq(s.cells_delivered, dead);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(delivered[i], i % 10 != 0, "cell %zu", i);
    /* the survivors die too: exactly they are queued */
    memset(big, 0, big_count * sizeof *big);
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), n / 10);
    free_heap(h);
    free(big);
    big = NULL;
    free(delivered);
}

/* A callback that registers new objects while the queue drains: the new
 * cells wait for the next collection; the running drain does not see them. */
static int rereg_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)user;
    uintptr_t gen = (uintptr_t)holdings;
    cr_assert_lt(cb_n, LOG_MAX);
    cb_log[cb_n++] = gen;
    if (gen < 3) {
        for (int i = 0; i < 2; i++) {
            /* rooted (list at R[5]) until the drain ends, so that a stress
             * collection inside it cannot queue them early */
            obj *t = mk(h, MAX_IDS);
            t->a = R[5];
            R[5] = t;
            cr_assert(wgc_registry_register(R[0], t, H(gen + 1), NULL));
        }
    }
    return 0;
}

Test(finalize, callback_reregisters_during_draining)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, rereg_cb, NULL);
    R[1] = mk(h, 1);
    cr_assert(wgc_registry_register(R[0], R[1], H(0), NULL));
    R[1] = NULL;
    size_t per_gen[4] = {1, 2, 4, 8};
    for (int gen = 0; gen < 4; gen++) {
        collect(h);
        cr_assert_eq(wgc_registry_pending(R[0]), per_gen[gen]);
        size_t before = cb_n;
        cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), per_gen[gen],
                     "generation %d: drain delivered cells registered during it", gen);
        R[5] = NULL;
        for (size_t i = before; i < cb_n; i++)
            cr_assert_eq(cb_log[i], (uintptr_t)gen);
    }
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(stats(h).cells_registered, 1 + 2 + 4 + 8);
    free_heap(h);
}

/* Unregister from inside a callback: a pending cell of the same registry
 * (never delivered), a live cell (never queued), a cell of another
 * registry, and its own (already delivered: false). */
static int unreg_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)user;
    cr_assert_lt(cb_n, LOG_MAX);
    cb_log[cb_n++] = (uintptr_t)holdings;
    if ((uintptr_t)holdings == 1) {
        cr_assert(wgc_registry_unregister(R[0], R[11]), "pending cell");
        cr_assert(wgc_registry_unregister(R[0], R[12]), "live cell");
        cr_assert(wgc_registry_unregister(R[1], R[13]), "other registry's pending cell");
        cr_assert_not(wgc_registry_unregister(R[0], R[10]), "own cell, being delivered");
        cr_assert_eq(wgc_registry_pending(R[0]), 1);
    }
    (void)h;
    return 0;
}

Test(finalize, unregister_from_inside_a_callback)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, unreg_cb, NULL);
    R[1] = wgc_registry_new(h, unreg_cb, NULL);
    for (int i = 0; i < 4; i++)
        R[10 + i] = mk(h, 10 + i); /* tokens */
    for (int i = 0; i < 5; i++)
        R[20 + i] = mk(h, 20 + i); /* targets */
    cr_assert(wgc_registry_register(R[0], R[20], H(1), R[10]));
    cr_assert(wgc_registry_register(R[0], R[21], H(2), R[11]));
    cr_assert(wgc_registry_register(R[0], R[22], H(3), R[12]));
    cr_assert(wgc_registry_register(R[1], R[23], H(4), R[13]));
    cr_assert(wgc_registry_register(R[0], R[24], H(5), NULL));
    R[20] = R[21] = R[23] = R[24] = NULL; /* R[22] (live cell) stays */
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 4);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2);
    uintptr_t want[] = {1, 5};
    expect_log(want, 2);
    R[22] = NULL;
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(stats(h).cells_unregistered, 3);
    free_heap(h);
}

Test(finalize, run_cleanup_interleaves_groups_and_registries)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[1] = wgc_group_new(h, log_exec, H(2));
    R[2] = wgc_registry_new(h, log_cb, H(3));
    R[3] = wgc_group_new(h, log_exec, H(4));
    /* 12 targets; registration k goes to owner k % 4 */
    for (int k = 0; k < 12; k++) {
        R[10 + k] = mk(h, k);
        int o = k % 4;
        if (o % 2 == 0)
            cr_assert(wgc_registry_register(R[o], R[10 + k], H(k), NULL));
        else
        {
            R[30 + k] = wgc_group_make_ref(R[o], R[10 + k], H(k));
            cr_assert_not_null(R[30 + k]);
        }
    }
    /* collection 1: odd k die; collection 2: even k */
    for (int k = 1; k < 12; k += 2)
        R[10 + k] = NULL;
    collect(h);
    for (int k = 0; k < 12; k += 2)
        R[10 + k] = NULL;
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 12);
    /* drain in small steps: the order is one global order */
    size_t ran = 0;
    while (ran < 12) {
        size_t r = wgc_run_cleanup(h, 5);
        cr_assert_gt(r, 0);
        ran += r;
    }
    uintptr_t want[12];
    int w = 0;
    for (int k = 1; k < 12; k += 2)
        want[w++] = (uintptr_t)(k % 4 + 1) * 1000000 + (uintptr_t)k;
    for (int k = 0; k < 12; k += 2)
        want[w++] = (uintptr_t)(k % 4 + 1) * 1000000 + (uintptr_t)k;
    expect_log(want, 12);
    free_heap(h);
}

/* wgc_run_cleanup delivers runs of one owner without looking at the others
 * while its entries come first (finalize/cleanup.c).  A callback that
 * collects queues new entries, of the same new epoch, in other owners too:
 * those must still go by registration order [F4], whichever owner was
 * being drained and even if the others had nothing queued before. */
static int collecting_cb(wgc_heap *h, void *holdings, void *user)
{
    log_cb(h, holdings, user);
    if ((uintptr_t)holdings == 1) {
        R[11] = R[12] = R[13] = NULL; /* registered in B, A, B: seq 2, 3, 4 */
        collect(h);
    }
    return 0;
}

Test(finalize, run_cleanup_order_when_a_callback_collects)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, collecting_cb, H(1)); /* A */
    R[1] = wgc_registry_new(h, collecting_cb, H(2)); /* B */
    for (int i = 0; i < 4; i++)
        R[10 + i] = mk(h, (uint64_t)i);
    cr_assert(wgc_registry_register(R[0], R[10], H(1), NULL));
    cr_assert(wgc_registry_register(R[1], R[11], H(2), NULL));
    cr_assert(wgc_registry_register(R[0], R[12], H(3), NULL));
    cr_assert(wgc_registry_register(R[1], R[13], H(4), NULL));
    R[10] = NULL;
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 1); /* A's first cell, B empty */
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 4);
    uintptr_t want[] = {1000001, 2000002, 1000003, 2000004};
    expect_log(want, 4);
    free_heap(h);
}

/* ========================================================= determinism */

/* One randomized program, run on its own heap: allocation, random links,
 * registrations (two registries, one group, tokens), unregistrations,
 * root drops, automatic collections and periodic drains.  It logs every
 * collection (count and bytes allocated at its start and end) and every
 * delivery (tag and holdings), as text. */
typedef struct run {
    wgc_heap *h;
    void *slots[64];
    char *log;
    size_t len, cap;
    uint64_t rng;
} run;

static void run_trace(wgc_visitor *v, void *user)
{
    wgc_visit_array(v, ((run *)user)->slots, 64);
}

static void logf_(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(run *r, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->len + (size_t)n + 1 > r->cap) {
        r->cap = (r->cap + (size_t)n + 1) * 2;
        r->log = realloc(r->log, r->cap);
        if (!r->log)
            abort();
    }
    memcpy(r->log + r->len, buf, (size_t)n + 1);
    r->len += (size_t)n;
}

static void run_event(wgc_heap *h, wgc_event e, void *user)
{
    wgc_heap_stats s;
    wgc_stats(h, &s);
    logf_(user, "%s %llu %llu %llu\n",
          e == WGC_EVENT_COLLECT_START ? "gc<" : e == WGC_EVENT_MINOR_START ? "minor<"
                                       : e == WGC_EVENT_MINOR_END ? "minor>" : "gc>",
          (unsigned long long)s.collections, (unsigned long long)s.objects_allocated,
          (unsigned long long)s.bytes_allocated);
}

static run *current_run;
static int det_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)h;
    logf_(current_run, "cb %lu %lu\n", (unsigned long)(uintptr_t)user,
          (unsigned long)(uintptr_t)holdings);
    return 0;
}

static int det_exec(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)ref;
    return det_cb(h, holdings, user);
}

static uint64_t rnd(run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

static void run_program(run *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->rng = seed * 2654435761u + 1;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 256 * 1024;
    cfg.trace_roots = run_trace;
    cfg.trace_roots_user = r;
    cfg.on_event = run_event;
    cfg.on_event_user = r;
    r->h = wgc_heap_new(&cfg);
    cr_assert_not_null(r->h);
    current_run = r;
    wgc_heap *h = r->h;
    r->slots[0] = wgc_registry_new(h, det_cb, H(1));
    r->slots[1] = wgc_registry_new(h, det_cb, H(2));
    r->slots[2] = wgc_group_new(h, det_exec, H(3));
    uint64_t next_id = 1;
    for (int step = 0; step < 20000; step++) {
        uint64_t x = rnd(r);
        int slot = 4 + (int)(x % 60);
        switch ((x >> 8) % 10) {
        case 0: case 1: case 2: case 3: { /* allocate into a slot */
            obj *o = wgc_alloc(h, &plain_type, 16 + (x >> 20) % 200);
            cr_assert_not_null(o);
            o->id = MAX_IDS; /* (destructor: no flag) */
            o->a = r->slots[4 + (x >> 32) % 60];
            r->slots[slot] = o;
            break;
        }
        case 4: case 5: { /* register a slot's object */
            if (!r->slots[slot])
                break;
            void *token = (x >> 40) % 3 == 0 ? r->slots[4 + (x >> 44) % 60] : NULL;
            cr_assert(wgc_registry_register(r->slots[(x >> 50) & 1], r->slots[slot],
                                            H(next_id++), token));
            break;
        }
        case 6: /* a group ref kept in a slot */
            if (r->slots[slot] && slot != 63) {
                wgc_weakref *ref = wgc_group_make_ref(r->slots[2], r->slots[slot],
                                                      H(next_id++));
                cr_assert_not_null(ref);
                r->slots[63] = ref;
            }
            break;
        case 7: /* unregister by a slot's object */
            if (r->slots[slot]) {
                bool ok = wgc_registry_unregister(r->slots[(x >> 50) & 1], r->slots[slot]);
                logf_(r, "un %d\n", ok);
            }
            break;
        case 8: /* drop */
            r->slots[slot] = NULL;
            break;
        case 9: /* drain a little */
            if ((x >> 16) % 8 == 0)
                logf_(r, "ran %zu\n", wgc_run_cleanup(h, (x >> 24) % 16));
            break;
        }
    }
    for (int i = 4; i < 64; i++)
        r->slots[i] = NULL;
    logf_(r, "final %zu\n", wgc_collect_and_cleanup(h));
}

Test(finalize, same_program_twice_gives_identical_logs)
{
    /* two heaps side by side (different addresses), same program */
    static run a, b;
    run_program(&a, 42);
    run_program(&b, 42);
    cr_assert_gt(a.len, 1000);
    wgc_heap_stats s;
    wgc_stats(a.h, &s);
    cr_assert_gt(s.collections, 3, "the program must collect a few times");
    cr_assert_gt(s.cells_delivered, 100);
    cr_assert_eq(a.len, b.len, "logs differ in length (%zu vs %zu)", a.len, b.len);
    cr_assert(memcmp(a.log, b.log, a.len) == 0, "logs differ");
    /* and a different seed gives a different log (the log is not trivial) */
    static run c;
    run_program(&c, 43);
    cr_assert(c.len != a.len || memcmp(a.log, c.log, a.len) != 0);
    free_heap(a.h);
    free_heap(b.h);
    free_heap(c.h);
    free(a.log);
    free(b.log);
    free(c.log);
}

/* ====================================================== cell array [F14] */

/* The cells are kept in registration order with holes, closed when the
 * array is full [F14].  Closing them renumbers every
 * cell: the queue, the token chains and the order of later notifications
 * must come through unchanged [F4] [F5] [F6]. */
Test(finalize, holes_closed_at_registration_keep_queue_and_tokens)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[30] = mk(h, 900); /* token A */
    R[31] = mk(h, 901); /* token B */
    /* 16 cells fill the first array exactly */
    for (int i = 0; i < 16; i++) {
        R[10 + i] = mk(h, (uint64_t)i);
        void *token = i == 0 || i == 5 || i == 9 ? R[30]
                      : i == 3 || i == 12       ? R[31] : NULL;
        cr_assert(wgc_registry_register(R[0], R[10 + i], H(i), token));
    }
    int die[] = {1, 2, 4, 6, 7, 8, 10, 11, 13, 14};
    for (size_t k = 0; k < sizeof die / sizeof die[0]; k++)
        R[10 + die[k]] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 10);
    cr_assert_eq(wgc_registry_cleanup_some(R[0], 3), 3);   /* 1, 2, 4 */
    cr_assert(wgc_registry_unregister(R[0], R[31]));       /* 3, 12 (live) */
    cr_assert_eq(wgc_registry_cleanup_some(R[0], 3), 3);   /* 6, 7, 8 */
    /* 8 cells of 16 left: this registration closes the holes */
    R[26] = mk(h, 16);
    cr_assert(wgc_registry_register(R[0], R[26], H(16), R[30]));
    cr_assert_eq(wgc_registry_pending(R[0]), 4);
    R[10] = R[25] = NULL; /* cells 0 (token A) and 15 */
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 6);
    /* token A: cell 0 queued, 5, 9 and 16 live [F6] */
    cr_assert(wgc_registry_unregister(R[0], R[30]));
    cr_assert_not(wgc_registry_unregister(R[0], R[30]));
    cr_assert_not(wgc_registry_unregister(R[0], R[31]));
    cr_assert_eq(wgc_registry_pending(R[0]), 5);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 5);
    uintptr_t want[] = {1000001, 1000002, 1000004, 1000006, 1000007, 1000008,
                        1000010, 1000011, 1000013, 1000014, 1000015};
    expect_log(want, 11);
    cr_assert_eq(stats(h).cells_unregistered, 6);
    /* nothing left: the survivors' targets dying queues nothing */
    for (int i = 10; i < 27; i++)
        R[i] = NULL;
    collect(h);
    cr_assert_eq(wgc_registry_pending(R[0]), 0);
    free_heap(h);
}

/* A registry whose cells are mostly holes closes them in a collection,
 * without memory; the cells left keep their order and token chain. */
Test(finalize, holes_closed_in_a_collection_keep_order)
{
    wgc_heap *h = heap_with(false);
    static void *T[64];
    big = T;
    big_count = 64;
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[30] = mk(h, 900); /* token of cells 3, 19, 35, 51 */
    for (int i = 0; i < 64; i++) {
        T[i] = mk(h, (uint64_t)i);
        cr_assert(wgc_registry_register(R[0], T[i], H(i), i % 16 == 3 ? R[30] : NULL));
    }
    for (int i = 0; i < 64; i++)
        if (i != 3 && i != 40 && i != 51 && i != 63)
            T[i] = NULL;
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 60);
    collect(h); /* 4 cells of 64: closed here */
    T[63] = T[3] = NULL;
    collect(h); /* queues 3 then 63: registration order [F4] */
    cr_assert(wgc_registry_unregister(R[0], R[30])); /* 3 (queued), 51 (live) */
    cr_assert_eq(wgc_registry_pending(R[0]), 1);
    T[40] = T[51] = NULL;
    collect(h); /* 40 dies after 63: a later collection comes later [F4] */
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2);
    cr_assert_eq(cb_n, 62);
    cr_assert_eq(cb_log[60], 1000063);
    cr_assert_eq(cb_log[61], 1000040);
    for (int k = 0, i = 0; i < 64; i++) /* the first drain, in order */
        if (i != 3 && i != 40 && i != 51 && i != 63)
            cr_assert_eq(cb_log[k++], 1000000 + (uintptr_t)i);
    big = NULL;
    free_heap(h);
}

/* Tokens live beside the cells, in an array made at the first registration
 * with a token [F14]: cells registered before it have
 * none, and growing or closing holes afterwards keeps every token. */
Test(finalize, first_token_after_cells_without_tokens)
{
    wgc_heap *h = heap_with(false);
    R[0] = wgc_registry_new(h, log_cb, H(1));
    R[30] = mk(h, 900);
    for (int i = 0; i < 20; i++) {
        R[10 + i] = mk(h, (uint64_t)i);
        cr_assert(wgc_registry_register(R[0], R[10 + i], H(i), i >= 16 && i % 2 ? R[30] : NULL));
    }
    cr_assert_not(wgc_registry_unregister(R[0], R[11]), "a target is not a token here");
    for (int i = 0; i < 16; i++) /* holes below the tokened cells */
        R[10 + i] = NULL;
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 16);
    /* 4 cells of 32 left; 12 more fill the array, the 13th closes the
     * holes (16 cells of 32).  Rooted, so that stress collections at the
     * allocations cannot queue them early. */
    static void *T[25];
    big = T;
    big_count = 25;
    for (int i = 20; i < 45; i++) {
        T[i - 20] = mk(h, (uint64_t)i);
        cr_assert(wgc_registry_register(R[0], T[i - 20], H(i), NULL));
    }
    cr_assert(wgc_registry_unregister(R[0], R[30])); /* 17, 19 */
    cr_assert_eq(stats(h).cells_unregistered, 2);
    for (int i = 16; i < 20; i++)
        R[10 + i] = NULL;
    memset(T, 0, sizeof T);
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2 + 25);
    cr_assert_eq(cb_log[16], 1000016);
    cr_assert_eq(cb_log[17], 1000018);
    for (int k = 18, i = 20; i < 45; i++, k++)
        cr_assert_eq(cb_log[k], 1000000 + (uintptr_t)i);
    big = NULL;
    free_heap(h);
}
