package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"weaksup/atomicfile"
	"weaksup/workdir"
)

// Stage statuses.
const (
	StatusRunning = "running" // started and not finished: killed, or running now
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Record is what <workdir>/stages/NAME.json holds.
type Record struct {
	Stage            string           `json:"stage"`
	Status           string           `json:"status"`
	Config           json.RawMessage  `json:"config"`
	ConfigHash       string           `json:"config_hash"`
	InputFingerprint string           `json:"input_fingerprint"`
	Counts           map[string]int64 `json:"counts,omitempty"` // the stage's statistics, flattened for display
	Stats            json.RawMessage  `json:"stats,omitempty"`  // the stage's Result as JSON
	Started          time.Time        `json:"started"`
	Finished         time.Time        `json:"finished,omitzero"`
	Seconds          float64          `json:"seconds"`
	Error            string           `json:"error,omitempty"`
}

// ReadRecord reads a stage record; ok is false when the stage never ran.
func ReadRecord(wd workdir.Dir, stage string) (rec *Record, ok bool, err error) {
	p := wd.StageRecord(stage)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read stage record %s: %w", p, err)
	}
	rec = new(Record)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, false, fmt.Errorf("parse stage record %s: %w", p, err)
	}
	return rec, true, nil
}

// DecodeStats decodes the stage's statistics into v (a pointer to the
// stage's Result type); ok is false when the record has none (the stage
// failed early, or an earlier release wrote the record).
func (r *Record) DecodeStats(v any) (ok bool, err error) {
	if len(r.Stats) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(r.Stats, v); err != nil {
		return false, fmt.Errorf("decode statistics of stage %s: %w", r.Stage, err)
	}
	return true, nil
}

// writeRecord writes a stage record atomically (temp file, fsync, rename).
func writeRecord(wd workdir.Dir, rec *Record) error {
	p := wd.StageRecord(rec.Stage)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stage record %s: %w", rec.Stage, err)
	}
	return atomicfile.WriteFile(p, append(b, '\n'))
}

// hashJSON returns a short stable hash of v's JSON encoding.
func hashJSON(v any) (json.RawMessage, string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:8]), nil
}

// hashStrings hashes a list of strings unambiguously.
func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
