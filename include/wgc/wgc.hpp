/*
 * wgc/wgc.hpp -- C++ helpers for the frame stack (wgc/heap.h), so that an
 * exception leaving a function cannot leave its frame behind.  Header-only;
 * include it instead of (or after) wgc.h.
 *
 *     void f(wgc_heap *h)
 *     {
 *         pair *a = nullptr, *b = nullptr;
 *         wgc::frame roots(h, &a, &b);   // a and b are roots until scope exit
 *         a = (pair *)wgc_alloc(h, &pair_type, sizeof *a);
 *         may_throw();                   // unwinding pops the frame
 *     }
 *
 *     try {
 *         wgc::frame_guard guard(h);     // saves the depth ...
 *         run_c_code_that_longjmps_or_throws();
 *     } catch (...) {}                   // ... and restores it on scope exit
 *
 * wgc::frame pops in its destructor, so frames are popped in reverse order
 * of construction, as the frame stack requires.  wgc::frame_guard is for
 * code it does not control (C code left by a longjmp or a throw from a
 * callback): it drops every frame pushed after its construction.
 */
#ifndef WGC_WGC_HPP
#define WGC_WGC_HPP

#include "../wgc.h"

namespace wgc {

/* A frame of local-variable addresses, pushed for the object's lifetime. */
class frame {
public:
    template <typename... T>
    explicit frame(wgc_heap *heap, T **...locals)
        : heap_(heap), slots_{static_cast<void *>(locals)...}
    {
        static_assert(sizeof...(T) > 0, "a frame holds at least one local");
        static_assert(sizeof...(T) <= 8, "at most 8 locals per wgc::frame: use two");
        wgc_frame_push(heap_, &frame_, slots_, sizeof...(T));
    }
    ~frame() { wgc_frame_pop(heap_, &frame_); }
    frame(const frame &) = delete;
    frame &operator=(const frame &) = delete;

private:
    wgc_heap *heap_;
    wgc_frame frame_;
    void *slots_[8];
};

/* Saves the frame stack's depth; restores it (wgc_frame_unwind) on scope
 * exit, however the scope is left. */
class frame_guard {
public:
    explicit frame_guard(wgc_heap *heap) : heap_(heap), top_(wgc_frame_top(heap)) {}
    ~frame_guard() { wgc_frame_unwind(heap_, top_); }
    frame_guard(const frame_guard &) = delete;
    frame_guard &operator=(const frame_guard &) = delete;

private:
    wgc_heap *heap_;
    wgc_frame *top_;
};

} // namespace wgc

#endif
