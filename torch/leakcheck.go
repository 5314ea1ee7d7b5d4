//go:build !torchdebug

package torch

// watch is a no-op; build with -tags torchdebug to report tensors that are
// garbage-collected without being closed.
func watch(*Tensor) {}
