package beampipe

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"weaksup/datasets"
	"weaksup/dedup"
	"weaksup/demo"
	"weaksup/pipeline"
)

// helperEnv makes the test binary a Beam launcher (the process the kill
// test kills): its value is the JSON of the Options to run.
const helperEnv = "WEAKSUP_BEAMPIPE_HELPER"

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	// Prism and the SDK log through slog.Default; errors come back in
	// the job's error.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	if spec := os.Getenv(helperEnv); spec != "" {
		var o Options
		if err := json.Unmarshal([]byte(spec), &o); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		o.Log = os.Stderr
		if _, err := Run(context.Background(), o); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if testWorld.dir != "" {
		os.RemoveAll(testWorld.dir)
	}
	os.Exit(code)
}

// testWorld is a small generated world (package demo) shared by the tests
// of this package: crawl records, their images and a target task whose val
// images have planted copies in the crawl.
var testWorld struct {
	once sync.Once
	dir  string
	w    *demo.World
	err  error
}

func world(t *testing.T) *demo.World {
	t.Helper()
	testWorld.once.Do(func() {
		testWorld.dir, testWorld.err = os.MkdirTemp("", "beampipe-world-")
		if testWorld.err != nil {
			return
		}
		c := demo.Quick()
		c.CrawlImages = 300
		c.Duplicates = 8
		c.RepostRate = 0.03 // exact repeats for dedup
		testWorld.w, testWorld.err = demo.Generate(context.Background(), filepath.Join(testWorld.dir, "world"), c)
	})
	if testWorld.err != nil {
		t.Fatal(testWorld.err)
	}
	return testWorld.w
}

// testConfig is the demo's pipeline configuration for records at input.
func testConfig(w *demo.World, input string) pipeline.Config {
	cfg := pipeline.DefaultConfig()
	in := &cfg.Ingest
	in.Input = input
	in.AllowPrivate = true
	in.PerHost = 16
	in.Concurrency = 16
	in.MinSide = 16
	in.ImageSize = 0
	in.Retries = 0
	in.FetchTimeout = 30 * time.Second
	cfg.Dedup.TestSets = []dedup.Spec{{Name: "target", Path: filepath.Join(w.Dir, demo.TargetDir, "val"), Layout: datasets.ImageNet}}
	cfg.Shards.ShardMB = 1
	cfg.Shards.ValFraction = 0.1
	return cfg
}
