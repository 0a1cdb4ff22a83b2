/*
 * expand.c -- derived forms rewritten into core ones, once, before a
 * top-level form runs, so the evaluator only knows quote, if, define,
 * set!, lambda, begin, and, or and application.
 *
 * Forms are rebuilt on the value stack (elements pushed, then consed), and
 * expanded sub-forms are stored back into the form in place: the form is
 * fresh from the reader, nothing else shares it.
 */
#include <string.h>

#include "interp.h"

static value sym(interp *I, const char *name) { return intern(I, name, strlen(name)); }

static value build(interp *I, size_t base, value tail, int line)
{
    size_t ti = push(I, tail);
    while (ti > base) {
        S(ti - 1) = cons_line(I, S(ti - 1), S(ti), line);
        I->sp = ti--;
    }
    return pop(I);
}

static size_t length(value l)
{
    size_t n = 0;
    for (; is_pair(l); l = cdr(l))
        n++;
    return l == NIL ? n : (size_t)-1;
}

_Noreturn static void bad_syntax(interp *I, value form)
{
    if (is_pair(form) && form->aux)
        I->line = (int)form->aux;
    ws_error_v(I, "bad syntax:", form);
}

/* Expands every element of the list at S(li), in place. */
static void expand_each(interp *I, size_t li)
{
    while (is_pair(S(li))) {
        value e = ws_expand(I, car(S(li)));
        WS_STORE(I, AS(pair, S(li)), car, e);
        S(li) = cdr(S(li));
    }
}

/* Pushes the names (or, with inits, the init expressions) of a binding list. */
static void push_bindings(interp *I, value form, value bindings, bool inits)
{
    for (; is_pair(bindings); bindings = cdr(bindings)) {
        value b = car(bindings);
        if (!is_pair(b) || !is_symbol(car(b)) || length(b) != 2)
            bad_syntax(I, form);
        push(I, inits ? car(cdr(b)) : car(b));
    }
    if (bindings != NIL)
        bad_syntax(I, form);
}

/* (let ((v i) ...) . body)  =>  ((lambda (v ...) . body) i ...)
 * (let n ((v i) ...) . body)  =>  ((lambda () (define n (lambda (v ...) . body)) (n i ...))) */
static value expand_let(interp *I, size_t xi, int line)
{
    value x = S(xi);
    if (length(x) < 3)
        bad_syntax(I, x);
    size_t base = I->sp;
    if (!is_symbol(car(cdr(x)))) {
        push(I, sym(I, "lambda"));
        push_bindings(I, S(xi), car(cdr(S(xi))), false);
        push(I, build(I, base + 1, NIL, line));
        push(I, build(I, base, cdr(cdr(S(xi))), line));
        push_bindings(I, S(xi), car(cdr(S(xi))), true);
        return build(I, base, NIL, line);
    }
    if (length(x) < 4)
        bad_syntax(I, x);
    value name = car(cdr(x)); /* a symbol: interned, always rooted */
    push(I, sym(I, "lambda"));
    push(I, NIL);
    size_t d = push(I, sym(I, "define"));
    push(I, name);
    size_t l = push(I, sym(I, "lambda"));
    push_bindings(I, S(xi), car(cdr(cdr(S(xi)))), false);
    push(I, build(I, l + 1, NIL, line));
    push(I, build(I, l, cdr(cdr(cdr(S(xi)))), line));
    push(I, build(I, d, NIL, line));
    size_t c = push(I, name);
    push_bindings(I, S(xi), car(cdr(cdr(S(xi)))), true);
    push(I, build(I, c, NIL, line));
    push(I, build(I, base, NIL, line));
    return build(I, base, NIL, line);
}

/* (let* (b . rest) . body)  =>  (let (b) (let* rest . body)) */
static value expand_letstar(interp *I, size_t xi, int line)
{
    if (length(S(xi)) < 3)
        bad_syntax(I, S(xi));
    size_t base = push(I, sym(I, "let"));
    value bindings = car(cdr(S(xi)));
    if (bindings == NIL) {
        push(I, NIL);
        return build(I, base, cdr(cdr(S(xi))), line);
    }
    if (!is_pair(bindings))
        bad_syntax(I, S(xi));
    push(I, car(bindings));
    push(I, build(I, base + 1, NIL, line));
    size_t inner = push(I, sym(I, "let*"));
    push(I, cdr(car(cdr(S(xi)))));
    push(I, build(I, inner, cdr(cdr(S(xi))), line));
    return build(I, base, NIL, line);
}

/* (cond (t . body) . rest)  =>  (if t (begin . body) (cond . rest)),
 * (cond (t) . rest) => (or t (cond . rest)), (cond (else . body)) => (begin . body) */
static value expand_clauses(interp *I, size_t ci, int line)
{
    size_t base = I->sp;
    if (S(ci) == NIL) {
        push(I, sym(I, "begin"));
        return build(I, base, NIL, line);
    }
    value clause = car(S(ci));
    if (!is_pair(clause) || length(clause) == (size_t)-1)
        ws_error_v(I, "bad cond clause:", clause);
    if (car(clause) == I->sym_else) {
        push(I, sym(I, "begin"));
        return build(I, base, cdr(car(S(ci))), line);
    }
    size_t rest = push(I, cdr(S(ci)));
    S(rest) = expand_clauses(I, rest, line);
    value body = cdr(car(S(ci)));
    push(I, sym(I, body == NIL ? "or" : "if"));
    push(I, car(car(S(ci))));
    if (body != NIL) {
        size_t b = push(I, sym(I, "begin"));
        push(I, build(I, b, cdr(car(S(ci))), line));
    }
    push(I, S(rest));
    value form = build(I, rest + 1, NIL, line);
    I->sp = base;
    return form;
}

/* (when t . body) => (if t (begin . body)); (unless t . body) => (if t (begin) (begin . body)) */
static value expand_when(interp *I, size_t xi, int line, bool when)
{
    if (length(S(xi)) < 2)
        bad_syntax(I, S(xi));
    size_t base = push(I, sym(I, "if"));
    push(I, car(cdr(S(xi))));
    size_t b = push(I, sym(I, "begin"));
    if (!when) {
        push(I, build(I, b, NIL, line));
        b = push(I, sym(I, "begin"));
    }
    push(I, build(I, b, cdr(cdr(S(xi))), line));
    return build(I, base, NIL, line);
}

value ws_expand(interp *I, value x)
{
    if (!is_pair(x))
        return x;
    size_t xi = push(I, x);
    int line = (int)x->aux;
    value head = car(x);
    size_t n = length(x);
    if (n == (size_t)-1)
        bad_syntax(I, x);
    switch (is_symbol(head) ? head->aux : SF_NONE) {
    case SF_QUOTE:
        if (n != 2)
            bad_syntax(I, x);
        break;
    case SF_IF:
        if (n != 3 && n != 4)
            bad_syntax(I, x);
        expand_each(I, push(I, cdr(x)));
        break;
    case SF_DEFINE:
        if (n < 2)
            bad_syntax(I, x);
        if (is_pair(car(cdr(x)))) {
            /* (define (f . params) . body) => (define f (lambda params . body)) */
            value target = car(cdr(x));
            if (!is_symbol(car(target)) || n < 3)
                bad_syntax(I, x);
            size_t base = push(I, head);
            push(I, car(target));
            size_t l = push(I, sym(I, "lambda"));
            push(I, cdr(car(cdr(S(xi)))));
            push(I, build(I, l, cdr(cdr(S(xi))), line));
            S(xi) = build(I, base, NIL, line);
        } else if (!is_symbol(car(cdr(x))) || n > 3) {
            bad_syntax(I, x);
        }
        expand_each(I, push(I, cdr(cdr(S(xi)))));
        break;
    case SF_SET:
        if (n != 3 || !is_symbol(car(cdr(x))))
            bad_syntax(I, x);
        expand_each(I, push(I, cdr(cdr(x))));
        break;
    case SF_LAMBDA: {
        if (n < 3)
            bad_syntax(I, x);
        value p = car(cdr(x));
        for (; is_pair(p); p = cdr(p))
            if (!is_symbol(car(p)))
                bad_syntax(I, x);
        if (p != NIL && !is_symbol(p))
            bad_syntax(I, x);
        expand_each(I, push(I, cdr(cdr(x))));
        break;
    }
    case SF_LET:
        S(xi) = ws_expand(I, expand_let(I, xi, line));
        break;
    case SF_LETSTAR:
        S(xi) = ws_expand(I, expand_letstar(I, xi, line));
        break;
    case SF_COND:
        S(xi) = cdr(x);
        S(xi) = ws_expand(I, expand_clauses(I, xi, line));
        break;
    case SF_WHEN:
    case SF_UNLESS:
        S(xi) = ws_expand(I, expand_when(I, xi, line, head->aux == SF_WHEN));
        break;
    default: /* begin, and, or, application */
        expand_each(I, push(I, x));
        break;
    }
    I->sp = xi;
    return S(xi);
}
