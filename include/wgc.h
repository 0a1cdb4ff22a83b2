/*
 * wgc.h -- the whole public API of wgc, a precise mark-sweep garbage
 * collector with weak references, ephemerons and finalization registries.
 *
 *   wgc/heap.h      heap, types, allocation, tracing, roots, collection, stats
 *   wgc/weak.h      weak slots, ephemerons, WeakRef, WeakRefGroup, weak maps
 *   wgc/finalize.h  FinalizationRegistry, cleanup queue, safe points
 *   wgc/debug.h     verification, fault injection (for tests and debugging)
 *   wgc/diag.h      census by type, retaining paths, DevTools heap snapshots
 *   wgc/version.h   WGC_VERSION_MAJOR/MINOR/PATCH, wgc_version()
 *
 * C++: wgc/wgc.hpp adds RAII classes for frames (push and pop by scope).
 */
#ifndef WGC_H
#define WGC_H

#include "wgc/version.h"
#include "wgc/heap.h"
#include "wgc/weak.h"
#include "wgc/finalize.h"
#include "wgc/debug.h"
#include "wgc/diag.h"

#endif
