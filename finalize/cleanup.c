/*
 * finalize/cleanup.c -- the queue owners' list and the safe point: draining
 * every group's and registry's queue in one deterministic order (rule F4 of
 * docs/finalize.md).  The only code that writes heap->cleanup, but for the
 * sequence counter's inline wgc__next_seq (finalize/queue.h).
 *
 * Each owner's queue is already in delivery order, (epoch found dead,
 * registration seq), because a collection notifies in seq order.  The heap
 * merges the owners' queues by that key; owners (registries and groups,
 * not weak maps) are few, so a scan of them per delivery is cheaper than
 * keeping a merged index up to date.
 */
#include "finalize/queue.h"

#if WGC_DEBUG_CHECKS && defined(__linux__)
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>
#endif

/* ============================================================ checks */

/* Copies n bytes at src into dst if they can be read, without touching
 * them: the kernel does the copy, so an unmapped page is an error result
 * (not a fault) and memory tools see no access to a dead cell. */
static bool copy_if_readable(void *dst, const void *src, size_t n)
{
#if WGC_DEBUG_CHECKS && defined(__linux__)
    struct iovec local = {dst, n}, remote = {(void *)(uintptr_t)src, n};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (got == (ssize_t)n)
        return true;
    if (got >= 0 || errno == EFAULT || errno == ENOMEM)
        return false;
    /* the call itself is refused (seccomp, an old kernel): read plainly */
#endif
    memcpy(dst, src, n);
    return true;
}

/* [F8] A group or registry is passed by the object pointer alone, and
 * without its heap nothing tells whether that memory is still ours: a
 * dead one's page may have gone back to the OS, or hold a newer object.
 * So using a dead one is undefined in release builds (the headers say
 * so), which check its type word and signature with plain loads; debug
 * builds read both without touching the memory and report it. */
bool wgc__owner_check(const queue_owner *o, uint32_t sig, const wgc_type *type,
                      const char *kind)
{
    if (!o)
        return false;
    const special *sp = &o->sp;
    struct {
        uintptr_t header;
        uint32_t sig;
    } seen;
    if (!copy_if_readable(&seen.header, header_of(sp), sizeof seen.header) ||
        !copy_if_readable(&seen.sig, &sp->sig, sizeof seen.sig)) {
        wgc__misuse(NULL, "%p is not a live %s (collected: its memory is gone)",
                    (const void *)sp, kind);
        return false;
    }
    if ((const wgc_type *)(seen.header & ~(uintptr_t)7) != type || seen.sig != sig) {
        wgc__misuse(NULL, "%p is not a live %s (collected, or another kind of "
                          "object)", (const void *)sp, kind);
        return false;
    }
    if (!wgc__check_heap(sp->heap))
        return false;
    if (WGC_DEBUG_CHECKS && !wgc__is_allocated(sp->heap, sp)) {
        wgc__misuse(sp->heap, "%p is not a live %s (a dead cell)", (const void *)sp, kind);
        return false;
    }
    return true;
}

/* ============================================================ owners */

wgc_error wgc__owner_add(wgc_heap *heap, queue_owner *o, const special_ops *sops,
                         const owner_ops *ops, uint32_t sig)
{
    wgc_error err = wgc__special_add(heap, &o->sp, sops, sig);
    if (err)
        return err;
    cleanup_state *c = &heap->cleanup;
    o->ops = ops;
    o->prev = c->last;
    o->next = NULL;
    if (c->last)
        c->last->next = o;
    else
        c->first = o;
    c->last = o;
    return WGC_OK;
}

/* Owners die in the sweep (or in wgc_heap_free), their neighbours perhaps
 * with them: every destructor runs before any dead memory is released, so
 * unlinking one by one stays within live memory. */
void wgc__owner_remove(queue_owner *o)
{
    if (o->sp.sig == 0)
        return; /* never listed: its constructor ran out of memory */
    cleanup_state *c = &o->sp.heap->cleanup;
    /* [F15] Its neighbours still point at it. */
    WGC_ASSERT_IN(o->sp.heap, (o->prev ? o->prev->next : c->first) == o &&
                                  (o->next ? o->next->prev : c->last) == o);
    if (o->prev)
        o->prev->next = o->next;
    else
        c->first = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        c->last = o->prev;
    o->prev = o->next = NULL;
    wgc__special_remove(&o->sp);
}

bool wgc__in_cleanup(const wgc_heap *heap)
{
    return heap->cleanup.depth != 0;
}

uint64_t wgc__seq_end(const wgc_heap *heap)
{
    return heap->cleanup.next_seq;
}

/* ============================================================ delivery */

/* A delivery key, (epoch found dead, registration seq) [F4]. */
typedef struct key {
    uint64_t epoch, seq;
} key;

static bool key_before(key a, key b)
{
    return a.epoch < b.epoch || (a.epoch == b.epoch && a.seq < b.seq);
}

/* The owner whose first queued entry comes first, or NULL; *second gets
 * the first key of every other owner's queue (no key: all ones). */
static queue_owner *next_owner2(wgc_heap *heap, key *second)
{
    queue_owner *best = NULL;
    uint64_t best_epoch = 0, best_seq = 0;
    key other = {UINT64_MAX, UINT64_MAX};
    for (queue_owner *o = heap->cleanup.first; o; o = o->next) {
        uint64_t epoch, seq;
        if (!o->ops->queue_head(o, &epoch, &seq))
            continue;
        if (!best || epoch < best_epoch || (epoch == best_epoch && seq < best_seq)) {
            if (best)
                other = (key){best_epoch, best_seq};
            best = o;
            best_epoch = epoch;
            best_seq = seq;
        } else if (key_before((key){epoch, seq}, other)) {
            other = (key){epoch, seq};
        }
    }
    *second = other;
    return best;
}

static queue_owner *next_owner(wgc_heap *heap)
{
    key unused;
    return next_owner2(heap, &unused);
}

/* Every cleanup callback and executor runs through here: while one runs
 * the heap must outlive it, so wgc_heap_free refuses [F7]. */
static int deliver_one(queue_owner *o, int (*deliver)(queue_owner *, void *),
                       void *arg)
{
    wgc_heap *heap = o->sp.heap;
    heap->cleanup.depth++;
    int result = deliver(o, arg);
    heap->cleanup.depth--;
    return result;
}

wgc_error wgc__drain(queue_owner *o, size_t max,
                     int (*deliver)(queue_owner *, void *), void *arg, size_t *ran)
{
    wgc_heap *heap = o->sp.heap;
    wgc_error err = WGC_OK;
    *ran = 0;
    WGC_FRAME(heap, &o); /* a callback may drop the last reference to it */
    while (*ran < max && o->pending) {
        ++*ran;
        if (deliver_one(o, deliver, arg) != 0) {
            err = WGC_ECALLBACK;
            break;
        }
    }
    WGC_FRAME_POP(heap);
    return err;
}

/* Delivers up to `max` entries of every owner in delivery order; *ran
 * says how many.  WGC_ECALLBACK at a failing callback. */
static wgc_error run_cleanup(wgc_heap *heap, size_t max, size_t *ran_out)
{
    size_t ran = 0;
    queue_owner *owner;
    key second;
    /* Deliver from the first owner while its head comes before every other
     * owner's head at the time it was chosen, and was queued by then.
     * That bound stays valid while callbacks run: they can only take
     * entries out of queues (unregister, clear, drains) or collect, and a
     * collection queues entries of a newer epoch than every entry already
     * queued, which the epoch test leaves to the next choice. */
    while (ran < max && (owner = next_owner2(heap, &second))) {
        key head;
        uint64_t chosen_epoch = heap->epoch;
        do {
            ran++;
            if (deliver_one(owner, owner->ops->deliver, NULL) != 0) {
                *ran_out = ran;
                return WGC_ECALLBACK;
            }
        } while (ran < max && owner->ops->queue_head(owner, &head.epoch, &head.seq) &&
                 head.epoch <= chosen_epoch && key_before(head, second));
    }
    *ran_out = ran;
    return WGC_OK;
}

size_t wgc_run_cleanup(wgc_heap *heap, size_t max)
{
    if (!wgc__enter(heap))
        return 0;
    size_t ran;
    wgc__record(heap, run_cleanup(heap, max, &ran));
    return ran;
}

size_t wgc_cleanup_pending(const wgc_heap *heap)
{
    if (!wgc__check_heap(heap))
        return 0;
    size_t pending = 0;
    for (queue_owner *o = heap->cleanup.first; o; o = o->next) {
        uint64_t epoch, seq;
        /* What wgc_run_cleanup can deliver: a host loops on this. */
        if (o->pending && o->ops->queue_head(o, &epoch, &seq))
            pending += o->pending;
    }
    return pending;
}

size_t wgc_collect_and_cleanup(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return 0;
    size_t total = 0;
    /* [F12] The fixed point is a collection after which nothing can be
     * delivered and no callback ran.  Whether a collection queued anything
     * says nothing: the queues may have been filled before the call, and
     * the callbacks draining them may make new garbage, which only the
     * next collection finds. */
    for (;;) {
        wgc__collect_as(heap, COLLECT_MAJOR);
        size_t ran;
        wgc_error err = run_cleanup(heap, SIZE_MAX, &ran);
        total += ran;
        if (!wgc__record(heap, err))
            return total; /* a failing callback: let the host decide */
        if (ran == 0 && !next_owner(heap))
            break;
    }
    return total;
}

/* ============================================================ checks */

/* [G10] The owners' list, creation order: doubly linked from first to
 * last over live, listed specials of this heap, each with its queue
 * protocol; every sequence number handed out is below next_seq [F4].
 * Each owner's own queue is checked with the specials (its check). */
bool wgc__cleanup_check(wgc_heap *heap)
{
    const cleanup_state *c = &heap->cleanup;
    const queue_owner *prev = NULL;
    size_t n = 0, specials = heap->specials.all.count;
    uint32_t last_index = 0;
    for (const queue_owner *o = c->first; o; prev = o, o = o->next, n++) {
        const special *sp = &o->sp;
        if (n >= specials || o->prev != prev || !o->ops || sp->heap != heap ||
            !wgc__is_allocated(heap, o) || sp->sig == 0 || sp->sig == WGC_SIG_DEAD ||
            VEC_AT(&heap->specials.all, special *, sp->index) != sp)
            return wgc__check_fail(heap, "queue owner %zu (%p): prev %p, expected "
                                   "%p; or not a live special of this heap [F15]",
                                   n, (const void *)o,
                                   n < specials ? (const void *)o->prev : NULL,
                                   (const void *)prev);
        if (n && sp->index <= last_index)
            return wgc__check_fail(heap, "queue owner %zu (%p): special %u after %u, "
                                   "not in creation order [F4]", n, (const void *)o,
                                   sp->index, last_index);
        last_index = sp->index;
    }
    if (c->last != prev)
        return wgc__check_fail(heap, "queue owners: last %p, the list ends at %p",
                               (const void *)c->last, (const void *)prev);
    return true;
}
