//go:build e2e

package finetune

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"weaksup/demo"
)

// TestTransferMeasurement is the full-size transfer experiment whose
// numbers go into BENCHMARKS.md, on three generated worlds:
//
//	go test -tags e2e -run TestTransferMeasurement -timeout 60m -v ./finetune/
//
// It writes the results as JSON to $WEAKSUP_TRANSFER_JSON when that is set.
func TestTransferMeasurement(t *testing.T) {
	type run struct {
		Setup  transferSetup
		Result transferResult
	}
	var runs []run
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("world=%d", seed), func(t *testing.T) {
			w := demo.Quick()
			w.Seed, w.Concepts, w.CrawlImages, w.Duplicates = seed, 30, 3000, 0
			w.TargetClasses, w.TargetTrain, w.TargetVal, w.TargetSize = 10, 10, 20, 64
			s := transferSetup{World: w, Arch: "resnext_tiny", ImageSize: 32, PretrainEpochs: 10, PretrainLR: 0.4,
				FullEpochs: 15, FullLR: 0.4, ProbeEpochs: 100, Batch: 32, FinetuneBatch: 16}
			r := runTransfer(t, s)
			runs = append(runs, run{s, r})
			if r.LinearPretrained <= r.LinearScratch {
				t.Errorf("linear probe: pretrained top-1 %.3f, want above scratch %.3f", r.LinearPretrained, r.LinearScratch)
			}
			if r.FullPretrained <= r.FullScratch {
				t.Errorf("full fine-tuning: pretrained top-1 %.3f, want above scratch %.3f", r.FullPretrained, r.FullScratch)
			}
		})
	}
	if p := os.Getenv("WEAKSUP_TRANSFER_JSON"); p != "" {
		b, err := json.MarshalIndent(runs, "", "  ")
		if err == nil {
			err = os.WriteFile(p, b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
