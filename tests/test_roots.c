/*
 * tests/test_roots.c -- reachability through each root kind (handles,
 * frames, the embedder's root callback), reclamation of unreachable
 * objects (stats and destructor counts) and of cycles.
 */
#include "common.h"

#include <criterion/redirect.h>

/* A chain of `n` cnodes, ids base..base+n-1 from the head; not rooted: the
 * caller must root it before its next allocation. */
static cnode *chain(wgc_heap *h, size_t n, uint64_t base)
{
    cnode *head = NULL;
    WGC_FRAME(h, &head);
    for (size_t i = n; i-- > 0;) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        cr_assert_not_null(c);
        c->id = base + i;
        c->next = head;
        head = c;
    }
    cr_assert(WGC_FRAME_POP(h));
    return head;
}

static void check_chain(const cnode *c, size_t n, uint64_t base)
{
    for (size_t i = 0; i < n; i++, c = c->next) {
        cr_assert_not_null(c, "chain cut at %zu of %zu", i, n);
        cr_assert_eq(c->id, base + i, "node %zu has id %llu", i,
                     (unsigned long long)c->id);
    }
    cr_assert_null(c);
}

/* ================================================================ handles */

Test(roots, handle_keeps_object_and_its_graph)
{
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    cr_assert_not_null(r);
    cr_assert_null(wgc_root_get(r));
    cnode *head = chain(h, 1000, 0);
    cr_assert(wgc_root_set(r, head));
    cr_assert_eq(wgc_root_get(r), head);
    /* garbage in between, so collections have something to do */
    for (int i = 0; i < 5000; i++)
        cr_assert_not_null(wgc_alloc(h, &cnode_type, sizeof(cnode)));
    collect(h);
    collect(h);
    check_chain(wgc_root_get(r), 1000, 0);
    cr_assert_eq(destroyed_count, 5000, "destroyed %lu", destroyed_count);
    cr_assert(wgc_is_object(h, head));
    wgc_root_free(r);
    collect(h);
    cr_assert_eq(destroyed_count, 6000);
    cr_assert_not(wgc_is_object(h, head));
    wgc_heap_free(h);
}

Test(roots, handle_set_replaces_and_null_releases)
{
    wgc_heap *h = new_heap();
    cnode *a = wgc_alloc(h, &cnode_type, sizeof *a);
    wgc_root *r = wgc_root_new(h, a);
    cr_assert_not_null(r);
    cnode *b = wgc_alloc(h, &cnode_type, sizeof *b);
    b->id = 2;
    wgc_root_set(r, b);                  /* a is now garbage */
    collect(h);
    cr_assert_eq(destroyed_count, 1);
    cr_assert_not(wgc_is_object(h, a));
    cr_assert(wgc_is_object(h, b));
    cr_assert_eq(((cnode *)wgc_root_get(r))->id, 2);
    wgc_root_set(r, NULL);               /* b too */
    collect(h);
    cr_assert_eq(destroyed_count, 2);
    cr_assert_null(wgc_root_get(r));
    wgc_root_free(r);
    wgc_heap_free(h);
}

Test(roots, many_handles_freed_in_any_order)
{
    wgc_heap *h = new_heap();
    enum { N = 300 };
    wgc_root *roots[N];
    for (int i = 0; i < N; i++) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        c->id = (uint64_t)i;
        roots[i] = wgc_root_new(h, c);
        cr_assert_not_null(roots[i]);
    }
    /* free every third (first, last and middle ones among them) */
    for (int i = 0; i < N; i += 3) {
        wgc_root_free(roots[i]);
        roots[i] = NULL;
    }
    collect(h);
    cr_assert_eq(destroyed_count, N / 3);
    for (int i = 0; i < N; i++)
        if (roots[i])
            cr_assert_eq(((cnode *)wgc_root_get(roots[i]))->id, (uint64_t)i);
    for (int i = N - 1; i >= 0; i--)
        if (roots[i])
            wgc_root_free(roots[i]);
    collect(h);
    cr_assert_eq(destroyed_count, N);
    wgc_heap_free(h);
}

Test(roots, two_handles_same_object)
{
    wgc_heap *h = new_heap();
    cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
    wgc_root *r1 = wgc_root_new(h, c);
    wgc_root *r2 = wgc_root_new(h, c);
    wgc_root_free(r1);
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    wgc_root_free(r2);
    collect(h);
    cr_assert_eq(destroyed_count, 1);
    wgc_heap_free(h);
}

/* ================================================================= frames */

Test(roots, frame_keeps_locals)
{
    wgc_heap *h = new_heap();
    cnode *a = NULL, *b = NULL, *c = NULL;
    WGC_FRAME(h, &a, &b, &c);
    a = chain(h, 100, 0);
    b = chain(h, 100, 1000);
    c = wgc_alloc(h, &cnode_type, sizeof *c);
    c->id = 77;
    for (int i = 0; i < 3000; i++)
        cr_assert_not_null(wgc_alloc(h, &cnode_type, sizeof(cnode)));
    collect(h);
    check_chain(a, 100, 0);
    check_chain(b, 100, 1000);
    cr_assert_eq(c->id, 77);
    cr_assert_eq(destroyed_count, 3000);
    /* the frame holds addresses: a new value in a local is what counts */
    b = NULL;
    collect(h);
    cr_assert_eq(destroyed_count, 3100);
    check_chain(a, 100, 0);
    cr_assert(WGC_FRAME_POP(h));
    collect(h);
    cr_assert_eq(destroyed_count, 3201);
    wgc_heap_free(h);
}

static void nested(wgc_heap *h, int depth, wgc_root *out)
{
    cnode *mine = NULL;
    WGC_FRAME(h, &mine);
    mine = wgc_alloc(h, &cnode_type, sizeof *mine);
    cr_assert_not_null(mine);
    mine->id = (uint64_t)depth;
    if (depth > 0) {
        nested(h, depth - 1, out);
    } else {
        /* every frame up the C stack still holds its object */
        collect(h);
        cr_assert_eq(destroyed_count, 0);
        wgc_root_set(out, mine);
    }
    cr_assert_eq(mine->id, (uint64_t)depth);
    cr_assert(WGC_FRAME_POP(h));
}

Test(roots, nested_frames)
{
    wgc_heap *h = new_heap();
    wgc_root *out = wgc_root_new(h, NULL);
    nested(h, 200, out);
    collect(h);
    /* all frames popped: only the innermost object, kept by `out`, lives */
    cr_assert_eq(destroyed_count, 200);
    cr_assert_eq(((cnode *)wgc_root_get(out))->id, 0);
    wgc_root_free(out);
    wgc_heap_free(h);
}

Test(roots, frame_push_pop_functions)
{
    wgc_heap *h = new_heap();
    cnode *slots[4] = {0};
    void *const addrs[4] = {&slots[0], &slots[1], &slots[2], &slots[3]};
    wgc_frame f;
    cr_assert(wgc_frame_push(h, &f, addrs, 4));
    for (int i = 0; i < 4; i++) {
        slots[i] = wgc_alloc(h, &cnode_type, sizeof(cnode));
        slots[i]->id = (uint64_t)i;
    }
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(slots[i]->id, (uint64_t)i);
    /* an empty frame is fine too (its slots pointer may not be NULL) */
    wgc_frame empty;
    cr_assert(wgc_frame_push(h, &empty, addrs, 0));
    cr_assert(wgc_frame_pop(h, &empty));
    cr_assert(wgc_frame_pop(h, &f));
    collect(h);
    cr_assert_eq(destroyed_count, 4);
    wgc_heap_free(h);
}

/* ======================================================== root callback */

typedef struct vm {
    cnode *stack[64];
    size_t sp;
    unsigned calls;
} vm;

static void trace_vm(wgc_visitor *v, void *user)
{
    vm *m = user;
    m->calls++;
    wgc_visit_array(v, m->stack, m->sp);
}

Test(roots, root_callback)
{
    static vm m;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = trace_vm;
    cfg.trace_roots_user = &m;
    wgc_heap *h = new_heap_cfg(&cfg);
    for (size_t i = 0; i < 64; i++) {
        m.stack[i] = chain(h, 10, i * 100);
        m.sp = i + 1;
    }
    wgc_heap_stats s = get_stats(h);
    unsigned calls = m.calls;
    /* once per collection (debug builds also trace roots to verify) */
    cr_assert_geq(calls, s.collections, "root callback ran %u times in %llu "
                  "collections", calls, (unsigned long long)s.collections);
    collect(h);
    cr_assert_gt(m.calls, calls);
    cr_assert_eq(destroyed_count, 0);
    for (size_t i = 0; i < 64; i++)
        check_chain(m.stack[i], 10, i * 100);
    m.sp = 32; /* the VM pops half its stack */
    collect(h);
    cr_assert_eq(destroyed_count, 320);
    for (size_t i = 0; i < 32; i++)
        check_chain(m.stack[i], 10, i * 100);
    m.sp = 0;
    collect(h);
    cr_assert_eq(destroyed_count, 640);
    wgc_heap_free(h);
}

/* All three kinds at once, each holding part of one structure. */
Test(roots, all_kinds_together)
{
    static vm m;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = trace_vm;
    cfg.trace_roots_user = &m;
    wgc_heap *h = new_heap_cfg(&cfg);
    cnode *local = NULL;
    WGC_FRAME(h, &local);
    local = chain(h, 50, 0);
    wgc_root *r = wgc_root_new(h, chain(h, 50, 100));
    m.stack[0] = chain(h, 50, 200);
    m.sp = 1;
    /* cross links: the frame's chain points into the handle's */
    WGC_STORE(h, local, other, wgc_root_get(r));
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    wgc_root_free(r); /* still reachable through local->other */
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    check_chain(local->other, 50, 100);
    m.sp = 0;
    collect(h);
    cr_assert_eq(destroyed_count, 50);
    cr_assert(WGC_FRAME_POP(h));
    collect(h);
    cr_assert_eq(destroyed_count, 150);
    wgc_heap_free(h);
}

/* ============================================================ reclaiming */

Test(roots, unreachable_reclaimed_stats_and_destructors)
{
    no_stress(); /* live_bytes is compared between collections */
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    collect(h);
    size_t base = get_stats(h).live_bytes;
    cr_assert_eq(base, 0, "empty heap has %zu live bytes", base);
    build_clist(h, r, 10000);
    collect(h);
    wgc_heap_stats s = get_stats(h);
    size_t cell = wgc_size_of(wgc_root_get(r)) + 8;
    cr_assert_eq(s.live_bytes, 10000 * cell, "live %zu, expected %zu",
                 s.live_bytes, (size_t)10000 * cell);
    cr_assert_eq(destroyed_count, 0);
    /* cut the list in the middle */
    cnode *c = wgc_root_get(r);
    for (int i = 0; i < 4999; i++)
        c = c->next;
    c->next = NULL;
    collect(h);
    s = get_stats(h);
    cr_assert_eq(destroyed_count, 5000);
    cr_assert_eq(s.live_bytes, 5000 * cell);
    wgc_root_set(r, NULL);
    collect(h);
    s = get_stats(h);
    cr_assert_eq(destroyed_count, 10000);
    cr_assert_eq(s.live_bytes, 0);
    /* destructors ran once each: more collections change nothing */
    collect(h);
    cr_assert_eq(destroyed_count, 10000);
    wgc_root_free(r);
    wgc_heap_free(h);
}

Test(roots, cycles_reclaimed)
{
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    /* a ring of 1000, a self loop, and a 2-cycle hanging off the ring */
    cnode *first = chain(h, 1000, 0);
    wgc_root_set(r, first);
    cnode *last = first;
    while (last->next)
        last = last->next;
    WGC_STORE(h, last, next, first);
    cnode *self = wgc_alloc(h, &cnode_type, sizeof *self);
    self->next = self;
    WGC_STORE(h, first, other, self);
    cnode *x = wgc_alloc(h, &cnode_type, sizeof *x);
    cnode *second = first->next;
    WGC_STORE(h, second, other, x);
    cnode *y = wgc_alloc(h, &cnode_type, sizeof *y);
    WGC_STORE(h, x, next, y);
    y->next = x;
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    verify(h);
    wgc_root_set(r, NULL);
    collect(h);
    cr_assert_eq(destroyed_count, 1003);
    cr_assert_eq(get_stats(h).live_bytes, 0);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* wgc_heap_free runs the destructors of everything still alive. */
Test(roots, heap_free_runs_remaining_destructors)
{
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    build_clist(h, r, 777);
    for (int i = 0; i < 100; i++)
        wgc_alloc(h, &cblob_type, 100);
    collect(h);
    cr_assert_eq(destroyed_count, 100);
    wgc_heap_free(h); /* r goes with it */
    cr_assert_eq(destroyed_count, 877);
}

/* ========================================================= stale handles */

/* [issue 13.4] A freed handle whose memory is reused at once for a new
 * handle (malloc's tcache did that) is still told apart from it: get gives
 * NULL, set and free refuse it (WGC_EINVAL) and leave the new handle
 * alone, in every build.  A freed handle's slot stays the heap's, so the
 * check reads no freed memory (the valgrind step runs this). */
Test(roots, stale_handle_detected_after_its_slot_is_reused, .init = cr_redirect_stderr)
{
    wgc_heap *h = new_heap();
    cnode *a = wgc_alloc(h, &cnode_type, sizeof *a);
    a->id = 1;
    wgc_root *ra = wgc_root_new(h, a);
    wgc_root_free(ra);
    wgc_root *stale = ra;
    cr_assert_null(wgc_root_get(stale), "a freed handle (slot free) gave an object");
    cnode *b = wgc_alloc(h, &cnode_type, sizeof *b);
    b->id = 2;
    wgc_root *rb = wgc_root_new(h, b); /* takes the slot ra had */
    cr_assert_eq(wgc_root_get(rb), b);
    cr_assert_null(wgc_root_get(stale), "a stale handle read the new handle's object");
    wgc_clear_error(h);
    cr_assert_not(wgc_root_set(stale, NULL), "a stale handle was set");
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    wgc_root_free(stale); /* must not free rb */
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    collect(h);
    cr_assert_eq(wgc_root_get(rb), b, "freeing a stale handle freed the new one");
    cr_assert(wgc_is_object(h, b), "the new handle's object was collected");
    cr_assert_eq(b->id, 2);
    /* still caught after the slot has been reused many times */
    wgc_root_free(rb);
    for (int i = 0; i < 32000; i++)
        wgc_root_free(wgc_root_new(h, NULL));
    wgc_root *rc = wgc_root_new(h, b);
    cr_assert_null(wgc_root_get(stale));
    cr_assert_null(wgc_root_get(rb));
    cr_assert_eq(wgc_root_get(rc), b);
    wgc_root_free(rc);
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    char buf[512] = {0};
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    (void)got;
    if (wgc_debug_checks_enabled())
        cr_assert(strstr(buf, "used after wgc_root_free"), "no report: \"%s\"", buf);
    else
        cr_assert_str_empty(buf);
    wgc_heap_free(h);
}

/* Many handles freed and made in a mixed order: each stale one is caught,
 * each live one holds its object, and only live handles' objects survive. */
Test(roots, stale_handles_mixed_with_live_ones)
{
    enum { N = 1000 };
    wgc_heap *h = new_heap();
    static wgc_root *first[N], *second[N];
    for (int i = 0; i < N; i++) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        c->id = (uint64_t)i;
        first[i] = wgc_root_new(h, c);
    }
    for (int i = 1; i < N; i += 2)
        wgc_root_free(first[i]);
    for (int i = 1; i < N; i += 2) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        c->id = (uint64_t)(N + i);
        second[i] = wgc_root_new(h, c);
    }
    for (int i = 1; i < N; i += 2)
        wgc_root_free(first[i]); /* stale: no effect */
    collect(h);
    cr_assert_eq(destroyed_count, N / 2, "%lu destroyed", destroyed_count);
    for (int i = 0; i < N; i++) {
        if (i % 2) {
            cr_assert_null(wgc_root_get(first[i]));
            cr_assert_eq(((cnode *)wgc_root_get(second[i]))->id, (uint64_t)(N + i));
            wgc_root_free(second[i]);
        } else {
            cr_assert_eq(((cnode *)wgc_root_get(first[i]))->id, (uint64_t)i);
            wgc_root_free(first[i]);
        }
    }
    collect(h);
    cr_assert_eq(destroyed_count, 2 * N - N / 2);
    wgc_heap_free(h);
}
