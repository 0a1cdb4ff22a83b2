/*
 * print.c -- the printer.  It never allocates, so it may hold values in
 * C locals freely.  It recurses on cars only: a million-element list
 * prints in constant C stack.
 */
#include <inttypes.h>

#include "interp.h"

static void print_string(FILE *out, const string *s, bool write)
{
    if (!write) {
        fwrite(s->chars, 1, s->len, out);
        return;
    }
    putc('"', out);
    for (size_t i = 0; i < s->len; i++) {
        char c = s->chars[i];
        if (c == '"' || c == '\\')
            putc('\\', out);
        if (c == '\n')
            fputs("\\n", out);
        else
            putc(c, out);
    }
    putc('"', out);
}

void ws_print(FILE *out, value v, bool write)
{
    if (is_fix(v)) {
        fprintf(out, "%" PRIdPTR, fixval(v));
        return;
    }
    if (!is_ptr(v)) {
        fputs(v == NIL      ? "()"
              : v == TRUE_V ? "#t"
              : v == FALSE_V ? "#f"
                            : "#<unspecified>",
              out);
        return;
    }
    switch (v->kind) {
    case K_PAIR:
        putc('(', out);
        for (;;) {
            ws_print(out, car(v), write);
            v = cdr(v);
            if (!is_pair(v))
                break;
            putc(' ', out);
        }
        if (v != NIL) {
            fputs(" . ", out);
            ws_print(out, v, write);
        }
        putc(')', out);
        break;
    case K_SYMBOL:
        fputs(AS(symbol, v)->name, out);
        break;
    case K_STRING:
        print_string(out, AS(string, v), write);
        break;
    case K_VECTOR: {
        vector *vec = AS(vector, v);
        fputs("#(", out);
        for (size_t i = 0; i < vec->len; i++) {
            if (i)
                putc(' ', out);
            ws_print(out, vec->items[i], write);
        }
        putc(')', out);
        break;
    }
    case K_PRIM:
        fprintf(out, "#<primitive %s>", AS(prim, v)->name);
        break;
    case K_BOX:
        ws_print(out, AS(box, v)->v, write);
        break;
    default:
        fprintf(out, "#<%s>", kind_name(v));
        break;
    }
}
