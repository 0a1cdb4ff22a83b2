/*
 * tests/test_check.c -- white-box: every structure check of the check
 * layer [G10] catches a deliberate corruption, reported through the log by
 * wgc_debug_verify, and the heap verifies again once it is undone; and
 * WGC_ASSERT aborts in debug builds [G9].
 *
 * Each test builds one heap holding one of every structure (objects in
 * pages and a large one, handles, a weak map, a registry and a group with
 * queued entries), breaks one field, checks the report, and restores the
 * field before the heap is freed.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "gc/internal.h"
#include "weak/weak_internal.h"
#include "finalize/queue.h"

#include "tools.h"

static void node_trace(void *o, wgc_visitor *v)
{
    wgc_visit(v, &((void **)o)[0]);
    wgc_visit(v, &((void **)o)[1]);
}

static void node_destroy(void *o)
{
    (void)o;
}

static const wgc_type node_type = {.name = "node", .trace = node_trace};
static const wgc_type doomed_type = {.name = "doomed", .trace = node_trace,
                                     .destroy = node_destroy};

static char logged[16384];

static void capture(wgc_heap *h, wgc_log_kind kind, const char *msg, void *user)
{
    (void)h, (void)kind, (void)user;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%s\n", msg);
}

static int cleanup_cb(wgc_heap *h, void *holdings, void *user)
{
    (void)h, (void)holdings, (void)user;
    return 0;
}

static int group_cb(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)h, (void)ref, (void)holdings, (void)user;
    return 0;
}

static struct {
    wgc_heap *h;
    void **holder;            /* rooted: [0] key, [1] a destructible */
    void *big;                /* a large object, rooted */
    wgc_weakmap *map;
    wgc_registry *reg;
    wgc_group *grp;
    void *young;              /* allocated after the collection */
} f;

static void *node(wgc_heap *h)
{
    void *o = wgc_alloc(h, &node_type, 2 * sizeof(void *));
    cr_assert_not_null(o);
    return o;
}

static void setup(wgc_collector collector)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.collector = collector;
    cfg.log = capture;
    wgc_heap *h = f.h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    f.holder = node(h);
    cr_assert_not_null(wgc_root_new(h, f.holder));
    f.holder[0] = node(h);
    f.holder[1] = wgc_alloc(h, &doomed_type, 2 * sizeof(void *));
    f.big = wgc_alloc(h, &node_type, 100000);
    cr_assert_not_null(wgc_root_new(h, f.big));
    f.map = wgc_weakmap_new(h);
    cr_assert_not_null(wgc_root_new(h, f.map));
    cr_assert(wgc_weakmap_set(h, f.map, f.holder[0], f.holder[1]));
    f.reg = wgc_registry_new(h, cleanup_cb, NULL);
    cr_assert_not_null(wgc_root_new(h, f.reg));
    cr_assert(wgc_registry_register(f.reg, node(h), NULL, NULL)); /* queued */
    cr_assert(wgc_registry_register(f.reg, f.holder[0], NULL, NULL)); /* live */
    f.grp = wgc_group_new(h, group_cb, NULL);
    cr_assert_not_null(wgc_root_new(h, f.grp));
    for (int i = 0; i < 2; i++) {
        wgc_weakref *r = wgc_group_make_ref(f.grp, node(h), NULL);
        cr_assert_not_null(r);
        cr_assert_not_null(wgc_root_new(h, r));
    }
    wgc_root *dropped = wgc_root_new(h, NULL);
    wgc_root_free(dropped); /* a free slot */
    cr_assert(wgc_collect(h));
    cr_assert_eq(wgc_registry_pending(f.reg), 1);
    cr_assert_eq(wgc_group_pending(f.grp), 2);
    f.young = node(h); /* a page touched since the collection */
    logged[0] = 0;
    cr_assert(wgc_debug_verify(h), "the intact heap verifies: %s", logged);
}

/* wgc_debug_verify reports the corruption: a line with `what`. */
static void expect_report(const char *what)
{
    logged[0] = 0;
    cr_assert_not(wgc_debug_verify(f.h), "verify missed: %s", what);
    cr_assert(strstr(logged, "check: ") && strstr(logged, what),
              "expected a check report with \"%s\", got: %s", what, logged);
}

static void expect_clean(void)
{
    logged[0] = 0;
    cr_assert(wgc_debug_verify(f.h), "restored, yet: %s", logged);
    wgc_heap_free(f.h);
}

static page *page_of(const void *obj)
{
    return (page *)span_of(obj);
}

#define CORRUPT(field, bad, what)                                            \
    do {                                                                     \
        __typeof__(field) saved_ = (field);                                  \
        (field) = (bad);                                                     \
        expect_report(what);                                                 \
        (field) = saved_;                                                    \
    } while (0)

Test(check, heap_check)
{
    setup(WGC_COLLECTOR_FULL);
    wgc_heap *h = f.h;
    CORRUPT(h->alloc_bits, h->alloc_bits ^ 1, "allocation bitmap");
    CORRUPT(h->cycle.phase, CYCLE_SWEEP, "cycle phase");
    CORRUPT(h->destructibles_old, h->destructibles.count + 1, "old destructibles");
    CORRUPT(VEC_AT(&h->destructibles, void *, 0), f.holder[0], "no destructor");
    expect_clean();
}

Test(check, page_table_check)
{
    setup(WGC_COLLECTOR_FULL);
    space *sp = &f.h->space;
    CORRUPT(sp->page_table.used, sp->page_table.used + 1, "page table");
    CORRUPT(sp->free_page_count, sp->free_page_count + 1, "free page pool");
    CORRUPT(sp->large_bytes, sp->large_bytes + 4096, "large objects");
    CORRUPT(sp->page_count, sp->page_count + 1, "page table: ");
    large *l = (large *)span_of(f.big);
    CORRUPT(l->s.owner, 0, "large object");
    expect_clean();
}

Test(check, space_check)
{
    setup(WGC_COLLECTOR_FULL);
    page *p = page_of(f.holder);
    CORRUPT(p->live_cells, p->live_cells + 1, "live cells");
    CORRUPT(p->cell_count, p->cell_count - 1, "allocator: atomic");
    size_t g = (size_t)((char *)f.holder - (char *)p) / WGC_GRANULE + 1;
    uint64_t *word = &p->marks[f.h->alloc_bits][g / 64];
    CORRUPT(*word, *word | (uint64_t)1 << (g % 64), "not a cell start");
    page *q = page_of(f.young);
    allocator *a = &f.h->space.allocators[0][q->class_index];
    cr_assert_eq(a->current, q);
    CORRUPT(a->run->cursor, a->run->cursor + 8, "not a cell boundary");
    CORRUPT(a->cell_size, a->cell_size + 16, "allocator [0]");
    CORRUPT(q->touched, false, "touched flag clear");
    CORRUPT(f.h->space.touched.count, 0, "flagged touched");
    expect_clean();
}

Test(check, trace_check)
{
    setup(WGC_COLLECTOR_FULL);
    trace_state *ts = &f.h->trace;
    CORRUPT(ts->marker.overflow, true, "worklist not empty");
    CORRUPT(ts->weak_slots.count, 1, "weak slots");
    CORRUPT(ts->ephemeron_overflow, true, "ephemerons");
    expect_clean();
}

Test(check, roots_check)
{
    setup(WGC_COLLECTOR_FULL);
    root_set *rs = &f.h->roots;
    CORRUPT(rs->first->next->prev, NULL, "root slot");
    CORRUPT(rs->first->handle, rs->first->handle | 1, "not a live handle");
    CORRUPT(rs->first->object, (void *)((char *)f.holder + 8), "not a live object");
    CORRUPT(rs->last, rs->first, "last handle");
    CORRUPT(rs->free->handle, rs->free->handle & ~(uintptr_t)1, "free root slot");
    expect_clean();
}

Test(check, remembered_check_full_mode)
{
    setup(WGC_COLLECTOR_FULL);
    CORRUPT(f.h->remembered_overflow, true, "full-heap mode");
    expect_clean();
}

Test(check, remembered_check_generational)
{
    setup(WGC_COLLECTOR_GENERATIONAL);
    void *young = node(f.h);
    f.holder[1] = young; /* old holder, young target: remembered [Y2] */
    wgc_write_barrier(f.h, f.holder);
    cr_assert_eq(f.h->remembered.count, 1);
    uintptr_t *header = header_of(f.holder);
    CORRUPT(*header, *header | WGC_HEADER_BARRIER_, "barrier bit set");
    void **entry = (void **)f.h->remembered.items;
    CORRUPT(*entry, young, "not old");
    expect_clean();
}

Test(check, specials_check)
{
    setup(WGC_COLLECTOR_FULL);
    special **all = (special **)f.h->specials.all.items;
    CORRUPT(all[0]->index, 5, "special 0");
    CORRUPT(all[1], NULL, "a hole");
    expect_clean();
}

Test(check, weakmap_check)
{
    setup(WGC_COLLECTOR_FULL);
    struct wgc_weakmap *m = f.map;
    CORRUPT(m->count, m->count + 1, "weak map");
    wm_entry *e = &m->pool[0];
    CORRUPT(m->owner[e->slot], 1, "disagree");
    CORRUPT(m->slots[e->slot].value, f.young, "disagree");
    void *value = e->value;
    e->value = m->slots[e->slot].value = (void *)1024;
    expect_report("not both live objects");
    e->value = m->slots[e->slot].value = value;
    CORRUPT(m->free_list, 7, "free entry");
    expect_clean();
}

Test(check, registry_check)
{
    setup(WGC_COLLECTOR_FULL);
    queue_owner *q = (queue_owner *)f.reg;
    CORRUPT(q->pending, q->pending + 1, "registry");
    CORRUPT(q->pending, 0, "pending");
    expect_clean();
}

Test(check, group_check)
{
    setup(WGC_COLLECTOR_FULL);
    wgc_group *g = f.grp;
    CORRUPT(g->q.pending, 1, "group");
    CORRUPT(g->head->seq, g->head->next->seq + 1, "[F4]");
    CORRUPT(g->head->next->prev, NULL, "queue entry 1");
    CORRUPT(g->tail, g->head, "tail");
    CORRUPT(g->head->ref.flags, 0, "queue entry 0");
    expect_clean();
}

Test(check, cleanup_check)
{
    setup(WGC_COLLECTOR_FULL);
    cleanup_state *c = &f.h->cleanup;
    CORRUPT(c->last, c->first, "queue owners: last");
    CORRUPT(c->first->next->prev, NULL, "queue owner 1");
    CORRUPT(c->first->ops, NULL, "queue owner 0");
    expect_clean();
}

Test(check, slot_walk)
{
    setup(WGC_COLLECTOR_FULL);
    CORRUPT(f.holder[0], (char *)f.holder[0] + 16, "strong slot");
    expect_clean();
}

#if WGC_DEBUG_CHECKS
/* [G9] In debug builds a broken invariant stops the program where it is
 * found: here the list of specials no longer holds the map being
 * unlisted.  Release builds compile the assertion out. */
Test(check, assert_aborts_in_debug_builds, .signal = SIGABRT)
{
    setup(WGC_COLLECTOR_FULL);
    special **all = (special **)f.h->specials.all.items;
    special *sp = all[0];
    all[0] = all[1];
    wgc__special_remove(sp);
}
#endif
