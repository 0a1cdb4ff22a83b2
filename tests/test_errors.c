/*
 * tests/test_errors.c -- every documented error result of the core API:
 * NULL heap or type, size overflow, re-entry from callbacks, frames popped
 * out of order, invalid configurations, wgc_last_error/wgc_error_string.
 */
#include "common.h"

#include <criterion/redirect.h>

/* ================================================================ NULLs */

Test(errors, null_heap)
{
    cr_assert_null(wgc_alloc(NULL, &node_type, 16));
    cr_assert_null(wgc_alloc(NULL, &blob_type, 100000));
    cr_assert_null(wgc_alloc(NULL, &cnode_type, 16));
    cr_assert_eq(wgc_last_error(NULL), WGC_EINVAL);
    cr_assert_not(wgc_collect(NULL));
    cr_assert_null(wgc_root_new(NULL, NULL));
    wgc_heap_stats s;
    cr_assert_not(wgc_stats(NULL, &s));
    cr_assert_not(wgc_is_object(NULL, &s));
    wgc_frame f;
    cr_assert_not(wgc_frame_push(NULL, &f, NULL, 0));
    cr_assert_not(wgc_frame_pop(NULL, &f));
    wgc_clear_error(NULL);      /* no effect, no crash */
    wgc_heap_free(NULL);        /* no effect */
    cr_assert_not(wgc_debug_verify(NULL));
    cr_assert_eq(wgc_debug_requests(NULL), 0);
    wgc_debug_fail_request(NULL, 1, false);
}

Test(errors, null_type)
{
    wgc_heap *h = new_heap();
    wgc_heap_stats before = get_stats(h);
    cr_assert_null(wgc_alloc(h, NULL, 16));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_null(wgc_alloc(h, NULL, 0));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_null(wgc_alloc(h, NULL, 100000));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_heap_stats after = get_stats(h);
    cr_assert_eq(after.objects_allocated, before.objects_allocated);
    cr_assert_eq(after.bytes_allocated, before.bytes_allocated);
    cr_assert_not_null(wgc_alloc(h, &node_type, 16), "heap unusable after errors");
    wgc_heap_free(h);
}

Test(errors, null_handles_and_frames)
{
    wgc_heap *h = new_heap();
    cr_assert_null(wgc_root_get(NULL));
    cr_assert_not(wgc_root_set(NULL, NULL));
    wgc_root_free(NULL); /* no effect */
    cr_assert_not(wgc_frame_push(h, NULL, NULL, 0));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_frame f;
    cr_assert_not(wgc_frame_push(h, &f, NULL, 3), "3 slots at NULL accepted");
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_not(wgc_frame_pop(h, NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_not(wgc_stats(h, NULL));
    cr_assert_not(wgc_is_object(h, NULL));
    /* nothing was pushed: collecting is fine */
    collect(h);
    wgc_heap_free(h);
}

/* ============================================================ overflow */

Test(errors, size_overflow)
{
    wgc_heap *h = new_heap();
    static const size_t sizes[] = {
        SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 7, SIZE_MAX - 8, SIZE_MAX - 15,
        SIZE_MAX - 4095, SIZE_MAX - 65536, SIZE_MAX / 2 + 1,
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        wgc_clear_error(h);
        cr_assert_null(wgc_alloc(h, &node_type, sizes[i]), "size %zu", sizes[i]);
        cr_assert_eq(wgc_last_error(h), WGC_EOVERFLOW, "size %#zx: %s", sizes[i],
                     wgc_error_string(wgc_last_error(h)));
        cr_assert_null(wgc_alloc(h, &cnode_type, sizes[i]));
        cr_assert_null(wgc_alloc(h, &blob_type, sizes[i]));
    }
    wgc_heap_stats s = get_stats(h);
    cr_assert_eq(s.objects_allocated, 0);
    cr_assert_lt(s.heap_size, MiB);
    cr_assert_not_null(wgc_alloc(h, &node_type, 16));
    wgc_heap_free(h);
}

/* Representable but impossible: the OS refuses, or the maximum is hit. */
Test(errors, huge_sizes_fail_cleanly)
{
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    build_clist(h, r, 100);
    cr_assert_null(wgc_alloc(h, &blob_type, (size_t)1 << 60));
    cr_assert(wgc_last_error(h) == WGC_ENOMEM || wgc_last_error(h) == WGC_EOVERFLOW,
              "1 EiB: %s", wgc_error_string(wgc_last_error(h)));
    cr_assert_eq(list_length(wgc_root_get(r)), 100);
    verify(h);
    wgc_root_free(r);
    wgc_heap_free(h);

    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.max_heap_size = 32 * MiB;
    h = new_heap_cfg(&cfg);
    cr_assert_null(wgc_alloc(h, &blob_type, 33 * MiB));
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    cr_assert_null(wgc_alloc(h, &blob_type, (size_t)1 << 40));
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    cr_assert_not_null(wgc_alloc(h, &blob_type, 16 * MiB));
    wgc_heap_free(h);
}

/* ====================================================== re-entry: trace */

static wgc_heap *reentry_heap;
static void *reentry_alloc_result;
static wgc_error reentry_alloc_error;
static bool reentry_collect_result;
static wgc_error reentry_collect_error;
static int reentry_calls;

static void reentry_record(void)
{
    reentry_calls++;
    wgc_clear_error(reentry_heap);
    reentry_alloc_result = wgc_alloc(reentry_heap, &node_type, 16);
    reentry_alloc_error = wgc_last_error(reentry_heap);
    wgc_clear_error(reentry_heap);
    reentry_collect_result = wgc_collect(reentry_heap);
    reentry_collect_error = wgc_last_error(reentry_heap);
}

static void check_reentry(const char *where)
{
    cr_assert_gt(reentry_calls, 0, "%s never ran", where);
    cr_assert_null(reentry_alloc_result, "wgc_alloc from %s returned an object", where);
    cr_assert_eq(reentry_alloc_error, WGC_EREENTRY, "wgc_alloc from %s: %s", where,
                 wgc_error_string(reentry_alloc_error));
    cr_assert_not(reentry_collect_result, "wgc_collect from %s succeeded", where);
    cr_assert_eq(reentry_collect_error, WGC_EREENTRY, "wgc_collect from %s: %s",
                 where, wgc_error_string(reentry_collect_error));
}

static void bad_trace(void *obj, wgc_visitor *v)
{
    reentry_record();
    wgc_visit(v, &((node *)obj)->next);
}

static const wgc_type bad_trace_type = {.name = "bad_trace", .trace = bad_trace};

Test(errors, alloc_and_collect_from_trace_callback)
{
    wgc_heap *h = reentry_heap = new_heap();
    /* warm the allocator, so a fast path would have a run to use */
    for (int i = 0; i < 10; i++)
        wgc_alloc(h, &node_type, 16);
    node *obj = wgc_alloc(h, &bad_trace_type, sizeof(node));
    cr_assert_not_null(obj);
    wgc_root *r = wgc_root_new(h, obj);
    wgc_heap_stats before = get_stats(h);
    collect(h);
    check_reentry("a trace callback");
    wgc_heap_stats after = get_stats(h);
    cr_assert_eq(after.collections, before.collections + 1, "nested collection ran");
    cr_assert(wgc_is_object(h, obj));
    verify(h);
    /* the heap works afterwards */
    cr_assert_not_null(wgc_alloc(h, &node_type, 16));
    wgc_root_free(r);
    wgc_heap_free(h);
}

static void bad_roots(wgc_visitor *v, void *user)
{
    (void)v, (void)user;
    reentry_record();
}

Test(errors, alloc_and_collect_from_root_callback)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = bad_roots;
    wgc_heap *h = reentry_heap = new_heap_cfg(&cfg);
    for (int i = 0; i < 10; i++)
        wgc_alloc(h, &node_type, 16);
    uint64_t before = get_stats(h).collections;
    collect(h);
    check_reentry("the root callback");
    cr_assert_eq(get_stats(h).collections, before + 1, "nested collection ran");
    wgc_heap_free(h);
}

/* ==================================================== re-entry: destroy */

static void bad_destroy(void *obj)
{
    (void)obj;
    reentry_record();
}

static const wgc_type bad_destroy_type = {.name = "bad_destroy", .destroy = bad_destroy};

Test(errors, alloc_and_collect_from_destructor)
{
    wgc_heap *h = reentry_heap = new_heap();
    for (int i = 0; i < 10; i++)
        wgc_alloc(h, &node_type, 16);
    cr_assert_not_null(wgc_alloc(h, &bad_destroy_type, 32));
    uint64_t before = get_stats(h).collections;
    collect(h);
    check_reentry("a destructor");
    cr_assert_eq(reentry_calls, 1);
    cr_assert_eq(get_stats(h).collections, before + 1, "nested collection ran");
    verify(h);
    wgc_heap_free(h);
}

/* Destructors also run in wgc_heap_free: the same rules hold there. */
Test(errors, alloc_from_destructor_in_heap_free)
{
    wgc_heap *h = reentry_heap = new_heap();
    wgc_root *r = wgc_root_new(h, wgc_alloc(h, &bad_destroy_type, 32));
    cr_assert_not_null(wgc_root_get(r));
    for (int i = 0; i < 10; i++) /* a run for node's class exists now */
        wgc_alloc(h, &node_type, 16);
    wgc_heap_free(h);
    check_reentry("a destructor run by wgc_heap_free");
}

/* ================================================= re-entry: event hook */

static void bad_hook(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap, (void)user;
    if (e == WGC_EVENT_COLLECT_START)
        reentry_record();
}

Test(errors, alloc_and_collect_from_event_hook_start)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.on_event = bad_hook;
    wgc_heap *h = reentry_heap = new_heap_cfg(&cfg);
    /* warm the allocator so a current run exists for node's size class */
    for (int i = 0; i < 10; i++)
        wgc_alloc(h, &node_type, 16);
    uint64_t before = get_stats(h).collections;
    collect(h);
    check_reentry("the COLLECT_START event hook");
    cr_assert_eq(get_stats(h).collections, before + 1, "nested collection ran");
    verify(h);
    wgc_heap_free(h);
}

static void bad_hook_end(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap, (void)user;
    if (e == WGC_EVENT_COLLECT_END)
        reentry_record();
}

Test(errors, alloc_and_collect_from_event_hook_end)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.on_event = bad_hook_end;
    wgc_heap *h = reentry_heap = new_heap_cfg(&cfg);
    for (int i = 0; i < 10; i++)
        wgc_alloc(h, &node_type, 16);
    uint64_t before = get_stats(h).collections;
    collect(h);
    check_reentry("the COLLECT_END event hook");
    cr_assert_eq(get_stats(h).collections, before + 1, "nested collection ran");
    wgc_heap_free(h);
}

/* wgc_heap_free from inside a collection is refused. */
static void free_in_destroy(void *obj)
{
    (void)obj;
    reentry_calls++;
    wgc_heap_free(reentry_heap);
    reentry_alloc_error = wgc_last_error(reentry_heap);
}

static const wgc_type free_in_destroy_type = {.name = "free_in_destroy", .destroy = free_in_destroy};

Test(errors, heap_free_from_destructor_refused)
{
    wgc_heap *h = reentry_heap = new_heap();
    cr_assert_not_null(wgc_alloc(h, &free_in_destroy_type, 16));
    collect(h);
    cr_assert_eq(reentry_calls, 1);
    cr_assert_eq(reentry_alloc_error, WGC_EREENTRY);
    /* the heap is still alive and usable */
    cr_assert_not_null(wgc_alloc(h, &node_type, 16));
    collect(h);
    wgc_heap_free(h);
}

/* ============================ re-entry: wgc_heap_free from cleanup code */

/* [F7] wgc_heap_free from a cleanup callback or group executor is refused
 * (WGC_EREENTRY): the drain that called it still uses the heap (issue 13,
 * item 7).  The drain goes on and the heap stays usable. */
static int free_calls;
static wgc_error free_errors[8];

static int free_in_callback(wgc_heap *h, void *holdings, void *user)
{
    (void)holdings, (void)user;
    wgc_clear_error(h);
    wgc_heap_free(h);
    free_errors[free_calls++] = wgc_last_error(h);
    cr_assert_not_null(wgc_alloc(h, &node_type, 16), "the heap died in the callback");
    return 0;
}

static int free_in_executor(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)ref;
    return free_in_callback(h, holdings, user);
}

Test(errors, heap_free_from_cleanup_callback_and_executor_refused)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = new_heap_cfg(&cfg);
    wgc_root *reg = wgc_root_new(h, wgc_registry_new(h, free_in_callback, NULL));
    wgc_root *grp = wgc_root_new(h, wgc_group_new(h, free_in_executor, NULL));
    wgc_root *refs[3], *targets[6];
    /* the targets stay rooted until they all die in one full collection:
     * a collection between (WGC_STRESS) would queue some earlier, or, in
     * the generational mode, promote some so that they die later, and the
     * counts below assume one queue in registration order [F4] */
    for (int i = 0; i < 3; i++) {
        node *t = wgc_alloc(h, &node_type, 16);
        targets[2 * i] = wgc_root_new(h, t);
        cr_assert(wgc_registry_register(wgc_root_get(reg), t, NULL, NULL));
        t = wgc_alloc(h, &node_type, 16);
        targets[2 * i + 1] = wgc_root_new(h, t);
        refs[i] = wgc_root_new(h, wgc_group_make_ref(wgc_root_get(grp), t, NULL));
        cr_assert_not_null(wgc_root_get(refs[i]));
    }
    for (int i = 0; i < 6; i++)
        wgc_root_free(targets[i]);
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 6);
    cr_assert_eq(wgc_registry_cleanup_some(wgc_root_get(reg), 1), 1);
    cr_assert_eq(wgc_group_finalize_some(wgc_root_get(grp), 1), 1);
    cr_assert_eq(wgc_run_cleanup(h, 2), 2);
    cr_assert_eq(wgc_group_manually_finalize(wgc_root_get(grp), free_in_executor, NULL), 1);
    cr_assert_eq(wgc_collect_and_cleanup(h), 1);
    cr_assert_eq(free_calls, 6);
    for (int i = 0; i < free_calls; i++)
        cr_assert_eq(free_errors[i], WGC_EREENTRY, "call %d: %s", i,
                     wgc_error_string(free_errors[i]));
    collect(h);
    verify(h);
    wgc_heap_free(h); /* outside: accepted */
}

/* ============== re-entry: handles and frames from inside a collection */

/* [G5] wgc_root_set, wgc_root_free and wgc_frame_push from a trace
 * callback, the root callback, a destructor or a hook are refused
 * (WGC_EREENTRY) and change nothing (issue 13, item 7). */
static wgc_root *victim;
static void *victim_obj;
static int handle_calls;
static bool handle_refused;

static void handle_record(void)
{
    wgc_heap *h = reentry_heap;
    if (!victim)
        return; /* a stress collection before the test's handle exists */
    handle_calls++;
    bool refused = true;
    wgc_clear_error(h);
    refused &= !wgc_root_set(victim, NULL);
    refused &= wgc_last_error(h) == WGC_EREENTRY;
    wgc_clear_error(h);
    wgc_root_free(victim);
    refused &= wgc_last_error(h) == WGC_EREENTRY;
    refused &= wgc_root_get(victim) == victim_obj;
    wgc_clear_error(h);
    wgc_frame f;
    void *local = NULL;
    void *const slots[] = {&local};
    refused &= !wgc_frame_push(h, &f, slots, 1);
    refused &= wgc_last_error(h) == WGC_EREENTRY;
    if (!refused)
        handle_refused = false;
}

static void handle_trace(void *obj, wgc_visitor *v)
{
    handle_record();
    wgc_visit(v, &((node *)obj)->next);
}

static const wgc_type handle_trace_type = {.name = "handle_trace", .trace = handle_trace};

static void handle_destroy(void *obj)
{
    (void)obj;
    handle_record();
}

static const wgc_type handle_destroy_type = {.name = "handle_destroy", .destroy = handle_destroy};

static void handle_roots(wgc_visitor *v, void *user)
{
    (void)v, (void)user;
    handle_record();
}

static void handle_hook(wgc_heap *h, wgc_event e, void *user)
{
    (void)h, (void)e, (void)user;
    handle_record();
}

static void handle_notify(wgc_heap *h, void *user)
{
    (void)h, (void)user;
    handle_record();
}

static int noop_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)h, (void)holdings, (void)user;
    return 0;
}

Test(errors, handles_and_frames_from_inside_a_collection_refused)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = handle_roots;
    cfg.on_event = handle_hook;
    cfg.cleanup_pending = handle_notify;
    wgc_heap *h = reentry_heap = new_heap_cfg(&cfg);
    handle_refused = true;
    victim_obj = wgc_alloc(h, &node_type, 16);
    victim = wgc_root_new(h, victim_obj);
    wgc_root *traced = wgc_root_new(h, wgc_alloc(h, &handle_trace_type, sizeof(node)));
    cr_assert_not_null(wgc_alloc(h, &handle_destroy_type, 16));
    wgc_root *reg = wgc_root_new(h, wgc_registry_new(h, noop_cb, NULL));
    cr_assert(wgc_registry_register(wgc_root_get(reg), wgc_alloc(h, &node_type, 16),
                                    NULL, NULL));
    collect(h);
    /* roots, trace, destructor, two hooks and the notifier (debug builds
     * verify, which runs the roots and trace callbacks again) */
    cr_assert_geq(handle_calls, 6, "%d calls", handle_calls);
    cr_assert(handle_refused, "a handle or frame call was accepted inside a collection");
    cr_assert_eq(wgc_root_get(victim), victim_obj);
    collect(h);
    cr_assert_eq(wgc_root_get(victim), victim_obj);
    cr_assert(wgc_is_object(h, victim_obj), "the handle's object was collected");
    /* outside a collection they work */
    cr_assert(wgc_root_set(victim, NULL));
    wgc_root_free(victim);
    victim = NULL;
    wgc_root_free(traced);
    wgc_root_free(reg);
    wgc_heap_free(h);
}

/* The inline WGC_FRAME cannot see the phase: a frame it pushes inside a
 * collection and leaves there is undone at the end of the collection,
 * reported as WGC_EREENTRY. */
/* The misuse under test: gcc sees the frame outlive its function. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
static void frame_leaving_destroy(void *obj)
{
    (void)obj;
    void *local = NULL;
    WGC_FRAME(reentry_heap, &local); /* never popped */
}

static void frame_leaving_hook(wgc_heap *h, wgc_event e, void *user)
{
    (void)e, (void)user;
    void *junk = (void *)(uintptr_t)0x10; /* dead stack by the time it is read */
    WGC_FRAME(h, &junk);
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

static const wgc_type frame_leaving_type = {.name = "frame_leaving", .destroy = frame_leaving_destroy};

Test(errors, frame_left_by_a_destructor_is_undone)
{
    wgc_heap *h = reentry_heap = new_heap();
    cnode *a = wgc_alloc(h, &cnode_type, sizeof *a);
    void *const sa[] = {&a};
    wgc_frame fa;
    cr_assert(wgc_frame_push(h, &fa, sa, 1));
    cr_assert_not_null(wgc_alloc(h, &frame_leaving_type, 16));
    wgc_clear_error(h);
    collect(h);
    cr_assert_eq(wgc_last_error(h), WGC_EREENTRY);
    cr_assert(wgc_frame_pop(h, &fa), "the frame stack was left changed");
    collect(h);
    cr_assert_eq(destroyed_count, 1);
    wgc_heap_free(h);

    /* a hook's frame would be scanned by the marking that follows it */
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.on_event = frame_leaving_hook;
    h = reentry_heap = new_heap_cfg(&cfg);
    a = wgc_alloc(h, &cnode_type, sizeof *a);
    cr_assert(wgc_frame_push(h, &fa, sa, 1));
    wgc_clear_error(h);
    collect(h);
    cr_assert_eq(wgc_last_error(h), WGC_EREENTRY);
    cr_assert(wgc_frame_pop(h, &fa), "the frame stack was left changed");
    wgc_heap_free(h);
}

/* ============================================================== frames */

Test(errors, frame_popped_out_of_order)
{
    wgc_heap *h = new_heap();
    cnode *a = NULL, *b = NULL;
    void *const sa[] = {&a};
    void *const sb[] = {&b};
    wgc_frame fa, fb;
    cr_assert(wgc_frame_push(h, &fa, sa, 1));
    cr_assert(wgc_frame_push(h, &fb, sb, 1));
    a = wgc_alloc(h, &cnode_type, sizeof *a);
    b = wgc_alloc(h, &cnode_type, sizeof *b);
    a->id = 1;
    b->id = 2;

    cr_assert_not(wgc_frame_pop(h, &fa), "the outer frame popped first");
    cr_assert_eq(wgc_last_error(h), WGC_ESTATE);
    /* the frame stack is unchanged: both frames still hold their objects */
    cr_assert_eq(fb.prev, &fa);
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    cr_assert_eq(a->id, 1);
    cr_assert_eq(b->id, 2);
    /* a frame never pushed is refused as well */
    wgc_frame stranger;
    cr_assert_not(wgc_frame_pop(h, &stranger));
    cr_assert_eq(wgc_last_error(h), WGC_ESTATE);
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    /* popping in order works */
    cr_assert(wgc_frame_pop(h, &fb));
    collect(h);
    cr_assert_eq(destroyed_count, 1);
    cr_assert_eq(a->id, 1);
    cr_assert(wgc_frame_pop(h, &fa));
    collect(h);
    cr_assert_eq(destroyed_count, 2);
    /* and an empty stack refuses any pop */
    cr_assert_not(wgc_frame_pop(h, &fa));
    cr_assert_eq(wgc_last_error(h), WGC_ESTATE);
    wgc_heap_free(h);
}

/* ============================================================== configs */

Test(errors, invalid_configs)
{
    wgc_config cfg;

    wgc_config_init(&cfg);
    cfg.growth_factor = 1.0;
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor 1.0 accepted");
    cfg.growth_factor = 0.5;
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor 0.5 accepted");
    cfg.growth_factor = -2.0;
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor -2 accepted");
    cfg.growth_factor = 0.0;
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor 0 accepted");
    cfg.growth_factor = __builtin_nan("");
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor NaN accepted");
    cfg.growth_factor = 1001.0;
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor 1001 accepted");
    cfg.growth_factor = __builtin_inf();
    cr_assert_null(wgc_heap_new(&cfg), "growth_factor inf accepted");

    wgc_config_init(&cfg);
    cfg.initial_heap_size = 4 * MiB;
    cfg.max_heap_size = 1024;
    cr_assert_null(wgc_heap_new(&cfg), "max_heap_size 1 KiB accepted");
    cfg.max_heap_size = 64 * 1024 - 1;
    cr_assert_null(wgc_heap_new(&cfg), "max_heap_size below 64 KiB accepted");
}

/* heap.h: "an initial_heap_size above [max_heap_size] is lowered to it" */
Test(errors, initial_size_above_max_is_lowered)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 4 * MiB;
    cfg.max_heap_size = 1 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    size_t n = 0;
    while (wgc_alloc(h, &blob_type, 1000)) /* garbage: never runs out */
        if (++n == 20000)
            break;
    cr_assert_eq(n, 20000, "garbage allocation failed after %zu: %s", n,
                 wgc_error_string(wgc_last_error(h)));
    wgc_heap_stats s = get_stats(h);
    cr_assert_leq(s.heap_size, 1 * MiB);
    cr_assert_geq(s.collections, 15, "collections every <= 1 MiB: %llu",
                  (unsigned long long)s.collections);
    wgc_heap_free(h);
}

Test(errors, valid_configs)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cr_assert_eq(cfg.initial_heap_size, 4 * MiB);
    cr_assert_eq(cfg.max_heap_size, 0);
    cr_assert(cfg.growth_factor == 2.0);
    cr_assert(cfg.auto_collect);
    cr_assert_not(cfg.keep_during_job);
    cr_assert_null(cfg.trace_roots);
    cr_assert_null(cfg.on_event);
    cr_assert_eq(cfg.stress_interval, 0);
    wgc_config_init(NULL); /* no crash */

    wgc_heap *h = wgc_heap_new(NULL);
    cr_assert_not_null(h);
    wgc_heap_free(h);
    cfg.growth_factor = 1.01;
    cfg.initial_heap_size = 64 * 1024;
    cfg.max_heap_size = 64 * 1024;
    h = wgc_heap_new(&cfg);
    cr_assert_not_null(h, "max == initial == one page refused");
    cr_assert_not_null(wgc_alloc(h, &node_type, 16));
    wgc_heap_free(h);
    /* the struct is copied: changing it afterwards changes nothing */
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    h = new_heap_cfg(&cfg);
    cfg.auto_collect = true;
    cfg.initial_heap_size = 64 * 1024;
    for (int i = 0; i < 20000; i++)
        wgc_alloc(h, &blob_type, 100);
    if (!stress_interval())
        cr_assert_eq(get_stats(h).collections, 0);
    wgc_heap_free(h);
}

/* ========================================================= error values */

Test(errors, error_strings)
{
    const wgc_error all[] = {WGC_OK, WGC_EINVAL, WGC_ENOMEM, WGC_EHEAPMAX,
                             WGC_EOVERFLOW, WGC_EREENTRY, WGC_ESTATE, WGC_ECALLBACK};
    enum { N = sizeof all / sizeof all[0] };
    for (int i = 0; i < N; i++) {
        const char *s = wgc_error_string(all[i]);
        cr_assert_not_null(s);
        cr_assert_gt(strlen(s), 3);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(s, wgc_error_string(all[j]), "errors %d and %d "
                              "share a description", i, j);
    }
    cr_assert_not_null(wgc_error_string((wgc_error)12345));
    cr_assert_not_null(wgc_error_string((wgc_error)-1));
}

Test(errors, last_error_sticks_until_cleared)
{
    wgc_heap *h = new_heap();
    cr_assert_eq(wgc_last_error(h), WGC_OK);
    cr_assert_null(wgc_alloc(h, NULL, 8));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_not_null(wgc_alloc(h, &node_type, 8)); /* success keeps it */
    collect(h);
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_null(wgc_alloc(h, &node_type, SIZE_MAX)); /* a newer failure */
    cr_assert_eq(wgc_last_error(h), WGC_EOVERFLOW);
    wgc_clear_error(h);
    cr_assert_eq(wgc_last_error(h), WGC_OK);
    wgc_heap_free(h);
}

/* A call that succeeds records no error, even when it ran into
 * max_heap_size on the way and had to collect to make room. */
Test(errors, successful_alloc_records_no_error)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 4 * MiB;
    cfg.max_heap_size = 16 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    wgc_root *r = wgc_root_new(h, NULL);
    /* fill the heap to its maximum with live objects */
    for (;;) {
        kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
        if (!k)
            break;
        k->next = wgc_root_get(r);
        wgc_root_set(r, k);
    }
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    /* drop them: the next allocation collects and succeeds */
    wgc_root_set(r, NULL);
    wgc_clear_error(h);
    kilo *k = wgc_alloc(h, &kilo_type, sizeof *k);
    cr_assert_not_null(k);
    cr_assert_eq(wgc_last_error(h), WGC_OK, "wgc_alloc succeeded, yet "
                 "wgc_last_error says \"%s\"", wgc_error_string(wgc_last_error(h)));
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* ======================================================= contract gaps */


/* What the test wrote to its (redirected) stderr so far. */
static char *stderr_text(void)
{
    static char buf[4096];
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

/* [issue 13.3] The dead signature is stored (a plain store before free()
 * was dropped by the compiler): as long as nothing reuses the freed block,
 * a freed heap is refused, and debug builds say what happened.  This reads
 * freed memory on purpose, so memory checkers are left out. */
Test(errors, freed_heap_detected_while_not_reused, .init = cr_redirect_stderr)
{
    if (under_valgrind() || TEST_ASAN)
        cr_skip_test("reads freed memory on purpose");
    wgc_heap *h = wgc_heap_new(NULL);
    cr_assert_not_null(h);
    wgc_heap_free(h);
    /* nothing allocated since: the block still holds what wgc_heap_free left */
    wgc_heap_stats s;
    bool stats_ok = wgc_stats(h, &s);
    wgc_frame f;
    void *x = NULL;
    void *const slots[] = {&x};
    bool pushed = wgc_frame_push(h, &f, slots, 1);
    bool pushed_inline = wgc_frame_push_inline_(h, &f, slots, 1);
    wgc_heap_free(h); /* a double free: refused */
    const char *err = stderr_text();
    cr_assert_not(stats_ok, "wgc_stats succeeded on a freed heap");
    cr_assert_not(pushed, "wgc_frame_push succeeded on a freed heap");
    cr_assert_not(pushed_inline, "the inline frame push succeeded on a freed heap");
    /* MALLOC_PERTURB_ (meson test sets it) makes free() overwrite the block,
     * as a reuse would: the heap is still refused, but no longer known to
     * have been a heap. */
    const char *perturb = getenv("MALLOC_PERTURB_");
    bool overwritten = perturb && atoi(perturb) != 0;
    if (wgc_debug_checks_enabled()) {
        cr_assert(strstr(err, overwritten ? "not a live heap" : "used after wgc_heap_free"),
                  "debug build did not report the freed heap: \"%s\"", err);
        cr_assert_not(strstr(err, "inside a collection"),
                      "a double wgc_heap_free was reported as re-entry: \"%s\"", err);
    } else {
        cr_assert_str_empty(err);
    }
}

/* [issue 13.9] wgc_weakmap_set records WGC_EINVAL for a NULL map, as its
 * header says. */
Test(errors, weakmap_set_null_map_records_einval)
{
    wgc_heap *h = new_heap();
    void *key = wgc_alloc(h, &node_type, sizeof(node));
    WGC_FRAME(h, &key);
    cr_assert_not(wgc_weakmap_set(h, NULL, key, NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

/* [issue 13.9] A k past the request counter's range cannot wrap around and
 * fail the very next request. */
Test(errors, fail_request_huge_k_does_not_wrap)
{
    wgc_heap *h = new_heap();
    cr_assert_not_null(wgc_alloc(h, &node_type, sizeof(node)));
    wgc_debug_fail_request(h, UINT64_MAX, true);
    uint64_t before = wgc_debug_requests(h);
    /* large objects map memory at every allocation: a request each */
    for (int i = 0; i < 4; i++)
        cr_assert_not_null(wgc_alloc(h, &blob_type, 100000),
                           "request %d failed after fail_request(UINT64_MAX)", i);
    cr_assert_gt(wgc_debug_requests(h), before, "no request was made");
    wgc_heap_free(h);
}

/* [issue 13.9] NULL slots are refused even with a count of 0 (the header:
 * false on NULL arguments). */
Test(errors, frame_push_null_slots_refused)
{
    wgc_heap *h = new_heap();
    wgc_frame f;
    cr_assert_not(wgc_frame_push(h, &f, NULL, 0));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    collect(h); /* nothing was pushed */
    wgc_heap_free(h);
}

/* [issue 13.9] What heap.h now says of a failing wgc_alloc: it may have
 * collected first, with every effect of a collection (here a WeakRef to
 * garbage cleared); nothing else changed. */
Test(errors, failing_alloc_may_have_collected)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 1 * MiB;
    cfg.max_heap_size = 2 * MiB;
    wgc_heap *h = new_heap_cfg(&cfg);
    void *garbage = wgc_alloc(h, &node_type, sizeof(node));
    wgc_root *ref = wgc_root_new(h, wgc_weakref_new(h, garbage, NULL));
    cr_assert_not_null(wgc_root_get(ref));
    uint64_t before = get_stats(h).collections;
    cr_assert_null(wgc_alloc(h, &blob_type, 4 * MiB));
    cr_assert_eq(wgc_last_error(h), WGC_EHEAPMAX);
    cr_assert_gt(get_stats(h).collections, before, "the failing call did not collect");
    cr_assert_null(wgc_weakref_deref(h, wgc_root_get(ref)),
                   "the collection run by the failing call left the WeakRef");
    wgc_root_free(ref);
    wgc_heap_free(h);
}

/* wgc_heap_create says why a heap could not be made (issue 11, item 6). */
Test(errors, heap_create_says_why_it_failed)
{
    wgc_config cfg;
    wgc_error why = WGC_ECALLBACK;
    wgc_config_init(&cfg);
    cfg.growth_factor = 1.0;
    cr_assert_null(wgc_heap_create(&cfg, &why));
    cr_assert_eq(why, WGC_EINVAL);
    wgc_config_init(&cfg);
    cfg.max_heap_size = 1000;
    why = WGC_OK;
    cr_assert_null(wgc_heap_create(&cfg, &why));
    cr_assert_eq(why, WGC_EINVAL);
    cr_assert_null(wgc_heap_create(&cfg, NULL), "a NULL why is allowed");
    why = WGC_ECALLBACK;
    wgc_heap *h = wgc_heap_create(NULL, &why);
    cr_assert_not_null(h);
    cr_assert_eq(why, WGC_OK);
    wgc_heap_free(h);
}
