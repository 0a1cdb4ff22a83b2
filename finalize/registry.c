/*
 * finalize/registry.c -- FinalizationRegistry (rules F1 to F9 of
 * docs/finalize.md).
 *
 * Cells live in an array owned by the registry, not in the heap: a cell is
 * never visible to the program, and a collection can queue cells (through
 * the notify of their target's weak slot) without allocating.  Queue and
 * free list are chained through the cells by index.
 */
#include "gc/internal.h"

#define WGC_SIG_REGISTRY 0x52454753u /* "REGS" */
#define NIL UINT32_MAX
#define TOMBSTONE ((void *)1)

enum cell_state { CELL_FREE, CELL_LIVE, CELL_QUEUED };

typedef struct cell {
    void *target;            /* first: the notify slot is the cell */
    void *holdings;          /* strong while LIVE or QUEUED, if traced */
    void *token;             /* weak */
    uint64_t seq;            /* registration order, heap-wide */
    uint64_t queued_epoch;
    uint32_t state;
    uint32_t holdings_traced;
    uint32_t prev, next;     /* queue (QUEUED) or free list (FREE) */
    uint32_t token_next;     /* other cells with the same token */
} cell;

typedef struct token_slot {
    void *token;             /* NULL: empty; TOMBSTONE: removed */
    uint32_t first;          /* first cell with this token */
} token_slot;

struct wgc_registry {
    special sp;
    wgc_cleanup_fn callback;
    void *user;
    cell *cells;
    uint32_t used, capacity, free_list;
    uint32_t head, tail;     /* the cleanup queue, oldest first */
    token_slot *tokens;
    uint32_t token_capacity, token_used; /* used counts tombstones */
};

/* ============================================================ tokens */

static uint32_t token_hash(const void *token, uint32_t capacity)
{
    return (uint32_t)((((uintptr_t)token >> 4) * 0x9e3779b97f4a7c15ull) >> 32) &
           (capacity - 1);
}

static token_slot *token_find(const wgc_registry *r, const void *token)
{
    if (!r->token_capacity)
        return NULL;
    for (uint32_t i = token_hash(token, r->token_capacity);
         r->tokens[i].token; i = (i + 1) & (r->token_capacity - 1))
        if (r->tokens[i].token == token)
            return &r->tokens[i];
    return NULL;
}

static void token_put(token_slot *slots, uint32_t capacity, token_slot s)
{
    uint32_t i = token_hash(s.token, capacity);
    while (slots[i].token && slots[i].token != TOMBSTONE)
        i = (i + 1) & (capacity - 1);
    slots[i] = s;
}

/* Room for one more token; rehashing drops tombstones. */
static bool tokens_reserve(wgc_heap *heap, wgc_registry *r)
{
    if ((r->token_used + 1) * 2 <= r->token_capacity)
        return true;
    uint32_t live = 0;
    for (uint32_t i = 0; i < r->token_capacity; i++)
        live += r->tokens[i].token && r->tokens[i].token != TOMBSTONE;
    uint32_t capacity = 16;
    while ((live + 1) * 2 > capacity)
        capacity *= 2;
    token_slot *slots = wgc__calloc(heap, capacity, sizeof *slots);
    if (!slots)
        return false;
    for (uint32_t i = 0; i < r->token_capacity; i++)
        if (r->tokens[i].token && r->tokens[i].token != TOMBSTONE)
            token_put(slots, capacity, r->tokens[i]);
    free(r->tokens);
    r->tokens = slots;
    r->token_capacity = capacity;
    r->token_used = live;
    return true;
}

/* Takes cell i out of its token's chain. */
static void token_unlink(wgc_registry *r, uint32_t i)
{
    cell *c = &r->cells[i];
    token_slot *s = c->token ? token_find(r, c->token) : NULL;
    if (!s)
        return;
    for (uint32_t *link = &s->first; *link != NIL; link = &r->cells[*link].token_next) {
        if (*link == i) {
            *link = c->token_next;
            break;
        }
    }
    if (s->first == NIL)
        s->token = TOMBSTONE;
}

/* ============================================================ cells */

static void queue_unlink(wgc_registry *r, uint32_t i)
{
    cell *c = &r->cells[i];
    if (c->prev != NIL)
        r->cells[c->prev].next = c->next;
    else
        r->head = c->next;
    if (c->next != NIL)
        r->cells[c->next].prev = c->prev;
    else
        r->tail = c->prev;
    r->sp.pending--;
}

static void cell_free(wgc_registry *r, uint32_t i)
{
    r->cells[i] = (cell){.state = CELL_FREE, .next = r->free_list,
                         .prev = NIL, .token_next = NIL};
    r->free_list = i;
}

/* Inside the collection, in registration order [F4]: a target died. */
static void cell_target_died(wgc_heap *heap, void *owner, void *slot)
{
    wgc_registry *r = owner;
    cell *c = slot;
    uint32_t i = (uint32_t)(c - r->cells);
    c->state = CELL_QUEUED;
    c->queued_epoch = heap->epoch;
    c->prev = r->tail;
    c->next = NIL;
    if (r->tail != NIL)
        r->cells[r->tail].next = i;
    else
        r->head = i;
    r->tail = i;
    r->sp.pending++;
    heap->stats.cells_queued++;
    heap->queued_cleanup = true;
}

static void trace_registry(void *obj, wgc_visitor *v)
{
    wgc_registry *r = obj;
    for (uint32_t i = 0; i < r->used; i++) {
        cell *c = &r->cells[i];
        if (c->state == CELL_FREE)
            continue;
        if (c->state == CELL_LIVE)
            wgc__visit_weak_notify(v, &c->target, r, cell_target_died, c->seq);
        if (c->holdings_traced)
            wgc_visit(v, &c->holdings);
        wgc_visit_weak(v, &c->token);
    }
}

/* After the weak step: forget tokens that died [F1]. */
static void after_weak(wgc_heap *heap, special *sp)
{
    wgc_registry *r = (wgc_registry *)sp;
    for (uint32_t i = 0; i < r->token_capacity; i++) {
        void *t = r->tokens[i].token;
        if (t && t != TOMBSTONE && !wgc__is_marked(heap, t))
            r->tokens[i].token = TOMBSTONE;
    }
}

static void destroy_registry(void *obj)
{
    wgc_registry *r = obj;
    free(r->cells);
    free(r->tokens);
    if (r->sp.sig == WGC_SIG_REGISTRY)
        wgc__special_remove(r->sp.heap, &r->sp);
    r->sp.sig = WGC_SIG_DEAD;
}

static const wgc_type registry_type = {.name = "FinalizationRegistry",
                                       .trace = trace_registry,
                                       .destroy = destroy_registry};

/* ============================================================ delivery */

static bool queue_head(special *sp, uint64_t *epoch, uint64_t *seq)
{
    wgc_registry *r = (wgc_registry *)sp;
    if (r->head == NIL)
        return false;
    *epoch = r->cells[r->head].queued_epoch;
    *seq = r->cells[r->head].seq;
    return true;
}

/* Takes the oldest cell off the queue, frees it (so unregister no longer
 * finds it [F5]) and runs the callback on its holdings, rooted. */
static int deliver(special *sp, void *unused)
{
    (void)unused;
    wgc_registry *r = (wgc_registry *)sp;
    wgc_heap *heap = r->sp.heap;
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

static const special_ops registry_ops = {after_weak, queue_head, deliver};

/* ================================================================ API */

static bool check_registry(const wgc_registry *r)
{
    if (!r)
        return false;
    if (r->sp.sig != WGC_SIG_REGISTRY) {
        wgc__misuse(NULL, "%p is not a live FinalizationRegistry", (const void *)r);
        return false;
    }
    return wgc__check_heap(r->sp.heap);
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
    r->free_list = r->head = r->tail = NIL;
    r->sp.sig = WGC_SIG_REGISTRY;
    if (!wgc__special_add(heap, &r->sp, &registry_ops)) {
        r->sp.sig = 0;
        return NULL;
    }
    return r;
}

static bool cells_reserve(wgc_heap *heap, wgc_registry *r)
{
    if (r->free_list != NIL || r->used < r->capacity)
        return true;
    if (r->capacity >= UINT32_MAX / 4)
        return false;
    uint32_t capacity = r->capacity ? r->capacity * 2 : 16;
    if (!wgc__request(heap))
        return false;
    cell *cells = realloc(r->cells, (size_t)capacity * sizeof *cells);
    if (!cells)
        return false;
    r->cells = cells;
    r->capacity = capacity;
    return true;
}

bool wgc_registry_register(wgc_registry *reg, void *target, void *holdings,
                           void *token)
{
    if (!check_registry(reg))
        return false;
    wgc_heap *heap = reg->sp.heap;
    if (!wgc__enter(heap))
        return false;
    if (!target || target == holdings || !wgc__is_allocated(heap, target) ||
        (token && !wgc__is_allocated(heap, token)))
        return wgc__fail(heap, WGC_EINVAL);
    if (!cells_reserve(heap, reg) || (token && !tokens_reserve(heap, reg)))
        return wgc__fail(heap, WGC_ENOMEM);

    uint32_t i = reg->free_list;
    if (i != NIL)
        reg->free_list = reg->cells[i].next;
    else
        i = reg->used++;
    reg->cells[i] = (cell){
        .target = target,
        .holdings = holdings,
        .token = token,
        .seq = heap->next_seq++,
        .state = CELL_LIVE,
        .holdings_traced = holdings && wgc__is_allocated(heap, holdings),
        .prev = NIL, .next = NIL, .token_next = NIL,
    };
    if (token) {
        token_slot *s = token_find(reg, token);
        if (s) {
            reg->cells[i].token_next = s->first;
            s->first = i;
        } else {
            token_put(reg->tokens, reg->token_capacity, (token_slot){token, i});
            reg->token_used++;
        }
    }
    heap->stats.cells_registered++;
    return true;
}

bool wgc_registry_unregister(wgc_registry *reg, void *token)
{
    if (!check_registry(reg) || !token || !wgc__enter(reg->sp.heap))
        return false;
    token_slot *s = token_find(reg, token);
    if (!s)
        return false;
    size_t removed = 0;
    for (uint32_t i = s->first; i != NIL; ) {
        uint32_t next = reg->cells[i].token_next;
        if (reg->cells[i].state == CELL_QUEUED)
            queue_unlink(reg, i);
        cell_free(reg, i);
        removed++;
        i = next;
    }
    s->token = TOMBSTONE;
    s->first = NIL;
    reg->sp.heap->stats.cells_unregistered += removed;
    return removed > 0;
}

size_t wgc_registry_cleanup_some(wgc_registry *reg, size_t max)
{
    if (!check_registry(reg) || !wgc__enter(reg->sp.heap))
        return 0;
    return wgc__drain(&reg->sp, max, deliver, NULL);
}

size_t wgc_registry_pending(const wgc_registry *reg)
{
    return check_registry(reg) ? reg->sp.pending : 0;
}
