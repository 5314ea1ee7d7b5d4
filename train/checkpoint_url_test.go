package train

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"reflect"
	"strings"
	"testing"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/storage"
	"weaksup/storage/storagetest"
)

func objectServers() map[string]func(testing.TB, ...string) *storagetest.Server {
	return map[string]func(testing.TB, ...string) *storagetest.Server{"s3": storagetest.StartS3, "gcs": storagetest.StartGCS}
}

func baseNames(urls []string) []string {
	var out []string
	for _, u := range urls {
		out = append(out, path.Base(u))
	}
	return out
}

// Checkpoints at a gs:// or s3:// URL round-trip through a service that
// fails on purpose; only marked ones are listed; keep prunes the oldest and
// every unmarked leftover; a file replaced under its marker, a missing
// bucket and a refused request are errors naming the URL.
func TestCheckpointsAtURL(t *testing.T) {
	m := newTiny(t, 5, 1, nets.Bottleneck)
	defer m.Close()
	opt, err := NewOptimizer(m.Parameters(), defaultSGD)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	stepOnce(t, m, opt)
	for name, start := range objectServers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := start(t, "runs")
			srv.Env(t) // the string forms find the fake as they would a real service
			root := srv.URL("runs", "run1/checkpoints")
			p := storagetest.Pass
			srv.Faults.Set(storagetest.Writes(p, storagetest.ServerError, p, storagetest.SlowDown, p, p, storagetest.Truncate))
			st := CheckpointState{Step: 7, Epoch: 1, Images: 112, Loss: 1.25,
				Loader: &loader.Position{Epoch: 1, Consumed: 48, Seed: 3, World: 1, Sampling: "natural", Items: 64}}
			dir, err := SaveCheckpoint(root, m, opt, st, map[string]any{"arch": "resnext_tiny"}, 2)
			if err != nil {
				t.Fatal(err)
			}
			if want := root + "/" + CheckpointName(7); dir != want {
				t.Fatalf("saved %s, want %s", dir, want)
			}
			srv.Faults.Set(storagetest.Reads(p, storagetest.Shorten, p, storagetest.ServerError, p, storagetest.Truncate))
			m2 := newTiny(t, 5, 2, nets.Bottleneck)
			defer m2.Close()
			opt2, err := NewOptimizer(m2.Parameters(), defaultSGD)
			if err != nil {
				t.Fatal(err)
			}
			defer opt2.Close()
			got, err := LoadCheckpoint(dir, m2, opt2)
			if err != nil {
				t.Fatal(err)
			}
			if got.Step != 7 || got.Images != 112 || !reflect.DeepEqual(got.Loader, st.Loader) {
				t.Errorf("state %+v, want %+v", got, st)
			}
			if a, b := tensorBytes(t, m.Parameters()), tensorBytes(t, m2.Parameters()); !reflect.DeepEqual(a, b) {
				t.Error("loaded weights differ from the saved ones")
			}
			if a, b := tensorBytes(t, opt.State()), tensorBytes(t, opt2.State()); !reflect.DeepEqual(a, b) || len(a) == 0 {
				t.Error("loaded momentum differs from the saved")
			}
			if srv.Faults.Injected(storagetest.ServerError) < 2 || srv.Faults.Injected(storagetest.Truncate) < 2 {
				t.Fatalf("faults injected: %d server errors, %d cut bodies; want some while writing and while reading",
					srv.Faults.Injected(storagetest.ServerError), srv.Faults.Injected(storagetest.Truncate))
			}
			srv.Faults.Set(nil)

			d, err := storage.Open(ctx, root, srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			// The objects of a save that died before its marker: not
			// listed, and removed by the next save.
			if err := d.WriteFile(ctx, CheckpointName(8)+"/"+ModelFile, []byte("partial")); err != nil {
				t.Fatal(err)
			}
			cks, err := ListCheckpoints(root)
			if err != nil || !reflect.DeepEqual(baseNames(cks), []string{CheckpointName(7)}) {
				t.Fatalf("checkpoints %v (%v); want only the complete %s", baseNames(cks), err, CheckpointName(7))
			}
			for _, step := range []int{9, 10} {
				if _, err := SaveCheckpoint(root, m, nil, CheckpointState{Step: step}, nil, 2); err != nil {
					t.Fatal(err)
				}
			}
			latest, err := LatestCheckpoint(root)
			if err != nil || path.Base(latest) != CheckpointName(10) {
				t.Fatalf("latest %s, %v; want %s", latest, err, CheckpointName(10))
			}
			objs, err := d.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			var want []string
			for _, s := range []int{9, 10} {
				for _, f := range []string{CheckpointMarker, ConfigFile, ModelFile, OptimizerFile, StateFile} {
					want = append(want, CheckpointName(s)+"/"+f)
				}
			}
			if !reflect.DeepEqual(keys, want) {
				t.Fatalf("objects after pruning to 2:\n%v\nwant\n%v", keys, want)
			}

			// A file that is not the one the marker lists is an error.
			if err := d.WriteFile(ctx, CheckpointName(10)+"/"+ModelFile, []byte("other bytes")); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadCheckpoint(latest, m2, nil); !errors.Is(err, errCheckpointChanged) || !strings.Contains(err.Error(), latest+"/"+ModelFile) {
				t.Fatalf("load a checkpoint whose model changed: %v; want an error naming %s/%s", err, latest, ModelFile)
			}

			missing := srv.URL("nosuchbucket", "run/checkpoints")
			if _, err := SaveCheckpoint(missing, m, nil, CheckpointState{Step: 1}, nil, 0); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nosuchbucket") {
				t.Fatalf("save into a missing bucket: %v", err)
			}
			srv.Faults.Set(func(r *http.Request, _ int) storagetest.Fault {
				if r.Method == http.MethodPut || r.Method == http.MethodPost {
					return storagetest.Refuse
				}
				return storagetest.Pass
			})
			if _, err := SaveCheckpoint(root, m, nil, CheckpointState{Step: 11}, nil, 2); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), root+"/"+CheckpointName(11)) {
				t.Fatalf("save with writes refused: %v; want a permission error naming %s/%s", err, root, CheckpointName(11))
			}
			srv.Faults.Set(nil)
			if latest, err := LatestCheckpoint(root); err != nil || path.Base(latest) != CheckpointName(10) {
				t.Fatalf("after a refused save the latest is %s (%v); want %s", latest, err, CheckpointName(10))
			}
		})
	}
}
