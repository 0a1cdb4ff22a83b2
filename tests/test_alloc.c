/*
 * tests/test_alloc.c -- allocation: every small size, large objects, zeroed
 * and aligned memory, wgc_size_of, wgc_type_of, wgc_is_object.
 */
#include "common.h"

#define SMALL_MAX 8184 /* the largest small object: an 8192-byte cell */

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Objects of this test, kept alive by the root callback. */
static void **kept;
static size_t kept_count;

static void trace_kept(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_array(v, kept, kept_count);
}

static unsigned char pattern_of(size_t i)
{
    return (unsigned char)(i * 131u + 7u) | 1u;
}

/* Every size 0..8184, traced and pointer-free: non-NULL, 16-byte aligned,
 * zeroed, of the right type and usable size, and no two objects overlap
 * (each is filled with its own pattern, all checked after a collection). */
static void every_size(const wgc_type *type)
{
    size_t skip = type->trace ? sizeof(void *) : 0;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = trace_kept;
    wgc_heap *h = new_heap_cfg(&cfg);
    kept_count = SMALL_MAX + 1;
    kept = calloc(kept_count, sizeof *kept);
    cr_assert_not_null(kept);

    for (size_t size = 0; size <= SMALL_MAX; size++) {
        unsigned char *obj = wgc_alloc(h, type, size);
        cr_assert_not_null(obj, "wgc_alloc(%zu) failed: %s", size,
                           wgc_error_string(wgc_last_error(h)));
        cr_assert_eq((uintptr_t)obj % 16, 0, "size %zu: %p not 16-byte aligned",
                     size, (void *)obj);
        size_t usable = wgc_size_of(obj);
        cr_assert_geq(usable, size, "size %zu: wgc_size_of is %zu", size, usable);
        /* size classes: the cell (object + one header word) is a multiple
         * of 16 bytes, at most 8192, and wastes at most a quarter */
        cr_assert_eq((usable + 8) % 16, 0, "size %zu: usable %zu", size, usable);
        cr_assert_leq(usable, SMALL_MAX, "size %zu: usable %zu", size, usable);
        cr_assert_leq(usable + 8, (size + 8 + 15) / 16 * 16 * 5 / 4 + 16,
                      "size %zu: usable %zu wastes too much", size, usable);
        cr_assert(all_zero(obj, usable), "size %zu: memory not zeroed", size);
        cr_assert_eq(wgc_type_of(obj), type);
        cr_assert(wgc_is_object(h, obj), "size %zu: not an object", size);
        /* a traced object's first word is its pointer field: left NULL */
        memset(obj + skip, pattern_of(size), usable - skip);
        kept[size] = obj;
    }
    collect(h);
    verify(h);
    for (size_t size = 0; size <= SMALL_MAX; size++) {
        unsigned char *obj = kept[size];
        cr_assert(wgc_is_object(h, obj));
        cr_assert_eq(wgc_type_of(obj), type);
        size_t usable = wgc_size_of(obj);
        for (size_t i = skip; i < usable; i++)
            cr_assert_eq(obj[i], pattern_of(size),
                         "object of size %zu overwritten at byte %zu", size, i);
    }
    kept_count = 0;
    collect(h);
    for (size_t size = 0; size <= SMALL_MAX; size++)
        cr_assert_not(wgc_is_object(h, kept[size]),
                      "size %zu: still an object after it died", size);
    wgc_heap_stats s = get_stats(h);
    cr_assert_lt(s.live_bytes, 4096, "live bytes %zu after dropping all", s.live_bytes);
    free(kept);
    wgc_heap_free(h);
}

Test(alloc, every_small_size_traced)
{
    every_size(&node_type);
}

Test(alloc, every_small_size_pointer_free)
{
    every_size(&blob_type);
}

/* wgc_alloc is inlined into callers (wgc/heap.h); the function itself is
 * what a pointer or WGC_NO_INLINE reaches.  Both must give every size the
 * smallest cell that holds it and the header word. */
Test(alloc, inline_and_called_paths_agree)
{
    wgc_heap *h = new_heap();
    void *(*called)(wgc_heap *, const wgc_type *, size_t) = wgc_alloc;
    size_t prev_cell = 0;
    for (size_t size = 0; size <= SMALL_MAX; size++) {
        unsigned c = wgc_size_class_(size);
        size_t cell = wgc_class_cell_(c);
        cr_assert_geq(cell, size + sizeof(void *), "size %zu: cell %zu too small", size, cell);
        cr_assert(c == 0 || wgc_class_cell_(c - 1) < size + sizeof(void *),
                  "size %zu: class %u is not the smallest that fits", size, c);
        cr_assert_geq(cell, prev_cell);
        prev_cell = cell;
        /* Checked before the next allocation, which may collect them. */
        void *a = wgc_alloc(h, &node_type, size);
        cr_assert_not_null(a, "size %zu: allocation failed", size);
        cr_assert_eq(wgc_size_of(a), cell - sizeof(void *), "size %zu (inline)", size);
        cr_assert_eq(wgc_type_of(a), &node_type);
        void *b = called(h, &node_type, size);
        cr_assert_not_null(b, "size %zu: allocation failed", size);
        cr_assert_eq(wgc_size_of(b), cell - sizeof(void *), "size %zu (called)", size);
        cr_assert_eq(wgc_type_of(b), &node_type);
    }
    cr_assert_eq(wgc_class_cell_(31), 8192);
    wgc_heap_free(h);
}

static void dnode_destroy(void *obj)
{
    cr_assert_null(((node *)obj)->next);
    destroyed_count++;
}

static const wgc_type dnode_type = {.name = "dnode", .trace = node_trace, .destroy = dnode_destroy};

Test(alloc, every_small_size_with_destructor)
{
    every_size(&dnode_type);
    cr_assert_eq(destroyed_count, SMALL_MAX + 1,
                 "%lu destructors ran for %d objects", destroyed_count, SMALL_MAX + 1);
}

/* Memory reused after a collection is zeroed again. */
Test(alloc, reused_memory_is_zeroed)
{
    wgc_heap *h = new_heap();
    static const size_t sizes[] = {0, 8, 24, 100, 500, 1000, 4000, SMALL_MAX, 20000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k];
        for (int round = 0; round < 3; round++) {
            /* fill many dead objects with garbage ... */
            for (int i = 0; i < 200; i++) {
                unsigned char *obj = wgc_alloc(h, &blob_type, size);
                cr_assert_not_null(obj);
                memset(obj, 0xa5, wgc_size_of(obj));
            }
            collect(h);
            /* ... then their cells come back zeroed */
            for (int i = 0; i < 200; i++) {
                unsigned char *obj = wgc_alloc(h, &node_type, size);
                cr_assert_not_null(obj);
                cr_assert(all_zero(obj, wgc_size_of(obj)),
                          "size %zu round %d object %d: reused memory not zeroed",
                          size, round, i);
                memset(obj, 0x5a, wgc_size_of(obj));
            }
            collect(h);
        }
    }
    wgc_heap_free(h);
}

/* Large objects: beyond the biggest size class, each in its own mapping. */
Test(alloc, large_objects)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = trace_kept;
    wgc_heap *h = new_heap_cfg(&cfg);
    static const size_t sizes[] = {
        SMALL_MAX + 1, 8192, 8193, 10000, 65536 - 64, 65536, 65537,
        100000, (size_t)1 << 20, ((size_t)3 << 20) + 5, (size_t)16 << 20,
    };
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *objs[N];
    kept = objs;
    kept_count = 0;
    wgc_heap_stats before = get_stats(h);
    size_t total = 0;
    for (size_t k = 0; k < N; k++) {
        unsigned char *obj = wgc_alloc(h, k % 2 ? &blob_type : &node_type, sizes[k]);
        cr_assert_not_null(obj, "large %zu failed: %s", sizes[k],
                           wgc_error_string(wgc_last_error(h)));
        cr_assert_eq((uintptr_t)obj % 16, 0);
        cr_assert_geq(wgc_size_of(obj), sizes[k]);
        cr_assert(all_zero(obj, sizes[k]), "large %zu not zeroed", sizes[k]);
        cr_assert_eq(wgc_type_of(obj), k % 2 ? &blob_type : &node_type);
        cr_assert(wgc_is_object(h, obj));
        cr_assert_not(wgc_is_object(h, obj + 16));
        memset(obj + 8, (int)(k + 1), sizes[k] - 8); /* first word: a slot */
        objs[k] = obj;
        kept_count = k + 1;
        total += sizes[k];
    }
    wgc_heap_stats s = get_stats(h);
    cr_assert_geq(s.bytes_allocated - before.bytes_allocated, total);
    cr_assert_geq(s.heap_size, total);
    collect(h);
    verify(h);
    s = get_stats(h);
    cr_assert_geq(s.live_bytes, total, "live %zu < %zu", s.live_bytes, total);
    for (size_t k = 0; k < N; k++) {
        unsigned char *obj = objs[k];
        cr_assert_null(*(void **)obj);
        for (size_t i = 8; i < sizes[k]; i += 997)
            cr_assert_eq(obj[i], (unsigned char)(k + 1));
        cr_assert_eq(obj[sizes[k] - 1], (unsigned char)(k + 1));
    }
    kept_count = 0;
    collect(h);
    s = get_stats(h);
    cr_assert_lt(s.live_bytes, 4096);
    for (size_t k = 0; k < N; k++)
        cr_assert_not(wgc_is_object(h, objs[k]));
    wgc_heap_free(h);
}

/* A large pointer-holding object: an array of slots traced with
 * wgc_visit_array keeps every element alive. */
typedef struct vector {
    size_t count;
    void *items[];
} vector;

static void vector_trace(void *obj, wgc_visitor *v)
{
    vector *vec = obj;
    wgc_visit_array(v, vec->items, vec->count);
}

static const wgc_type vector_type = {.name = "vector", .trace = vector_trace};

Test(alloc, large_vector_keeps_elements)
{
    wgc_heap *h = new_heap();
    size_t n = 5000;
    vector *vec = wgc_alloc(h, &vector_type, sizeof *vec + n * sizeof(void *));
    cr_assert_not_null(vec);
    wgc_root *r = wgc_root_new(h, vec);
    for (size_t i = 0; i < n; i++) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        cr_assert_not_null(c);
        c->id = i;
        vec->items[i] = c;
        vec->count = i + 1;
        wgc_write_barrier(h, vec);
        if (i % 1000 == 0)
            collect(h);
    }
    collect(h);
    cr_assert_eq(destroyed_count, 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(((cnode *)vec->items[i])->id, i);
    vec->count = n / 2; /* the upper half is no longer traced */
    collect(h);
    cr_assert_eq(destroyed_count, n - n / 2);
    wgc_root_free(r);
    collect(h);
    cr_assert_eq(destroyed_count, n);
    wgc_heap_free(h);
}

/* Pointer-free objects are never scanned: a pointer stored in one does not
 * keep its target alive. */
Test(alloc, pointer_free_objects_are_not_scanned)
{
    wgc_heap *h = new_heap();
    void **blob = wgc_alloc(h, &blob_type, 64);
    cr_assert_not_null(blob);
    wgc_root *r = wgc_root_new(h, blob);
    cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
    cr_assert_not_null(c);
    blob[0] = c;
    collect(h);
    cr_assert_eq(destroyed_count, 1, "an object referenced only from a "
                 "pointer-free object survived");
    cr_assert(wgc_is_object(h, blob));
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* wgc_is_object accepts any pointer value and says yes only for starts of
 * live objects of this heap. */
Test(alloc, is_object_rejects_non_objects)
{
    wgc_heap *h = new_heap();
    char *obj = wgc_alloc(h, &node_type, 40);
    cr_assert_not_null(obj);
    wgc_root *r = wgc_root_new(h, obj);
    int local;
    void *mallocd = malloc(64);
    cr_assert(wgc_is_object(h, obj));
    cr_assert_not(wgc_is_object(h, NULL));
    cr_assert_not(wgc_is_object(NULL, obj));
    cr_assert_not(wgc_is_object(h, obj + 1));
    cr_assert_not(wgc_is_object(h, obj + 8));
    cr_assert_not(wgc_is_object(h, obj + 16));
    cr_assert_not(wgc_is_object(h, obj - 8));
    cr_assert_not(wgc_is_object(h, &local));
    cr_assert_not(wgc_is_object(h, mallocd));
    cr_assert_not(wgc_is_object(h, (void *)(uintptr_t)0x10));
    cr_assert_not(wgc_is_object(h, (void *)(uintptr_t)0x7ffffffff000));
    cr_assert_not(wgc_is_object(h, (void *)&node_type));
    cr_assert_not(wgc_is_object(h, h));
    /* a cell beyond the allocation frontier of the same page */
    cr_assert_not(wgc_is_object(h, obj + 48 * 20));
    free(mallocd);
    wgc_root_free(r);
    wgc_heap_free(h);
}

/* A size callback is allowed, and honoured by the verifier. */
typedef struct str {
    size_t len;
    char data[];
} str;

static size_t str_size(const void *obj)
{
    return sizeof(str) + ((const str *)obj)->len;
}

static const wgc_type str_type = {.name = "str", .size = str_size};

Test(alloc, variable_sized_objects)
{
    wgc_heap *h = new_heap();
    wgc_root *r = wgc_root_new(h, NULL);
    for (size_t len = 0; len < 3000; len += 7) {
        str *s = wgc_alloc(h, &str_type, sizeof *s + len);
        cr_assert_not_null(s);
        s->len = len;
        memset(s->data, 'x', len);
        cr_assert_geq(wgc_size_of(s), str_size(s));
        if (len % 5 == 0)
            wgc_root_set(r, s);
    }
    collect(h);
    verify(h);
    str *last = wgc_root_get(r);
    cr_assert_not_null(last);
    for (size_t i = 0; i < last->len; i++)
        cr_assert_eq(last->data[i], 'x');
    wgc_heap_free(h);
}

/* The stats count what was allocated. */
Test(alloc, stats_count_allocations)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = new_heap_cfg(&cfg);
    wgc_heap_stats s0 = get_stats(h);
    cr_assert_eq(s0.collections, 0);
    cr_assert_eq(s0.objects_allocated, 0);
    cr_assert_eq(s0.bytes_allocated, 0);
    size_t bytes = 0;
    for (size_t i = 0; i < 1000; i++) {
        void *p = wgc_alloc(h, i % 3 ? &node_type : &blob_type, i);
        cr_assert_not_null(p);
        bytes += wgc_size_of(p);
    }
    wgc_heap_stats s = get_stats(h);
    cr_assert_eq(s.objects_allocated, 1000);
    cr_assert_geq(s.bytes_allocated, bytes);
    cr_assert_leq(s.bytes_allocated, bytes + 1000 * 16);
    cr_assert_eq(s.collections, 0);
    cr_assert_geq(s.heap_size, bytes);
    wgc_heap_free(h);
}

/* Mappings come and go while a memory checker watches: pages unmapped by a
 * trim or a heap's end, large objects unmapped by a sweep, and the kernel
 * hands the same addresses to the next mapping.  Under ASan a range
 * unmapped while poisoned kept its poison, and a large object's span header
 * stored into a fresh mapping there was reported (issue 13, item 2). */
Test(alloc, mappings_reused_under_memory_checkers)
{
    uint64_t seed = 13; /* fixed: the same sizes every run */
    for (int round = 0; round < 8; round++) {
        wgc_config cfg;
        wgc_config_init(&cfg);
        cfg.initial_heap_size = 256 << 10;
        cfg.trace_roots = trace_kept;
        wgc_heap *h = new_heap_cfg(&cfg);
        void *objs[8] = {0};
        kept = objs;
        kept_count = 8;
        for (int i = 0; i < 400; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t size = SMALL_MAX + 1 + (size_t)(seed >> 40) % (300 << 10);
            unsigned char *obj = wgc_alloc(h, &blob_type, size);
            cr_assert_not_null(obj, "round %d, large %zu: %s", round, size,
                               wgc_error_string(wgc_last_error(h)));
            obj[0] = obj[size - 1] = 1;
            objs[(seed >> 33) % 8] = obj;
            /* small garbage: pages filled, emptied, pooled and trimmed */
            for (int k = 0; k < 40; k++)
                wgc_alloc(h, &blob_type, 16 + (size_t)k * 200);
        }
        kept_count = 0;
        collect(h);
        wgc_heap_free(h);
    }
}
