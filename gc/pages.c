/*
 * gc/pages.c -- memory from the OS: 64 KiB-aligned pages for small objects,
 * one aligned mapping per large object, the free-page pool, and the page
 * table that tells whether an address is one of this heap's spans.
 */
#include "gc/internal.h"

#include <sys/mman.h>

/* ============================================================ page table */

/* Makes room for one more span. */
static bool table_reserve(wgc_heap *heap)
{
    return wgc__addrtable_reserve(&heap->space.page_table);
}

static void table_add(wgc_heap *heap, const void *s)
{
    wgc__addrtable_add(&heap->space.page_table, s);
}

static void table_remove(wgc_heap *heap, const void *s)
{
    void *item = wgc__addrtable_find(&heap->space.page_table, s);
    if (item)
        wgc__addrtable_remove_at(item);
}

bool wgc__span_known(const wgc_heap *heap, const span *s)
{
    return wgc__addrtable_find_sized(&heap->space.page_table, s, sizeof(span *)) != NULL;
}

/* ============================================================== mappings */

size_t wgc__heap_bytes(const wgc_heap *heap)
{
    return heap->space.page_count * WGC_PAGE_SIZE + heap->space.large_bytes;
}

static bool within_max(wgc_heap *heap, size_t more)
{
    size_t max = heap->config.max_heap_size;
    return max == 0 || (more <= max && wgc__heap_bytes(heap) <= max - more);
}

/* Every unmapping goes through here: see mt_unmapping. */
static void unmap(void *addr, size_t len)
{
    mt_unmapping(addr, len);
    munmap(addr, len);
}

/* `size` bytes (a multiple of the page size) aligned to WGC_PAGE_SIZE. */
static void *map_aligned(wgc_heap *heap, size_t size)
{
    if (size > SIZE_MAX - WGC_PAGE_SIZE || !wgc__request(heap))
        return NULL;
    size_t span_size = size + WGC_PAGE_SIZE;
    char *raw = mmap(NULL, span_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)raw + WGC_PAGE_SIZE - 1) &
                           ~(uintptr_t)(WGC_PAGE_SIZE - 1));
    if (start > raw)
        unmap(raw, (size_t)(start - raw));
    char *end = start + size;
    if (end < raw + span_size)
        unmap(end, (size_t)(raw + span_size - end));
    mt_mapped(start, size);
    return start;
}

/* A pooled page, or NULL.  Debug builds quarantine the pages the last
 * collection emptied, as they do cells: unless `any`, those stay pooled. */
static page *pool_take(wgc_heap *heap, bool any)
{
    page **link = &heap->space.free_pages;
#if WGC_DEBUG_CHECKS
    while (!any && *link && (*link)->released_epoch == heap->epoch)
        link = &(*link)->next;
#endif
    (void)any;
    page *p = *link;
    if (p) {
        *link = p->next;
        heap->space.free_page_count--;
    }
    return p;
}

/* A fresh page from the reserve, mapping more if needed, in *out; why not
 * when the maximum or the OS refuses. */
static wgc_error page_map(wgc_heap *heap, page **out)
{
    if (!within_max(heap, WGC_PAGE_SIZE))
        return WGC_EHEAPMAX;
    if (!table_reserve(heap))
        return WGC_ENOMEM;
    space *sp = &heap->space;
    if (sp->reserve_pages == 0) {
        char *run = map_aligned(heap, WGC_PAGES_PER_MAP * WGC_PAGE_SIZE);
        if (!run)
            return WGC_ENOMEM;
        mt_no_access(heap, run, WGC_PAGES_PER_MAP * WGC_PAGE_SIZE);
        sp->reserve = run;
        sp->reserve_pages = WGC_PAGES_PER_MAP;
    }
    page *p = (page *)sp->reserve;
    sp->reserve += WGC_PAGE_SIZE;
    sp->reserve_pages--;
    mt_writable(heap, p, sizeof *p);
    memset(p, 0, sizeof *p);
    p->s.fresh = 1;
    table_add(heap, p);
    sp->page_count++;
    *out = p;
    return WGC_OK;
}

wgc_error wgc__page_get(wgc_heap *heap, page **out)
{
    if ((*out = pool_take(heap, false)))
        return WGC_OK;
    wgc_error err = page_map(heap, out);
    if (err && (*out = pool_take(heap, true)))
        return WGC_OK; /* a quarantined page after all */
    return err;
}

/* An empty page goes to the pool; its cells become inaccessible. */
void wgc__page_release(wgc_heap *heap, page *p)
{
    mt_no_access(heap, first_cell(p),
                 WGC_PAGE_SIZE - WGC_PAGE_FIRST_CELL);
    p->s.fresh = 0;
    p->pooled_epoch = heap->epoch;
#if WGC_DEBUG_CHECKS
    p->released_epoch = heap->epoch;
#endif
    space *sp = &heap->space;
    p->next = sp->free_pages;
    sp->free_pages = p;
    sp->free_page_count++;
}

/* A list of pages (by next) in address order: a merge sort, which needs no
 * memory (a collection must not fail for want of it). */
static page *sort_by_address(page *list)
{
    if (!list || !list->next)
        return list;
    page *a = NULL, *b = NULL;
    while (list) { /* deal out alternately */
        page *next = list->next;
        list->next = a;
        a = list;
        list = next;
        if (list) {
            next = list->next;
            list->next = b;
            b = list;
            list = next;
        }
    }
    a = sort_by_address(a);
    b = sort_by_address(b);
    page *head = NULL, **tail = &head;
    while (a && b) {
        page **min = (uintptr_t)a < (uintptr_t)b ? &a : &b;
        *tail = *min;
        tail = &(*min)->next;
        *min = (*min)->next;
    }
    *tail = a ? a : b;
    return head;
}

/* Unmaps a list of pages already taken out of the heap's accounts,
 * neighbours in one call: a munmap pays a TLB shootdown however much it
 * returns. */
static void unmap_pages(page *list)
{
    list = sort_by_address(list);
    while (list) {
        char *start = (char *)list;
        size_t len = 0;
        while (list && (char *)list == start + len) {
            len += WGC_PAGE_SIZE;
            list = list->next;
        }
        unmap(start, len);
    }
}

/* Takes pooled pages out of the heap until it holds `keep` pages, only those
 * pooled at least `min_age` collections ago; returns them as a list. */
static page *pool_shed(wgc_heap *heap, size_t keep, uint64_t min_age)
{
    space *sp = &heap->space;
    page *out = NULL, **link = &sp->free_pages;
    while (sp->page_count > keep && *link) {
        page *p = *link;
        if (heap->epoch - p->pooled_epoch < min_age) {
            link = &p->next;
            continue;
        }
        *link = p->next;
        sp->free_page_count--;
        sp->page_count--;
        table_remove(heap, p);
        p->next = out;
        out = p;
    }
    return out;
}

/* [C2] What the pool keeps.  A page emptied by one collection is usually
 * needed again before the next (the budget is spent on fresh cells), so
 * returning it at once makes every cycle unmap a page and fault a new one
 * in.  Instead a pooled page goes back to the OS when it has sat unused for
 * WGC_POOL_IDLE collections, or at once when the heap holds more than
 * twice its target (plus WGC_POOL_SLACK pages): a heap whose live data
 * fell.  Either way the heap keeps at least target / 64 KiB + 1 pages.
 * Every input is a count of collections or bytes: never time. */
#define WGC_POOL_IDLE 8
#define WGC_POOL_SLACK 16

void wgc__pages_trim(wgc_heap *heap, size_t target_bytes)
{
    size_t keep = target_bytes / WGC_PAGE_SIZE + 1;
    bool far = heap->space.page_count > 2 * keep + WGC_POOL_SLACK;
    unmap_pages(pool_shed(heap, keep, far ? 0 : WGC_POOL_IDLE));
}

/* ========================================================= large objects */

wgc_error wgc__large_new(wgc_heap *heap, size_t size, large **out)
{
    if (size > SIZE_MAX / 2)
        return WGC_EOVERFLOW;
    size_t map_size = (WGC_LARGE_OBJECT_OFFSET + size + 4095) & ~(size_t)4095;
    if (!within_max(heap, map_size)) /* pooled pages cannot hold it: let them go */
        unmap_pages(pool_shed(heap, 0, 0));
    if (!within_max(heap, map_size))
        return WGC_EHEAPMAX;
    if (!table_reserve(heap))
        return WGC_ENOMEM;
    large *l = map_aligned(heap, map_size);
    if (!l)
        return WGC_ENOMEM;
    mt_no_access(heap, (char *)l + sizeof *l, map_size - sizeof *l);
    *l = (large){
        .s = {.kind = SPAN_LARGE, .owner = ~(uintptr_t)heap},
        .map_size = map_size,
        .size = size,
        .next = heap->space.large_objects,
    };
    if (l->next)
        l->next->prev = l;
    heap->space.large_objects = l;
    heap->space.large_bytes += map_size;
    table_add(heap, l);
    *out = l;
    return WGC_OK;
}

void wgc__large_free(wgc_heap *heap, large *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        heap->space.large_objects = l->next;
    if (l->next)
        l->next->prev = l->prev;
    heap->space.large_bytes -= l->map_size;
    table_remove(heap, l);
    l->next = heap->space.unmap_large;
    heap->space.unmap_large = l;
}

void wgc__large_unmap_dead(wgc_heap *heap)
{
    space *sp = &heap->space;
    while (sp->unmap_large) {
        large *next = sp->unmap_large->next;
        unmap(sp->unmap_large, sp->unmap_large->map_size);
        sp->unmap_large = next;
    }
}

void wgc__space_free(wgc_heap *heap)
{
    space *sp = &heap->space;
    page *all = NULL;
    SPACE_EACH_PAGE(sp, it) {
        page_iter_remove(&it);
        it.p->next = all;
        all = it.p;
    }
    while (sp->free_pages) {
        page *next = sp->free_pages->next;
        sp->free_pages->next = all;
        all = sp->free_pages;
        sp->free_pages = next;
    }
    unmap_pages(all);
    if (sp->reserve_pages)
        unmap(sp->reserve, sp->reserve_pages * WGC_PAGE_SIZE);
    sp->reserve_pages = 0;
    SPACE_EACH_LARGE(sp, l)
        unmap(l, l->map_size);
    sp->large_objects = NULL;
    wgc__large_unmap_dead(heap);
    sp->page_count = sp->free_page_count = sp->large_bytes = 0;
    wgc__addrtable_free(&sp->page_table);
    wgc__vec_free(&sp->touched);
}

/* ================================================================ checks */

/* [G10] The page table holds exactly the spans in use or pooled; the pool
 * and the large-object list are well linked and add up. */
bool wgc__page_table_check(wgc_heap *heap)
{
    space *sp = &heap->space;
    size_t live;
    if (!wgc__addrtable_check(heap, &sp->page_table, "page table", &live))
        return false;
    size_t pooled = 0;
    for (page *p = sp->free_pages; p; p = p->next, pooled++) {
        if (pooled >= sp->page_count || !wgc__span_known(heap, &p->s))
            return wgc__check_fail(heap, "free page pool: page %p (number %zu "
                                   "of %zu) %s", (void *)p, pooled,
                                   sp->free_page_count,
                                   pooled >= sp->page_count ? "past the page count"
                                                            : "missing from the page table");
    }
    if (pooled != sp->free_page_count)
        return wgc__check_fail(heap, "free page pool: %zu pages, counted %zu",
                               pooled, sp->free_page_count);
    size_t larges = 0, bytes = 0;
    bool old_seen = sp->large_old == NULL;
    for (large *l = sp->large_objects, *prev = NULL; l; prev = l, l = l->next) {
        if (l->s.kind != SPAN_LARGE || l->s.owner != ~(uintptr_t)heap ||
            l->prev != prev || !wgc__span_known(heap, &l->s))
            return wgc__check_fail(heap, "large object %p: kind %#x, owner %s, "
                                   "prev %p (expected %p), %sin the page table",
                                   (void *)l, l->s.kind,
                                   l->s.owner == ~(uintptr_t)heap ? "this heap" : "another",
                                   (void *)l->prev, (void *)prev,
                                   wgc__span_known(heap, &l->s) ? "" : "not ");
        old_seen |= l == sp->large_old;
        larges++;
        bytes += l->map_size;
    }
    if (bytes != sp->large_bytes)
        return wgc__check_fail(heap, "large objects: %zu bytes mapped, counted %zu",
                               bytes, sp->large_bytes);
    if (!old_seen)
        return wgc__check_fail(heap, "large objects: large_old %p is not in the "
                               "list [Y5]", (void *)sp->large_old);
    if (live != sp->page_count + larges)
        return wgc__check_fail(heap, "page table: %zu spans, but %zu pages and %zu "
                               "large objects", live, sp->page_count, larges);
    return true;
}
