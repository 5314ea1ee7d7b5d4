package dedup

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"weaksup/internal/testkit"
)

// BenchmarkHashFile measures signing one test image file (SignFile: decode,
// the hash of each of the 12 views, the reference thumbnail) as loading an
// uncached test set does, at ImageNet-val-like sizes.
func BenchmarkHashFile(b *testing.B) {
	photos := testkit.Photos(b, photoDir)
	for _, size := range []int{256, 500} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			dir := b.TempDir()
			var paths []string
			for name, img := range photos {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, testkit.EncodeJPEG(b, scale(img, float64(size)/float64(img.Bounds().Dx())), 90), 0o644); err != nil {
					b.Fatal(err)
				}
				paths = append(paths, p)
			}
			b.ResetTimer()
			cpu := testkit.CPUTime()
			for i := 0; i < b.N; i++ {
				if _, err := SignFile(paths[i%len(paths)]); err != nil {
					b.Fatal(err)
				}
			}
			testkit.ReportRate(b, cpu, b.N, "images")
		})
	}
}
