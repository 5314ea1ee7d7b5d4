package demo

import (
	"flag"
	"strings"
	"testing"
)

func TestRegisterFlags(t *testing.T) {
	tests := []struct {
		args []string
		want func(WorldConfig) WorldConfig
	}{
		{nil, func(c WorldConfig) WorldConfig { return c }},
		{[]string{"-concepts", "50", "-crawl-images", "5000"}, func(c WorldConfig) WorldConfig {
			c.Concepts, c.CrawlImages = 50, 5000
			return c
		}},
		{[]string{"-wrong-tag-rate", "0.3", "-seed", "9", "-planted-duplicates", "0"}, func(c WorldConfig) WorldConfig {
			c.WrongTagRate, c.Seed, c.Duplicates = 0.3, 9, 0
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := Default()
			fs := flag.NewFlagSet("demo", flag.ContinueOnError)
			got.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if want := tt.want(Default()); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	w := quickWorld(t)
	s := w.Summary()
	for _, want := range []string{"20 WordNet concepts in 20 families", "5 classes × 10 train / 10 val", "10 planted near-duplicates"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
