/*
 * gc/check.h -- the check layer [G9] [G10] (docs/gc.md, "The check layer").  Not
 * installed.
 *
 * Three levels, as in MPS (AVER, AVERT, the checking varieties):
 *  - WGC_ASSERT(cond): an invariant the library itself keeps.  Compiled
 *    in debug builds (-Ddebug_checks=true) only, so it may sit on hot
 *    paths; in release builds the condition is not even evaluated.  On
 *    failure it logs file:line and the condition (config.log, kind
 *    WGC_LOG_MISUSE, or stderr) and aborts.
 *  - the always-on checks: only where a public contract promises a result
 *    for bad input in every build (wgc__check_heap, wgc__owner_check,
 *    the handle tokens of gc/roots.c).  They are cheap signature compares
 *    and are not written with this header.
 *  - a *_check function per structure, in the module that owns it,
 *    returning whether it holds and reporting the first problem through
 *    wgc__check_fail.  wgc_debug_verify runs them all; debug builds run it
 *    after every collection.  They must be callable between collections
 *    only (no cycle in progress, no callback running).
 */
#ifndef WGC_GC_CHECK_H
#define WGC_GC_CHECK_H

#include <stdbool.h>

typedef struct wgc_heap wgc_heap;

/* Reports a failed assertion through heap's log (heap may be NULL) and
 * aborts. */
_Noreturn void wgc__assert_fail(const wgc_heap *heap, const char *file, int line,
                                const char *cond);

#if WGC_DEBUG_CHECKS
#define WGC_ASSERT_IN(heap, cond)                                            \
    ((cond) ? (void)0 : wgc__assert_fail((heap), __FILE__, __LINE__, #cond))
#else
/* sizeof keeps the names used (no unused warnings) without evaluating. */
#define WGC_ASSERT_IN(heap, cond) ((void)sizeof(heap), (void)sizeof(!(cond)))
#endif
/* For code with no heap at hand: the report goes to stderr. */
#define WGC_ASSERT(cond) WGC_ASSERT_IN((const wgc_heap *)0, cond)

/* A *_check function's report: "check: <structure> <address>: <what>",
 * through the heap's log.  Returns false, so a check ends with
 * `return wgc__check_fail(heap, ...);`. */
bool wgc__check_fail(const wgc_heap *heap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ======================================= the checks, one per structure */

bool wgc__heap_check(wgc_heap *heap);          /* gc/heap.c */
bool wgc__space_check(wgc_heap *heap);         /* gc/alloc.c: allocators, pages */
bool wgc__page_table_check(wgc_heap *heap);    /* gc/pages.c: table, pool, large */
bool wgc__trace_check(wgc_heap *heap);         /* gc/mark.c: between collections */
bool wgc__roots_check(wgc_heap *heap);         /* gc/roots.c */
bool wgc__specials_check(wgc_heap *heap);      /* gc/specials.c, and each special's */
bool wgc__remembered_check(wgc_heap *heap);    /* gc/barrier.c [Y2] */
bool wgc__cleanup_check(wgc_heap *heap);       /* finalize/cleanup.c: the owners */

#endif
