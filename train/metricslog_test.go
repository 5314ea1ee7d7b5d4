package train

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMetricsLogResumeDropsLaterRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsFile)
	m, err := OpenMetricsLog(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0).UTC()
	for step := 1; step <= 6; step++ {
		if err := m.Write(MetricsRow{Kind: RowTrain, Step: step, Loss: float64(step), LR: 0.1, Time: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Write(MetricsRow{Kind: RowEval, Step: 4, Time: now, EvalResult: &EvalResult{Images: 9, PrecisionAt1: 0.5, Loss: 2}}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	// A crash mid-write leaves a torn line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"train","step":7,"lo`)
	f.Close()

	rows, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7 (the torn line skipped)", len(rows))
	}
	if e := rows[6].EvalResult; e == nil || e.Images != 9 || e.PrecisionAt1 != 0.5 || e.Loss != 2 || rows[6].Loss != 0 {
		t.Errorf("eval row read back as %+v / %+v", rows[6], e)
	}

	// Resuming from the checkpoint of step 4 keeps rows through step 4.
	m, err = OpenMetricsLog(path, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write(MetricsRow{Kind: RowTrain, Step: 5, Loss: 50, Time: now}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	rows, err = ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, r := range rows {
		steps = append(steps, r.Step)
	}
	want := []int{1, 2, 3, 4, 4, 5}
	if len(steps) != len(want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("steps %v, want %v", steps, want)
		}
	}
	if rows[5].Loss != 50 {
		t.Errorf("row for step 5 has loss %v, want the resumed run's 50", rows[5].Loss)
	}

	// A line that is not JSON in the middle is an error naming it.
	os.WriteFile(path, []byte("{\"kind\":\"train\",\"step\":1}\nnot json\n"), 0o644)
	if _, err := ReadMetrics(path); err == nil {
		t.Error("a corrupt middle line: no error")
	}
	if rows, err := ReadMetrics(filepath.Join(t.TempDir(), "none.jsonl")); err != nil || rows != nil {
		t.Errorf("missing file: %v rows, %v", rows, err)
	}
}
