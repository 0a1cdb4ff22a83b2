/*
 * wgc/debug.h -- checks and fault injection for tests and debugging.
 * Available in every build; debug builds (meson -Ddebug_checks=true) also
 * verify the heap after every collection and poison freed memory.
 */
#ifndef WGC_DEBUG_H
#define WGC_DEBUG_H

#include "heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks the heap's invariants: every internal structure first (the page
 * table and pages with their accounting, allocators, handles, the trace
 * state, the remembered set, weak maps, and the registries' and groups'
 * cleanup queues with their delivery order), then every live object's
 * strong and weak slots point at NULL or the start of a live object.
 * Returns true when all hold; otherwise reports the first broken one
 * through config.log (kind WGC_LOG_MISUSE, a message starting "check: "),
 * or stderr without a log, and returns false.  Available in every build.
 * Refused (false) from inside a collection (a trace callback, destructor
 * or hook). */
WGC_API bool wgc_debug_verify(wgc_heap *heap);

/* Fault injection: makes the `k`-th internal memory request from now (an
 * mmap or the growth of an internal table; 1 = the next one) fail, and
 * every later one too while `sticky` is true.  k = 0 turns it off, and so
 * does a k too large to count to (more than UINT64_MAX minus the requests
 * made so far): no request fails then.  A collection never fails: it
 * falls back to algorithms that need no memory.  A NULL heap: no effect. */
WGC_API void wgc_debug_fail_request(wgc_heap *heap, uint64_t k, bool sticky);

/* How many internal memory requests the heap has made so far.  0 for a NULL heap. */
WGC_API uint64_t wgc_debug_requests(const wgc_heap *heap);

/* Whether this library was built with debug checks (-Ddebug_checks=true):
 * heap verification after every collection, poisoning and quarantine of
 * dead cells, checked slots, misuse reports. */
WGC_API bool wgc_debug_checks_enabled(void);

#ifdef __cplusplus
}
#endif
#endif
