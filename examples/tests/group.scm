;; WeakRefGroup: refs made in one group share one cleanup procedure, which
;; receives the held value of each ref whose target died.
(define (show . xs) (for-each display xs) (newline))
(define g (make-weak-ref-group (lambda (held) (show "group cleanup: " held))))

(define t1 (list 1))
(define t2 (list 2))
(define t3 (list 3))
(define r1 (group-make-ref g t1 'one))
(define r2 (group-make-ref g t2 'two))
(define r3 (group-make-ref g t3 'three))
(show "deref: " (weak-ref-deref r1) " " (weak-ref-deref r2) " " (weak-ref-deref r3))

;; a cleared ref is never delivered
(weak-ref-clear! r2)
(show "r2 cleared: " (weak-ref-deref r2) ", t2 alive: " t2)
(begin
  (set! t1 #f)
  (set! t2 #f)
  (set! t3 #f)
  (gc)
  (show "refs emptied at once: " (weak-ref-deref r1) " " (weak-ref-deref r3)))

;; a ref that is itself garbage when its target dies is not delivered
(define t4 (list 4))
(group-make-ref g t4 'four)
(set! t4 #f)
(gc)
(show "garbage ref: no cleanup")

;; a live target: nothing happens
(define t5 (list 5))
(define r5 (group-make-ref g t5 'five))
(gc)
(show "live target: " (weak-ref-deref r5))

;; the group outlives the script's last reference to it while refs remain
(define t6 (list 6))
(define r6 (group-make-ref g t6 'six))
(set! g #f)
(set! t6 #f)
(gc)
(show "group reached through its ref")

;; errors in the group's procedure are reported; the rest still run
(define g2
  (make-weak-ref-group
   (lambda (held)
     (if (eq? held 'bad) (car held) (show "g2 cleanup: " held)))))
(define refs
  (let ((a (list 'a)) (b (list 'b)) (c (list 'c)))
    (list (group-make-ref g2 a 'first) (group-make-ref g2 b 'bad) (group-make-ref g2 c 'last))))
(gc)
(show "refs: " (map weak-ref-deref refs))
(define s (gc-stats))
(show "group refs queued: " (cdr (assq 'group-refs-queued s)) ", run: " (cdr (assq 'group-refs-run s)))
