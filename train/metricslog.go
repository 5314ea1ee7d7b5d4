package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"weaksup/atomicfile"
)

// MetricsFile is the name of the JSON-lines metrics log in a run directory.
const MetricsFile = "metrics.jsonl"

// Row kinds of the metrics log.
const (
	RowTrain = "train" // training loss, learning rate and throughput over the last few steps
	RowEval  = "eval"  // held-out metrics
)

// MetricsRow is one line of metrics.jsonl. Step counts optimizer steps
// done when the row was written; Epoch is Step over the steps per epoch.
type MetricsRow struct {
	Kind       string    `json:"kind"`
	Step       int       `json:"step"`
	Epoch      float64   `json:"epoch"`
	Loss       float64   `json:"loss,omitempty"`
	LR         float64   `json:"lr,omitempty"`
	ImagesPerS float64   `json:"images_per_s,omitempty"`
	LossScale  float64   `json:"loss_scale,omitempty"` // with loss scaling (fp16)
	Time       time.Time `json:"time"`
	*EvalResult

	// In a data-parallel run Loss is the mean over the ranks. Batch and
	// GlobalBatch are the images per step of one process and of all
	// (× accumulation × world size); World is the number of
	// data-parallel processes. CommS is the mean time per step the ranks
	// waited on communication, CommHiddenS the mean gradient communication
	// per step that overlapped the backward pass, CommBytes the gradient
	// and buffer bytes each rank reduced or broadcast per step.
	Batch       int     `json:"batch,omitempty"`
	GlobalBatch int     `json:"global_batch,omitempty"`
	World       int     `json:"world,omitempty"`
	CommS       float64 `json:"comm_s,omitempty"`
	CommHiddenS float64 `json:"comm_hidden_s,omitempty"`
	CommBytes   int64   `json:"comm_bytes,omitempty"`
}

// MetricsLog appends rows to a metrics.jsonl file, one fsync-free write per
// row (a crash loses at most the rows after the last checkpoint, which a
// resumed run writes again).
type MetricsLog struct {
	path string
	f    *os.File
}

// OpenMetricsLog opens path for appending. With keepThrough ≥ 0, rows
// whose step is past keepThrough are dropped first (a run resumed from the
// checkpoint of step keepThrough writes them again); a torn last line is
// dropped too.
func OpenMetricsLog(path string, keepThrough int) (*MetricsLog, error) {
	if keepThrough >= 0 {
		if err := truncateMetrics(path, keepThrough); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics log: %w", err)
	}
	return &MetricsLog{path: path, f: f}, nil
}

// Write appends one row. A nil log (a data-parallel rank other than 0)
// writes nothing.
func (m *MetricsLog) Write(r MetricsRow) error {
	if m == nil {
		return nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode metrics row: %w", err)
	}
	if _, err := m.f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", m.path, err)
	}
	return nil
}

// Close closes the file. It is idempotent.
func (m *MetricsLog) Close() error {
	if m == nil || m.f == nil {
		return nil
	}
	err := m.f.Close()
	m.f = nil
	return err
}

// ReadMetrics reads every complete row of a metrics.jsonl file. A missing
// file has no rows; a line that is not JSON is an error naming it, except
// an unterminated last line (a write cut short by a crash), which is
// skipped.
func ReadMetrics(path string) ([]MetricsRow, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	// Rows end with a newline; a last line without one was cut short by a
	// crash and is skipped.
	lines := bytes.Split(data, []byte("\n"))
	lines = lines[:len(lines)-1]
	var rows []MetricsRow
	for i, b := range lines {
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var r MetricsRow
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read metrics %s:%d: %w", path, i+1, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// truncateMetrics rewrites path atomically with only the rows of step ≤
// keepThrough.
func truncateMetrics(path string, keepThrough int) error {
	rows, err := ReadMetrics(path)
	if err != nil || rows == nil {
		return err
	}
	var buf bytes.Buffer
	for _, r := range rows {
		if r.Step > keepThrough {
			continue
		}
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode metrics row: %w", err)
		}
		buf.Write(append(data, '\n'))
	}
	if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("rewrite metrics: %w", err)
	}
	return nil
}
