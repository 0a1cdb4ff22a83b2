#!/usr/bin/env python3
"""repl_tty.py WSCHEME -- drives the REPL on a pseudo-terminal as a person
would: the banner names (help) and (exit); Ctrl-C interrupts a running
loop and returns to the prompt with the REPL's definitions intact; Ctrl-C
while typing abandons the unfinished input; (exit 7) leaves with code 7."""
import os
import pty
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:2])

out = b''
pos = 0  # where the last match ended


def expect(token, timeout=20.0):
    """Reads until `token` appears after the last match."""
    global out, pos
    end = time.time() + timeout
    while time.time() < end:
        at = out.find(token, pos)
        if at >= 0:
            pos = at + len(token)
            return
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            out += data
    sys.stdout.write(out.decode(errors='replace'))
    sys.exit('FAIL: no %r in the REPL output above' % token)


def send(text):
    os.write(fd, text)


expect(b'(help)')
expect(b'> ')
send(b'(define x 42)\n')
expect(b'> ')
send(b'(define (spin) (spin))\n')
expect(b'> ')
send(b'(spin)\n')
time.sleep(1.0)  # the loop is surely running
send(b'\x03')
expect(b'error: interrupted')
expect(b'in spin')
expect(b'> ')
send(b'(+ x 1)\n')
expect(b'43')
send(b'(list 1\n')
expect(b'... ')
send(b'\x03')
time.sleep(0.3)
# Enter after Ctrl-C: a fresh prompt whether the Ctrl-C ended the read at
# once or (landing just before the read began) only drops this line.
send(b'\n')
expect(b'> ')
send(b'(* x 2)\n')
expect(b'84')
send(b'(help)\n')
expect(b'Ctrl-C interrupts')
send(b'(exit 7)\n')
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
if code != 7:
    sys.stdout.write(out.decode(errors='replace'))
    sys.exit('FAIL: exit code %d, not 7' % code)
print('ok')
