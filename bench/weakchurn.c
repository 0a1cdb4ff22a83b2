/*
 * weakchurn.c -- many short-lived objects, each watched by a weak ref.
 *
 * Allocates n objects (default 2,000,000), makes a weak reference to each
 * and keeps every tenth one in a rooted array; the weak refs themselves
 * stay reachable to the end.  A final collection must clear exactly the
 * refs of the objects that were not kept, and leave the kept ones alone.
 * The control run does the same work without weak refs: the difference is
 * the price of the weak layer.
 *
 * usage: weakchurn [n [weak|control]]
 */
#include "bench.h"

#ifdef VARIANT_MALLOC
#error "this workload needs a collector: build it for wgc or bdwgc"
#endif

struct obj {
    struct obj *next;
    long id;
    long data[2];
};

static void obj_trace(void *o, bench_visitor *v)
{
    bench_visit(v, &((struct obj *)o)->next);
}

static const bench_type obj_type = {.name = "obj", .trace = obj_trace};

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 2000000);
    bool control = argc > 2 && strcmp(argv[2], "control") == 0;
    BENCH_CHECK(argc <= 2 || control || strcmp(argv[2], "weak") == 0,
                "mode must be weak or control");
    long nkept = (n + 9) / 10;

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *kept = NULL, *refs = NULL;
    struct obj *o = NULL;
    BENCH_FRAME(&kept, &refs, &o);
    kept = bench_ptrs_new((size_t)nkept);
    if (!control)
        refs = bench_ptrs_new((size_t)n);

    for (long i = 0; i < n; i++) {
        o = bench_alloc(&obj_type, sizeof *o);
        o->next = NULL;
        o->id = i;
        o->data[0] = o->data[1] = i;
        if (!control)
            refs->item[i] = bench_weak_new(o);
        if (i % 10 == 0)
            kept->item[i / 10] = o;
    }
    o = NULL;

    bench_collect();
    long cleared = 0;
    for (long i = 0; i < nkept; i++) {
        struct obj *k = kept->item[i];
        BENCH_CHECK(k->id == i * 10, "kept object %ld damaged", i);
    }
    if (!control) {
        for (long i = 0; i < n; i++) {
            struct obj *t = bench_weak_get(refs->item[i]);
            if (i % 10 == 0)
                BENCH_CHECK(t == kept->item[i / 10],
                            "weak ref %ld to a kept object was cleared", i);
            else if (t == NULL)
                cleared++;
            else
                BENCH_CHECK(t->id == i, "weak ref %ld points at object %ld", i,
                            t->id);
        }
#ifdef VARIANT_BDWGC
        /* Conservative: a stale word on the stack may keep a few alive. */
        BENCH_CHECK(cleared >= (n - nkept) * 99 / 100,
                    "only %ld of %ld weak refs cleared", cleared, n - nkept);
#else
        BENCH_CHECK(cleared == n - nkept, "%ld of %ld weak refs cleared",
                    cleared, n - nkept);
#endif
    }
    BENCH_FRAME_POP();

    bench_result(control ? "weakchurn-control" : "weakchurn",
                 "n=%ld cleared=%ld time_ms=%.1f", n, cleared,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
