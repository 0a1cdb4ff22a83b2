;; binary-trees (the Benchmarks Game program), depths 4..16: an allocation-heavy
;; script for timing the interpreter: build-demo/examples/wscheme examples/binary_trees.scm
(define (make d) (if (= d 0) (cons '() '()) (cons (make (- d 1)) (make (- d 1)))))
(define (check t) (if (null? (car t)) 1 (+ 1 (check (car t)) (check (cdr t)))))
(define (loop d max)
  (if (<= d max)
      (begin
        (let ((iters (quotient 1048576 (expt2 d))))
          (display iters) (display " trees of depth ") (display d) (display " check ")
          (display (sum-checks iters d 0)) (newline))
        (loop (+ d 2) max))))
(define (expt2 n) (if (= n 0) 1 (* 2 (expt2 (- n 1)))))
(define (sum-checks i d acc) (if (= i 0) acc (sum-checks (- i 1) d (+ acc (check (make d))))))
(define long-lived (make 16))
(display "stretch check ") (display (check (make 17))) (newline)
(loop 4 16)
(display "long lived check ") (display (check long-lived)) (newline)
