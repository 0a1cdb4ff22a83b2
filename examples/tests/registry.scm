;; FinalizationRegistry: cleanup procedures run at the safe point after a
;; top-level form, never inside (gc), and receive the held value only.
(define (show . xs) (for-each display xs) (newline))
(define r (make-finalization-registry (lambda (held) (show "cleanup: " held))))

(define a (list 'a))
(define b (list 'b))
(define c (list 'c))
(registry-register! r a 'held-a)
(registry-register! r b "held-b" b)
(registry-register! r c 'held-c 'token-c)
(show "unregister c: " (registry-unregister! r 'token-c) ", again: " (registry-unregister! r 'token-c))
(show "unknown token: " (registry-unregister! r (list 'never-used)))
(begin
  (set! a #f)
  (set! b #f)
  (set! c #f)
  (gc)
  (show "collected; cleanups wait for the end of this form"))
(show "after the safe point")

;; (run-cleanup) drains the queue in the middle of a form
(define d (list 'd))
(registry-register! r d 42)
(begin
  (set! d #f)
  (gc)
  (show "run-cleanup ran " (run-cleanup) " procedure(s)"))

;; unregistering a queued cell prevents its delivery
(define e (list 'e))
(define tok (list 'token))
(registry-register! r e 'held-e tok)
(begin
  (set! e #f)
  (gc)
  (show "unregister a queued cell: " (registry-unregister! r tok)))
(show "held-e never delivered")

;; the held value lives while the registration does
(define held (list 'held-object))
(define wheld (make-weak-ref held))
(define g (list 'g))
(registry-register! r g held)
(set! held #f)
(gc)
(show "held value alive while registered: " (weak-ref-deref wheld))
(begin (set! g #f) (gc))
(gc)
(show "held value released after delivery: " (weak-ref-deref wheld))

;; a target registered twice gives two cleanups, in registration order
(define twice (list 'twice))
(registry-register! r twice 'first-registration)
(registry-register! r twice 'second-registration)
(set! twice #f)
(gc)

;; targets found dead together are delivered in registration order
(define objs (list (list 1) (list 2) (list 3) (list 4)))
(registry-register! r (list-ref objs 2) 'third)
(registry-register! r (list-ref objs 0) 'first)
(registry-register! r (list-ref objs 3) 'fourth)
(registry-register! r (list-ref objs 1) 'second)
(set! objs #f)
(gc)

;; a registry that dies takes its registrations with it
(define r2 (make-finalization-registry (lambda (h) (show "must not run: " h))))
(define f (list 'f))
(registry-register! r2 f 'held-f)
(set! r2 #f)
(set! f #f)
(gc)
(show "dead registry: nothing ran")

;; an error in one cleanup procedure is reported; the others still run
(define r3
  (make-finalization-registry
   (lambda (h)
     (if (eq? h 'bad)
         (error "cleanup failed for" h)
         (show "cleanup ok: " h)))))
(define x1 (list 1))
(define x2 (list 2))
(define x3 (list 3))
(registry-register! r3 x1 'one)
(registry-register! r3 x2 'bad)
(registry-register! r3 x3 'three)
(begin (set! x1 #f) (set! x2 #f) (set! x3 #f) (gc))
(show "the script goes on")

;; a cleanup procedure may allocate, register and collect
(define r4 #f)
(define generations 0)
(set! r4
  (make-finalization-registry
   (lambda (n)
     (set! generations (+ generations 1))
     (show "generation " n)
     (if (< n 3) (registry-register! r4 (list 'next) (+ n 1)))
     (gc))))
(registry-register! r4 (list 'seed) 1)
(gc)
(gc)
(gc)
(show "generations: " generations)

(define s (gc-stats))
(show "cells registered: " (cdr (assq 'cells-registered s))
      ", delivered: " (cdr (assq 'cells-delivered s))
      ", unregistered: " (cdr (assq 'cells-unregistered s)))
