// tests/test_cpp.cpp -- wgc/wgc.hpp: frames pushed and popped by scope, and
// the frame stack's depth restored by scope, when an exception unwinds.
#include <criterion/criterion.h>

#include <stdexcept>

#include "wgc/wgc.hpp"

namespace {

struct node {
    node *next;
};
void node_trace(void *obj, wgc_visitor *v) { wgc_visit(v, &static_cast<node *>(obj)->next); }
const wgc_type node_type = {"node", node_trace, nullptr, nullptr, 0};

node *make(wgc_heap *h, node *next)
{
    node *n = static_cast<node *>(wgc_alloc(h, &node_type, sizeof(node)));
    cr_assert(n);
    n->next = next;
    return n;
}

// Builds a list rooted by a wgc::frame, then throws out of it.
void build_and_throw(wgc_heap *h, int n)
{
    node *list = nullptr, *spare = nullptr;
    wgc::frame roots(h, &list, &spare);
    for (int i = 0; i < n; i++)
        list = make(h, list);
    cr_assert(wgc_collect(h)); // the frame roots the list
    int len = 0;
    for (node *p = list; p; p = p->next)
        len++;
    cr_assert_eq(len, n);
    throw std::runtime_error("unwinding");
}

// A frame pushed C-style, never popped: the exception skips the pop.
void c_style_throw(wgc_heap *h)
{
    node *x = make(h, nullptr);
    WGC_FRAME(h, &x);
    throw 42;
    WGC_FRAME_POP(h);
}

} // namespace

Test(cpp, frame_is_popped_when_an_exception_unwinds)
{
    wgc_heap *h = wgc_heap_new(nullptr);
    cr_assert_null(wgc_frame_top(h));
    try {
        build_and_throw(h, 1000);
        cr_assert_fail("no exception");
    } catch (const std::runtime_error &) {
    }
    cr_assert_null(wgc_frame_top(h), "the frame's destructor popped it");
    cr_assert(wgc_collect(h));
    wgc_heap_stats st;
    cr_assert(wgc_stats(h, &st));
    cr_assert_eq(st.live_bytes, 0u, "the list is garbage once unwound");
    wgc_heap_free(h);
}

Test(cpp, frame_guard_restores_the_depth)
{
    wgc_heap *h = wgc_heap_new(nullptr);
    {
        node *outer = make(h, nullptr);
        wgc::frame roots(h, &outer);
        wgc_frame *depth = wgc_frame_top(h);
        try {
            wgc::frame_guard guard(h);
            c_style_throw(h);
        } catch (int) {
        }
        cr_assert_eq(wgc_frame_top(h), depth, "the guard dropped the stale frame");
        cr_assert(wgc_collect(h));
        cr_assert(wgc_is_object(h, outer));
    }
    cr_assert_null(wgc_frame_top(h));
    wgc_heap_free(h);
}
