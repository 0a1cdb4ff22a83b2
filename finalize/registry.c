/*
 * finalize/registry.c -- FinalizationRegistry (rules F1 to F9 and F14 of
 * docs/finalize.md); a queue owner of finalize/queue.h [F15].
 *
 * Cells live in an array owned by the registry, not in the heap: a cell is
 * never visible to the program, and a collection can queue cells without
 * allocating.  The queue is chained through the cells by index.
 *
 * [F14] Cells are in registration order: a new cell goes at the end (seq
 *       numbers only grow), freed cells leave holes, and compaction closes
 *       them keeping the order.  So after marking, one walk over the array
 *       finds the dead targets already in seq order and queues them [F4],
 *       with no per-cell weak record and no sort; the walk needs no memory,
 *       so an out-of-memory collection keeps the order too.  The targets
 *       have an array of their own (NULL unless LIVE), so that walk reads 8
 *       bytes per cell; and the trace callback skips the cells altogether
 *       when none has traced holdings or a token.  Tokens and their chains
 *       too have an array of their own, made at the first registration
 *       with a token: a cell is 40 bytes.
 */
#include "finalize/queue.h"

#define WGC_SIG_REGISTRY 0x52454753u /* "REGS" */
#define NIL UINT32_MAX

enum cell_state { CELL_FREE, CELL_LIVE, CELL_QUEUED };

typedef struct cell {
    void *holdings;          /* strong while LIVE or QUEUED, if traced */
    uint64_t seq;            /* registration order, heap-wide */
    uint64_t queued_epoch;
    uint32_t prev, next;     /* the queue (QUEUED cells) */
    uint32_t moved;          /* during compaction: the cell's new index */
    uint8_t state;
    uint8_t holdings_traced;
    uint8_t counted;         /* counted in traced: traced holdings or token */
} cell;

/* Cell i's token, beside the cells (r->ctok, NULL until a token is used). */
typedef struct cell_token {
    void *token;             /* weak; NULL: none */
    uint32_t next;           /* other cells with the same token */
} cell_token;

typedef struct token_slot {
    void *token;             /* the key: see gc/addrtable.h */
    uint32_t first;          /* first cell with this token */
} token_slot;

struct wgc_registry {
    queue_owner q;           /* first: a registry is a queue owner */
    wgc_cleanup_fn callback;
    void *user;
    cell *cells;             /* [F14] in seq order, with holes (FREE) */
    void **targets;          /* targets[i]: cell i's target, weak; NULL
                              * unless the cell is LIVE [F14] */
    cell_token *ctok;        /* ctok[i]: cell i's token, or NULL */
    uint32_t used, capacity; /* cells [0, used) are in use or holes */
    uint32_t live;           /* cells of [0, used) that are not FREE */
    uint32_t first_hole;     /* no FREE cell below it (UINT32_MAX: none) */
    uint32_t young_from;     /* [Y5] cells from here on were registered
                              * since the last collection */
    uint32_t traced;         /* cells of [0, used) with `counted` set */
    uint32_t head, tail;     /* the cleanup queue, oldest first */
    addrtable tokens;        /* token -> token_slot */
};

/* ============================================================ tokens */

static token_slot *token_find(const wgc_registry *r, const void *token)
{
    return wgc__addrtable_find(&r->tokens, token);
}

/* Takes cell i out of its token's chain. */
static void token_unlink(wgc_registry *r, uint32_t i)
{
    cell_token *ct = r->ctok ? &r->ctok[i] : NULL;
    token_slot *s = ct && ct->token ? token_find(r, ct->token) : NULL;
    if (!s)
        return;
    for (uint32_t *link = &s->first; *link != NIL; link = &r->ctok[*link].next) {
        if (*link == i) {
            *link = ct->next;
            break;
        }
    }
    if (s->first == NIL)
        wgc__addrtable_remove_at(s);
}

/* ============================================================ cells */

static void queue_unlink(wgc_registry *r, uint32_t i)
{
    cell *c = &r->cells[i];
    WGC_ASSERT(c->state == CELL_QUEUED && r->q.pending > 0); /* [F4] */
    if (c->prev != NIL)
        r->cells[c->prev].next = c->next;
    else
        r->head = c->next;
    if (c->next != NIL)
        r->cells[c->next].prev = c->prev;
    else
        r->tail = c->prev;
    r->q.pending--;
}

/* Leaves a hole [F14]; the holdings and token are no longer traced. */
static void cell_free(wgc_registry *r, uint32_t i)
{
    cell *c = &r->cells[i];
    r->traced -= c->counted;
    c->state = CELL_FREE;
    c->holdings = NULL;
    r->targets[i] = NULL;
    if (r->ctok)
        r->ctok[i].token = NULL;
    r->live--;
    if (i < r->first_hole)
        r->first_hole = i;
}

/* Closes the holes, keeping the order [F14], and renumbers every index
 * link.  Needs no memory: each cell that moves records its new index
 * before any cell moves.  Cells below the first hole stay where they are,
 * so closing the holes costs the cells from the first hole on plus the
 * queue and the token chains (the only links), not the whole array. */
static void cells_compact(wgc_registry *r)
{
    cell *cells = r->cells;
    uint32_t start = r->first_hole < r->used ? r->first_hole : r->used;
    uint32_t n = start, young_from = r->young_from < start ? r->young_from : start;
    for (uint32_t i = start; i < r->used; i++)
        if (cells[i].state != CELL_FREE) {
            young_from += i < r->young_from;
            cells[i].moved = n++;
        }
    r->young_from = young_from;
#define MOVED(x) ((x) == NIL || (x) < start ? (x) : cells[x].moved)
    for (uint32_t i = r->head, next; i != NIL; i = next) {
        next = cells[i].next;
        cells[i].prev = MOVED(cells[i].prev);
        cells[i].next = MOVED(next);
    }
    r->head = MOVED(r->head);
    r->tail = MOVED(r->tail);
    /* Chains of live tokens only: a cell whose token died left its chain
     * with it (its slot is a tombstone) and its link is never followed. */
    for (size_t t = 0; t < r->tokens.capacity; t++) {
        token_slot *s = wgc__addrtable_at(&r->tokens, t);
        if (!wgc__addrtable_live(s))
            continue;
        for (uint32_t i = s->first, next; i != NIL; i = next) {
            next = r->ctok[i].next;
            r->ctok[i].next = MOVED(next);
        }
        s->first = MOVED(s->first);
    }
#undef MOVED
    for (uint32_t i = start; i < r->used; i++) {
        uint32_t to = cells[i].moved;
        if (cells[i].state != CELL_FREE && to != i) {
            cells[to] = cells[i];
            r->targets[to] = r->targets[i];
            if (r->ctok)
                r->ctok[to] = r->ctok[i];
        }
    }
    r->used = r->live = n;
    r->first_hole = UINT32_MAX;
}

/* Inside the collection, in registration order [F4]: the target of cell i
 * died. */
static void queue_cell(wgc_heap *heap, wgc_registry *r, uint32_t i)
{
    cell *c = &r->cells[i];
    /* [F14] Queued once, in registration order: after the queue's last. */
    WGC_ASSERT_IN(heap, c->state == CELL_LIVE &&
                            (r->tail == NIL || r->cells[r->tail].seq < c->seq ||
                             r->cells[r->tail].queued_epoch < heap->epoch));
    c->state = CELL_QUEUED;
    c->queued_epoch = heap->epoch;
    c->prev = r->tail;
    c->next = NIL;
    if (r->tail != NIL)
        r->cells[r->tail].next = i;
    else
        r->head = i;
    r->tail = i;
    r->q.pending++;
    heap->stats.cells_queued++;
    heap->queued_cleanup = true;
}

/* Targets are not reported while marking: the walk in after_weak checks
 * them once marking is over [F14].  (The verifier still sees them.) */
static void trace_registry(void *obj, wgc_visitor *v)
{
    wgc_registry *r = obj;
    /* the verifier and diagnostics see targets too [D2] */
    bool inspects = wgc__visit_inspects(v);
    if (!r->traced && !inspects)
        return;
    /* A minor collection: older cells hold old holdings and tokens. */
    uint32_t from = !inspects && collecting_minor(v->heap) ? r->young_from : 0;
    for (uint32_t i = from; i < r->used; i++) {
        cell *c = &r->cells[i];
        if (c->state == CELL_FREE)
            continue;
        if (c->holdings_traced)
            wgc_visit(v, &c->holdings);
        if (r->ctok && r->ctok[i].token)
            wgc_visit_weak(v, &r->ctok[i].token);
        if (inspects && c->state == CELL_LIVE)
            wgc_visit_weak(v, &r->targets[i]);
    }
}

/* After the weak step, in the same step as every other weak reference
 * [W3]: queue the cells whose targets died, in seq order [F14] [F4]; forget
 * tokens that died [F1].  Holes are closed at registration, when the array
 * is full; here only when they are most of it, so that a registry no longer
 * used does not keep every collection walking them. */
static void after_weak(wgc_heap *heap, special *sp)
{
    wgc_registry *r = (wgc_registry *)sp;
    void **targets = r->targets;
    /* [Y5] In a minor collection only young cells can have young targets
     * or tokens; the cells before young_from are old and so are theirs. */
    bool minor = collecting_minor(heap);
    for (uint32_t i = minor ? r->young_from : 0; i < r->used; i++) {
        void *t = targets[i];
        if (t && !is_marked(heap, t)) {
            targets[i] = NULL;
            heap->stats.weak_slots_cleared++;
            queue_cell(heap, r, i);
        }
    }
    if (!minor || r->young_from < r->used) {
        for (size_t i = 0; i < r->tokens.capacity; i++) {
            token_slot *s = wgc__addrtable_at(&r->tokens, i);
            if (wgc__addrtable_live(s) && !is_marked(heap, s->token))
                wgc__addrtable_remove_at(s);
        }
    }
    if (r->live < r->used / 8)
        cells_compact(r);
    r->young_from = r->used;
}

static void destroy_registry(void *obj)
{
    wgc_registry *r = obj;
    free(r->cells);
    free(r->targets);
    free(r->ctok);
    wgc__addrtable_free(&r->tokens);
    wgc__owner_remove(&r->q);
}

static const wgc_type registry_type = {.name = "FinalizationRegistry",
                                       .trace = trace_registry,
                                       .destroy = destroy_registry};

/* ============================================================ delivery */

static bool queue_head(queue_owner *o, uint64_t *epoch, uint64_t *seq)
{
    wgc_registry *r = (wgc_registry *)o;
    if (r->head == NIL)
        return false;
    *epoch = r->cells[r->head].queued_epoch;
    *seq = r->cells[r->head].seq;
    return true;
}

/* Takes the oldest cell off the queue, frees it (so unregister no longer
 * finds it [F5]) and runs the callback on its holdings, rooted. */
static int deliver(queue_owner *o, void *unused)
{
    (void)unused;
    wgc_registry *r = (wgc_registry *)o;
    wgc_heap *heap = r->q.sp.heap;
    uint32_t i = r->head;
    void *holdings = r->cells[i].holdings;
    void *rooted = r->cells[i].holdings_traced ? holdings : NULL;
    queue_unlink(r, i);
    token_unlink(r, i);
    cell_free(r, i);
    heap->stats.cells_delivered++;
    WGC_FRAME(heap, &r, &rooted);
    int result = r->callback(heap, holdings, r->user);
    WGC_FRAME_POP(heap);
    return result;
}

/* ============================================================ checks */

/* [G10] A registry's cells and queue, between collections: the counts
 * match the cells, a target only for a LIVE cell [F14], cells in seq
 * order [F14], the queue doubly linked over exactly the QUEUED cells, with
 * `pending` of them, in delivery order (epoch, seq) [F4]. */
static bool registry_check(wgc_heap *heap, const special *sp)
{
    const wgc_registry *r = (const wgc_registry *)sp;
    if (r->used > r->capacity || (r->used && !r->cells))
        return wgc__check_fail(heap, "registry %p: %u cells used of %u",
                               (const void *)r, r->used, r->capacity);
    uint32_t live = 0, traced = 0, queued = 0;
    uint64_t last_seq = 0;
    for (uint32_t i = 0; i < r->used; i++) {
        const cell *c = &r->cells[i];
        if (c->state > CELL_QUEUED || (r->targets[i] != NULL) != (c->state == CELL_LIVE))
            return wgc__check_fail(heap, "registry %p: cell %u in state %u has "
                                   "target %p [F14]", (const void *)r, i,
                                   c->state, r->targets[i]);
        if (c->state == CELL_FREE) {
            if (i < r->first_hole)
                return wgc__check_fail(heap, "registry %p: hole %u below the "
                                       "first hole %u", (const void *)r, i,
                                       r->first_hole);
            continue;
        }
        if (live && c->seq <= last_seq)
            return wgc__check_fail(heap, "registry %p: cell %u has seq %llu after "
                                   "%llu [F14]", (const void *)r, i,
                                   (unsigned long long)c->seq,
                                   (unsigned long long)last_seq);
        if (c->seq >= wgc__seq_end(heap))
            return wgc__check_fail(heap, "registry %p: cell %u has seq %llu, not "
                                   "handed out yet [F4]", (const void *)r, i,
                                   (unsigned long long)c->seq);
        if (c->state == CELL_LIVE && !wgc__is_allocated(heap, r->targets[i]))
            return wgc__check_fail(heap, "registry %p: cell %u's target %p is not a "
                                   "live object", (const void *)r, i, r->targets[i]);
        last_seq = c->seq;
        live++;
        traced += c->counted;
        queued += c->state == CELL_QUEUED;
    }
    if (live != r->live || traced != r->traced)
        return wgc__check_fail(heap, "registry %p: %u live and %u traced cells, "
                               "counted %u and %u", (const void *)r, live, traced,
                               r->live, r->traced);
    uint32_t n = 0, prev = NIL;
    uint64_t epoch = 0, seq = 0;
    for (uint32_t i = r->head; i != NIL; prev = i, i = r->cells[i].next, n++) {
        const cell *c = i < r->used ? &r->cells[i] : NULL;
        if (!c || n >= queued || c->state != CELL_QUEUED || c->prev != prev)
            return wgc__check_fail(heap, "registry %p: queue entry %u is cell %u "
                                   "(of %u), state %u, prev %u (expected %u)",
                                   (const void *)r, n, i, r->used,
                                   c ? c->state : 0u, c ? c->prev : 0u, prev);
        if (n && (c->queued_epoch < epoch ||
                  (c->queued_epoch == epoch && c->seq <= seq)))
            return wgc__check_fail(heap, "registry %p: queue entry %u (cell %u) "
                                   "has key (%llu, %llu) after (%llu, %llu) [F4]",
                                   (const void *)r, n, i,
                                   (unsigned long long)c->queued_epoch,
                                   (unsigned long long)c->seq,
                                   (unsigned long long)epoch,
                                   (unsigned long long)seq);
        epoch = c->queued_epoch;
        seq = c->seq;
    }
    if (r->tail != prev || n != queued || n != r->q.pending)
        return wgc__check_fail(heap, "registry %p: queue of %u ending at %u "
                               "(tail %u), %u cells queued, %zu pending",
                               (const void *)r, n, prev, r->tail, queued,
                               r->q.pending);
    return true;
}

static const special_ops registry_ops = {after_weak, registry_check};
static const owner_ops registry_queue = {queue_head, deliver};

/* ================================================================ API */

static bool check_registry(const wgc_registry *r)
{
    return wgc__owner_check(r ? &r->q : NULL, WGC_SIG_REGISTRY, &registry_type,
                            "FinalizationRegistry");
}

wgc_registry *wgc_registry_new(wgc_heap *heap, wgc_cleanup_fn callback, void *user)
{
    if (!wgc__enter(heap))
        return NULL;
    if (!callback) {
        wgc__fail(heap, WGC_EINVAL);
        return NULL;
    }
    wgc_registry *r = wgc_alloc(heap, &registry_type, sizeof *r);
    if (!r)
        return NULL;
    r->callback = callback;
    r->user = user;
    r->head = r->tail = NIL;
    r->first_hole = UINT32_MAX;
    wgc__addrtable_init(&r->tokens, sizeof(token_slot), 16, heap);
    wgc_error err = wgc__owner_add(heap, &r->q, &registry_ops, &registry_queue,
                                   WGC_SIG_REGISTRY);
    return wgc__record(heap, err) ? r : NULL;
}

/* Room for one more cell at the end [F14]: closes the holes when they are
 * half the array, grows it otherwise. */
static bool cells_reserve(wgc_heap *heap, wgc_registry *r)
{
    if (r->used < r->capacity)
        return true;
    if (r->capacity && r->live <= r->capacity / 2) {
        cells_compact(r);
        return true;
    }
    if (r->capacity >= UINT32_MAX / 4)
        return false;
    uint32_t capacity = r->capacity ? r->capacity * 2 : 16;
    if (!wgc__request(heap))
        return false;
    cell *cells = realloc(r->cells, (size_t)capacity * sizeof *cells);
    if (!cells)
        return false;
    r->cells = cells; /* larger, same contents: fine if the next one fails */
    void **targets = realloc(r->targets, (size_t)capacity * sizeof *targets);
    if (!targets)
        return false;
    r->targets = targets;
    if (r->ctok) {
        cell_token *ctok = realloc(r->ctok, (size_t)capacity * sizeof *ctok);
        if (!ctok)
            return false;
        r->ctok = ctok;
    }
    r->capacity = capacity;
    return true;
}

bool wgc_registry_register(wgc_registry *reg, void *target, void *holdings,
                           void *token)
{
    if (!check_registry(reg))
        return false;
    wgc_heap *heap = reg->q.sp.heap;
    if (!wgc__enter(heap))
        return false;
    if (!target || target == holdings || !wgc__is_allocated(heap, target) ||
        (token && !wgc__is_allocated(heap, token)))
        return wgc__fail(heap, WGC_EINVAL);
    if (!cells_reserve(heap, reg) || (token && !wgc__addrtable_reserve(&reg->tokens)))
        return wgc__fail(heap, WGC_ENOMEM);
    if (token && !reg->ctok) {
        /* every cell so far has no token: all NULL */
        reg->ctok = wgc__calloc(heap, reg->capacity, sizeof *reg->ctok);
        if (!reg->ctok)
            return wgc__fail(heap, WGC_ENOMEM);
    }

    uint32_t i = reg->used++;
    bool traced = holdings && wgc__is_allocated(heap, holdings);
    /* [G6] The cell's target, holdings and token are the registry's fields
     * (in its side arrays): nothing below allocates, so one call covers
     * every store. */
    wgc_write_barrier(heap, reg);
    reg->live++;
    reg->traced += traced || token;
    reg->targets[i] = target;
    reg->cells[i] = (cell){
        .holdings = holdings,
        .seq = wgc__next_seq(heap),
        .state = CELL_LIVE,
        .holdings_traced = traced,
        .counted = traced || token,
        .prev = NIL, .next = NIL,
    };
    if (reg->ctok)
        reg->ctok[i] = (cell_token){token, NIL};
    if (token) {
        token_slot *s = token_find(reg, token);
        if (s) {
            reg->ctok[i].next = s->first;
            s->first = i;
        } else {
            token_slot *slot = wgc__addrtable_add(&reg->tokens, token);
            slot->first = i;
        }
    }
    heap->stats.cells_registered++;
    return true;
}

bool wgc_registry_unregister(wgc_registry *reg, void *token)
{
    if (!check_registry(reg) || !token || !wgc__enter(reg->q.sp.heap))
        return false;
    token_slot *s = token_find(reg, token);
    if (!s)
        return false;
    size_t removed = 0;
    for (uint32_t i = s->first; i != NIL; ) {
        uint32_t next = reg->ctok[i].next;
        if (reg->cells[i].state == CELL_QUEUED)
            queue_unlink(reg, i);
        cell_free(reg, i);
        removed++;
        i = next;
    }
    wgc__addrtable_remove_at(s);
    s->first = NIL;
    reg->q.sp.heap->stats.cells_unregistered += removed;
    return removed > 0;
}

size_t wgc_registry_cleanup_some(wgc_registry *reg, size_t max)
{
    if (!check_registry(reg) || !wgc__enter(reg->q.sp.heap))
        return 0;
    size_t ran;
    wgc__record(reg->q.sp.heap, wgc__drain(&reg->q, max, deliver, NULL, &ran));
    return ran;
}

size_t wgc_registry_pending(const wgc_registry *reg)
{
    return check_registry(reg) ? reg->q.pending : 0;
}
