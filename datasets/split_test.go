package datasets

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"weaksup/datasets/datasetstest"
)

// TestEveryImageExtDecodes writes an image under every extension in
// ImageExts and decodes it with image.Decode: what a layout lists, the
// loader and the perceptual hash can read.
func TestEveryImageExtDecodes(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 12, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 3)
	}
	encode := map[string]func(*bytes.Buffer) error{
		".jpg":  func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) },
		".jpeg": func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) },
		".png":  func(b *bytes.Buffer) error { return png.Encode(b, img) },
		".gif":  func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) },
		".bmp":  func(b *bytes.Buffer) error { return bmp.Encode(b, img) },
		".tif":  func(b *bytes.Buffer) error { return tiff.Encode(b, img, nil) },
		".tiff": func(b *bytes.Buffer) error { return tiff.Encode(b, img, nil) },
		".webp": func(b *bytes.Buffer) error { // Go has no WebP encoder
			data, err := os.ReadFile(filepath.Join("testdata", "lossy.webp"))
			b.Write(data)
			return err
		},
	}
	for _, ext := range ImageExts {
		enc, ok := encode[ext]
		if !ok {
			t.Errorf("no test image for %s", ext)
			continue
		}
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if _, format, err := image.Decode(&b); err != nil {
			t.Errorf("%s: %v (format %q)", ext, err, format)
		}
		if !IsImage("x"+strings.ToUpper(ext)) || IsImage("x"+ext+".txt") {
			t.Errorf("IsImage disagrees with ImageExts on %s", ext)
		}
	}
}

func TestFilesReadAndFingerprint(t *testing.T) {
	dir := t.TempDir()
	m := datasetstest.ImageFolder(t, dir, datasetstest.Spec{K: 2, Train: 2, Val: 1, Size: 8})
	ds, err := OpenImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ds.Split(SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Len() != 4 {
		t.Fatalf("%d train images, want 4", sp.Len())
	}
	var buf []byte
	for i := range sp.Len() {
		img, err := sp.Read(i, buf)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(sp.Where(i))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Encoded, want) || img.Pixels != nil {
			t.Errorf("image %d (%s): read %d bytes, want the file's %d", i, sp.Where(i), len(img.Encoded), len(want))
		}
		if c, ok := m[sp.Where(i)]; !ok || c != sp.Class(i) {
			t.Errorf("image %d (%s): class %d, fixture wrote %d", i, sp.Where(i), sp.Class(i), c)
		}
		buf = img.Encoded
	}
	fingerprint := func() string {
		var b bytes.Buffer
		if err := sp.Fingerprint(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	before := fingerprint()
	if again := fingerprint(); again != before {
		t.Errorf("fingerprint changed without a change to the files")
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(sp.Where(2), later, later); err != nil {
		t.Fatal(err)
	}
	if fingerprint() == before {
		t.Errorf("fingerprint unchanged after %s was modified", sp.Where(2))
	}
	os.Remove(sp.Where(1))
	if _, err := sp.Read(1, nil); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), sp.Where(1)) {
		t.Errorf("read a removed file: %v, want an error naming it", err)
	}
	if err := sp.Fingerprint(&bytes.Buffer{}); err == nil {
		t.Errorf("fingerprint with a removed file: no error")
	}
}

// TestClassFoldersSkipHiddenAndFollowLinks: a class folder that is a link
// is a class; hidden files (macOS "._" forks) and folders are not images or
// classes; every image extension counts.
func TestClassFoldersSkipHiddenAndFollowLinks(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	datasetstest.WriteJPEG(t, filepath.Join(dir, "train", "ant", "1.jpg"), image.NewGray(image.Rect(0, 0, 4, 4)))
	datasetstest.WriteText(t, filepath.Join(dir, "train", "ant", "._1.jpg"), "resource fork")
	datasetstest.WriteText(t, filepath.Join(dir, "train", ".cache", "x.jpg"), "not a class")
	datasetstest.WriteJPEG(t, filepath.Join(other, "bee", "2.jpg"), image.NewGray(image.Rect(0, 0, 4, 4)))
	if err := os.Symlink(filepath.Join(other, "bee"), filepath.Join(dir, "train", "bee")); err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	var gb bytes.Buffer
	if err := gif.Encode(&gb, g, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "bee", "3.gif"), gb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := OpenImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Classes(); len(got) != 2 || got[0].ID != "ant" || got[1].ID != "bee" {
		t.Fatalf("classes %v, want ant and bee", got)
	}
	sp, err := ds.Split(SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range sp.Len() {
		names = append(names, filepath.Base(sp.Where(i)))
	}
	if strings.Join(names, " ") != "1.jpg 2.jpg 3.gif" {
		t.Errorf("train images %v, want 1.jpg 2.jpg 3.gif", names)
	}
}
