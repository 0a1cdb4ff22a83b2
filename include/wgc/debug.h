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

/* Walks the whole heap and checks its invariants: every live object's
 * strong and weak slots point at NULL or the start of a live object, page
 * accounting adds up, the queues are consistent.  Returns true when all
 * hold; otherwise prints the first broken one to stderr and returns false.
 * Must not be called from inside a collection. */
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
