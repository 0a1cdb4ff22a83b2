/*
 * regchurn.c -- many short-lived objects registered for finalization.
 *
 * Allocates n objects (default 1,000,000), registers each in one
 * finalization registry with its number as holdings, keeps every tenth one
 * in a rooted array, and drains the cleanup queue every 10,000
 * allocations, as a host would at its safe points.  At the end every
 * object not kept must have had exactly one cleanup, and no kept one any.
 * The control run does the same allocations and drains without
 * registering: the difference is the price of finalization.
 *
 * usage: regchurn [n [register|control]]
 */
#include "bench.h"

#ifdef VARIANT_MALLOC
#error "this workload needs a collector: build it for wgc or bdwgc"
#endif

static struct {
    long n, delivered;
    unsigned char *seen;
} state;

/* Holdings are tagged integers, 2*id+1: never mistaken for an object. */
static int on_cleanup(void *holdings, void *user)
{
    (void)user;
    uintptr_t h = (uintptr_t)holdings;
    BENCH_CHECK(h & 1, "holdings %p is not what was registered", holdings);
    long id = (long)(h >> 1);
    BENCH_CHECK(id >= 0 && id < state.n, "cleanup for unknown id %ld", id);
    BENCH_CHECK(id % 10 != 0, "cleanup for kept object %ld", id);
    BENCH_CHECK(!state.seen[id], "second cleanup for object %ld", id);
    state.seen[id] = 1;
    state.delivered++;
    return 0;
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 1000000);
    bool control = argc > 2 && strcmp(argv[2], "control") == 0;
    BENCH_CHECK(argc <= 2 || control || strcmp(argv[2], "register") == 0,
                "mode must be register or control");
    const long drain_every = 10000;
    long nkept = (n + 9) / 10;
    state.n = n;
    state.seen = calloc((size_t)n, 1);
    BENCH_CHECK(state.seen, "out of memory");

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *kept = NULL;
    struct bench_obj *o = NULL;
    bench_registry *reg = NULL;
    BENCH_FRAME(&kept, &o, &reg);
    kept = bench_ptrs_new((size_t)nkept);
    reg = bench_registry_new(on_cleanup, NULL);

    long ran = 0;
    for (long i = 0; i < n; i++) {
        o = bench_alloc(&bench_obj_type, sizeof *o);
        o->next = NULL;
        o->id = i;
        o->data[0] = o->data[1] = i;
        if (!control)
            bench_register(reg, o, (void *)(uintptr_t)(2 * i + 1));
        if (i % 10 == 0)
            BENCH_STORE(kept, item[i / 10], o);
        if ((i + 1) % drain_every == 0)
            ran += (long)bench_run_cleanup();
    }
    o = NULL;

    /* Everything unkept is garbage now; bdwgc needs a second collection to
     * finish what its finalizers queued, wgc needs one. */
    for (int r = 0; r < 2; r++) {
        bench_collect();
        ran += (long)bench_run_cleanup();
    }
    for (long i = 0; i < nkept; i++)
        BENCH_CHECK(((struct bench_obj *)kept->item[i])->id == i * 10,
                    "kept object %ld damaged", i);
    BENCH_CHECK(ran == state.delivered, "drains report %ld, callbacks saw %ld",
                ran, state.delivered);
    long expect = control ? 0 : n - nkept;
    /* bdwgc is conservative: a stale word on the stack may keep a few. */
    BENCH_CHECK(BENCH_PRECISE ? state.delivered == expect
                              : state.delivered >= expect * 99 / 100 &&
                                    state.delivered <= expect,
                "%ld cleanups delivered, expected %ld", state.delivered, expect);
    BENCH_FRAME_POP();

    bench_result(control ? "regchurn-control" : "regchurn",
                 "n=%ld delivered=%ld time_ms=%.1f", n, state.delivered,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    free(state.seen);
    return 0;
}
