;; args: --stack=100000
;; Fed to the REPL on stdin: every error is reported with its line, and the
;; next input runs on an intact heap.
(define x (list 1 2 3))
undefined-variable
(car 5)
(vector-ref (vector 1 2) 5)
(+ 1 "a")
(make-weak-ref 5)
(weak-map-set! (make-weak-map) 1 2)
(registry-register! (make-finalization-registry car) x x)
(make-finalization-registry 7)
((lambda (a b) a) 1)
(5 3)
(error "custom failure:" 'x 42 "str")
(define (f) (g))
(f)
(define (deep n) (+ 1 (deep n)))
(deep 0)
(define (outer) (+ 1 (middle)))
(define (middle) (+ 1 (inner)))
(define (inner) (car 1))
(outer)
(quotient 1 0)
(let ((a)) a)
(if)
)
(display "still alive: ")
(display x)
(newline)
x
(* 4611686018427387903 2)
"a string"
'sym
(vector 1 #t #f '())
(define w (make-weak-ref x))
(weak-ref-deref w)
(length x)
(
