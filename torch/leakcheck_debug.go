//go:build torchdebug

package torch

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
)

// Leaked counts tensors that became unreachable while still open (debug
// builds only). Their libtorch memory is released by the finalizer too, so
// a debug run does not grow, but every count is a missing Close or scope.
var Leaked atomic.Int64

// watch reports, with the stack that created it, a tensor the garbage
// collector finds unreachable but open. Finalizers only detect leaks:
// release builds never rely on them.
func watch(t *Tensor) {
	buf := make([]byte, 2048)
	stack := string(buf[:runtime.Stack(buf, false)])
	runtime.SetFinalizer(t, func(t *Tensor) {
		if t.h == nil {
			return
		}
		Leaked.Add(1)
		fmt.Fprintf(os.Stderr, "torch: tensor leaked (never closed); created at\n%s\n", stack)
		t.Close()
	})
}
