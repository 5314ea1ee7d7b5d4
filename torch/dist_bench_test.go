package torch

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkAllReduce measures one gloo allreduce of a flat float32 bucket
// between two ranks on loopback (two goroutines of this process, as two
// processes would run it), by bucket size: the cost of averaging a
// network's gradients once, without waiting for a slower peer.
//
//	go test -tags libjpeg -run '^$' -bench AllReduce ./torch/
func BenchmarkAllReduce(b *testing.B) {
	for _, mb := range []float64{0.25, 2.77, 25} {
		b.Run(fmt.Sprintf("MB=%g", mb), func(b *testing.B) {
			groups := localGroups(b, 2, time.Minute)
			n := int64(mb * (1 << 20) / 4)
			xs := []*Tensor{Ones(Float32, CPU, n), Ones(Float32, CPU, n)}
			defer xs[0].Close()
			defer xs[1].Close()
			b.SetBytes(n * 4)
			b.ResetTimer()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for r, g := range groups {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range b.N {
						if err := g.AllReduce([]*Tensor{xs[r]}, DistAvg); err != nil {
							errs[r] = err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
