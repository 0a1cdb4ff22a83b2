/*
 * eval.c -- the evaluator: an explicit-control machine.
 *
 * There is no C recursion per Scheme call.  The machine has four registers
 * (expr, env, val, unev, all in the interp struct and so traced) and keeps
 * its continuation on the value stack as records:
 *
 *     ... saved values ... CONT(kind, n)        <- top
 *
 * Evaluating a combination pushes the operator and then each operand's
 * value; once all are there the procedure is applied to the top argc+1
 * slots.  A closure body is entered with a plain jump, pushing nothing, so
 * a call in tail position does not grow the stack: proper tail calls fall
 * out of the design.  Deep non-tail recursion grows the value stack, not
 * the C stack, and overflowing it is an ordinary Scheme error.
 */
#include <string.h>

#include "interp.h"

enum cont { C_DONE, C_IF, C_DEFINE, C_SET, C_SEQ, C_ARG, C_AND, C_OR };

static inline value cont(enum cont k, intptr_t n) { return fix(n << 4 | k); }

/* The slot holding `sym` in `env`: a frame slot, an internal define, or
 * the symbol's global cell; *holder is the object holding the slot (a
 * store into it needs the write barrier on the holder). */
static value *lookup_slot(value sym, value env, value *holder)
{
    for (; env != NIL; env = AS(frame, env)->parent) {
        frame *f = AS(frame, env);
        value names = f->names;
        size_t i = 0;
        for (; is_pair(names); names = cdr(names), i++)
            if (car(names) == sym)
                return *holder = env, &f->vals[i];
        if (names == sym)
            return *holder = env, &f->vals[i];
        for (value e = f->extra; e != NIL; e = cdr(e))
            if (car(car(e)) == sym)
                return *holder = car(e), &AS(pair, car(e))->cdr;
    }
    *holder = sym;
    return &AS(symbol, sym)->global;
}

value ws_lookup(interp *I, value sym, value env)
{
    value holder;
    value v = *lookup_slot(sym, env, &holder);
    if (v == UNBOUND)
        ws_error(I, "unbound variable: %s", AS(symbol, sym)->name);
    return v;
}

static void define(interp *I, value env, value sym, value val)
{
    if (is_kind(val, K_CLOSURE) && AS(closure, val)->name == NIL)
        WS_STORE(I, AS(closure, val), name, sym);
    if (env == NIL) {
        WS_STORE(I, AS(symbol, sym), global, val);
        return;
    }
    value holder;
    value *slot = lookup_slot(sym, env, &holder);
    frame *f = AS(frame, env);
    if (slot >= f->vals && slot < f->vals + f->count) {
        *slot = val; /* a parameter of this very frame */
        wgc_write_barrier(I->heap, f);
        return;
    }
    for (value e = f->extra; e != NIL; e = cdr(e)) {
        if (car(car(e)) == sym) {
            WS_STORE(I, AS(pair, car(e)), cdr, val);
            return;
        }
    }
    size_t ei = push(I, env);
    value binding = cons(I, sym, val);
    value extra = cons(I, binding, AS(frame, S(ei))->extra);
    WS_STORE(I, AS(frame, S(ei)), extra, extra);
    I->sp = ei;
}

static value make_closure(interp *I, value params, value body, value env)
{
    push(I, params);
    push(I, body);
    push(I, env);
    closure *c = ws_alloc(I, &ws_closure_type, sizeof *c);
    c->h.kind = K_CLOSURE;
    c->env = pop(I);
    c->body = pop(I);
    c->params = pop(I);
    c->name = NIL;
    uint32_t n = 0;
    value p = c->params;
    for (; is_pair(p); p = cdr(p))
        n++;
    c->h.aux = 2 * n + (p != NIL);
    return (value)c;
}

_Noreturn static void arity_error(interp *I, value f, int argc)
{
    const char *name = "anonymous procedure";
    int lo, hi;
    if (is_kind(f, K_PRIM)) {
        name = AS(prim, f)->name;
        lo = AS(prim, f)->min_args;
        hi = AS(prim, f)->max_args;
    } else {
        closure *c = AS(closure, f);
        if (c->name != NIL)
            name = AS(symbol, c->name)->name;
        lo = (int)(c->h.aux / 2);
        hi = c->h.aux & 1 ? -1 : lo;
    }
    if (lo == hi)
        ws_error(I, "%s: expects %d argument%s, got %d", name, lo, lo == 1 ? "" : "s",
                 argc);
    if (hi < 0)
        ws_error(I, "%s: expects at least %d argument%s, got %d", name, lo,
                 lo == 1 ? "" : "s", argc);
    ws_error(I, "%s: expects %d to %d arguments, got %d", name, lo, hi, argc);
}

/* Replaces the closure and its argc arguments on top of the stack by a new
 * frame binding them, in I->env. */
static void bind_args(interp *I, int argc)
{
    size_t fbase = I->sp - (size_t)argc - 1;
    closure *c = AS(closure, S(fbase));
    int required = (int)(c->h.aux / 2);
    bool rest = c->h.aux & 1;
    if (argc < required || (!rest && argc > required))
        arity_error(I, (value)c, argc);
    if (rest)
        push(I, list_from_stack(I, fbase + 1 + (size_t)required, NIL));
    size_t count = I->sp - fbase - 1;
    frame *f = ws_alloc(I, &ws_frame_type, sizeof *f + count * sizeof(value));
    c = AS(closure, S(fbase));
    f->h.kind = K_FRAME;
    f->parent = c->env;
    f->names = c->params;
    f->extra = NIL;
    f->proc = (value)c;
    f->count = count;
    memcpy(f->vals, &S(fbase + 1), count * sizeof(value));
    I->unev = c->body;
    I->sp = fbase;
    I->env = (value)f;
}

static value run(interp *I, bool apply, int argc)
{
    value x, op;
    intptr_t k;
    if (apply)
        goto apply;

eval:
    if (__builtin_expect(I->interrupt, 0)) {
        I->interrupt = 0;
        ws_error(I, "interrupted");
    }
    x = I->expr;
    if (!is_ptr(x)) {
        I->val = x;
        goto ret;
    }
    if (x->kind == K_SYMBOL) {
        I->val = ws_lookup(I, x, I->env);
        goto ret;
    }
    if (x->kind != K_PAIR) {
        I->val = x;
        goto ret;
    }
    if (x->aux)
        I->line = (int)x->aux;
    op = car(x);
    switch (is_symbol(op) ? op->aux : SF_NONE) {
    case SF_QUOTE:
        I->val = car(cdr(x));
        goto ret;
    case SF_IF:
        push(I, I->env);
        push(I, x);
        push(I, cont(C_IF, 0));
        I->expr = car(cdr(x));
        goto eval;
    case SF_DEFINE:
    case SF_SET:
        push(I, I->env);
        push(I, car(cdr(x)));
        push(I, cont(op->aux == SF_DEFINE ? C_DEFINE : C_SET, 0));
        I->expr = cdr(cdr(x)) == NIL ? UNSPEC : car(cdr(cdr(x)));
        goto eval;
    case SF_LAMBDA:
        I->val = make_closure(I, car(cdr(x)), cdr(cdr(x)), I->env);
        goto ret;
    case SF_BEGIN:
        I->unev = cdr(x);
        if (I->unev == NIL) {
            I->val = UNSPEC;
            goto ret;
        }
        goto seq;
    case SF_AND:
        I->unev = cdr(x);
        I->val = TRUE_V;
        goto and_next;
    case SF_OR:
        I->unev = cdr(x);
        I->val = FALSE_V;
        goto or_next;
    default:
        push(I, I->env);
        push(I, cdr(x));
        push(I, cont(C_ARG, 0));
        I->expr = op;
        goto eval;
    }

seq: /* evaluate the body list in I->unev, the last expression in tail position */
    if (cdr(I->unev) != NIL) {
        push(I, I->env);
        push(I, cdr(I->unev));
        push(I, cont(C_SEQ, 0));
    }
    I->expr = car(I->unev);
    goto eval;

and_next:
    if (I->unev == NIL)
        goto ret;
    if (cdr(I->unev) != NIL) {
        push(I, I->env);
        push(I, cdr(I->unev));
        push(I, cont(C_AND, 0));
    }
    I->expr = car(I->unev);
    goto eval;

or_next:
    if (I->unev == NIL)
        goto ret;
    if (cdr(I->unev) != NIL) {
        push(I, I->env);
        push(I, cdr(I->unev));
        push(I, cont(C_OR, 0));
    }
    I->expr = car(I->unev);
    goto eval;

ret:
    k = fixval(pop(I));
    switch ((enum cont)(k & 15)) {
    case C_DONE:
        return I->val;
    case C_IF:
        x = cdr(cdr(pop(I)));
        I->env = pop(I);
        if (truthy(I->val)) {
            I->expr = car(x);
        } else if (cdr(x) != NIL) {
            I->expr = car(cdr(x));
        } else {
            I->val = UNSPEC;
            goto ret;
        }
        goto eval;
    case C_DEFINE:
        define(I, S(I->sp - 2), S(I->sp - 1), I->val);
        I->sp -= 2;
        I->val = UNSPEC;
        goto ret;
    case C_SET: {
        value holder;
        value *slot = lookup_slot(S(I->sp - 1), S(I->sp - 2), &holder);
        if (*slot == UNBOUND)
            ws_error(I, "set!: unbound variable: %s", AS(symbol, S(I->sp - 1))->name);
        *slot = I->val;
        wgc_write_barrier(I->heap, holder);
        I->sp -= 2;
        I->val = UNSPEC;
        goto ret;
    }
    case C_SEQ:
        I->unev = pop(I);
        I->env = pop(I);
        goto seq;
    case C_AND:
    case C_OR:
        I->unev = pop(I);
        I->env = pop(I);
        if (truthy(I->val) != ((k & 15) == C_AND))
            goto ret;
        if ((k & 15) == C_AND)
            goto and_next;
        goto or_next;
    case C_ARG: {
        intptr_t n = (k >> 4) + 1; /* values pushed so far, this one included */
        I->unev = pop(I);
        I->env = pop(I);
        push(I, I->val);
        if (I->unev == NIL) {
            argc = (int)n - 1;
            goto apply;
        }
        push(I, I->env);
        push(I, cdr(I->unev));
        push(I, cont(C_ARG, n));
        I->expr = car(I->unev);
        goto eval;
    }
    }
    ws_error(I, "internal error: bad continuation");

apply:
    op = S(I->sp - (size_t)argc - 1);
    if (is_kind(op, K_PRIM)) {
        prim *p = AS(prim, op);
        if (argc < p->min_args || (p->max_args >= 0 && argc > p->max_args))
            arity_error(I, op, argc);
        I->val = p->fn(I, &S(I->sp - (size_t)argc), argc);
        I->sp -= (size_t)argc + 1;
        goto ret;
    }
    if (is_kind(op, K_CLOSURE)) {
        bind_args(I, argc);
        goto seq;
    }
    ws_error_v(I, "not a procedure:", op);
}

value ws_eval(interp *I, value form, value env)
{
    push(I, cont(C_DONE, 0));
    I->expr = form;
    I->env = env;
    return run(I, false, 0);
}

value ws_apply(interp *I, int argc)
{
    /* slide the procedure and its arguments up to make room for the
     * record that returns control here */
    size_t base = I->sp - (size_t)argc - 1;
    push(I, UNSPEC);
    memmove(&S(base + 1), &S(base), ((size_t)argc + 1) * sizeof(value));
    S(base) = cont(C_DONE, 0);
    return run(I, true, argc);
}
