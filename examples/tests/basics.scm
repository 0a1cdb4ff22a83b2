;; args: --stack=10000
;; core language: data, special forms, primitives.  The small stack makes
;; the tail-call loops below prove they run in constant space.
(define (show . xs) (for-each display xs) (newline))

(show "integers: " (+ 1 2 3) " " (- 10 4) " " (- 5) " " (* 6 7) " "
      (quotient 17 5) " " (remainder -17 5) " " (modulo -17 5))
(show "compare: " (< 1 2 3) (> 3 1) (= 2 2) (<= 2 2 3) (>= 1 2))
(show "booleans: " #t " " #f " " (not #f) " " (not 0))
(show "symbols: " 'abc " " (eq? 'abc 'ABC) " " (symbol->string 'xyz))
(write "a \"quoted\" string\n") (newline)
(show "pairs: " (cons 1 2) " " (list 1 2 3) " " '(a (b . c) ()) " " (length '(1 2 3)))
(define p (cons 1 2))
(set-car! p 10) (set-cdr! p '(20))
(show "mutated: " p " cadr " (cadr p))
(define v (make-vector 3 0))
(vector-set! v 1 'x)
(show "vectors: " v " " (vector 1 "two" 'three) " " (vector-length v) " " (vector-ref v 1))
(show "equal?: " (equal? '(1 #(2 "3")) (list 1 (vector 2 "3"))) " " (eq? (list 1) (list 1)))
(show "predicates: " (null? '()) (pair? '()) (procedure? car) (procedure? (lambda () 1)))

;; lambda, closures, rest args, internal defines
(define (make-counter)
  (let ((n 0))
    (lambda () (set! n (+ n 1)) n)))
(define c1 (make-counter))
(define c2 (make-counter))
(c1) (c1)
(show "counters: " (c1) " " (c2))
(define (rest a . more) (list a more))
(show "rest: " (rest 1) " " (rest 1 2 3) " " ((lambda args args) 4 5))
(define (outer x)
  (define y (* x 2))
  (define (inner z) (+ y z))
  (inner 1))
(show "internal define: " (outer 5))

;; if, cond, and, or, when, unless, let, let*, named let, begin
(show "if: " (if #t 'yes 'no) " " (if #f 'yes 'no) " " (if 0 'zero-is-true 'no))
(define (classify n)
  (cond ((< n 0) 'negative) ((= n 0) 'zero) (else 'positive)))
(show "cond: " (classify -3) " " (classify 0) " " (classify 9))
(show "and/or: " (and) " " (and 1 2) " " (and 1 #f 2) " " (or) " " (or #f 3) " " (or #f #f))
(when (> 2 1) (show "when runs"))
(unless (> 2 1) (show "unless must not run"))
(show "let: " (let ((a 1) (b 2)) (+ a b)) " let*: " (let* ((a 1) (b (+ a 1))) (* a b)))
(show "named let: " (let loop ((i 0) (acc '())) (if (= i 5) (reverse acc) (loop (+ i 1) (cons i acc)))))
(show "begin: " (begin 1 2 3))
(show "map: " (map (lambda (x) (* x x)) '(1 2 3 4)) " append: " (append '(1 2) '(3 4)))
(show "assq: " (assq 'b '((a . 1) (b . 2))) " list-ref: " (list-ref '(a b c) 2))
(show "strings: " (string-append "foo" "bar" (number->string 42)) " " (string-length "hello"))


;; proper tail calls: 100000 iterations, on a 10000-slot stack
(define (count-down n) (if (= n 0) 'done (count-down (- n 1))))
(show "tail calls: " (count-down 100000))
(define (even2? n) (if (= n 0) #t (odd2? (- n 1))))
(define (odd2? n) (if (= n 0) #f (even2? (- n 1))))
(show "mutual tail calls: " (even2? 100001))
(define (loop-cond n) (cond ((= n 0) 'cond-done) (else (loop-cond (- n 1)))))
(show "tail call in cond: " (loop-cond 100000))
(define (loop-and n) (or (= n 0) (and #t (loop-and (- n 1)))))
(show "tail call in and/or: " (loop-and 100000))
