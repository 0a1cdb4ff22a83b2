/*
 * gc/memtool.h -- the one place that tells memory checkers about the heap.
 *
 * Under valgrind memcheck each heap is a mempool: cell memory is NOACCESS
 * until wgc_alloc hands it out (MEMPOOL_ALLOC, defined and zero) and again
 * once a collection finds it dead (MEMPOOL_FREE).  Under AddressSanitizer
 * the same points poison and unpoison.  Without either, every hook is an
 * empty inline function and compiles away.
 *
 * While annotating (heap->memcheck), the allocator hands out one cell per
 * slow-path call, so the inline fast path needs no annotation of its own,
 * and each collection walks its dead cells eagerly to free them.
 */
#ifndef WGC_GC_MEMTOOL_H
#define WGC_GC_MEMTOOL_H

#if WGC_VALGRIND
#include <valgrind/memcheck.h>
#endif
#if WGC_ASAN
#include <sanitizer/asan_interface.h>
#endif

static inline bool mt_active(const wgc_heap *heap)
{
#if WGC_VALGRIND || WGC_ASAN
    return heap->memcheck;
#else
    (void)heap;
    return false;
#endif
}

/* Decided once per heap: annotate when running under valgrind or ASan. */
static inline bool mt_detect(void)
{
#if WGC_ASAN
    return true;
#elif WGC_VALGRIND
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

static inline void mt_heap_created(wgc_heap *heap)
{
#if WGC_VALGRIND
    if (mt_active(heap))
        VALGRIND_CREATE_MEMPOOL(heap, 0, 0);
#endif
    (void)heap;
}

static inline void mt_heap_destroyed(wgc_heap *heap)
{
#if WGC_VALGRIND
    if (mt_active(heap))
        VALGRIND_DESTROY_MEMPOOL(heap);
#endif
    (void)heap;
}

/* Memory the heap owns but no object occupies: nobody may touch it. */
static inline void mt_no_access(const wgc_heap *heap, void *addr, size_t len)
{
    if (!mt_active(heap))
        return;
#if WGC_VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(addr, len);
#endif
#if WGC_ASAN
    ASAN_POISON_MEMORY_REGION(addr, len);
#endif
    (void)addr, (void)len;
}

/* Memory about to be written by the allocator itself (zeroing, headers). */
static inline void mt_writable(const wgc_heap *heap, void *addr, size_t len)
{
    if (!mt_active(heap))
        return;
#if WGC_VALGRIND
    VALGRIND_MAKE_MEM_UNDEFINED(addr, len);
#endif
#if WGC_ASAN
    ASAN_UNPOISON_MEMORY_REGION(addr, len);
#endif
    (void)addr, (void)len;
}

/* ASan's shadow outlives a mapping: a range unmapped while poisoned stays
 * poisoned, and the next mapping the kernel puts there inherits it.  So
 * memory is unpoisoned before it is unmapped, and a fresh mapping is
 * unpoisoned before its first store, whoever mapped the range before
 * (another heap, the program).  Memcheck tracks mappings itself. */
static inline void mt_unmapping(void *addr, size_t len)
{
#if WGC_ASAN
    ASAN_UNPOISON_MEMORY_REGION(addr, len);
#endif
    (void)addr, (void)len;
}

static inline void mt_mapped(void *addr, size_t len)
{
#if WGC_ASAN
    ASAN_UNPOISON_MEMORY_REGION(addr, len);
#endif
    (void)addr, (void)len;
}

/* A new object: its header and `size` bytes from obj become accessible. */
static inline void mt_object_alloc(wgc_heap *heap, void *obj, size_t size)
{
    if (!mt_active(heap))
        return;
#if WGC_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED((char *)obj - WGC_HEADER_SIZE, WGC_HEADER_SIZE);
    VALGRIND_MEMPOOL_ALLOC(heap, obj, size);
    VALGRIND_MAKE_MEM_DEFINED(obj, size);
#endif
#if WGC_ASAN
    ASAN_UNPOISON_MEMORY_REGION((char *)obj - WGC_HEADER_SIZE,
                                size + WGC_HEADER_SIZE);
#endif
    (void)heap, (void)obj, (void)size;
}

/* A dead object: `cell` bytes starting at its header become inaccessible. */
static inline void mt_object_free(wgc_heap *heap, void *obj, size_t cell)
{
    if (!mt_active(heap))
        return;
#if WGC_VALGRIND
    VALGRIND_MEMPOOL_FREE(heap, obj);
    VALGRIND_MAKE_MEM_NOACCESS((char *)obj - WGC_HEADER_SIZE, cell);
#endif
#if WGC_ASAN
    ASAN_POISON_MEMORY_REGION((char *)obj - WGC_HEADER_SIZE, cell);
#endif
    (void)heap, (void)obj, (void)cell;
}

#endif
