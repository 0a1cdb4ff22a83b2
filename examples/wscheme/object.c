/*
 * object.c -- heap object types, constructors, the symbol table and the
 * root callback.
 */
#include <stdlib.h>
#include <string.h>

#include "interp.h"

/* Fixnums and constants are not objects: only real pointers are reported. */
static inline void visit(wgc_visitor *v, value *slot)
{
    if (is_ptr(*slot))
        wgc_visit(v, slot);
}

static void trace_pair(void *o, wgc_visitor *v)
{
    pair *p = o;
    visit(v, &p->car);
    visit(v, &p->cdr);
}

static void trace_symbol(void *o, wgc_visitor *v)
{
    visit(v, &AS(symbol, o)->global);
}

static void trace_vector(void *o, wgc_visitor *v)
{
    vector *vec = o;
    for (size_t i = 0; i < vec->len; i++)
        visit(v, &vec->items[i]);
}

static void trace_closure(void *o, wgc_visitor *v)
{
    closure *c = o;
    visit(v, &c->params);
    visit(v, &c->body);
    visit(v, &c->env);
    visit(v, &c->name);
}

static void trace_frame(void *o, wgc_visitor *v)
{
    frame *f = o;
    visit(v, &f->parent);
    visit(v, &f->names);
    visit(v, &f->extra);
    visit(v, &f->proc);
    for (size_t i = 0; i < f->count; i++)
        visit(v, &f->vals[i]);
}

static void trace_box(void *o, wgc_visitor *v) { visit(v, &AS(box, o)->v); }

static void trace_weakref(void *o, wgc_visitor *v)
{
    weakref_obj *w = o;
    wgc_visit(v, &w->ref);
    visit(v, &w->group);
}

static void trace_weakmap(void *o, wgc_visitor *v)
{
    wgc_visit(v, &AS(weakmap_obj, o)->map);
}

static void trace_registry(void *o, wgc_visitor *v)
{
    registry_obj *r = o;
    wgc_visit(v, &r->reg);
    visit(v, &r->proc);
}

static void trace_group(void *o, wgc_visitor *v)
{
    group_obj *g = o;
    wgc_visit(v, &g->group);
    visit(v, &g->proc);
}

static const wgc_type pair_type = {.name = "pair", .trace = trace_pair};
static const wgc_type symbol_type = {.name = "symbol", .trace = trace_symbol};
static const wgc_type string_type = {.name = "string"};
static const wgc_type vector_type = {.name = "vector", .trace = trace_vector};
static const wgc_type box_type = {.name = "box", .trace = trace_box};
const wgc_type ws_closure_type = {.name = "closure", .trace = trace_closure};
const wgc_type ws_prim_type = {.name = "primitive"};
const wgc_type ws_frame_type = {.name = "frame", .trace = trace_frame};
const wgc_type ws_weakref_type = {.name = "weak-ref", .trace = trace_weakref};
const wgc_type ws_weakmap_type = {.name = "weak-map", .trace = trace_weakmap};
const wgc_type ws_registry_type = {.name = "registry", .trace = trace_registry};
const wgc_type ws_group_type = {.name = "weak-ref-group", .trace = trace_group};

/* ----------------------------------------------------------- allocation */

void *ws_alloc(interp *I, const wgc_type *type, size_t size)
{
    void *p = wgc_alloc(I->heap, type, size);
    if (!p) {
        wgc_error e = wgc_last_error(I->heap);
        wgc_clear_error(I->heap);
        if (e == WGC_EHEAPMAX)
            ws_error(I, "out of memory: the heap limit of %zu bytes is reached",
                     I->max_heap);
        if (e == WGC_ENOMEM)
            ws_error(I, "out of memory: the system refused memory");
        ws_error(I, "cannot allocate: %s", wgc_error_string(e));
    }
    return p;
}

value cons_line(interp *I, value a, value d, int line)
{
    push(I, a);
    push(I, d);
    pair *p = ws_alloc(I, &pair_type, sizeof *p);
    p->h.kind = K_PAIR;
    p->h.aux = (uint32_t)line;
    p->cdr = pop(I);
    p->car = pop(I);
    return (value)p;
}

value cons(interp *I, value a, value d) { return cons_line(I, a, d, 0); }

value list_from_stack(interp *I, size_t base, value tail)
{
    size_t ti = push(I, tail);
    while (ti > base) {
        S(ti - 1) = cons(I, S(ti - 1), S(ti));
        I->sp = ti--;
    }
    return pop(I);
}

value make_string(interp *I, const char *chars, size_t len)
{
    if (len > SIZE_MAX / 2)
        ws_error(I, "string too long");
    string *s = ws_alloc(I, &string_type, sizeof *s + len + 1);
    s->h.kind = K_STRING;
    s->len = len;
    if (chars) /* NULL: leave it zeroed for the caller to fill */
        memcpy(s->chars, chars, len);
    s->chars[len] = '\0';
    return (value)s;
}

value make_vector(interp *I, size_t len, value fill)
{
    if (len > (SIZE_MAX - sizeof(vector)) / sizeof(value))
        ws_error(I, "make-vector: length too large");
    push(I, fill);
    vector *v = ws_alloc(I, &vector_type, sizeof *v + len * sizeof(value));
    fill = pop(I);
    v->h.kind = K_VECTOR;
    v->len = len;
    for (size_t i = 0; i < len; i++)
        v->items[i] = fill;
    return (value)v;
}

value make_box(interp *I, value v)
{
    push(I, v);
    box *b = ws_alloc(I, &box_type, sizeof *b);
    b->h.kind = K_BOX;
    b->v = pop(I);
    return (value)b;
}

/* -------------------------------------------------------------- symbols */

static size_t hash_name(const char *s, size_t len)
{
    size_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void symtab_grow(interp *I)
{
    size_t ncap = I->symcap ? I->symcap * 2 : 256;
    value *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        ws_error(I, "out of memory: symbol table");
    for (size_t i = 0; i < I->symcap; i++) {
        symbol *s = AS(symbol, I->symtab[i]);
        if (!s)
            continue;
        size_t j = hash_name(s->name, s->len) & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = (value)s;
    }
    free(I->symtab);
    I->symtab = nt;
    I->symcap = ncap;
}

value intern(interp *I, const char *name, size_t len)
{
    if ((I->symcount + 1) * 2 > I->symcap)
        symtab_grow(I);
    size_t mask = I->symcap - 1, j = hash_name(name, len) & mask;
    for (; I->symtab[j]; j = (j + 1) & mask) {
        symbol *s = AS(symbol, I->symtab[j]);
        if (s->len == len && memcmp(s->name, name, len) == 0)
            return (value)s;
    }
    /* `name` may point into a heap string: copy it out before allocating. */
    char buf[256];
    char *copy = len < sizeof buf ? buf : malloc(len + 1);
    if (!copy)
        ws_error(I, "out of memory: symbol name");
    memcpy(copy, name, len);
    symbol *s = wgc_alloc(I->heap, &symbol_type, sizeof *s + len + 1);
    if (s) {
        s->h.kind = K_SYMBOL;
        s->global = UNBOUND;
        s->len = len;
        memcpy(s->name, copy, len);
        s->name[len] = '\0';
        I->symtab[j] = (value)s; /* the slot is still free: no allocation ran Scheme code */
        I->symcount++;
    }
    if (copy != buf)
        free(copy);
    if (!s)
        ws_alloc(I, &symbol_type, 0); /* reports the failure */
    return (value)s;
}

/* --------------------------------------------------------------- roots */

void ws_trace_roots(wgc_visitor *v, void *user)
{
    interp *I = user;
    for (size_t i = 0; i < I->sp; i++)
        visit(v, &I->stack[i]);
    visit(v, &I->expr);
    visit(v, &I->env);
    visit(v, &I->val);
    visit(v, &I->unev);
    for (size_t i = 0; i < I->symcap; i++)
        visit(v, &I->symtab[i]);
}

const char *kind_name(value v)
{
    if (is_fix(v))
        return "integer";
    if (v == NIL)
        return "empty list";
    if (v == TRUE_V || v == FALSE_V)
        return "boolean";
    switch (kind_of(v)) {
    case K_PAIR: return "pair";
    case K_SYMBOL: return "symbol";
    case K_STRING: return "string";
    case K_VECTOR: return "vector";
    case K_CLOSURE:
    case K_PRIM: return "procedure";
    case K_WEAKREF: return "weak-ref";
    case K_WEAKMAP: return "weak-map";
    case K_REGISTRY: return "finalization-registry";
    case K_GROUP: return "weak-ref-group";
    default: return "object";
    }
}
