/*
 * gc/mark.c -- marking, ephemeron convergence and weak processing
 * (phases 1 to 3 of the collection, docs/gc.md "Collection").
 *
 * [M1] Marking never recurses in C: marked objects wait on an explicit
 *      stack of segments.  When a segment cannot be had, the object stays
 *      marked but unscanned and mark_overflow is set; the collection then
 *      rescans the marked objects of the whole heap until nothing new is
 *      marked.  So marking needs no memory to be correct, only to be fast.
 * [M2] An ephemeron whose key is unmarked waits in a table keyed by the
 *      key (a word per object in a side array of its span: the lone
 *      key/value pair itself, or a list of records); the span of the key
 *      counts its waiting keys so marking any object costs one extra test.
 *      Marking a key pushes a tagged entry that releases exactly the
 *      ephemerons waiting on it: linear time.
 * [M3] A weak slot whose target is unmarked when visited is recorded: a
 *      plain slot (wgc_visit_weak) as one word, a notifying one as a
 *      weak_record.  After convergence every record (and every ephemeron
 *      still waiting) is examined once, in one step: dead targets are
 *      cleared and owners notified [W3].  If a record could not be
 *      stored, a full pass over the marked objects in VISIT_FIX_WEAK mode
 *      does the same work.
 */
#include "gc/internal.h"

#define SEGMENT_ITEMS 8190

struct mark_segment {
    mark_segment *below, *above;
    void *items[SEGMENT_ITEMS];
};

/* ============================================================ mark stack */

/* Cold, and kept out of line: inlined into push it lands in the drain
 * loop, and every mark got slower (docs/critical-path.md, Marking). */
static __attribute__((noinline, cold)) bool stack_grow(wgc_heap *heap)
{
    mark_segment *seg = heap->mark_stack ? heap->mark_stack->above : NULL;
    if (!seg) {
        seg = wgc__malloc(heap, sizeof *seg);
        if (!seg)
            return false;
        seg->below = heap->mark_stack;
        seg->above = NULL;
        if (heap->mark_stack)
            heap->mark_stack->above = seg;
    }
    heap->mark_stack = seg;
    heap->mark_base = heap->mark_sp = seg->items;
    heap->mark_end = seg->items + SEGMENT_ITEMS;
    return true;
}

static void push(wgc_heap *heap, void *item)
{
    if (WGC_UNLIKELY(heap->mark_sp == heap->mark_end) && !stack_grow(heap)) {
        heap->mark_overflow = true;
        return;
    }
    *heap->mark_sp++ = item;
}

static void *pop(wgc_heap *heap)
{
    while (heap->mark_sp == heap->mark_base) {
        if (!heap->mark_stack || !heap->mark_stack->below)
            return NULL;
        heap->mark_stack = heap->mark_stack->below;
        heap->mark_base = heap->mark_stack->items;
        heap->mark_sp = heap->mark_end = heap->mark_base + SEGMENT_ITEMS;
    }
    return *--heap->mark_sp;
}

void wgc__mark_free(wgc_heap *heap)
{
    mark_segment *seg = heap->mark_stack;
    while (seg && seg->above)
        seg = seg->above;
    while (seg) {
        mark_segment *below = seg->below;
        free(seg);
        seg = below;
    }
    heap->mark_stack = NULL;
    heap->mark_sp = heap->mark_base = heap->mark_end = NULL;
}

/* ================================================================ marking */

#define EPHEMERON_TAG ((uintptr_t)1)

/* Sets obj's mark bit; true if it was not set. */
static inline bool set_mark(wgc_heap *heap, void *obj)
{
    span *s = span_of(obj);
    if (WGC_LIKELY(s->kind == SPAN_SMALL)) {
        page *p = (page *)s;
        size_t g = (size_t)((char *)obj - (char *)p) / WGC_GRANULE;
        uint64_t *word = &p->marks[mark_bits(heap)][g / 64];
        uint64_t bit = (uint64_t)1 << (g % 64);
        if (*word & bit)
            return false;
        *word |= bit;
        return true;
    }
    large *l = (large *)s;
    if (l->mark_epoch == heap->mark_epoch)
        return false;
    l->mark_epoch = heap->mark_epoch;
    return true;
}

/* Marks obj; when that is news, queues what must follow: the release of
 * the ephemerons waiting on it [M2], and its scan unless pointer-free.
 * Returns obj if the caller may scan it itself instead of queueing it. */
static inline void *mark_or_follow(wgc_heap *heap, void *obj, bool may_follow)
{
    if (!set_mark(heap, obj))
        return NULL;
    span *s = span_of(obj);
    if (WGC_UNLIKELY(s->ephemeron_keys))
        push(heap, (void *)((uintptr_t)obj | EPHEMERON_TAG));
    if (s->atomic)
        return NULL;
    /* [Y2] Marked is old: from now on a store into it needs the barrier.
     * Its header is about to be read by its scan anyway. */
    if (heap->generational)
        *header_of(obj) |= WGC_HEADER_BARRIER_;
    if (may_follow)
        return obj;
    push(heap, obj);
    return NULL;
}

static inline void mark(wgc_heap *heap, void *obj)
{
    mark_or_follow(heap, obj, false);
}

/* Debug builds: a slot of any kind (strong, weak, ephemeron key) must
 * hold NULL or a live object of this heap.  Anything else (an interior
 * pointer, another heap's object, a dead object, junk) is misuse, and
 * aborts: a weak slot or key would otherwise be cleared without a word. */
static inline void check_slot(wgc_heap *heap, void *slot, void *obj, const char *kind)
{
#if WGC_DEBUG_CHECKS
    if (WGC_UNLIKELY(!wgc__is_allocated(heap, obj))) {
        char where[160], what[160];
        wgc__explain_slot(heap, heap->tracing, slot, where, sizeof where);
        wgc__explain_target(heap, obj, what, sizeof what);
        wgc__misuse(heap, "%s slot: %s points at %p, not a live object: %s; "
                          "likely a missing root (or a missing write barrier)",
                    kind, where, obj, what);
        abort();
    }
#else
    (void)heap, (void)slot, (void)obj, (void)kind;
#endif
}

void wgc_visit(wgc_visitor *v, void *slot)
{
    void *obj = slot_load(slot);
    if (!obj)
        return;
    wgc_heap *heap = v->heap;
    if (WGC_LIKELY(v->mode == VISIT_MARK)) {
        check_slot(heap, slot, obj, "strong");
        mark(heap, obj);
    } else if (v->mode == VISIT_VERIFY) {
        wgc__verify_slot(v, slot, "strong");
    } else if (v->mode == VISIT_DIAG) {
        wgc__diag_slot(v, slot, false);
    }
}

void wgc_visit_value(wgc_visitor *v, void *obj)
{
    /* Nothing moves: the object is all marking needs, the slot a copy. */
    wgc_visit(v, &obj);
}

void wgc_visit_array(wgc_visitor *v, void *slots, size_t count)
{
    char *s = slots;
    if (v->mode == VISIT_MARK && !WGC_DEBUG_CHECKS) {
        for (size_t i = 0; i < count; i++) {
            void *obj = slot_load(s + i * sizeof(void *));
            if (obj)
                mark(v->heap, obj);
        }
        return;
    }
    for (size_t i = 0; i < count; i++)
        wgc_visit(v, s + i * sizeof(void *));
}

/* ================================================================= weak */

static bool clear_if_dead(wgc_heap *heap, void *slot)
{
    void *target = slot_load(slot);
    if (target && !is_marked(heap, target)) {
        slot_store(slot, NULL);
        heap->stats.weak_slots_cleared++;
        return true;
    }
    return false;
}

void wgc__visit_weak_notify(wgc_visitor *v, void *slot, void *owner,
                            weak_notify_fn notify, uint64_t seq)
{
    void *target = slot_load(slot);
    if (!target)
        return;
    wgc_heap *heap = v->heap;
    switch (v->mode) {
    case VISIT_MARK:
        check_slot(heap, slot, target, "weak");
        if (is_marked(heap, target) || heap->weak_overflow)
            return;
        weak_record *r = wgc__vec_push(heap, &heap->weak_records);
        if (r)
            *r = (weak_record){slot, owner, notify, seq};
        else
            heap->weak_overflow = true;
        return;
    case VISIT_FIX_WEAK:
        /* Out of memory: notifications follow heap order, not seq. */
        if (clear_if_dead(heap, slot) && notify)
            notify(heap, owner, slot);
        return;
    case VISIT_VERIFY:
        wgc__verify_slot(v, slot, "weak");
        return;
    case VISIT_DIAG:
        wgc__diag_slot(v, slot, true);
        return;
    }
}

/* The common case (WeakRefs, weak-map tokens) in one word per slot: it
 * notifies nobody, so it needs neither owner nor seq nor sorting [M3]. */
void wgc_visit_weak(wgc_visitor *v, void *slot)
{
    if (WGC_UNLIKELY(v->mode != VISIT_MARK)) {
        wgc__visit_weak_notify(v, slot, NULL, NULL, 0);
        return;
    }
    void *target = slot_load(slot);
    wgc_heap *heap = v->heap;
    if (!target)
        return;
    check_slot(heap, slot, target, "weak");
    if (is_marked(heap, target) || heap->weak_overflow)
        return;
    void **r = wgc__vec_push(heap, &heap->weak_slots);
    if (r)
        *r = slot;
    else
        heap->weak_overflow = true;
}

/* ============================================================ ephemerons */

/* [M2] The ephemerons waiting on a key hang from one word of its span's
 * side array (a word per 16-byte granule; one word for a large object):
 *
 *   0                       nothing waits on the key;
 *   a key slot (tag 0)      one ephemeron waits, a pair: its value slot is
 *                           the word after its key slot;
 *   a value | WAIT_VALUE    one weak-map entry waits (wgc__visit_entry):
 *                           its value object itself (NULL allowed), its
 *                           slots are the map's business;
 *   (i << 2) | WAIT_RECORD  record i of heap->ephemerons, whose `next`
 *                           continues the list in the same encoding (a
 *                           record with a NULL key slot holds a value).
 *
 * So the usual ephemeron, alone on its key, waits and is released without
 * a record: one word written, one read back; a weak-map entry is not even
 * read again.  Records (24 bytes, and a page fault per 170 of them the
 * first time) were most of the cost of a chain traced against its order. */
#define WAIT_TAGS ((uintptr_t)3)
#define WAIT_RECORD ((uintptr_t)1)
#define WAIT_VALUE ((uintptr_t)2)

static inline uintptr_t *waiting_head(span *s, const void *key)
{
    if (s->kind == SPAN_LARGE)
        return &s->ephemeron_heads[0];
    return &s->ephemeron_heads[(size_t)((const char *)key - (const char *)s) / WGC_GRANULE];
}

/* Decodes the waiting ephemeron `w` (non-zero) and returns the next one of
 * the same key (0 at the end): its slots, or a NULL key slot and in
 * *value_slot the value itself (a weak-map entry's). */
static inline uintptr_t waiting_slots(const wgc_heap *heap, uintptr_t w,
                                      void **key_slot, void **value_slot)
{
    switch (w & WAIT_TAGS) {
    case WAIT_RECORD: {
        const ephemeron *e = &VEC_AT(&heap->ephemerons, ephemeron, w >> 2);
        *key_slot = e->key_slot;
        *value_slot = e->value_slot;
        return e->next;
    }
    case WAIT_VALUE:
        *key_slot = NULL;
        *value_slot = (void *)(w & ~WAIT_TAGS);
        return 0;
    default:
        *key_slot = (void *)w;
        *value_slot = (char *)w + sizeof(void *);
        return 0;
    }
}

/* Gives span s its side array of heads, zero; false if out of memory.
 * Pages reuse the arrays of the last collection; a large object needs one
 * word. */
static bool heads_attach(wgc_heap *heap, span *s)
{
    vec *pool = &heap->ephemeron_head_pool;
    span **listed = wgc__vec_push(heap, &heap->ephemeron_spans);
    if (!listed)
        return false;
    if (s->kind == SPAN_LARGE)
        s->ephemeron_heads = wgc__calloc(heap, 1, sizeof *s->ephemeron_heads);
    else if (pool->count)
        s->ephemeron_heads = VEC_AT(pool, uintptr_t *, --pool->count);
    else
        s->ephemeron_heads = wgc__calloc(heap, WGC_PAGE_GRANULES,
                                         sizeof *s->ephemeron_heads);
    if (!s->ephemeron_heads) {
        heap->ephemeron_spans.count--;
        return false;
    }
    *listed = s;
    return true;
}

/* Makes the ephemeron wait for its key [M2], by its value if `by_value`;
 * false if out of memory.  Kept out of line, and visit_ephemeron inline in
 * its two callers: a weak map traced in order (its keys marked) then pays
 * no call per entry (docs/critical-path.md, Ephemerons). */
__attribute__((noinline))
static bool ephemeron_wait(wgc_heap *heap, void *key, void *key_slot,
                           void *value_slot, bool by_value)
{
    span *s = span_of(key);
    if (WGC_UNLIKELY(!s->ephemeron_heads) && !heads_attach(heap, s))
        return false;
    uintptr_t *head = waiting_head(s, key);
    uintptr_t old = *head;
    if (by_value) {
        key_slot = NULL;
        value_slot = slot_load(value_slot);
    }
    if (old == 0 && by_value) {
        *head = (uintptr_t)value_slot | WAIT_VALUE; /* objects: 16-aligned */
    } else if (old == 0 && ((uintptr_t)key_slot & WAIT_TAGS) == 0 &&
               (char *)value_slot == (char *)key_slot + sizeof(void *)) {
        *head = (uintptr_t)key_slot;
    } else {
        ephemeron *e = wgc__vec_push(heap, &heap->ephemerons);
        if (!e)
            return false;
        *e = (ephemeron){key_slot, value_slot, old};
        *head = ((uintptr_t)(heap->ephemerons.count - 1) << 2) | WAIT_RECORD;
    }
    if (old == 0)
        s->ephemeron_keys++;
    return true;
}

/* `key` was just marked: trace the values waiting on it. */
static void ephemerons_release(wgc_heap *heap, wgc_visitor *v, void *key)
{
    span *s = span_of(key);
    uintptr_t *head = waiting_head(s, key);
    uintptr_t w = *head;
    if (w == 0)
        return; /* another key of the span waits */
    *head = 0;
    s->ephemeron_keys--;
    do {
        void *key_slot, *value_slot;
        w = waiting_slots(heap, w, &key_slot, &value_slot);
        heap->stats.ephemerons_resolved++;
#if WGC_DEBUG_CHECKS
        wgc_visit(v, key_slot ? value_slot : &value_slot); /* checks the slot */
#else
        /* v marks: mark the value directly.  Each release waits for the
         * one before it (a chain's next key is this value), so a store and
         * reload of a slot for wgc_visit shows. */
        (void)v;
        void *value = key_slot ? slot_load(value_slot) : value_slot;
        if (value)
            mark(heap, value);
#endif
    } while (w);
}

static inline bool visit_ephemeron(wgc_visitor *v, void *key_slot,
                                   void *value_slot, bool by_value)
{
    void *key = slot_load(key_slot);
    if (!key)
        return false;
    wgc_heap *heap = v->heap;
    switch (v->mode) {
    case VISIT_MARK:
        check_slot(heap, key_slot, key, "ephemeron key");
        if (is_marked(heap, key)) {
            heap->stats.ephemerons_resolved++;
            wgc_visit(v, value_slot);
            return false;
        }
        if (!heap->ephemeron_overflow &&
            !ephemeron_wait(heap, key, key_slot, value_slot, by_value))
            heap->ephemeron_overflow = true;
        return true;
    case VISIT_FIX_WEAK:
        if (!is_marked(heap, key)) {
            slot_store(key_slot, NULL);
            slot_store(value_slot, NULL);
            heap->stats.weak_slots_cleared++;
        }
        return false;
    case VISIT_VERIFY:
        wgc__verify_slot(v, key_slot, "ephemeron key");
        wgc__verify_slot(v, value_slot, "ephemeron value");
        return false;
    case VISIT_DIAG:
        wgc__diag_ephemeron(v, key_slot, value_slot);
        return false;
    }
    return false;
}

void wgc_visit_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot)
{
    visit_ephemeron(v, key_slot, value_slot, false);
}

bool wgc__visit_entry(wgc_visitor *v, void *key_slot, void *value_slot)
{
    return visit_ephemeron(v, key_slot, value_slot, true);
}

/* ============================================================ the phases */

void wgc__mark_roots(wgc_heap *heap)
{
    wgc_visitor v = {heap, VISIT_MARK};
    wgc__roots_trace(heap, &v);
}

/* [Y1] A minor collection scans the remembered objects, although they are
 * marked (old): they are the only old objects that may point to young
 * ones [Y3].  Each gets its barrier bit back: after this collection all
 * that it points to is old. */
void wgc__mark_remembered(wgc_heap *heap)
{
    void **items = (void **)heap->remembered.items;
    for (size_t i = 0; i < heap->remembered.count; i++) {
        *header_of(items[i]) |= WGC_HEADER_BARRIER_;
        push(heap, items[i]);
    }
    heap->remembered.count = 0;
}

void wgc__trace_object(void *obj, wgc_visitor *v)
{
    const wgc_type *t = type_of(obj);
    for (uint64_t words = t->pointer_words; words; words &= words - 1)
        wgc_visit(v, (void **)obj + __builtin_ctzll(words));
    if (t->trace)
        t->trace(obj, v);
}

/* The type last scanned, by header word.  Objects of one type come in
 * runs (lists, trees): comparing the header is a branch the CPU predicts,
 * where reading the type is one more load on the marking's critical path. */
typedef struct type_cache {
    uintptr_t header;
    uint64_t words;
    void (*trace)(void *, wgc_visitor *);
} type_cache;

/* The marking form of wgc__trace_object: the layout's words are marked
 * here, without a call per field, and only trace is called back.  Returns
 * one newly marked child left for the caller to scan next (the others are
 * pushed), or NULL. */
static inline void *scan(wgc_heap *heap, wgc_visitor *v, type_cache *tc, void *obj)
{
    if (WGC_DEBUG_CHECKS) {
        wgc__trace_object(obj, v); /* wgc_visit checks every slot */
        return NULL;
    }
    uintptr_t header = *header_of(obj);
    if (WGC_UNLIKELY(header != tc->header)) {
        const wgc_type *t = type_of(obj);
        *tc = (type_cache){header, t->pointer_words, t->trace};
    }
    void *follow = NULL;
    for (uint64_t words = tc->words; words; words &= words - 1) {
        void *child = slot_load((void **)obj + __builtin_ctzll(words));
        if (child) {
            void *next = mark_or_follow(heap, child, true);
            if (next) {
                if (follow)
                    push(heap, follow);
                follow = next;
            }
        }
    }
    if (tc->trace)
        tc->trace(obj, v);
    return follow;
}

/* Objects wait in a FIFO after leaving the mark stack, their header
 * prefetched, so that scanning one overlaps fetching the next ones.  The
 * depth measured best on trees (docs/critical-path.md, Marking). */
#define PREFETCH_DEPTH 64

void wgc__mark_drain(wgc_heap *heap)
{
    wgc_visitor v = {heap, VISIT_MARK};
    type_cache tc = {0, 0, NULL};
    void *ring[PREFETCH_DEPTH];
    size_t head = 0, queued = 0;
    for (;;) {
        void *item;
        while (queued < PREFETCH_DEPTH && (item = pop(heap))) {
            if ((uintptr_t)item & EPHEMERON_TAG) {
                ephemerons_release(heap, &v, (void *)((uintptr_t)item & ~EPHEMERON_TAG));
                continue;
            }
            /* The header, and the fields where they start a new line. */
            __builtin_prefetch(header_of(item));
            __builtin_prefetch(item);
            ring[(head + queued++) % PREFETCH_DEPTH] = item;
        }
        if (queued == 0)
            break;
        item = ring[head];
        head = (head + 1) % PREFETCH_DEPTH;
        queued--;
        /* A child scan() leaves is scanned at once while nothing else
         * waits: a list then marks without a trip through the stack and
         * the FIFO; otherwise it queues like any other. */
        do {
#if WGC_DEBUG_CHECKS
            heap->tracing = item;
#endif
            item = scan(heap, &v, &tc, item);
        } while (item && queued == 0);
        if (item)
            push(heap, item);
    }
#if WGC_DEBUG_CHECKS
    heap->tracing = NULL;
#endif
}

static void trace_marked(wgc_heap *heap, void *obj, void *visitor)
{
    (void)heap;
    wgc__trace_object(obj, visitor);
}

/* Every object marked so far, pointer-free ones included: a newly marked
 * pointer-free key can release an ephemeron as well as any other. */
static size_t marked_count(wgc_heap *heap)
{
    size_t n = 0;
    SPACE_EACH_PAGE(&heap->space, it)
        n += page_marked_cells(it.p, mark_bits(heap));
    SPACE_EACH_LARGE(&heap->space, l)
        n += l->mark_epoch == heap->mark_epoch;
    return n;
}

/* Drains the mark stack; after an overflow [M1] or when an ephemeron could
 * not wait [M2], rescans every marked object until nothing new is marked. */
void wgc__mark_converge(wgc_heap *heap)
{
    wgc__mark_drain(heap);
    while (heap->mark_overflow || heap->ephemeron_overflow) {
        size_t before = marked_count(heap);
        heap->mark_overflow = false;
        wgc_visitor v = {heap, VISIT_MARK};
        wgc__roots_trace(heap, &v);
        wgc__each_object(heap, true, trace_marked, &v);
        wgc__mark_drain(heap);
        if (!heap->mark_overflow && marked_count(heap) == before)
            return;
    }
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const weak_record *)a)->seq, y = ((const weak_record *)b)->seq;
    return (x > y) - (x < y);
}

/* Sorts records by seq: an LSD radix sort over the bits seq numbers use so
 * far (a collection may notify a million cells), qsort when the scratch
 * buffer cannot be had. */
static void sort_by_seq(wgc_heap *heap, weak_record *records, size_t n)
{
    enum { DIGIT = 11, BUCKETS = 1 << DIGIT };
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = records[i - 1].seq <= records[i].seq;
    if (sorted)
        return;
    weak_record *scratch = n <= SIZE_MAX / sizeof *scratch
                               ? wgc__malloc(heap, n * sizeof *scratch) : NULL;
    if (!scratch) {
        qsort(records, n, sizeof *records, by_seq);
        return;
    }
    weak_record *from = records, *to = scratch;
    for (unsigned shift = 0; shift < 64 && (wgc__seq_end(heap) >> shift); shift += DIGIT) {
        size_t count[BUCKETS] = {0};
        for (size_t i = 0; i < n; i++)
            count[(from[i].seq >> shift) & (BUCKETS - 1)]++;
        size_t at = 0;
        for (size_t d = 0; d < BUCKETS; d++) {
            size_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].seq >> shift) & (BUCKETS - 1)]++] = from[i];
        weak_record *t = from;
        from = to;
        to = t;
    }
    if (from != records)
        memcpy(records, from, n * sizeof *records);
    free(scratch);
}

void wgc__process_weak(wgc_heap *heap)
{
    bool fallback = heap->weak_overflow || heap->ephemeron_overflow;
    if (fallback) {
        /* (weak-map entries too: their dead keys are cleared here) */
        heap->ephemeron_entries_died = false;
        wgc_visitor v = {heap, VISIT_FIX_WEAK};
        wgc__roots_trace(heap, &v);
        wgc__each_object(heap, true, trace_marked, &v);
    } else {
        /* Ephemerons still waiting first: their keys died.  Only spans
         * that still count waiting keys are looked at [M2], each up to its
         * last waiting key; their heads are left zero for the next
         * collection.  A key marked while the mark stack overflowed [M1]
         * may still have waiters (its release was lost, the rescan traced
         * their values): they are only unhooked. */
        bool entries_died = false;
        vec *spans = &heap->ephemeron_spans;
        for (size_t i = 0; i < spans->count; i++) {
            span *sp = VEC_AT(spans, span *, i);
            uint32_t left = sp->ephemeron_keys;
            uintptr_t *h = sp->ephemeron_heads;
            uintptr_t *end = h + (sp->kind == SPAN_LARGE ? 1 : WGC_PAGE_GRANULES);
            for (; left && h < end; h++) {
                uintptr_t w = *h;
                if (!w)
                    continue;
                *h = 0;
                left--;
                do {
                    void *key_slot, *value_slot;
                    w = waiting_slots(heap, w, &key_slot, &value_slot);
                    if (!key_slot) { /* a weak map's entry: it looks */
                        entries_died = true;
                        continue;
                    }
                    void *key = slot_load(key_slot);
                    /* (NULL: the same ephemeron waited twice, after an
                     * overflow, and was cleared just now) */
                    if (key && !is_marked(heap, key)) {
                        slot_store(key_slot, NULL);
                        slot_store(value_slot, NULL);
                        heap->stats.weak_slots_cleared++;
                    }
                } while (w);
            }
        }
        heap->ephemeron_entries_died = entries_died;
        /* Clear every dead slot, gather those that notify, then notify in
         * registration order: delivery order must not depend on the order
         * marking happened to meet the slots [F4]. */
        void **slots = (void **)heap->weak_slots.items;
        for (size_t i = 0, n = heap->weak_slots.count; i < n; i++)
            clear_if_dead(heap, slots[i]);
        vec *r = &heap->weak_records;
        weak_record *records = (weak_record *)r->items;
        size_t notifying = 0;
        for (size_t i = 0; i < r->count; i++)
            if (clear_if_dead(heap, records[i].slot) && records[i].notify)
                records[notifying++] = records[i];
        sort_by_seq(heap, records, notifying);
        for (size_t i = 0; i < notifying; i++)
            records[i].notify(heap, records[i].owner, records[i].slot);
    }
    /* Reset for the next collection.  The side arrays, zero again, go to a
     * pool as large as this collection needed: allocating them anew each
     * time costs page faults.  They go back in reverse so that the next
     * collection, taking them from the top, hands each span the array it
     * had: a table traced the same way finds the same layout, and the same
     * collection costs the same time (docs/critical-path.md, Ephemerons). */
    vec *spans = &heap->ephemeron_spans, *pool = &heap->ephemeron_head_pool;
    for (size_t i = 0; i < pool->count; i++)
        free(VEC_AT(pool, uintptr_t *, i));
    pool->count = 0;
    bool recycle = !fallback && wgc__vec_reserve(heap, pool, spans->count);
    for (size_t i = spans->count; i-- > 0; ) {
        span *sp = VEC_AT(spans, span *, i);
        if (recycle && sp->kind == SPAN_SMALL)
            VEC_AT(pool, uintptr_t *, pool->count++) = sp->ephemeron_heads;
        else
            free(sp->ephemeron_heads);
        sp->ephemeron_heads = NULL;
        sp->ephemeron_keys = 0;
    }
    spans->count = 0;
    heap->ephemerons.count = 0;
    heap->weak_records.count = 0;
    heap->weak_slots.count = 0;
    heap->weak_overflow = heap->ephemeron_overflow = false;
}
