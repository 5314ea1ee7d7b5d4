package demo

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"testing"
)

// BenchmarkRender measures drawing and JPEG-encoding crawl images.
func BenchmarkRender(b *testing.B) {
	cs, err := embeddedConcepts()
	if err != nil {
		b.Fatal(err)
	}
	styles := make([]*style, len(cs))
	for i, c := range cs {
		styles[i] = conceptStyle(1, c)
	}
	for _, size := range []int{64, 96} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var buf bytes.Buffer
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := seeded(1, fmt.Sprint(i))
				img := renderScene(size, size, r, scene{main: styles[i%len(styles)], count: 1 + i%2})
				buf.Reset()
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkGenerate measures a whole world: drawing, encoding, writing.
func BenchmarkGenerate(b *testing.B) {
	cfg := Quick()
	cfg.CrawlImages = 2000
	b.Run("world=quick/crawl=2000", func(b *testing.B) {
		images := 0
		for i := 0; i < b.N; i++ {
			w, err := Generate(context.Background(), b.TempDir(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			images += w.Crawl.Records + len(w.Target.Classes)*(cfg.TargetTrain+cfg.TargetVal)
		}
		b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
	})
}
