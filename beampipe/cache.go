package beampipe

import "sync"

// shared holds what every bundle of a worker process can share: the
// crawler (so per-host limits hold per process), the WordNet mapper, the
// test-set index and the labeler. Beam builds a DoFn instance per bundle
// thread and serializes only exported fields, so these live here, keyed by
// what they are built from.
var shared sync.Map // key → *entry

type entry struct {
	once sync.Once
	v    any
	err  error
}

// sharedValue returns the process's value for key, building it once.
func sharedValue[T any](key string, build func() (T, error)) (T, error) {
	e, _ := shared.LoadOrStore(key, new(entry))
	en := e.(*entry)
	en.once.Do(func() { en.v, en.err = build() })
	if en.err != nil {
		var zero T
		return zero, en.err
	}
	return en.v.(T), nil
}
