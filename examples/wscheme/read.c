/*
 * read.c -- the reader: text to data.
 *
 * Elements of a list are pushed on the value stack as they are read and
 * consed up at the closing parenthesis, so a half-read list is always
 * rooted.  Nesting recurses in C, list length does not.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"

void ws_reader_set(interp *I, const char *src, size_t len, int first_line)
{
    I->src = src;
    I->len = len;
    I->pos = 0;
    I->rdline = first_line;
}

static int peekc(interp *I) { return I->pos < I->len ? (unsigned char)I->src[I->pos] : EOF; }

static int nextc(interp *I)
{
    int c = peekc(I);
    if (c != EOF) {
        I->pos++;
        if (c == '\n')
            I->rdline++;
    }
    return c;
}

static void skip_space(interp *I)
{
    for (;;) {
        int c = peekc(I);
        if (c == ';') {
            while (c != EOF && c != '\n')
                c = nextc(I);
        } else if (c != EOF && isspace(c)) {
            nextc(I);
        } else {
            return;
        }
    }
}

static bool is_delimiter(int c)
{
    return c == EOF || isspace(c) || c == '(' || c == ')' || c == '"' || c == ';'
        || c == '\'';
}

_Noreturn static void syntax_error(interp *I, const char *msg)
{
    I->line = I->rdline;
    ws_error(I, "syntax error: %s", msg);
}

static value read_datum(interp *I);

static value read_list(interp *I, int line)
{
    size_t base = I->sp;
    value tail = NIL;
    for (;;) {
        skip_space(I);
        int c = peekc(I);
        if (c == EOF) {
            I->line = line;
            ws_error(I, "syntax error: missing ')' for the '(' on this line");
        }
        if (c == ')') {
            nextc(I);
            break;
        }
        value d = read_datum(I);
        if (d == I->sym_dot) {
            if (I->sp == base)
                syntax_error(I, "'.' at the start of a list");
            tail = read_datum(I);
            skip_space(I);
            if (nextc(I) != ')')
                syntax_error(I, "expected ')' after the dotted tail");
            break;
        }
        push(I, d);
    }
    /* cons from the end, stamping each pair with the list's line */
    size_t ti = push(I, tail);
    while (ti > base) {
        S(ti - 1) = cons_line(I, S(ti - 1), S(ti), line);
        I->sp = ti--;
    }
    return pop(I);
}

/* Two passes over the literal, the first to size it, so that nothing but
 * the string object itself is ever allocated. */
static size_t scan_string(interp *I, char *out)
{
    size_t n = 0;
    for (;;) {
        int c = nextc(I);
        if (c == EOF)
            syntax_error(I, "unterminated string");
        if (c == '"')
            return n;
        if (c == '\\') {
            c = nextc(I);
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        if (out)
            out[n] = (char)c;
        n++;
    }
}

static value read_string(interp *I)
{
    size_t start = I->pos;
    int line = I->rdline;
    size_t n = scan_string(I, NULL);
    value s = make_string(I, NULL, n);
    I->pos = start;
    I->rdline = line;
    scan_string(I, AS(string, s)->chars);
    return s;
}

static value read_atom(interp *I)
{
    size_t start = I->pos;
    while (!is_delimiter(peekc(I)))
        nextc(I);
    const char *tok = I->src + start;
    size_t len = I->pos - start;

    if (len == 2 && tok[0] == '#' && (tok[1] == 't' || tok[1] == 'f'))
        return boolv(tok[1] == 't');
    size_t digits = (tok[0] == '-' || tok[0] == '+') ? 1 : 0;
    if (len > digits) {
        size_t i = digits;
        while (i < len && isdigit((unsigned char)tok[i]))
            i++;
        if (i == len) {
            char buf[32];
            if (len >= sizeof buf)
                syntax_error(I, "integer too large");
            memcpy(buf, tok, len);
            buf[len] = '\0';
            errno = 0;
            long long n = strtoll(buf, NULL, 10);
            if (errno || n > WS_FIXNUM_MAX || n < WS_FIXNUM_MIN)
                syntax_error(I, "integer too large");
            return fix((intptr_t)n);
        }
    }
    if (tok[0] == '#')
        syntax_error(I, "unknown # syntax");
    char lower[256];
    if (len >= sizeof lower)
        syntax_error(I, "symbol too long");
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)tolower((unsigned char)tok[i]);
    return intern(I, lower, len);
}

static value list_to_vector(interp *I, value list)
{
    size_t li = push(I, list), n = 0;
    for (value l = list; is_pair(l); l = cdr(l))
        n++;
    value v = make_vector(I, n, NIL);
    value *items = AS(vector, v)->items;
    for (value l = S(li); is_pair(l); l = cdr(l))
        *items++ = car(l);
    I->sp = li;
    return v;
}

static value read_datum(interp *I)
{
    skip_space(I);
    int line = I->rdline;
    int c = nextc(I);
    switch (c) {
    case EOF:
        syntax_error(I, "unexpected end of input");
    case '(':
        return read_list(I, line);
    case ')':
        syntax_error(I, "unexpected ')'");
    case '"':
        return read_string(I);
    case '\'': {
        size_t base = push(I, read_datum(I));
        value q = intern(I, "quote", 5); /* the datum is rooted at base */
        push(I, S(base));
        S(base) = q;
        return list_from_stack(I, base, NIL);
    }
    case '#':
        if (peekc(I) == '(') {
            nextc(I);
            return list_to_vector(I, read_list(I, line));
        }
        I->pos--;
        return read_atom(I); /* #t, #f */
    default:
        I->pos--; /* c was not a newline: the line count is unchanged */
        return read_atom(I);
    }
}

enum read_status ws_read(interp *I)
{
    skip_space(I);
    if (peekc(I) == EOF)
        return READ_EOF;
    I->line = I->rdline;
    I->val = read_datum(I);
    return READ_OK;
}

bool ws_input_complete(const char *src, size_t len)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ';') {
            while (i < len && src[i] != '\n')
                i++;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
    }
    return !in_string && depth <= 0;
}
