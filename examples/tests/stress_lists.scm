;; GC stress: deep non-tail recursion building lists, closures capturing
;; closures, vectors of lists.  Every intermediate value is reachable only
;; from the interpreter's stack, so a missing root shows up here under
;; WGC_STRESS.
(define (show . xs) (for-each display xs) (newline))

(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(define (sum l acc) (if (null? l) acc (sum (cdr l) (+ acc (car l)))))
(define l (build 100000))
(show "deep build: length " (length l) ", sum " (sum l 0))

(define (copy-tree t) (if (pair? t) (cons (copy-tree (car t)) (copy-tree (cdr t))) t))
(show "copy equal?: " (equal? (copy-tree l) l))

(define (tree d) (if (= d 0) (list 'leaf) (list (tree (- d 1)) (tree (- d 1)))))
(define (leaves t) (if (eq? (car t) 'leaf) 1 (+ (leaves (car t)) (leaves (cadr t)))))
(show "tree leaves: " (leaves (tree 12)))

;; closures capturing closures
(define (compose f g) (lambda (x) (f (g x))))
(define (add1 x) (+ x 1))
(define (repeat f n) (if (= n 0) (lambda (x) x) (compose f (repeat f (- n 1)))))
(show "closure chain: " ((repeat add1 5000) 0))
(define (make-adders n)
  (let loop ((i 0) (acc '()))
    (if (= i n) acc (loop (+ i 1) (cons (lambda (x) (+ x i)) acc)))))
(show "adders: " (map (lambda (f) (f 100)) (make-adders 5)))
(define (curry3 f) (lambda (a) (lambda (b) (lambda (c) (f a b c)))))
(show "curried: " ((((curry3 list) 1) 2) 3))

;; association lists and vectors of lists
(define v (make-vector 100 '()))
(let loop ((i 0))
  (if (< i 5000)
      (begin
        (vector-set! v (remainder i 100) (cons (list i (* i i)) (vector-ref v (remainder i 100))))
        (loop (+ i 1)))))
(show "bucket 7 size: " (length (vector-ref v 7)) ", head: " (car (vector-ref v 7)))

;; strings and symbols made on the fly
(define (numbers->string n)
  (if (= n 0) "" (string-append (numbers->string (- n 1)) (number->string n) ",")))
(show "string: " (string-length (numbers->string 300)))
