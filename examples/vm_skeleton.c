/* vm_skeleton.c -- the smallest VM shape on wgc (docs/embedding.md). */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <wgc.h>

typedef struct obj obj;                     /* a cons cell or a string */
struct obj { obj *car, *cdr; char text[16]; };
static const wgc_type cell_type = {.name = "cell",
    .pointer_words = WGC_WORD(obj, car) | WGC_WORD(obj, cdr)};

typedef struct vm {
    wgc_heap *heap;
    obj *stack[256];                         /* the VM stack: a root */
    int sp;
    obj *interned[64];                       /* weak: swept by the hook */
    volatile int cleanup_pending;            /* set inside a collection */
    jmp_buf on_error;
} vm;

static void trace_vm(wgc_visitor *v, void *user) {
    vm *m = user;
    wgc_visit_array(v, m->stack, (size_t)m->sp);
}
static void sweep_interned(wgc_heap *h, void *user) {  /* weak interning */
    vm *m = user;
    for (int i = 0; i < 64; i++)
        if (m->interned[i] && !wgc_survives(h, m->interned[i]))
            m->interned[i] = NULL;              /* or a tombstone */
}
static void note_cleanup(wgc_heap *h, void *user) { (void)h; ((vm *)user)->cleanup_pending = 1; }
static int on_dead(wgc_heap *h, void *holdings, void *user) {
    (void)h, (void)holdings;
    ++*(int *)user;                            /* gets holdings, never the dead cons */
    return 0;
}

static obj *new_obj(vm *m, const char *text) {
    obj *o = wgc_alloc(m->heap, &cell_type, sizeof *o);
    if (!o) longjmp(m->on_error, 1);           /* out of memory: a VM error */
    snprintf(o->text, sizeof o->text, "%s", text);
    return o;
}
static obj *intern(vm *m, const char *text) {
    unsigned i = (unsigned)text[0] % 64;       /* a toy hash, no probing */
    if (!m->interned[i] || strcmp(m->interned[i]->text, text))
        m->interned[i] = new_obj(m, text);
    return m->interned[i];
}

int main(void) {
    static vm m;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = trace_vm, cfg.trace_roots_user = &m;
    cfg.sweep_weak_tables = sweep_interned, cfg.sweep_weak_tables_user = &m;
    cfg.cleanup_pending = note_cleanup, cfg.cleanup_pending_user = &m;
    cfg.max_heap_size = 1 << 20;
    m.heap = wgc_heap_new(&cfg);
    int cleaned = 0;
    wgc_registry *reg = wgc_registry_new(m.heap, on_dead, &cleaned);
    wgc_root *reg_root = wgc_root_new(m.heap, reg);
    wgc_frame *depth = wgc_frame_top(m.heap);
    int sp_at_entry = m.sp;
    if (setjmp(m.on_error)) {                  /* unwind: stack and frames */
        m.sp = sp_at_entry;
        wgc_frame_unwind(m.heap, depth);
        puts("error: out of memory, recovered");
    }
    for (int step = 0; step < 100000; step++) {   /* the dispatch loop */
        obj *sym = intern(&m, step % 2 ? "odd" : "even"); /* may collect: */
        m.stack[m.sp++] = sym;                 /* push after, never before */
        obj *c = new_obj(&m, "cons");
        c->car = m.stack[m.sp - 1];            /* into a new object: no barrier */
        m.stack[m.sp - 1] = c;
        if (m.sp > 1)                          /* into an older one: barrier */
            WGC_STORE(m.heap, m.stack[m.sp - 2], cdr, c);
        if (step % 1000 == 0)
            wgc_registry_register(reg, c, "a cons", NULL);
        if (m.sp > 200) m.sp = 0;              /* drop everything */
        if (m.cleanup_pending) {               /* the cheap safe-point flag */
            m.cleanup_pending = 0;
            wgc_end_job(m.heap);
            wgc_run_cleanup(m.heap, SIZE_MAX);
        }
    }
    wgc_collect_and_cleanup(m.heap);
    wgc_heap_stats s;
    wgc_stats(m.heap, &s);
    printf("%d of 100 registered conses cleaned up, %zu live bytes\n", cleaned, s.live_bytes);
    wgc_root_free(reg_root);
    wgc_heap_free(m.heap);                     /* else valgrind: "definitely lost" */
    return 0;
}
