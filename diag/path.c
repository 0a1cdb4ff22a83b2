/*
 * diag/path.c -- "why is this alive?": a shortest retaining path from a
 * root (wgc/diag.h).  The walk is breadth-first [D3], so following the
 * parents of the object's node back to a root gives a shortest path.
 */
#include "diag/diag_internal.h"

const char *wgc_root_kind_name(wgc_root_kind kind)
{
    switch (kind) {
    case WGC_ROOT_HANDLE: return "handle";
    case WGC_ROOT_FRAME: return "frame";
    case WGC_ROOT_KEPT: return "kept";
    case WGC_ROOT_CALLBACK: return "trace_roots";
    }
    return "?";
}

void wgc_path_release(wgc_path *path)
{
    if (!path)
        return;
    free(path->steps);
    *path = (wgc_path){0};
}

bool wgc_path_find(wgc_heap *heap, const void *obj, wgc_path *out)
{
    if (!out)
        return wgc__check_heap(heap) && wgc__fail(heap, WGC_EINVAL);
    *out = (wgc_path){0};
    if (!wgc__check_heap(heap))
        return false;
    if (!wgc__is_allocated(heap, obj))
        return wgc__fail(heap, WGC_EINVAL);
    if (!wgc__enter(heap))
        return false;
    dwalk w;
    if (!wgc__record(heap, wgc__diag_walk(heap, &w, false, obj))) {
        wgc__diag_walk_free(&w);
        return false;
    }
    size_t at = wgc__diag_node_of(&w, obj);
    if (at == DIAG_NONE) {
        wgc__diag_walk_free(&w);
        return true; /* unreachable: garbage */
    }
    size_t length = 1;
    for (size_t i = at; DVEC_AT(&w.nodes, dnode, i).parent != DIAG_NONE;
         i = DVEC_AT(&w.nodes, dnode, i).parent)
        length++;
    wgc_path_step *steps = calloc(length, sizeof *steps);
    if (!steps) {
        wgc__diag_walk_free(&w);
        return wgc__fail(heap, WGC_ENOMEM);
    }
    size_t i = at;
    for (size_t k = length; k-- > 0; ) {
        const dnode *n = &DVEC_AT(&w.nodes, dnode, i);
        const wgc_type *t = type_of(n->obj);
        steps[k] = (wgc_path_step){n->obj, t, wgc__diag_name(t), n->slot.in_object,
                                   n->slot.where, n->key};
        if (k == 0) {
            const droot *r = &DVEC_AT(&w.roots, droot, n->root);
            out->root_kind = r->kind;
            out->root_index = r->index;
            out->root_slot = r->slot;
            out->root_address = r->address;
            steps[0].in_object = false;
            steps[0].slot = 0;
        }
        i = n->parent;
    }
    out->length = length;
    out->steps = steps;
    wgc__diag_walk_free(&w);
    return true;
}

bool wgc_path_print(const wgc_path *path, FILE *out)
{
    if (!path || !out)
        return false;
    if (path->length == 0) {
        fprintf(out, "unreachable: garbage that the next collection reclaims\n");
        return !ferror(out);
    }
    const wgc_path_step *last = &path->steps[path->length - 1];
    fprintf(out, "%p (%s) is reachable, %zu step%s from a root:\n", last->object,
            last->name, path->length, path->length == 1 ? "" : "s");
    fprintf(out, "  root: %s %zu", wgc_root_kind_name(path->root_kind),
            path->root_index);
    if (path->root_kind == WGC_ROOT_FRAME)
        fprintf(out, " slot %zu", path->root_slot);
    fprintf(out, " (at %p)\n", path->root_address);
    for (size_t k = 0; k < path->length; k++) {
        const wgc_path_step *s = &path->steps[k];
        if (k == 0)
            fprintf(out, "    holds");
        else if (s->in_object)
            fprintf(out, "    %s +%zu", path->steps[k - 1].name, s->slot);
        else
            fprintf(out, "    %s [%zu]", path->steps[k - 1].name, s->slot);
        fprintf(out, " -> %p (%s)", s->object, s->name);
        if (s->ephemeron_key)
            fprintf(out, "  [ephemeron value: its key %p (%s) is reachable]",
                    s->ephemeron_key, wgc__diag_name(type_of(s->ephemeron_key)));
        fputc('\n', out);
    }
    return !ferror(out);
}

bool wgc_why_alive(wgc_heap *heap, const void *obj, FILE *out)
{
    if (!out)
        return wgc__check_heap(heap) && wgc__fail(heap, WGC_EINVAL);
    wgc_path path;
    if (!wgc_path_find(heap, obj, &path))
        return false;
    bool ok = wgc_path_print(&path, out);
    wgc_path_release(&path);
    return ok;
}
