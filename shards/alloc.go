package shards

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// boundedAllocator refuses single allocations above max. Arrow trusts the
// uncompressed length a compressed buffer declares, so a damaged shard can
// ask for terabytes; refusing with a panic (recovered by OpenShard into an
// error naming the file) beats the runtime's fatal out-of-memory.
type boundedAllocator struct {
	memory.Allocator
	max int
}

type errAllocation struct{ size, max int }

func (e errAllocation) Error() string {
	return fmt.Sprintf("a buffer declares %d bytes, more than the %d this file can hold", e.size, e.max)
}

// newBoundedAllocator allows buffers up to 64× the file size plus 64 MiB
// (zstd on shard metadata stays far below that ratio), at most 4 GiB.
func newBoundedAllocator(fileSize int) *boundedAllocator {
	limit := min(int64(fileSize)*64+64<<20, 4<<30)
	return &boundedAllocator{Allocator: memory.NewGoAllocator(), max: int(limit)}
}

func (a *boundedAllocator) Allocate(size int) []byte {
	if size < 0 || size > a.max {
		panic(errAllocation{size, a.max})
	}
	return a.Allocator.Allocate(size)
}

func (a *boundedAllocator) Reallocate(size int, b []byte) []byte {
	if size < 0 || size > a.max {
		panic(errAllocation{size, a.max})
	}
	return a.Allocator.Reallocate(size, b)
}
