/*
 * weak/group.c -- WeakRefGroup: refs whose dead targets queue the ref on
 * its group, delivered to the group's executor at safe points.  Rules W6
 * to W10 and W15 (shutdown) of docs/weak.md; a queue owner of
 * finalize/queue.h [F15].
 *
 * A collection touches only the group refs whose targets it finds dead
 * (through the notify of their weak slot): it never polls a group.
 */
#include "weak/weak_internal.h"

/* ================================================================ queue */

static void append(wgc_group *g, group_ref *r)
{
    WGC_ASSERT(!(r->ref.flags & REF_QUEUED) && r->group == g); /* [W7] */
    r->prev = g->tail;
    r->next = NULL;
    if (g->tail)
        g->tail->next = r;
    else
        g->head = r;
    g->tail = r;
    r->ref.flags |= REF_QUEUED;
    g->q.pending++;
}

void wgc__group_unlink(wgc_group *g, group_ref *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        g->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        g->tail = r->prev;
    r->prev = r->next = NULL;
    r->ref.flags &= ~(uintptr_t)REF_QUEUED;
    g->q.pending--;
}

/* ============================================================ tracing */

/* Inside the collection, in seq order: the target of a live ref died. */
static void ref_target_died(wgc_heap *heap, void *owner, void *slot)
{
    (void)slot;
    group_ref *r = owner;
    if (!r->group || !is_marked(heap, r->group))
        return; /* [W10] a dead group queues nothing */
    if (r->group->shut) {
        wgc__group_ref_release(r); /* [W15] nobody will be handed them */
        return;
    }
    r->queued_epoch = heap->epoch;
    append(r->group, r);
    heap->stats.group_refs_queued++;
    heap->queued_cleanup = true;
}

static void trace_group_ref(void *obj, wgc_visitor *v)
{
    group_ref *r = obj;
    wgc__visit_weak_notify(v, &r->ref.target, r, ref_target_died, r->seq);
    if (r->ref.flags & REF_HOLDINGS_TRACED)
        wgc_visit(v, &r->ref.holdings);
    wgc_visit_weak(v, &r->group);
    /* The queue links are the group's to trace: a queued ref that outlives
     * its group must not keep its old neighbours alive [W10].  Its links
     * then dangle, but nothing follows them once `group` is NULL. */
}

const wgc_type wgc__group_ref_type = {.name = "WeakRefGroup ref", .trace = trace_group_ref};

static void trace_group(void *obj, wgc_visitor *v)
{
    wgc_group *g = obj;
    wgc_visit(v, &g->head);
    for (group_ref *r = g->head; r; r = r->next)
        wgc_visit(v, &r->next);
}

static void destroy_group(void *obj)
{
    wgc__owner_remove(&((wgc_group *)obj)->q);
}

static const wgc_type group_type = {.name = "WeakRefGroup", .trace = trace_group, .destroy = destroy_group};

/* ============================================================ delivery */

static bool queue_head(queue_owner *o, uint64_t *epoch, uint64_t *seq)
{
    wgc_group *g = (wgc_group *)o;
    if (!g->head || !g->executor)
        return false;
    *epoch = g->head->queued_epoch;
    *seq = g->head->seq;
    return true;
}

/* Takes the oldest ref off the queue and runs fn on it, rooted. */
static int deliver_with(wgc_group *g, wgc_group_fn fn, void *user)
{
    wgc_heap *heap = g->q.sp.heap;
    group_ref *r = g->head;
    wgc__group_unlink(g, r);
    /* [W9] Delivered: the ref gives its holdings up before fn gets them,
     * so a host that keeps the ref does not keep them alive.  The frame
     * roots them (when they are an object) for the call. */
    void *holdings = r->ref.holdings;
    void *rooted = r->ref.flags & REF_HOLDINGS_TRACED ? holdings : NULL;
    wgc__group_ref_release(r);
    WGC_FRAME(heap, &g, &r, &rooted);
    heap->stats.group_refs_run++;
    int result = fn(heap, &r->ref, holdings, user);
    WGC_FRAME_POP(heap);
    return result;
}

/* A manual finalization's function, or NULL for the executor. */
typedef struct manual {
    wgc_group_fn fn;
    void *user;
} manual;

static int deliver(queue_owner *o, void *arg)
{
    wgc_group *g = (wgc_group *)o;
    const manual *m = arg;
    return m ? deliver_with(g, m->fn, m->user) : deliver_with(g, g->executor, g->user);
}

/* [G10] A group's queue, between collections: doubly linked from head to
 * tail over live refs of this group flagged queued, target cleared [W7],
 * `pending` of them, in delivery order (epoch, seq) [F4]. */
static bool group_check(wgc_heap *heap, const special *sp)
{
    const wgc_group *g = (const wgc_group *)sp;
    size_t n = 0;
    const group_ref *prev = NULL;
    uint64_t epoch = 0, seq = 0;
    for (const group_ref *r = g->head; r; prev = r, r = r->next, n++) {
        if (n >= g->q.pending || !wgc__is_allocated(heap, r) ||
            type_of(r) != &wgc__group_ref_type || r->prev != prev ||
            r->group != g || !(r->ref.flags & REF_QUEUED) || r->ref.target)
            return wgc__check_fail(heap, "group %p: queue entry %zu (%p, of %zu "
                                   "pending) is not a queued ref of this group "
                                   "whose target died, or prev is %p, expected %p "
                                   "[W7]", (const void *)g, n, (const void *)r,
                                   g->q.pending,
                                   n < g->q.pending && wgc__is_allocated(heap, r)
                                       ? (const void *)r->prev : NULL,
                                   (const void *)prev);
        if (n && (r->queued_epoch < epoch || (r->queued_epoch == epoch && r->seq <= seq)))
            return wgc__check_fail(heap, "group %p: queue entry %zu (%p) has key "
                                   "(%llu, %llu) after (%llu, %llu) [F4]",
                                   (const void *)g, n, (const void *)r,
                                   (unsigned long long)r->queued_epoch,
                                   (unsigned long long)r->seq,
                                   (unsigned long long)epoch, (unsigned long long)seq);
        epoch = r->queued_epoch;
        seq = r->seq;
    }
    if (g->tail != prev || n != g->q.pending)
        return wgc__check_fail(heap, "group %p: queue of %zu ending at %p (tail %p), "
                               "%zu pending", (const void *)g, n, (const void *)prev,
                               (const void *)g->tail, g->q.pending);
    return true;
}

static const special_ops group_ops = {NULL, group_check}; /* nothing after weak clearing */
static const owner_ops group_queue = {queue_head, deliver};

/* ================================================================ API */

static bool check_group(const wgc_group *g)
{
    return wgc__owner_check(g ? &g->q : NULL, WGC_SIG_GROUP, &group_type,
                            "WeakRefGroup");
}

wgc_group *wgc_group_new(wgc_heap *heap, wgc_group_fn executor, void *user)
{
    if (!wgc__enter(heap))
        return NULL;
    wgc_group *g = wgc_alloc(heap, &group_type, sizeof *g);
    if (!g)
        return NULL;
    g->executor = executor;
    g->user = user;
    wgc_error err = wgc__owner_add(heap, &g->q, &group_ops, &group_queue, WGC_SIG_GROUP);
    return wgc__record(heap, err) ? g : NULL;
}

wgc_weakref *wgc_group_make_ref(wgc_group *group, void *target, void *holdings)
{
    if (!check_group(group))
        return NULL;
    wgc_heap *heap = group->q.sp.heap;
    if (group->shut) {
        wgc__misuse(heap, "wgc_group_make_ref on a group that was shut down");
        wgc__fail(heap, WGC_ESTATE); /* [W15] */
        return NULL;
    }
    WGC_FRAME(heap, &group);
    group_ref *r = (group_ref *)wgc__weakref_make(heap, &wgc__group_ref_type,
                                                  target, holdings);
    WGC_FRAME_POP(heap);
    if (!r)
        return NULL;
    r->group = group;
    r->seq = wgc__next_seq(heap);
    return &r->ref;
}

size_t wgc_group_finalize_some(wgc_group *group, size_t max)
{
    if (!check_group(group) || !group->executor || !wgc__enter(group->q.sp.heap))
        return 0;
    size_t ran;
    wgc__record(group->q.sp.heap, wgc__drain(&group->q, max, deliver, NULL, &ran));
    return ran;
}

size_t wgc_group_manually_finalize(wgc_group *group, wgc_group_fn fn, void *user)
{
    if (!check_group(group) || !fn || !wgc__enter(group->q.sp.heap))
        return 0;
    manual m = {fn, user};
    size_t ran;
    wgc__record(group->q.sp.heap, wgc__drain(&group->q, SIZE_MAX, deliver, &m, &ran));
    return ran;
}

size_t wgc_group_pending(const wgc_group *group)
{
    return check_group(group) ? group->q.pending : 0;
}

bool wgc_group_shutdown(wgc_group *group)
{
    if (!check_group(group) || !wgc__enter(group->q.sp.heap))
        return false;
    /* [W15] Drop the queue: the refs stay (empty, as they were), their
     * holdings go.  Live refs stay as they are until their targets die;
     * ref_target_died then releases their holdings instead of queueing. */
    group->shut = true;
    while (group->head) {
        group_ref *r = group->head;
        wgc__group_unlink(group, r);
        wgc__group_ref_release(r);
    }
    return true;
}
