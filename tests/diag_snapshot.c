/*
 * tests/diag_snapshot.c -- writes the heap snapshot of a small heap that
 * has every kind of root and of weak edge, for tests/check_heapsnapshot.py
 * (meson test 'diag-snapshot-format'), which knows what it holds:
 *
 *   handle 0        -> cnode 1 -> cnode 2 -> cnode 3 (by next, +0)
 *   frame 0 slot 0  -> triple (pointer_words) -> blob (+16)
 *   kept 0          -> kept_target (keep-during-job, made by a WeakRef)
 *   trace_roots [0] -> cnode "vm" ; [1] weak -> cnode 1
 *   handle 1        -> WeakRef (weak -> cnode 2; target +0)
 *   handle 2        -> WeakRef (weak -> garbage: no edge, no node)
 *   handle 3        -> WeakMap: key cnode 3 (weak [0]) -> value blob (element 1);
 *                      key garbage -> value garbage: no edges
 *   handle 4        -> FinalizationRegistry: holdings (element 0), target
 *                      cnode 2 (weak [1])
 *   handle 5        -> WeakRefGroup; its ref in handle 6 (weak -> cnode 1)
 *   handle 7        -> an object whose type name needs JSON escapes
 *
 * Usage: diag_snapshot [FILE]  (stdout by default).
 */
#include "wgc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct cnode {
    struct cnode *next, *other;
    long id;
} cnode;

static void cnode_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((cnode *)obj)->next);
    wgc_visit(v, &((cnode *)obj)->other);
}

static const wgc_type cnode_type = {.name = "cnode", .trace = cnode_trace};
static const wgc_type garbage_type = {.name = "garbage", .trace = cnode_trace};
static const wgc_type blob_type = {.name = "blob"};
static const wgc_type kept_type = {.name = "kept_target"};
static const wgc_type odd_type = {.name = "odd \"name\"\\\n\ttab"};

typedef struct triple {
    long tag, count;
    void *left, *right;
} triple;

static const wgc_type triple_type = {
    .name = "triple",
    .pointer_words = WGC_WORD(triple, left) | WGC_WORD(triple, right)};

static void *vm_stack[2];

static void trace_vm(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit(v, &vm_stack[0]);
    wgc_visit_weak(v, &vm_stack[1]);
}

static int ignore(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap, (void)holdings, (void)user;
    return 0;
}

static int ignore_ref(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    (void)heap, (void)ref, (void)holdings, (void)user;
    return 0;
}

#define CHECK(x)                                                            \
    do {                                                                    \
        if (!(x)) {                                                         \
            fprintf(stderr, "diag_snapshot: %s failed (line %d)\n", #x, __LINE__); \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

static void *make(wgc_heap *h, const wgc_type *t, size_t size)
{
    void *p = wgc_alloc(h, t, size);
    CHECK(p);
    return p;
}

int main(int argc, char **argv)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false; /* nothing here may die before the snapshot */
    cfg.keep_during_job = true;
    cfg.trace_roots = trace_vm;
    wgc_heap *h = wgc_heap_new(&cfg);
    CHECK(h);

    cnode *c1 = make(h, &cnode_type, sizeof(cnode));
    c1->id = 1;
    wgc_root_new(h, c1);
    c1->next = make(h, &cnode_type, sizeof(cnode));
    c1->next->next = make(h, &cnode_type, sizeof(cnode));
    cnode *c2 = c1->next, *c3 = c2->next;

    triple *t = make(h, &triple_type, sizeof *t);
    WGC_FRAME(h, &t);
    t->left = make(h, &blob_type, 40);

    wgc_end_job(h);
    void *kept = make(h, &kept_type, 8);
    CHECK(wgc_weakref_new(h, kept, NULL)); /* garbage ref; keeps `kept` */

    vm_stack[0] = make(h, &cnode_type, sizeof(cnode));
    vm_stack[1] = c1;

    wgc_root_new(h, wgc_weakref_new(h, c2, NULL));
    void *garbage = make(h, &garbage_type, sizeof(cnode));
    wgc_root_new(h, wgc_weakref_new(h, garbage, NULL));

    wgc_weakmap *m = wgc_weakmap_new(h);
    CHECK(m);
    wgc_root_new(h, m);
    CHECK(wgc_weakmap_set(h, m, c3, make(h, &blob_type, 24)));
    CHECK(wgc_weakmap_set(h, m, make(h, &garbage_type, sizeof(cnode)),
                          make(h, &garbage_type, sizeof(cnode))));

    wgc_registry *reg = wgc_registry_new(h, ignore, NULL);
    CHECK(reg);
    wgc_root_new(h, reg);
    CHECK(wgc_registry_register(reg, c2, make(h, &blob_type, 8), NULL));

    wgc_group *g = wgc_group_new(h, ignore_ref, NULL);
    CHECK(g);
    wgc_root_new(h, g);
    wgc_root_new(h, wgc_group_make_ref(g, c1, NULL));
    /* The keep-during-job list now holds c2, garbage, c1 and `kept`: end
     * the job, then make one more ref so that only `kept` is kept. */
    wgc_end_job(h);
    CHECK(wgc_weakref_new(h, kept, NULL));

    wgc_root_new(h, make(h, &odd_type, 8));

    FILE *out = argc > 1 ? fopen(argv[1], "w") : stdout;
    CHECK(out);
    CHECK(wgc_snapshot_write_file(h, out));
    CHECK(fflush(out) == 0);
    if (out != stdout)
        fclose(out);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
    return 0;
}
