;; demo.scm -- what wgc's weak layer gives an interpreter, told in Scheme.
;;
;; Run it with:  wscheme examples/demo.scm
;;
;; Every top-level form is one "job".  Objects a job creates a weak ref to,
;; or dereferences, stay alive until the job ends (as in JavaScript), and
;; cleanup procedures run only between jobs, at the interpreter's safe point.

(define (show . xs) (for-each display xs) (newline))
(define (stat name) (cdr (assq name (gc-stats))))

(show "== 1. A weak cache of computed values ==")
(show "   (WeakRef: weak/weakref.c; FinalizationRegistry: finalize/registry.c)")
;; The cache maps n to a weak ref to an expensive result.  It never keeps a
;; result alive by itself; a registry drops the entry once its result dies.
(define cache '())
(define computations 0)

(define (expensive n)
  (set! computations (+ computations 1))
  (make-vector n n))

(define cache-cleaner
  (make-finalization-registry
   (lambda (n)
     ;; the entry may have been refilled since: drop it only if still empty
     (let ((entry (assq n cache)))
       (if (and entry (not (weak-ref-deref (cdr entry))))
           (begin
             (set! cache (remove-entry n cache))
             (show "  cache: dropped the stale entry for " n)))))))

(define (remove-entry n alist)
  (cond ((null? alist) '())
        ((eq? (car (car alist)) n) (cdr alist))
        (else (cons (car alist) (remove-entry n (cdr alist))))))

(define (cached n)
  (let* ((entry (assq n cache))
         (hit (and entry (weak-ref-deref (cdr entry)))))
    (or hit
        (let ((v (expensive n)))
          (set! cache (cons (cons n (make-weak-ref v)) cache))
          (registry-register! cache-cleaner v n)
          v))))

(define (alive-entries)
  (let loop ((l cache) (n 0))
    (if (null? l) n (loop (cdr l) (if (weak-ref-deref (cdr (car l))) (+ n 1) n)))))

(define in-use (cached 1000))
(cached 2000)
(cached 3000)
(show "computed 3 values; live cache entries: " (alive-entries))
(cached 2000)
(show "asked for 2000 again: a hit, still " computations " computations")
(gc)
(show "after (gc): live cache entries " (alive-entries)
      " -- only the value still in use survives")
(define again (cached 2000))
(show "asked for 2000 again: recomputed, " computations " computations")

(show)
(show "== 2. A registry that closes forgotten resources ==")
(show "   (registrations, tokens, queues: finalize/registry.c; the safe point")
(show "    that runs cleanup between jobs: finalize/cleanup.c)")
(define open-files 0)
(define closer
  (make-finalization-registry
   (lambda (fd)
     (set! open-files (- open-files 1))
     (show "  closer: file object collected, closing descriptor " fd))))

(define (open-file name fd)
  (let ((f (vector 'file name fd)))
    (set! open-files (+ open-files 1))
    (registry-register! closer f fd f)
    f))

(define (close-file! f)
  (set! open-files (- open-files 1))
  (registry-unregister! closer f)
  (show "  closed " (vector-ref f 1) " explicitly"))

(define log-file (open-file "log.txt" 3))
(open-file "scratch-1" 4)
(open-file "scratch-2" 5)
(show "opened 3 files, kept only log.txt")
(close-file! log-file)
(show "collecting...")
(gc)
(show "open files now: " open-files)

(show)
(show "== 3. A weak map as a side table ==")
(show "   (the map: weak/weakmap.c; ephemeron convergence: gc/mark.c)")
;; Attach notes to objects without changing them; a note goes away with
;; its object, even though the note refers to the object.
(define notes (make-weak-map))
(define (note! obj text) (weak-map-set! notes obj (cons text obj)))
(define (note obj) (let ((n (weak-map-ref notes obj))) (if n (car n) "no note")))

(define alice (list 'user "alice"))
(define bob (list 'user "bob"))
(note! alice "admin")
(note! bob "guest")
(show "alice: " (note alice) ", bob: " (note bob) ", entries: " (weak-map-count notes))
(set! bob #f)
(gc)
(show "after dropping bob and (gc): entries " (weak-map-count notes)
      ", alice: " (note alice))

(show)
(show "== 4. Heap statistics ==")
(show "   (wgc_stats: the collection in gc/collect.c, pages in gc/pages.c)")
(define s (gc-stats))
(for-each
 (lambda (entry)
   (show "  " (car entry) ": " (cdr (assq (car entry) s)) "  -- " (cadr entry)))
 '((collections "full collections so far, each started by an allocation or (gc)")
   (objects-allocated "objects the program asked for since the heap was made")
   (live-bytes "bytes in objects that survived the last collection")
   (heap-size "memory the heap holds now: pages and large objects")
   (weak-slots-cleared "weak references emptied because their target died")
   (ephemerons-resolved "weak-map values kept because their key was alive")
   (cells-registered "registry registrations made")
   (cells-queued "registrations whose target died, queued for cleanup")
   (cells-delivered "cleanup procedures run at safe points")
   (cells-unregistered "registrations withdrawn by registry-unregister!")))
