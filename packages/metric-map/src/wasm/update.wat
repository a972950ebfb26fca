;; The hot path of SharedMetricMap, as WebAssembly: V8 calls into it without a per-call cost and compiles its
;; atomics to single instructions, where each JavaScript `Atomics` call costs about 8 ns. Same four steps and the
;; same memory order (every access sequentially consistent) as the JavaScript path in shared-metric-map.ts; the
;; README's "Update" explains why each step is there. Built into update-wasm.ts; a test checks they agree.
(module
  (import "map" "memory" (memory 1 65536 shared))

  ;; Adds `delta` to the counter at byte address `value` if the control word at `ctrl` still equals `word`, with
  ;; this thread's pin (at `pin`) naming the slot (`slot1` = slot + 1) for the duration. Returns the counter's new
  ;; value, or NaN when the slot no longer holds the binding the handle resolved: the caller resolves again.
  (func (export "add")
    (param $pin i32) (param $ctrl i32) (param $value i32) (param $word i32) (param $slot1 i32) (param $delta f64)
    (result f64)
    (local $before i64)
    (i32.atomic.store (local.get $pin) (local.get $slot1))
    (if (i32.ne (i32.atomic.load (local.get $ctrl)) (local.get $word))
      (then
        (i32.atomic.store (local.get $pin) (i32.const 0))
        (return (f64.const nan))))
    (local.set $before (i64.atomic.rmw.add (local.get $value) (i64.trunc_f64_s (local.get $delta))))
    (i32.atomic.store (local.get $pin) (i32.const 0))
    (f64.add (f64.convert_i64_s (local.get $before)) (local.get $delta)))
)
