/*
 * bench.h -- one mutator, three memory managers.
 *
 * Every workload is a single C file compiled three times, with exactly one
 * of these macros defined:
 *
 *   VARIANT_WGC     wgc, default configuration, precise rooting through
 *                   frames and handles (as an embedder would write it)
 *   VARIANT_BDWGC   bdwgc (libgc), default settings; GC_MALLOC_ATOMIC for
 *                   types without pointers
 *   VARIANT_MALLOC  malloc/free; the workload frees every dead object
 *
 * The workload only calls what this header defines, so the three builds
 * run the same mutator code: the differences are confined to the few
 * operations below, which compile to the cheapest faithful form for each
 * manager (a rooting macro is empty where nothing needs rooting, a free is
 * empty where a collector reclaims).
 *
 * Every program ends by printing one line
 *
 *   RESULT name=<workload> variant=<wgc|bdwgc|malloc> collections=N ...
 *
 * with space-separated key=value fields that bench/run parses, and exits
 * non-zero (after a "FAIL" line on stderr) if its self-check fails.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(VARIANT_WGC) + defined(VARIANT_BDWGC) + defined(VARIANT_MALLOC) != 1
#error "define exactly one of VARIANT_WGC, VARIANT_BDWGC, VARIANT_MALLOC"
#endif

#if defined(VARIANT_WGC)
#include <wgc.h>
#define BENCH_VARIANT "wgc"
#elif defined(VARIANT_BDWGC)
#include <gc/gc.h>
#define BENCH_VARIANT "bdwgc"
#else
#include <malloc.h>
#define BENCH_VARIANT "malloc"
#endif

/* 1 where the workload must free what it drops; lets it write
 * `if (BENCH_EXPLICIT_FREE) tree_free(t);` once for all variants. */
#ifdef VARIANT_MALLOC
#define BENCH_EXPLICIT_FREE 1
#else
#define BENCH_EXPLICIT_FREE 0
#endif

/* 1 where unreachable objects are certain to be found dead (wgc); bdwgc
 * scans conservatively and may keep a few. */
#ifdef VARIANT_BDWGC
#define BENCH_PRECISE 0
#else
#define BENCH_PRECISE 1
#endif

/* ================================================================= failure */

#define BENCH_CHECK(cond, ...)                                               \
    do {                                                                     \
        if (!(cond))                                                         \
            bench_fail_(__FILE__, __LINE__, __VA_ARGS__);                    \
    } while (0)

__attribute__((noreturn, format(printf, 3, 4))) static void
bench_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d [%s]: ", file, line, BENCH_VARIANT);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Reads argv[i] as a positive integer, or `dflt` when absent. */
static inline long bench_arg(int argc, char **argv, int i, long dflt)
{
    if (i >= argc)
        return dflt;
    char *end;
    long v = strtol(argv[i], &end, 10);
    BENCH_CHECK(*end == '\0' && v > 0, "bad argument '%s'", argv[i]);
    return v;
}

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* =================================================================== types */

/*
 * A type names its pointer fields either as a layout, .pointer_words =
 * BENCH_WORD(struct s, field) | ..., for fixed records, or through a trace
 * function written with bench_visit (arrays).  Only wgc reads either;
 * elsewhere they are referenced from the descriptor and cost nothing.  A
 * descriptor with neither is pointer-free data (wgc: never scanned; bdwgc:
 * GC_MALLOC_ATOMIC).
 */
#define BENCH_WORD(type, field) ((uint64_t)1 << (offsetof(type, field) / sizeof(void *)))
#ifdef VARIANT_WGC
typedef wgc_type bench_type;
typedef wgc_visitor bench_visitor;
#define bench_visit(v, slot) wgc_visit((v), (slot))
#define bench_visit_array(v, slots, n) wgc_visit_array((v), (slots), (n))
#else
typedef struct bench_visitor bench_visitor;
typedef struct bench_type {
    const char *name;
    void (*trace)(void *obj, bench_visitor *v);
    uint64_t pointer_words;
} bench_type;
#define bench_visit(v, slot) ((void)(v), (void)(slot))
#define bench_visit_array(v, slots, n) ((void)(v), (void)(slots), (void)(n))
#endif

/* ============================================================ heap state */

#ifdef VARIANT_WGC
static wgc_heap *bench_heap;
#endif

/* Collection pauses, recorded from the collector's start/end events.
 * lib_base_ns: the library's own pause total when the record was last
 * reset (bench_pauses_reset), so that lib_gc_ms covers the same window. */
static struct {
    uint64_t *ns;
    size_t count, cap;
    uint64_t start, total, max;
    uint64_t lib_base_ns;
} bench_pauses;

/* The collector mode the run asked for: the environment variable
 * WGC_COLLECTOR (bench/run sets it per variant: wgc-gen, wgc-inc), "full"
 * when unset.  The RESULT line says which mode ran (collector=...) next to
 * what was asked (collector_asked=...): a variant that asks for a mode the
 * wgc it is built against lacks (a --baseline revision) is visible in the
 * report, never silently measured as another. */
#ifdef VARIANT_WGC
static const char *bench_collector_asked_ = "full";
static const char *bench_collector_ = "full";
#endif

static inline void bench_pause_start(void)
{
    bench_pauses.start = bench_now_ns();
}

static inline void bench_pause_end(void)
{
    uint64_t d = bench_now_ns() - bench_pauses.start;
    bench_pauses.total += d;
    if (d > bench_pauses.max)
        bench_pauses.max = d;
    /* The buffer is preallocated: the hook runs inside a collection. */
    if (bench_pauses.count < bench_pauses.cap)
        bench_pauses.ns[bench_pauses.count] = d;
    bench_pauses.count++;
}

#ifdef VARIANT_WGC
static void bench_on_event_(wgc_heap *heap, wgc_event ev, void *user)
{
    (void)heap, (void)user;
    if (ev == WGC_EVENT_COLLECT_START)
        bench_pause_start();
    else if (ev == WGC_EVENT_COLLECT_END)
        bench_pause_end();
#ifdef WGC_HAS_COLLECTOR_MODES
    else if (ev == WGC_EVENT_MINOR_START)
        bench_pause_start();
    else if (ev == WGC_EVENT_MINOR_END)
        bench_pause_end();
#endif
}
#elif defined(VARIANT_BDWGC)
static void bench_on_event_(GC_EventType ev)
{
    if (ev == GC_EVENT_START)
        bench_pause_start();
    else if (ev == GC_EVENT_END)
        bench_pause_end();
}
#endif

/* Call first thing in main. */
static void bench_init(void)
{
    /* malloc, not a static array: bdwgc would scan a static one as roots. */
    bench_pauses.cap = 1u << 16;
    bench_pauses.ns = malloc(bench_pauses.cap * sizeof *bench_pauses.ns);
    BENCH_CHECK(bench_pauses.ns, "out of memory");
#if defined(VARIANT_WGC)
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.on_event = bench_on_event_;
    /* For exploring the heap policy by hand; bench/run never sets these. */
    const char *env = getenv("BENCH_WGC_GROWTH");
    if (env)
        cfg.growth_factor = strtod(env, NULL);
    env = getenv("BENCH_WGC_INITIAL_MB");
    if (env)
        cfg.initial_heap_size = (size_t)strtoul(env, NULL, 10) << 20;
    env = getenv("WGC_COLLECTOR");
    if (env && *env) {
        bench_collector_asked_ = env;
#ifdef WGC_HAS_COLLECTOR_MODES
        if (strcmp(env, "generational") == 0) {
            cfg.collector = WGC_COLLECTOR_GENERATIONAL;
            bench_collector_ = "generational";
        } else {
            cfg.collector = WGC_COLLECTOR_FULL;
        }
#endif
        if (strcmp(env, bench_collector_) != 0)
            fprintf(stderr, "bench: WGC_COLLECTOR=%s: this wgc has no such "
                    "collector mode; running %s\n", env, bench_collector_);
    }
    bench_heap = wgc_heap_new(&cfg);
    BENCH_CHECK(bench_heap, "wgc_heap_new failed");
#elif defined(VARIANT_BDWGC)
    GC_INIT();
    /* Finalizers run only where the program drains them, as with wgc. */
    GC_set_finalize_on_demand(1);
    GC_set_on_collection_event(bench_on_event_);
#endif
}

/* Forgets the pauses recorded so far: a workload calls it after its set-up
 * so that its pause statistics describe only the phase it measures. */
static inline void bench_pauses_reset(void)
{
    bench_pauses.count = 0;
    bench_pauses.total = bench_pauses.max = 0;
#ifdef VARIANT_WGC
    wgc_heap_stats st;
    wgc_stats(bench_heap, &st);
    bench_pauses.lib_base_ns = st.pause_total_ns;
#endif
}

/* ============================================================ allocation */

/* malloc: bytes requested and not yet freed, counted only in programs
 * that define BENCH_COUNT_BYTES before including this header and free with
 * bench_free_sized.  (mallinfo2 would do without, but it walks every free
 * chunk: after a mass free it costs more than the frees.) */
#if defined(VARIANT_MALLOC) && defined(BENCH_COUNT_BYTES)
static size_t bench_malloc_bytes_;
#endif

/* A new object of `type`; its contents are unspecified (zero for wgc and
 * for bdwgc's pointer types): the workloads set every field. */
static inline void *bench_alloc(const bench_type *type, size_t size)
{
    void *p;
#if defined(VARIANT_WGC)
    p = wgc_alloc(bench_heap, type, size);
#elif defined(VARIANT_BDWGC)
    p = type->trace || type->pointer_words ? GC_MALLOC(size) : GC_MALLOC_ATOMIC(size);
#else
    (void)type;
    p = malloc(size);
#ifdef BENCH_COUNT_BYTES
    bench_malloc_bytes_ += size;
#endif
#endif
    if (__builtin_expect(p == NULL, 0))
        bench_fail_(__FILE__, __LINE__, "allocation of %zu bytes failed", size);
    return p;
}

/* Releases an object the workload has dropped (malloc only). */
static inline void bench_free(void *p)
{
#ifdef VARIANT_MALLOC
    free(p);
#else
    (void)p;
#endif
}

/* bench_free for an object allocated with `size` bytes. */
static inline void bench_free_sized(void *p, size_t size)
{
#if defined(VARIANT_MALLOC) && defined(BENCH_COUNT_BYTES)
    bench_malloc_bytes_ -= size;
#endif
    (void)size;
    bench_free(p);
}

/* Runs a full collection (nothing for malloc). */
static inline void bench_collect(void)
{
#if defined(VARIANT_WGC)
    wgc_collect(bench_heap);
#elif defined(VARIANT_BDWGC)
    GC_gcollect();
#endif
}

/* The collector's ordinary collection, what a long-running program meets
 * between its allocations: a minor one in wgc's generational mode, a full
 * one otherwise (nothing for malloc). */
static inline void bench_collect_ordinary(void)
{
#if defined(VARIANT_WGC) && defined(WGC_HAS_COLLECTOR_MODES)
    wgc_collect_minor(bench_heap);
#else
    bench_collect();
#endif
}

/* ========================================================= write barrier */

/*
 * A store of a pointer into a field of an object that already existed
 * (allocated before the last allocation) goes through BENCH_STORE, which
 * is wgc's WGC_STORE: the assignment, then the write barrier on the object
 * (wgc/heap.h).  Initializing stores into an object just allocated need
 * none.  Elsewhere it is the plain assignment.
 */
#ifdef VARIANT_WGC
#define BENCH_STORE(obj, field, value) WGC_STORE(bench_heap, obj, field, value)
#else
#define BENCH_STORE(obj, field, value) ((void)((obj)->field = (value)))
#endif

/* ================================================================= roots */

/*
 * Frames root C locals across allocations: wgc is precise and never scans
 * the C stack; bdwgc scans it anyway and malloc needs nothing.  One
 * BENCH_FRAME per block, popped before the block ends.
 */
#ifdef VARIANT_WGC
#define BENCH_FRAME(...) WGC_FRAME(bench_heap, __VA_ARGS__)
#define BENCH_FRAME_POP() WGC_FRAME_POP(bench_heap)
#else
#define BENCH_FRAME(...) ((void)0)
#define BENCH_FRAME_POP() ((void)0)
#endif

/* A persistent root holding one object pointer. */
#if defined(VARIANT_WGC)
typedef wgc_root bench_root;
static inline bench_root *bench_root_new(void *obj)
{
    bench_root *r = wgc_root_new(bench_heap, obj);
    BENCH_CHECK(r, "wgc_root_new failed");
    return r;
}
#define bench_root_get(r) wgc_root_get(r)
#define bench_root_set(r, obj) ((void)wgc_root_set((r), (obj)))
#define bench_root_free(r) wgc_root_free(r)
#else
typedef void *bench_root;
static inline bench_root *bench_root_new(void *obj)
{
#ifdef VARIANT_BDWGC
    bench_root *r = GC_MALLOC_UNCOLLECTABLE(sizeof *r);
#else
    bench_root *r = malloc(sizeof *r);
#endif
    BENCH_CHECK(r, "out of memory");
    *r = obj;
    return r;
}
#define bench_root_get(r) (*(r))
#define bench_root_set(r, obj) ((void)(*(r) = (obj)))
#ifdef VARIANT_BDWGC
#define bench_root_free(r) GC_FREE(r)
#else
#define bench_root_free(r) free(r)
#endif
#endif

/* ============================================================ churn objects */

/* The small object the churn workloads make by the million, one in ten
 * kept, linked to the one before. */
struct bench_obj {
    struct bench_obj *next;
    long id;
    long data[2];
};

static const bench_type bench_obj_type = {.name = "obj",
    .pointer_words = BENCH_WORD(struct bench_obj, next)};

/* ======================================================== pointer arrays */

/* A heap array of n object pointers (a scanned object of its own). */
struct bench_ptrs {
    size_t n;
    void *item[];
};

static void bench_ptrs_trace(void *obj, bench_visitor *v)
{
    struct bench_ptrs *a = obj;
    bench_visit_array(v, a->item, a->n);
}

static const bench_type bench_ptrs_type = {.name = "ptrs",
                                           .trace = bench_ptrs_trace};

static inline struct bench_ptrs *bench_ptrs_new(size_t n)
{
    struct bench_ptrs *a =
        bench_alloc(&bench_ptrs_type, sizeof *a + n * sizeof a->item[0]);
    a->n = n;
    memset(a->item, 0, n * sizeof a->item[0]);
    return a;
}

/* ============================================================= weak refs */

/*
 * A weak reference is a small heap object of its own in both collectors:
 * a wgc_weakref, or for bdwgc a pointer-free cell holding the hidden target
 * and registered as a disappearing link (cleared when the target dies).
 */
#if defined(VARIANT_WGC)
typedef wgc_weakref bench_weak;
static inline bench_weak *bench_weak_new(void *target)
{
    bench_weak *w = wgc_weakref_new(bench_heap, target, NULL);
    BENCH_CHECK(w, "wgc_weakref_new failed");
    return w;
}
static inline void *bench_weak_get(bench_weak *w)
{
    return wgc_weakref_deref(bench_heap, w);
}
#elif defined(VARIANT_BDWGC)
typedef GC_hidden_pointer bench_weak;
static inline bench_weak *bench_weak_new(void *target)
{
    bench_weak *w = GC_MALLOC_ATOMIC(sizeof *w);
    BENCH_CHECK(w, "out of memory");
    *w = GC_HIDE_POINTER(target);
    BENCH_CHECK(GC_general_register_disappearing_link((void **)w, target) !=
                    GC_NO_MEMORY,
                "GC_general_register_disappearing_link failed");
    return w;
}
/* A plain read is safe: the program has one thread and no incremental
 * collection, so the link cannot be cleared while it is being read. */
static inline void *bench_weak_get(bench_weak *w)
{
    return *w ? GC_REVEAL_POINTER(*w) : NULL;
}
#endif

/* ==================================================== finalization registry */

/* A cleanup callback: receives the holdings given at registration. */
typedef int (*bench_cleanup_fn)(void *holdings, void *user);

#if defined(VARIANT_WGC)
typedef wgc_registry bench_registry;
static struct {
    bench_cleanup_fn fn;
    void *user;
} bench_reg_cb_;
static int bench_reg_thunk_(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap, (void)user;
    return bench_reg_cb_.fn(holdings, bench_reg_cb_.user);
}
/* One registry per program (enough for the workloads; keeps the bdwgc
 * mapping free of per-registration allocations). */
static inline bench_registry *bench_registry_new(bench_cleanup_fn fn, void *user)
{
    bench_reg_cb_.fn = fn;
    bench_reg_cb_.user = user;
    bench_registry *r = wgc_registry_new(bench_heap, bench_reg_thunk_, NULL);
    BENCH_CHECK(r, "wgc_registry_new failed");
    return r;
}
static inline void bench_register(bench_registry *r, void *target,
                                  void *holdings)
{
    BENCH_CHECK(wgc_registry_register(r, target, holdings, NULL),
                "wgc_registry_register failed: %s",
                wgc_error_string(wgc_last_error(bench_heap)));
}
/* Runs every queued cleanup; returns how many ran. */
static inline size_t bench_run_cleanup(void)
{
    return wgc_run_cleanup(bench_heap, SIZE_MAX);
}
#elif defined(VARIANT_BDWGC)
typedef struct bench_registry {
    bench_cleanup_fn fn;
    void *user;
} bench_registry;
static bench_registry bench_reg_;
static size_t bench_reg_ran_;
static void bench_reg_thunk_(void *obj, void *holdings)
{
    (void)obj;
    bench_reg_ran_++;
    bench_reg_.fn(holdings, bench_reg_.user);
}
static inline bench_registry *bench_registry_new(bench_cleanup_fn fn, void *user)
{
    bench_reg_.fn = fn;
    bench_reg_.user = user;
    return &bench_reg_;
}
static inline void bench_register(bench_registry *r, void *target,
                                  void *holdings)
{
    (void)r;
    GC_REGISTER_FINALIZER_NO_ORDER(target, bench_reg_thunk_, holdings, NULL,
                                   NULL);
}
static inline size_t bench_run_cleanup(void)
{
    size_t before = bench_reg_ran_;
    GC_invoke_finalizers();
    return bench_reg_ran_ - before;
}
#endif

/* ============================================================ statistics */

static inline uint64_t bench_collections(void)
{
#if defined(VARIANT_WGC)
    wgc_heap_stats s;
    wgc_stats(bench_heap, &s);
    return s.collections;
#elif defined(VARIANT_BDWGC)
    return GC_get_gc_no();
#else
    return 0;
#endif
}

/* Bytes in objects the manager considers in use: after a collection for
 * the collectors, right now for malloc (needs BENCH_COUNT_BYTES). */
static inline size_t bench_used_bytes(void)
{
#if defined(VARIANT_WGC)
    wgc_heap_stats s;
    wgc_stats(bench_heap, &s);
    return s.live_bytes;
#elif defined(VARIANT_BDWGC)
    return GC_get_heap_size() - GC_get_free_bytes();
#elif defined(BENCH_COUNT_BYTES)
    return bench_malloc_bytes_;
#else
    return 0;
#endif
}

/* Bytes of memory the manager holds from the OS for objects (malloc: the
 * whole process's resident memory). */
static inline size_t bench_heap_bytes(void)
{
#if defined(VARIANT_WGC)
    wgc_heap_stats s;
    wgc_stats(bench_heap, &s);
    return s.heap_size;
#elif defined(VARIANT_BDWGC)
    return GC_get_heap_size();
#else
    /* The resident set: malloc's own accounting (mallinfo2) walks every
     * free chunk, which after a mass free costs more than the frees. */
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
#endif
}

/* ================================================================ result */

static int bench_cmp_u64_(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of the recorded pauses, nearest rank. */
static uint64_t bench_pause_quantile_(double q)
{
    size_t n = bench_pauses.count < bench_pauses.cap ? bench_pauses.count
                                                     : bench_pauses.cap;
    if (n == 0)
        return 0;
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return bench_pauses.ns[rank - 1];
}

/* Peak resident memory in KiB.  VmHWM, where Linux has it: getrusage's
 * ru_maxrss also counts the parent's memory from before exec, which would
 * put the size of the runner's Python under every small benchmark. */
static long bench_peak_rss_kb_(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        long kb = -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                break;
        fclose(f);
        if (kb >= 0)
            return kb;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Prints the RESULT line: the common fields, then `fmt` (more key=value
 * pairs, may be ""). */
__attribute__((format(printf, 2, 3))) static void
bench_result(const char *name, const char *fmt, ...)
{
    size_t n = bench_pauses.count < bench_pauses.cap ? bench_pauses.count
                                                     : bench_pauses.cap;
    qsort(bench_pauses.ns, n, sizeof *bench_pauses.ns, bench_cmp_u64_);
    printf("RESULT name=%s variant=%s collections=%llu pauses=%zu "
           "gc_ms=%.3f pause_p50_us=%.1f pause_p99_us=%.1f "
           "pause_max_us=%.1f maxrss_kb=%ld",
           name, BENCH_VARIANT, (unsigned long long)bench_collections(),
           bench_pauses.count, (double)bench_pauses.total / 1e6,
           (double)bench_pause_quantile_(0.5) / 1e3,
           (double)bench_pause_quantile_(0.99) / 1e3,
           (double)bench_pauses.max / 1e3, bench_peak_rss_kb_());
    /* Every pause, for the runner's distribution chart. */
    const char *dump = getenv("BENCH_PAUSES_FILE");
    FILE *f = dump ? fopen(dump, "w") : NULL;
    if (f) {
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%llu\n", (unsigned long long)bench_pauses.ns[i]);
        fclose(f);
    }
#ifdef VARIANT_WGC
    /* The library's own account of its pauses, to cross-check the hook's. */
    wgc_heap_stats st;
    wgc_stats(bench_heap, &st);
    printf(" lib_gc_ms=%.3f collector=%s collector_asked=%s",
           (double)(st.pause_total_ns - bench_pauses.lib_base_ns) / 1e6,
           bench_collector_, bench_collector_asked_);
#endif
    va_list ap;
    va_start(ap, fmt);
    if (*fmt) {
        putchar(' ');
        vprintf(fmt, ap);
    }
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Call last in main: frees the heap, so that leak checkers see it clean. */
static void bench_finish(void)
{
#ifdef VARIANT_WGC
    wgc_heap_free(bench_heap);
    bench_heap = NULL;
#endif
    free(bench_pauses.ns);
}

#endif
