/*
 * weakchurn.c -- many short-lived objects, each watched by a weak ref.
 *
 * Allocates n objects (default 2,000,000) and a weak reference to each,
 * and keeps every tenth object in a rooted array.  The weak refs churn
 * too: each lives in a rooted window of the last w refs (default 100,000,
 * several collections' worth), so collections keep meeting live refs
 * whose targets have just died.  When a ref leaves the window it is
 * checked: a ref to a kept object must still reach it, any other is
 * either cleared (counted) or still reaches its own object.  A final
 * collection must clear every ref left in the window whose object was not
 * kept.  The control run does the same work without weak refs: the
 * difference is the price of the weak layer.
 *
 * usage: weakchurn [n [weak|control [w]]]
 */
#include "bench.h"

#ifdef VARIANT_MALLOC
#error "this workload needs a collector: build it for wgc or bdwgc"
#endif

static long cleared;

/* Checks the ref to object `id` as it leaves the window. */
static void check_ref(bench_weak *w, long id, const struct bench_ptrs *kept,
                      bool final)
{
    struct bench_obj *t = bench_weak_get(w);
    if (id % 10 == 0)
        BENCH_CHECK(t == kept->item[id / 10],
                    "weak ref %ld to a kept object was cleared", id);
    else if (t == NULL)
        cleared++;
    else {
        BENCH_CHECK(t->id == id, "weak ref %ld points elsewhere", id);
        /* bdwgc may keep an object a stale stack word points to: the
         * caller checks what share of refs it cleared. */
        BENCH_CHECK(!final || !BENCH_PRECISE,
                    "weak ref %ld survived a full collection", id);
    }
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 2000000);
    bool control = argc > 2 && strcmp(argv[2], "control") == 0;
    BENCH_CHECK(argc <= 2 || control || strcmp(argv[2], "weak") == 0,
                "mode must be weak or control");
    long w = bench_arg(argc, argv, 3, 100000);
    if (w > n)
        w = n;
    long nkept = (n + 9) / 10;

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *kept = NULL, *refs = NULL;
    struct bench_obj *o = NULL;
    BENCH_FRAME(&kept, &refs, &o);
    kept = bench_ptrs_new((size_t)nkept);
    if (!control)
        refs = bench_ptrs_new((size_t)w);

    for (long i = 0; i < n; i++) {
        o = bench_alloc(&bench_obj_type, sizeof *o);
        o->next = NULL;
        o->id = i;
        o->data[0] = o->data[1] = i;
        if (i % 10 == 0)
            BENCH_STORE(kept, item[i / 10], o);
        if (!control) {
            long slot = i % w;
            if (i >= w)
                check_ref(refs->item[slot], i - w, kept, false);
            BENCH_STORE(refs, item[slot], bench_weak_new(o));
        }
    }
    o = NULL;

    bench_collect();
    for (long i = 0; i < nkept; i++) {
        struct bench_obj *k = kept->item[i];
        BENCH_CHECK(k->id == i * 10, "kept object %ld damaged", i);
    }
    long final_cleared = 0;
    if (!control) {
        long before = cleared;
        for (long i = n - w; i < n; i++)
            check_ref(refs->item[i % w], i, kept, true);
        final_cleared = cleared - before;
        long expect = w - ((n + 9) / 10 - (n - w + 9) / 10);
        BENCH_CHECK(BENCH_PRECISE ? final_cleared == expect
                                  : final_cleared >= expect * 99 / 100,
                    "%ld of %ld weak refs cleared", final_cleared, expect);
    }
    BENCH_FRAME_POP();

    bench_result(control ? "weakchurn-control" : "weakchurn",
                 "n=%ld window=%ld cleared=%ld final_cleared=%ld time_ms=%.1f",
                 n, w, cleared, final_cleared,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
