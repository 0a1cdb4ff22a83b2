/*
 * gc/heap.c -- heap creation and destruction, errors, internal memory
 * requests, statistics.
 */
#include "gc/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#if WGC_DEBUG_CHECKS
#include <pthread.h>
#endif

/* =========================================================== errors */

const char *wgc_error_string(wgc_error err)
{
    switch (err) {
    case WGC_OK: return "no error";
    case WGC_EINVAL: return "invalid argument";
    case WGC_ENOMEM: return "out of memory";
    case WGC_EHEAPMAX: return "maximum heap size reached";
    case WGC_EOVERFLOW: return "size too large";
    case WGC_EREENTRY: return "called from inside a collection";
    case WGC_ESTATE: return "call out of order";
    case WGC_ECALLBACK: return "a cleanup callback reported failure";
    }
    return "unknown error";
}

wgc_error wgc_last_error(const wgc_heap *heap)
{
    return wgc__check_heap(heap) ? heap->error : WGC_EINVAL;
}

void wgc_clear_error(wgc_heap *heap)
{
    if (wgc__check_heap(heap))
        heap->error = WGC_OK;
}

bool wgc__fail(wgc_heap *heap, wgc_error err)
{
    if (heap)
        heap->error = err;
    return false;
}

void wgc__log(const wgc_heap *heap, wgc_log_kind kind, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Only a heap whose signature holds has a config to read. */
    bool live = heap && heap->pub.sig == WGC_SIG_HEAP;
    if (live && heap->config.log)
        heap->config.log((wgc_heap *)heap, kind, line, heap->config.log_user);
    else
        fprintf(stderr, "wgc: %s\n", line);
}

void wgc__misuse(const wgc_heap *heap, const char *fmt, ...)
{
#if WGC_DEBUG_CHECKS
    char what[448];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    wgc__log(heap, WGC_LOG_MISUSE, "misuse of heap %p: %s", (const void *)heap, what);
#else
    (void)heap, (void)fmt;
#endif
}

/* =========================================================== checks [G9] */

_Noreturn void wgc__assert_fail(const wgc_heap *heap, const char *file, int line,
                                const char *cond)
{
    wgc__log(heap, WGC_LOG_MISUSE, "assertion failed: %s:%d: %s", file, line, cond);
    abort();
}

bool wgc__check_fail(const wgc_heap *heap, const char *fmt, ...)
{
    char what[448];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    wgc__log(heap, WGC_LOG_MISUSE, "check: %s", what);
    return false;
}

/* [G10] The heap's own fields, between collections. */
bool wgc__heap_check(wgc_heap *heap)
{
    if (heap->pub.sig != WGC_SIG_HEAP)
        return wgc__check_fail(heap, "heap %p: signature %#x", (void *)heap,
                               (unsigned)heap->pub.sig);
    if (heap->cycle.phase != CYCLE_IDLE)
        return wgc__check_fail(heap, "heap %p: cycle phase %d between collections",
                               (void *)heap, (int)heap->cycle.phase);
    if (heap->alloc_bits != mark_bits(heap))
        return wgc__check_fail(heap, "heap %p: allocation bitmap %u, the last "
                               "collection marked in %u [G3]", (void *)heap,
                               heap->alloc_bits, mark_bits(heap));
    const vec *d = &heap->destructibles;
    if (heap->destructibles_old > d->count)
        return wgc__check_fail(heap, "heap %p: %zu old destructibles of %zu [Y5]",
                               (void *)heap, heap->destructibles_old, d->count);
    for (size_t i = 0; i < d->count; i++) {
        void *obj = VEC_AT(d, void *, i);
        if (!wgc__is_allocated(heap, obj))
            return wgc__check_fail(heap, "heap %p: destructible %zu (%p) is not "
                                   "a live object", (void *)heap, i, obj);
        if (!type_of(obj)->destroy)
            return wgc__check_fail(heap, "heap %p: destructible %zu (%p, %s) has "
                                   "no destructor", (void *)heap, i, obj,
                                   type_of(obj)->name ? type_of(obj)->name : "?");
    }
    return true;
}

bool wgc__bad_heap(const wgc_heap *heap)
{
    if (heap->pub.sig == WGC_SIG_DEAD)
        wgc__misuse(heap, "used after wgc_heap_free");
    else
        wgc__misuse(heap, "not a live heap (never a heap, or freed and its "
                          "memory reused)");
    return false;
}

/* The slow half of wgc__enter: explain why the heap refuses. */
bool wgc__enter_refused(wgc_heap *heap)
{
#if WGC_DEBUG_CHECKS
    unsigned long self = (unsigned long)pthread_self();
    if (heap->owner_thread != 0 && heap->owner_thread != self)
        wgc__misuse(heap, "used from thread %lx while thread %lx is inside it",
                    self, heap->owner_thread);
#endif
    if (heap->callback == CALLBACK_HEAP_FREE) {
        wgc__misuse(heap, "heap used by a destructor run by wgc_heap_free");
        return wgc__fail(heap, WGC_EREENTRY);
    }
    if (heap->callback != CALLBACK_NONE) {
        wgc__misuse(heap, "heap changed from inside a collection "
                          "(a trace callback, destructor or hook)");
        return wgc__fail(heap, WGC_EREENTRY);
    }
    return true;
}

/* ============================================== internal memory requests */

bool wgc__request(wgc_heap *heap)
{
    heap->requests++;
    if (heap->fail_at == 0)
        return true;
    if (heap->requests == heap->fail_at)
        return false;
    return !(heap->fail_sticky && heap->requests > heap->fail_at);
}

void *wgc__malloc(wgc_heap *heap, size_t size)
{
    return wgc__request(heap) ? malloc(size) : NULL;
}

void *wgc__calloc(wgc_heap *heap, size_t count, size_t size)
{
    return wgc__request(heap) ? calloc(count, size) : NULL;
}

void wgc_debug_fail_request(wgc_heap *heap, uint64_t k, bool sticky)
{
    if (!wgc__check_heap(heap))
        return;
    /* A k beyond the counter's range would wrap to a request already
     * made, and a sticky failure would start at once: none ever fails. */
    heap->fail_at = k && k <= UINT64_MAX - heap->requests ? heap->requests + k : 0;
    heap->fail_sticky = sticky;
}

uint64_t wgc_debug_requests(const wgc_heap *heap)
{
    return wgc__check_heap(heap) ? heap->requests : 0;
}

/* ==================================================================== vec */

void wgc__vec_init(vec *v, size_t item_size)
{
    *v = (vec){.item_size = item_size};
}

bool wgc__vec_reserve(wgc_heap *heap, vec *v, size_t extra)
{
    if (v->capacity - v->count >= extra)
        return true;
    size_t want = v->capacity ? v->capacity * 2 : 16;
    while (want - v->count < extra)
        want *= 2;
    if (want > SIZE_MAX / v->item_size || !wgc__request(heap))
        return false;
    char *items = realloc(v->items, want * v->item_size);
    if (!items)
        return false;
    v->items = items;
    v->capacity = want;
    return true;
}

void *wgc__vec_grow_push(wgc_heap *heap, vec *v)
{
    if (!wgc__vec_reserve(heap, v, 1))
        return NULL;
    return v->items + v->item_size * v->count++;
}

void wgc__vec_free(vec *v)
{
    free(v->items);
    wgc__vec_init(v, v->item_size);
}

/* ============================================================ heap life */

void wgc_config_init(wgc_config *cfg)
{
    if (!cfg)
        return;
    *cfg = (wgc_config){
        .initial_heap_size = (size_t)4 << 20,
        .growth_factor = 2.0,
        .auto_collect = true,
    };
}

wgc_heap *wgc_heap_new(const wgc_config *cfg)
{
    return wgc_heap_create(cfg, NULL);
}

/* There is no heap to record a failure on: it goes to *why. */
static wgc_heap *refuse(wgc_error *why, wgc_error err, const char *what)
{
    if (why)
        *why = err;
    wgc__misuse(NULL, "wgc_heap_new: %s", what);
    return NULL;
}

wgc_heap *wgc_heap_create(const wgc_config *cfg, wgc_error *why)
{
    wgc_config config;
    if (cfg)
        config = *cfg;
    else
        wgc_config_init(&config);
    if (!(config.growth_factor > 1.0) || config.growth_factor > 1000.0)
        return refuse(why, WGC_EINVAL, "growth_factor must be above 1 and at most 1000");
    if (config.initial_heap_size == 0)
        config.initial_heap_size = (size_t)4 << 20;
    if (config.max_heap_size && config.max_heap_size < WGC_PAGE_SIZE)
        return refuse(why, WGC_EINVAL, "max_heap_size must be 0 or at least 64 KiB");
    if (config.max_heap_size && config.initial_heap_size > config.max_heap_size)
        config.initial_heap_size = config.max_heap_size;
    const char *stress = getenv("WGC_STRESS");
    if (stress && *stress) {
        char *end;
        unsigned long n = strtoul(stress, &end, 10);
        if (*end == '\0' && n <= UINT32_MAX)
            config.stress_interval = (unsigned)n;
    }
    if ((unsigned)config.collector > WGC_COLLECTOR_GENERATIONAL)
        return refuse(why, WGC_EINVAL, "collector must be a wgc_collector");
    const char *collector = getenv("WGC_COLLECTOR");
    if (config.collector == WGC_COLLECTOR_DEFAULT)
        config.collector = collector && !strcmp(collector, "generational")
                               ? WGC_COLLECTOR_GENERATIONAL : WGC_COLLECTOR_FULL;
    const char *print = getenv("WGC_PRINT_STATS");
    if (print && (print[0] == '0' || print[0] == '1') && print[1] == '\0')
        config.print_stats = print[0] == '1';

    wgc_heap *heap = calloc(1, sizeof *heap);
    if (!heap)
        return refuse(why, WGC_ENOMEM, "memory for the heap refused");
    if (why)
        *why = WGC_OK;
    heap->pub.sig = WGC_SIG_HEAP;
    heap->config = config;
    heap->budget = config.initial_heap_size;
    heap->stress_countdown = config.stress_interval;
    /* [Y1] New large objects have mark_epoch 0: unmarked, young. */
    heap->mark_epoch = 1;
    heap->alloc_bits = 1;
    heap->generational = config.collector == WGC_COLLECTOR_GENERATIONAL;
    wgc__vec_init(&heap->remembered, sizeof(void *));
    wgc__roots_init(heap);
    wgc__trace_init(heap);
    wgc__vec_init(&heap->destructibles, sizeof(void *));
    wgc__specials_init(heap);
#if WGC_VALGRIND || WGC_ASAN
    heap->memcheck = mt_detect();
#endif
    mt_heap_created(heap);
    wgc__space_init(heap);
    return heap;
}

static void destroy_everything(wgc_heap *heap)
{
    /* Destructors of every object still allocated, in allocation order. */
    vec *d = &heap->destructibles;
    for (size_t i = 0; i < d->count; i++) {
        void *obj = VEC_AT(d, void *, i);
        type_of(obj)->destroy(obj);
    }
    d->count = 0;
}

void wgc_heap_free(wgc_heap *heap)
{
    if (!wgc__check_heap(heap))
        return;
    bool in_cleanup = wgc__in_cleanup(heap);
    if (heap->callback != CALLBACK_NONE || in_cleanup) {
        wgc__misuse(heap, in_cleanup ? "wgc_heap_free called from a cleanup callback or group executor"
                          : heap->callback == CALLBACK_HEAP_FREE ? "wgc_heap_free called by a destructor it runs"
                                                      : "wgc_heap_free called from inside a collection");
        wgc__fail(heap, WGC_EREENTRY);
        return;
    }
    heap->callback = CALLBACK_HEAP_FREE;
    wgc__allocators_retire(heap); /* destructors must not allocate [G5] */
    destroy_everything(heap);
    wgc__roots_free(heap);
    wgc__trace_free(heap);
    wgc__space_free(heap);
    wgc__vec_free(&heap->remembered);
    wgc__vec_free(&heap->destructibles);
    wgc__specials_free(heap);
    mt_heap_destroyed(heap);
    /* Volatile: a plain store just before free() is dead to the compiler,
     * which drops it, and a freed heap would still read as live. */
    *(volatile uint32_t *)&heap->pub.sig = WGC_SIG_DEAD;
    free(heap);
}

/* ================================================================== stats */

bool wgc_stats(const wgc_heap *heap, wgc_heap_stats *out)
{
    if (!wgc__check_heap(heap) || !out)
        return false;
    wgc__stats_sync(heap, out);
    return true;
}
