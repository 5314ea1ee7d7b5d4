package wordnet

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"weaksup/internal/testkit"
)

func TestCompactRoundTrip(t *testing.T) {
	db, err := Open(writeMini(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := db.WriteCompact(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCompact(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffDB(db, back); d != "" {
		t.Fatalf("round trip differs: %s", d)
	}
	if back.Source() != db.Source() {
		t.Errorf("source %q, want %q", back.Source(), db.Source())
	}
}

func TestCompactCorrupt(t *testing.T) {
	db, err := Open(writeMini(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := db.WriteCompact(&raw); err != nil {
		t.Fatal(err)
	}
	good, err := decodeCompactZstd(raw.Bytes())
	if err != nil || good == nil {
		t.Fatal(err)
	}
	// Every truncation of the decompressed form is an error, never a panic.
	plain := encodePlain(t, db)
	for n := 0; n < len(plain); n += 7 {
		if _, err := decodeCompact(plain[:n]); !errors.Is(err, ErrCompact) {
			t.Fatalf("truncated to %d bytes: got %v, want ErrCompact", n, err)
		}
	}
	if _, err := ReadCompact(bytes.NewReader([]byte("not zstd"))); err == nil {
		t.Error("ReadCompact(garbage) gave no error")
	}
}

// encodePlain returns the uncompressed compact form.
func encodePlain(t testing.TB, db *DB) string {
	var z bytes.Buffer
	if err := db.WriteCompact(&z); err != nil {
		t.Fatal(err)
	}
	zr, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	plain, err := zr.DecodeAll(z.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(plain)
}

func FuzzDecodeCompact(f *testing.F) {
	db, err := Open(writeMini(f, nil))
	if err != nil {
		f.Fatal(err)
	}
	plain := encodePlain(f, db)
	f.Add(plain)
	f.Add(plain[:len(plain)/2])
	f.Fuzz(func(t *testing.T, data string) {
		db, err := decodeCompact(data)
		if err != nil {
			return
		}
		for _, l := range db.Lemmas() {
			for _, s := range l.Synsets {
				_ = s.String()
			}
		}
	})
}

func reportLoad(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
	b.ReportMetric(float64((testkit.CPUTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/load")
}

func BenchmarkLoad(b *testing.B) {
	b.Run("source=embedded", func(b *testing.B) {
		cpu0 := testkit.CPUTime()
		for b.Loop() {
			if _, err := decodeCompactZstd(embeddedWN30); err != nil {
				b.Fatal(err)
			}
		}
		reportLoad(b, cpu0)
	})
	b.Run("source=dir", func(b *testing.B) {
		dir := wordnetDir(b)
		cpu0 := testkit.CPUTime()
		for b.Loop() {
			if _, err := Open(dir); err != nil {
				b.Fatal(err)
			}
		}
		reportLoad(b, cpu0)
	})
}
