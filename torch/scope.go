package torch

import "sync"

// Scope frees, when closed, every tensor created while it was the innermost
// open scope. A training loop opens one per step:
//
//	s := torch.NewScope()
//	defer s.Close()
//
// Scopes nest; the stack of open scopes is process-wide, so open and close
// them from the goroutine that runs the model, and create tensors meant to
// outlive a step (parameters, optimizer state) with no scope open or move
// them out with Keep.
type Scope struct {
	tensors []*Tensor
	closed  bool
}

var scopes struct {
	sync.Mutex
	stack []*Scope
}

// NewScope opens a scope and makes it the innermost one.
func NewScope() *Scope {
	s := &Scope{}
	scopes.Lock()
	scopes.stack = append(scopes.stack, s)
	scopes.Unlock()
	return s
}

// Close frees the tensors of the scope that are still open and removes the
// scope from the stack. It is idempotent.
func (s *Scope) Close() {
	scopes.Lock()
	if s.closed {
		scopes.Unlock()
		return
	}
	s.closed = true
	for i := len(scopes.stack) - 1; i >= 0; i-- {
		if scopes.stack[i] == s {
			scopes.stack = append(scopes.stack[:i], scopes.stack[i+1:]...)
			break
		}
	}
	ts := s.tensors
	s.tensors = nil
	for _, t := range ts {
		if t != nil {
			t.scope = nil
		}
	}
	scopes.Unlock()
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i] != nil {
			ts[i].Close()
		}
	}
}

// Keep moves tensors out of their scope: they outlive it and the caller
// closes them. It returns its first argument for chaining. Tensors that belong
// to no scope are left alone.
func Keep(ts ...*Tensor) *Tensor {
	scopes.Lock()
	defer scopes.Unlock()
	for _, t := range ts {
		if t == nil || t.scope == nil {
			continue
		}
		t.scope.tensors[t.index] = nil
		t.scope = nil
	}
	if len(ts) == 0 {
		return nil
	}
	return ts[0]
}

// Return closes the scope, freeing every tensor in it but t, and moves t to
// the scope that is innermost afterwards (or to no scope). A function that
// builds a result from many intermediates ends with
//
//	s := torch.NewScope()
//	defer s.Close()
//	...
//	return s.Return(y)
//
// Autograd keeps what backward needs by itself, so freeing the handles of
// intermediates is safe.
func (s *Scope) Return(t *Tensor) *Tensor {
	Keep(t)
	s.Close()
	if t != nil && t.h != nil {
		register(t)
	}
	return t
}

// Len returns the number of tensors the scope will free.
func (s *Scope) Len() int {
	scopes.Lock()
	defer scopes.Unlock()
	n := 0
	for _, t := range s.tensors {
		if t != nil {
			n++
		}
	}
	return n
}

// register adds t to the innermost open scope, if any.
func register(t *Tensor) {
	scopes.Lock()
	if n := len(scopes.stack); n > 0 {
		s := scopes.stack[n-1]
		t.scope = s
		t.index = len(s.tensors)
		s.tensors = append(s.tensors, t)
	}
	scopes.Unlock()
}
