package findings

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The quick run goes through every comparison on the tiny world and writes
// a table with every row; its spread and direction columns are computed
// from the per-seed numbers in findings.json, and a second run reuses every
// finished run instead of training again.
func TestQuickFindings(t *testing.T) {
	out := t.TempDir()
	var log strings.Builder
	cfg := Config{Out: out, Seeds: 2, Sizes: QuickSizes(), World: QuickWorld(), Log: &log}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("%v\n%s", err, tail(log.String()))
	}
	md, err := os.ReadFile(filepath.Join(out, ReportMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Comparisons {
		if !strings.Contains(string(md), "| "+c.Finding+" |") {
			t.Errorf("findings.md has no row %q", c.Finding)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || len(rep.Rows) != len(Comparisons) {
		t.Fatalf("report complete=%v with %d rows, want complete with %d", rep.Complete, len(rep.Rows), len(Comparisons))
	}
	for _, r := range rep.Rows {
		if r.Skipped != "" || len(r.Seeds) != 2 || len(r.Values) != 2 {
			t.Errorf("%s: skipped %q, %d seeds, %d values; want 2 seeds measured", r.ID, r.Skipped, len(r.Seeds), len(r.Values))
			continue
		}
		var vals []float64
		for i, s := range r.Seeds {
			if !sameNum(float64(r.Values[i]), s.Statistic) {
				t.Errorf("%s: value %d = %v, seed's statistic %v", r.ID, i, r.Values[i], s.Statistic)
			}
			if !math.IsNaN(s.Statistic) {
				vals = append(vals, s.Statistic)
			}
		}
		m, sd := recompute(vals)
		if !sameNum(float64(r.Mean), m) || !sameNum(float64(r.Std), sd) {
			t.Errorf("%s: mean ± std %v ± %v, recomputed %v ± %v", r.ID, r.Mean, r.Std, m, sd)
		}
		// Two seeds: the 95% interval is m ± t(0.975, 1)·sd/√2, with
		// t(0.975, 1) = 12.7062 from the tables.
		h := 12.706204736174707 * sd / math.Sqrt2
		want := Inconclusive
		switch {
		case len(vals) < 2 || math.IsNaN(m) || math.Abs(m) <= h:
		case (m > 0) == (r.Sign > 0):
			want = Same
		default:
			want = Opposite
		}
		if len(vals) == 2 && (math.Abs(r.CI.Lo-(m-h)) > 1e-6 || math.Abs(r.CI.Hi-(m+h)) > 1e-6) {
			t.Errorf("%s: interval [%v, %v], want %v ± %v", r.ID, r.CI.Lo, r.CI.Hi, m, h)
		}
		if r.Direction != want {
			t.Errorf("%s: direction %q for %v ± %v (paper sign %d), want %q", r.ID, r.Direction, m, h, r.Sign, want)
		}
		// An inconclusive pair of seeds would need more of them: at least
		// three, and as many as the recomputed spread asks for.
		if want == Inconclusive && len(vals) == 2 && m != 0 {
			if n := r.SeedsToDecide; n < 3 || n != SeedsToDecide(vals, Level, MaxSeedsToDecide) {
				t.Errorf("%s: %d seeds to decide %v ± %v", r.ID, n, m, h)
			}
		}
		if r.ID != "concreteness" && len(r.ArmMAP) == 0 {
			t.Errorf("%s: no held-out mAP of its pretrained arms", r.ID)
		}
		if r.Plot == "" {
			t.Errorf("%s: no plot", r.ID)
		} else if _, err := os.Stat(filepath.Join(out, r.Plot)); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
	}
	if len(rep.BaseMAP) != 2 || !strings.Contains(string(md), "held-out hashtag mAP, seed by seed") {
		t.Errorf("base arm mAP per seed %v; the report must list it", rep.BaseMAP)
	}
	// Arms coincide between comparisons: the base arm of seed 1 is
	// pretrained once for all of them.
	pre, _ := filepath.Glob(filepath.Join(out, "runs", "pretrain-*"))
	// Per seed: base, 3 noise, 1 scale fraction, 2 capacity (the small
	// network at both sizes; the tiny one's small fraction is the scale
	// one), matched, sigmoid, sqrt, dedup off.
	if want := 2 * 11; len(pre) != want {
		t.Errorf("%d pretraining runs, want %d (arms shared between comparisons)", len(pre), want)
	}

	// A second run trains nothing.
	log.Reset()
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "reused"); n == 0 || strings.Contains(log.String(), " steps into ") {
		t.Errorf("second run: %d reused runs, trained again: %v", n, strings.Contains(log.String(), " steps into "))
	}
}

func sameNum(a, b float64) bool {
	return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-9
}

// recompute is the mean and sample standard deviation, written out apart
// from Mean and Std.
func recompute(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return math.NaN(), 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	if len(xs) < 2 {
		return m, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(xs)-1))
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
