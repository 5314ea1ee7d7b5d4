//go:build !unix

package shards

import "os"

// mapFile reads path into memory where memory mapping is not available.
func mapFile(path string) (data []byte, unmap func() error, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}

// anonMap allocates size zeroed bytes where anonymous mappings are not
// available (every byte then takes memory).
func anonMap(size int64) (data []byte, unmap func() error, err error) {
	return make([]byte, size), func() error { return nil }, nil
}
