package dedup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"weaksup/datasets"
	"weaksup/internal/testkit"
	"weaksup/phash"
	"weaksup/store"
	"weaksup/thumbnail"
	"weaksup/workdir"
)

// stageWorld is a working store and two test sets (ImageNet class folders
// and a CUB root) built from the photographs under testdata.
type stageWorld struct {
	workdir  workdir.Dir
	st       *store.Store
	cfg      Config
	wantDrop map[string]string // record id → reason prefix; absent ids must survive
	ids      []string
}

func newStageWorld(t *testing.T) *stageWorld {
	t.Helper()
	w := &stageWorld{workdir: workdir.Dir(t.TempDir()), wantDrop: map[string]string{}}
	photos := testkit.Photos(t, photoDir)
	names := slices.Sorted(maps.Keys(photos))
	writeFiles(t, filepath.Join(w.workdir.String(), "data"), map[string]string{
		"imagenet-val/n01/" + names[0]:          "photo:" + names[0],
		"imagenet-val/n02/" + names[1]:          "photo:" + names[1],
		"imagenet-val/n02/" + names[2]:          "photo:" + names[2],
		"imagenet-val/n02/broken.JPEG":          "not a jpeg",
		"CUB_200_2011/images.txt":               "1 001.A/" + names[3] + "\n2 002.B/" + names[4] + "\n",
		"CUB_200_2011/train_test_split.txt":     "1 0\n2 1\n",
		"CUB_200_2011/images/001.A/" + names[3]: "photo:" + names[3],
		"CUB_200_2011/images/002.B/" + names[4]: "photo:" + names[4],
	})
	w.cfg = DefaultConfig()
	w.cfg.TestSets = []Spec{
		{Name: "imagenet", Path: filepath.Join(w.workdir.String(), "data", "imagenet-val"), Layout: datasets.ImageNet},
		{Name: "cub", Path: filepath.Join(w.workdir.String(), "data", "CUB_200_2011"), Layout: datasets.LayoutAuto},
	}
	st, err := store.Open(w.workdir.Store())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st

	put := func(id string, img []byte, drop string) {
		t.Helper()
		decoded, err := jpeg.Decode(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		h, err := phash.Hash(decoded)
		if err != nil {
			t.Fatal(err)
		}
		r := &store.Record{ID: id, URL: "http://example.test/" + id, Outcome: "ok", SHA256: sha256.Sum256(img), PHash: h}
		// Records stored before thumbnails were (b-) have none: the
		// stage decodes their stored image.
		if !strings.HasPrefix(id, "b-") {
			r.Thumbnail = thumbnail.Make(decoded)
		}
		if err := st.PutRecord(r, img); err != nil {
			t.Fatal(err)
		}
		if drop != "" {
			w.wantDrop[id] = drop
		}
		w.ids = append(w.ids, id)
	}
	a := testkit.EncodeJPEG(t, scale(photos[names[0]], 0.5), 80)
	e := testkit.EncodeJPEG(t, photos[names[5]], 90)
	put("a-resized-imagenet0", a, "testset imagenet n01/"+names[0])
	put("b-mirrored-imagenet1", testkit.EncodeJPEG(t, Mirror(photos[names[1]]), 85), "testset imagenet n02/"+names[1])
	put("c-brighter-cub3", testkit.EncodeJPEG(t, levels(photos[names[3]], 1, 0.1), 90), "testset cub 001.A/"+names[3])
	put("d-cub-train4", testkit.EncodeJPEG(t, photos[names[4]], 90), "")
	put("e-other5", e, "")
	put("f-other6", testkit.EncodeJPEG(t, photos[names[6]], 90), "")
	put("g-other7", testkit.EncodeJPEG(t, scale(photos[names[7]], 2), 70), "")
	put("h-repeat-of-e", e, "repeat of e-other5")
	put("i-repeat-of-a", a, "testset imagenet")
	// A 10% crop towards the bottom left: plain pHash misses it, the
	// matcher finds it through a crop view.
	b2 := photos[names[2]].Bounds()
	cropped := subImage(photos[names[2]], image.Rect(b2.Min.X, b2.Min.Y+b2.Dy()/10, b2.Max.X-b2.Dx()/10, b2.Max.Y))
	put("k-cropped-imagenet2", testkit.EncodeJPEG(t, cropped, 85), "testset imagenet n02/"+names[2]+" view=crop90-bl")
	failed := &store.Record{ID: "j-failed", Outcome: "http_404"}
	if err := st.PutRecord(failed, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *stageWorld) checkDrops(t *testing.T) {
	t.Helper()
	for _, id := range append(slices.Clone(w.ids), "j-failed") {
		stage, reason, dropped, err := w.st.Drop(id)
		if err != nil {
			t.Fatal(err)
		}
		want, wantDropped := w.wantDrop[id]
		if dropped != wantDropped {
			t.Errorf("record %s dropped = %v (%s), want %v", id, dropped, reason, wantDropped)
			continue
		}
		if dropped && (stage != Stage || !strings.HasPrefix(reason, want)) {
			t.Errorf("record %s dropped by %s for %q, want dedup for %q...", id, stage, reason, want)
		}
	}
}

func TestStageRun(t *testing.T) {
	w := newStageWorld(t)
	var log bytes.Buffer
	sum, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 10 || sum.Dropped != 6 || sum.DroppedTestSet != 5 || sum.DroppedRepeat != 1 || len(sum.TestSets) != 2 {
		t.Errorf("summary %+v, want 10 records, 6 dropped: 5 test-set copies, 1 repeat; 2 test sets", sum)
	}
	// The stage record shows the same numbers under these names.
	counts := sum.Counts()
	want := map[string]int64{
		"records": 10, "dropped": 6, "dropped_testset": 5, "dropped_repeat": 1,
		"testset_imagenet_images": 3, "testset_imagenet_matched": 3, "testset_imagenet_records": 4,
		"testset_cub_images": 1, "testset_cub_matched": 1, "testset_cub_records": 1,
		"testset_images": 4, "testset_matched": 4,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("counts[%s] = %d, want %d", k, counts[k], v)
		}
	}
	w.checkDrops(t)
	if !strings.Contains(log.String(), "1 of 4 images could not be decoded") {
		t.Errorf("log does not report the unreadable test image:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "1 records were stored without a thumbnail") {
		t.Errorf("log does not report the record stored without a thumbnail:\n%s", log.String())
	}

	// The CSV report lists every (record, test image) pair.
	f, err := os.Open(filepath.Join(w.workdir.Reports(), ReportCSV))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0]+" "+r[1]+" "+r[4]+" "+r[5]+" "+r[6])
		if score, err := strconv.ParseFloat(r[7], 64); err != nil || score < w.cfg.MinScore {
			t.Errorf("report row %v: score %q, want >= %.2f", r, r[7], w.cfg.MinScore)
		}
	}
	wantRows := []string{"a-resized-imagenet0 imagenet false image ncc+chroma", "b-mirrored-imagenet1 imagenet true mirror ncc+chroma",
		"c-brighter-cub3 cub false image ncc+chroma", "i-repeat-of-a imagenet false image ncc+chroma", "k-cropped-imagenet2 imagenet false crop90-bl ncc+chroma"}
	if !slices.Equal(got, wantRows) {
		t.Errorf("report rows = %q, want %q", got, wantRows)
	}
	var doc struct {
		Summary Summary
		Repeats []Repeat
	}
	b, err := os.ReadFile(filepath.Join(w.workdir.Reports(), ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Dropped != 6 || len(doc.Summary.TestSets) != 2 || doc.Summary.TestSets[1].Layout != datasets.CUB ||
		doc.Summary.Verified != 5 || doc.Summary.Candidates < 5 || doc.Summary.Decoded != 1 {
		t.Errorf("JSON summary = %+v, want 6 dropped over imagenet and cub, 5 verified, 1 decoded", doc.Summary)
	}
	wantRepeats := []Repeat{{"h-repeat-of-e", "e-other5"}, {"i-repeat-of-a", "a-resized-imagenet0"}}
	if !slices.Equal(doc.Repeats, wantRepeats) {
		t.Errorf("JSON repeats = %v, want %v", doc.Repeats, wantRepeats)
	}

	// A rerun reads the cached hashes and reaches the same flags.
	caches, _ := filepath.Glob(filepath.Join(w.workdir.TestSets(), "*.phash"))
	if len(caches) != 2 {
		t.Fatalf("cache files = %v, want one per test set", caches)
	}
	if _, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	w.checkDrops(t)
}

// TestStageSplitAll drops copies of CUB training images too.
func TestStageSplitAll(t *testing.T) {
	w := newStageWorld(t)
	w.cfg.Split = "all"
	w.wantDrop["d-cub-train4"] = "testset cub 002.B/"
	sum, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cub := sum.TestSets[1]; cub.Name != "cub" || cub.Images != 2 || sum.Dropped != 7 {
		t.Errorf("summary = %+v, want 2 CUB images and 7 dropped", sum)
	}
	w.checkDrops(t)
}

// TestStageKeepRepeats drops only test-set copies and clears the repeat
// flags of an earlier run.
func TestStageKeepRepeats(t *testing.T) {
	w := newStageWorld(t)
	if _, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	w.cfg.KeepRepeats = true
	delete(w.wantDrop, "h-repeat-of-e")
	sum, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if sum.DroppedRepeat != 0 || sum.Dropped != 5 {
		t.Errorf("summary = %+v, want no repeats and 5 dropped", sum)
	}
	w.checkDrops(t)
}

// TestStageRepeatOfEarlierDrop keeps the first copy that an earlier stage
// kept, not the first copy overall.
func TestStageRepeatOfEarlierDrop(t *testing.T) {
	w := newStageWorld(t)
	if err := w.st.SetDrop("e-other5", "canonicalize", "no tags"); err != nil {
		t.Fatal(err)
	}
	delete(w.wantDrop, "h-repeat-of-e")
	sum, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if sum.DroppedRepeat != 0 {
		t.Errorf("summary = %+v, want no repeat drops", sum)
	}
	if stage, _, dropped, _ := w.st.Drop("e-other5"); !dropped || stage != "canonicalize" {
		t.Errorf("e-other5: dropped %v by %q, want the canonicalize flag kept", dropped, stage)
	}
	if _, reason, dropped, _ := w.st.Drop("h-repeat-of-e"); dropped {
		t.Errorf("h-repeat-of-e dropped (%s), want it kept as the first surviving copy", reason)
	}
}

func TestFindRepeats(t *testing.T) {
	a, b := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	// c shares a's first 8 bytes but differs after: a different image.
	c := a
	c[31] ^= 1
	for _, tc := range []struct {
		shas [][32]byte
		skip []int
		want [][2]int
	}{
		{[][32]byte{a, b, a, a, b}, nil, [][2]int{{2, 0}, {3, 0}, {4, 1}}},
		{[][32]byte{a, c, a, c}, nil, [][2]int{{2, 0}, {3, 1}}},
		{[][32]byte{a, a, a}, []int{0}, [][2]int{{2, 1}}},
		{nil, nil, nil},
	} {
		got := findRepeats(tc.shas, func(i int) bool { return slices.Contains(tc.skip, i) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("findRepeats(%d digests, skip %v) = %v, want %v", len(tc.shas), tc.skip, got, tc.want)
		}
	}
}

func TestStageWithoutTestSets(t *testing.T) {
	w := newStageWorld(t)
	w.cfg.TestSets = nil
	var log bytes.Buffer
	sum, err := listAndRun(context.Background(), w.st, w.workdir, w.cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Dropped != 2 || sum.DroppedRepeat != 2 {
		t.Errorf("summary = %+v, want the 2 exact repeats dropped", sum)
	}
	if !strings.Contains(log.String(), "no --testset") {
		t.Errorf("log does not say that no test set was given:\n%s", log.String())
	}
}

func TestStageErrors(t *testing.T) {
	w := newStageWorld(t)
	for name, mod := range map[string]func(*Config){
		"radius":    func(c *Config) { c.Radius = 65 },
		"min-score": func(c *Config) { c.MinScore = 1.5 },
		"split":     func(c *Config) { c.Split = "train" },
		"missing": func(c *Config) {
			c.TestSets = []Spec{{Name: "x", Path: filepath.Join(w.workdir.String(), "nope"), Layout: datasets.LayoutAuto}}
		},
	} {
		cfg := w.cfg
		mod(&cfg)
		if _, err := listAndRun(context.Background(), w.st, w.workdir, cfg, io.Discard); err == nil {
			t.Errorf("%s: Run succeeded, want an error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := listAndRun(ctx, w.st, w.workdir, w.cfg, io.Discard); err == nil {
		t.Errorf("cancelled: Run succeeded, want an error")
	}
}

// listAndRun runs the stage as the pipeline does: list the test sets,
// then run from that listing.
func listAndRun(ctx context.Context, st *store.Store, wd workdir.Dir, cfg Config, log io.Writer) (*Summary, error) {
	l, err := cfg.List()
	if err != nil {
		return nil, err
	}
	return Run(ctx, st, wd, l, log)
}

func fingerprint(t *testing.T, cfg Config) string {
	t.Helper()
	l, err := cfg.List()
	if err != nil {
		t.Fatal(err)
	}
	return l.Fingerprint()
}

func TestListingFingerprint(t *testing.T) {
	w := newStageWorld(t)
	fp1, fp2 := fingerprint(t, w.cfg), fingerprint(t, w.cfg)
	if fp1 == "" || fp1 != fp2 {
		t.Fatalf("Fingerprint = %q then %q, want one stable value", fp1, fp2)
	}
	// Adding an image to a test set changes the fingerprint.
	writeFiles(t, w.cfg.TestSets[0].Path, map[string]string{"n03/new.JPEG": "photo:Wood.jpg"})
	if fp3 := fingerprint(t, w.cfg); fp3 == fp1 {
		t.Errorf("Fingerprint unchanged after adding a test image")
	}
	if fp := fingerprint(t, Config{}); fp != "" {
		t.Errorf("Fingerprint without test sets = %q, want empty", fp)
	}
}

// TestFingerprintKeepsFormerLayoutName: a fingerprint names the
// image-folder layout as the first fingerprints did, so the hash caches
// and stage records written then stay valid. The value is the one those
// fingerprints gave for this listing.
func TestFingerprintKeepsFormerLayoutName(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"set/a.jpg": "x"})
	path := filepath.Join(dir, "set", "a.jpg")
	when := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
	files, err := listSet(Spec{Name: "s", Path: filepath.Join(dir, "set"), Layout: datasets.ImageFolder}, datasets.ListTest)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "dedup-testset-v1\x00folder\x00test\x00%s\x00a.jpg\x001\x00%d\x00", filepath.Join(dir, "set"), when.UnixNano())
	if want := hex.EncodeToString(h.Sum(nil)); files.fingerprint != want || files.layout != datasets.ImageFolder {
		t.Errorf("listing of an image folder: layout %q, fingerprint %s; want %q, %s", files.layout, files.fingerprint, datasets.ImageFolder, want)
	}
}

// TestCatalogIsTheListing: the catalog holds the images the listing
// fingerprinted, listed once, even when the folder changes in between.
func TestCatalogIsTheListing(t *testing.T) {
	w := newStageWorld(t)
	l, err := w.cfg.List()
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, w.cfg.TestSets[0].Path, map[string]string{"n03/new.JPEG": "photo:Wood.jpg"})
	cat, err := LoadCatalog(context.Background(), w.workdir, l, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range cat.Sets {
		if slices.Contains(ts.Images, "n03/new.JPEG") {
			t.Errorf("test set %s holds n03/new.JPEG, added after the listing", ts.Spec.Name)
		}
	}
	if fingerprint(t, w.cfg) == l.Fingerprint() {
		t.Errorf("a new listing has the old fingerprint after adding a test image")
	}
}

func TestCheckFile(t *testing.T) {
	w := newStageWorld(t)
	l, err := w.cfg.List()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(context.Background(), w.workdir, l, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	photos := testkit.Photos(t, photoDir)
	names := slices.Sorted(maps.Keys(photos))
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "copy.jpg")
	otherPath := filepath.Join(dir, "other.jpg")
	os.WriteFile(copyPath, testkit.EncodeJPEG(t, Mirror(scale(photos[names[2]], 0.7)), 75), 0o644)
	os.WriteFile(otherPath, testkit.EncodeJPEG(t, photos[names[7]], 90), 0o644)

	res, err := CheckFile(cat, copyPath, 2, w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Duplicate || len(res.Candidates) == 0 || res.Candidates[0].Image != "n02/"+names[2] || res.Candidates[0].View != "mirror" ||
		!res.Candidates[0].Copy || res.Candidates[0].Test != TestNCC || res.Candidates[0].Score < w.cfg.MinScore ||
		len(res.Candidates)+len(res.Nearest) != 2 {
		t.Errorf("CheckFile(mirrored copy) = %+v, want a verified copy of n02/%s through its mirror first, 2 lines", res, names[2])
	}
	res, err = CheckFile(cat, otherPath, 3, w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || len(res.Candidates)+len(res.Nearest) != 3 {
		t.Errorf("CheckFile(other photo) = %+v, want 3 lines, no copy", res)
	}
	for _, c := range res.Candidates {
		if c.Copy || c.Score >= w.cfg.MinScore {
			t.Errorf("CheckFile(other photo): candidate %+v verified", c)
		}
	}
	if _, err := CheckFile(cat, filepath.Join(dir, "missing.jpg"), 3, w.cfg); err == nil {
		t.Errorf("CheckFile(missing) succeeded, want an error")
	}
}
