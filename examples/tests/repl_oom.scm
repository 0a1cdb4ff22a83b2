;; args: --max-heap=2M
;; Running out of a bounded heap is an ordinary error: the REPL recovers
;; and the heap is still usable.
(define (grow l) (grow (cons (make-vector 100 0) l)))
(grow '())
(display "recovered")
(newline)
(define keep (make-vector 1000 'x))
(vector-length keep)
(make-vector 10000000 0)
(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc))))
(length (build 10000 '()))
(vector-ref keep 999)
