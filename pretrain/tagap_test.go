package pretrain

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/train"
)

// The evaluator keeps each class's AP beside the mean, and TagAPs ranks the
// tags with enough positives by it.
func TestTagAPs(t *testing.T) {
	e := train.NewEvaluator(3)
	// Class 0 ranked perfectly, class 1's positive ranked below a
	// negative, class 2 has no positives.
	scores := []float32{
		0.9, 0.1, 0.0,
		0.8, 0.5, 0.0,
		0.1, 0.3, 0.0,
	}
	if err := e.Add(scores, [][]int32{{0}, {0}, {1}}); err != nil {
		t.Fatal(err)
	}
	r := e.Result()
	if len(r.ClassAP) != 3 || r.ClassAP[0] != 1 || r.ClassAP[1] != 0.5 || r.ClassAP[2] != 0 {
		t.Fatalf("ClassAP = %v, want [1 0.5 0]", r.ClassAP)
	}
	if got := r.ClassPositives; len(got) != 3 || got[0] != 2 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("ClassPositives = %v, want [2 1 0]", got)
	}
	if r.MAP != 0.75 || r.Classes != 2 {
		t.Errorf("mAP %v over %d classes, want 0.75 over 2", r.MAP, r.Classes)
	}
	aps := TagAPs(&r, []string{"dog", "love"}, 1)
	if len(aps) != 2 || aps[0].Tag != "dog" || aps[1].Tag != "love" || aps[1].AP != 0.5 {
		t.Errorf("TagAPs = %+v, want dog 1 then love 0.5", aps)
	}
	if got := TagAPs(&r, nil, 2); len(got) != 1 || got[0].Tag != "0" {
		t.Errorf("TagAPs with 2 positives = %+v, want class 0 alone, named by its id", got)
	}
	if s := FormatTagAPs(aps, 5); !strings.Contains(s, "#dog 1.00 (2)") || !strings.Contains(s, "#love 0.50 (1)") {
		t.Errorf("FormatTagAPs = %q", s)
	}
	path := filepath.Join(t.TempDir(), TagAPFile)
	if err := WriteTagAPs(path, aps); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "id\ttag\tap\tpositives\n0\tdog\t1.000000\t2\n1\tlove\t0.500000\t1\n"; string(b) != want {
		t.Errorf("%s = %q, want %q", TagAPFile, b, want)
	}
}
