;; WeakRef: (make-weak-ref obj [holdings]), (weak-ref-deref w), weak-ref-clear!
;; Each top-level form is one job: a target made or dereferenced in a job
;; stays alive until the job ends, whatever (gc) does in between.
(define (show . xs) (for-each display xs) (newline))

(define keep (list 'kept))
(define w1 (make-weak-ref keep))
(define w2 #f)
(show "weak-ref?: " (weak-ref? w1) " " (weak-ref? keep))
;; a collection may come at any allocation: only in its own job is a
;; target that nothing else holds sure to be there
(begin
  (set! w2 (make-weak-ref (list 'garbage)))
  (show "before gc: " (weak-ref-deref w1) " " (weak-ref-deref w2)))
(gc)
(show "after gc: " (weak-ref-deref w1) " " (weak-ref-deref w2))
(gc)
(show "once #f, always #f: " (weak-ref-deref w2))

;; keep-during-job: a new ref's target survives a collection in its own job
(define w3 #f)
(begin
  (set! w3 (make-weak-ref (vector 1 2)))
  (gc)
  (show "same job, after gc: " (weak-ref-deref w3)))
(gc)
(show "next job: " (weak-ref-deref w3))

;; so does a target that was dereferenced in the job
(define strong (list 'y))
(define w4 (make-weak-ref strong))
(begin
  (weak-ref-deref w4)
  (set! strong #f)
  (gc)
  (show "deref keeps it for the job: " (weak-ref-deref w4)))
(gc)
(show "then it goes: " (weak-ref-deref w4))

;; clearing by hand
(define w5 (make-weak-ref keep))
(weak-ref-clear! w5)
(show "cleared: " (weak-ref-deref w5) ", target still alive: " keep)

;; every weak ref to an object is cleared in the same collection
(define t (list 'shared))
(define wa (make-weak-ref t))
(define wb (make-weak-ref t))
(set! t #f)
(gc)
(show "both cleared together: " (weak-ref-deref wa) " " (weak-ref-deref wb))

;; a ref holds its holdings strongly for as long as the ref lives
(define h (list 'holdings))
(define wh (make-weak-ref h))
(define wt (make-weak-ref (list 'target) h))
(set! h #f)
(gc)
(show "holdings kept by the live ref: " (weak-ref-deref wh) ", target: " (weak-ref-deref wt))
(set! wt #f)
(gc)
(show "... and released with it: " (weak-ref-deref wh))

;; a weak ref does not keep anything alive, even through a chain of refs
(define inner (list 'inner))
(define w-inner (make-weak-ref inner))
(define w-outer (make-weak-ref w-inner))
(set! inner #f)
(set! w-inner #f)
(gc)
(show "ref to a dead ref: " (weak-ref-deref w-outer))

;; objects that are always alive: interned symbols, closures held by globals
(define ws (make-weak-ref 'a-symbol))
(define (f) 1)
(define wf (make-weak-ref f))
(gc)
(show "symbol: " (weak-ref-deref ws) ", procedure alive: " (procedure? (weak-ref-deref wf)))
(set! f #f)
(gc)
(show "procedure dropped: " (weak-ref-deref wf))

;; many refs, half of them to garbage
(define targets (make-vector 1000 #f))
(define refs
  (let loop ((i 0) (acc '()))
    (if (= i 1000)
        acc
        (let ((obj (list i)))
          (if (= (remainder i 2) 0) (vector-set! targets i obj))
          (loop (+ i 1) (cons (make-weak-ref obj) acc))))))
(gc)
(define (count-live l n) (if (null? l) n (count-live (cdr l) (if (weak-ref-deref (car l)) (+ n 1) n))))
(show "live refs out of 1000: " (count-live refs 0))
