package storage

import (
	"testing"
	"time"
)

func TestParseLocation(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Location
		str  string
	}{
		{"gs://bkt/run/shards", Location{GCS, "bkt", "run/shards"}, "gs://bkt/run/shards"},
		{"gs://bkt/run/shards/", Location{GCS, "bkt", "run/shards"}, "gs://bkt/run/shards"},
		{"s3://bkt", Location{S3, "bkt", ""}, "s3://bkt"},
		{"s3://bkt/", Location{S3, "bkt", ""}, "s3://bkt"},
		{"work/shards/", Location{Local, "", "work/shards"}, "work/shards"},
		{"/abs/dir", Location{Local, "", "/abs/dir"}, "/abs/dir"},
		{"file:///abs/dir", Location{Local, "", "/abs/dir"}, "/abs/dir"},
	} {
		got, err := ParseLocation(c.in)
		if err != nil || got != c.want || got.String() != c.str {
			t.Errorf("ParseLocation(%q) = %+v (%s), %v; want %+v (%s)", c.in, got, got, err, c.want, c.str)
		}
	}
	for _, bad := range []string{"", "http://x/y", "gs://", "s3:///prefix", "gs://b/a/../c", "s3://b/a//c", "s3://b/p?x=1", "file://host/x"} {
		if l, err := ParseLocation(bad); err == nil {
			t.Errorf("ParseLocation(%q) = %+v, want an error", bad, l)
		}
	}
	l, _ := ParseLocation("s3://bkt/run")
	if got := l.Join("shard-00001.arrow").String(); got != "s3://bkt/run/shard-00001.arrow" {
		t.Errorf("Join: %s", got)
	}
}

func TestBackoff(t *testing.T) {
	d := &Dir{opts: (&Options{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}).withDefaults()}
	for attempt := 1; attempt <= 40; attempt++ {
		ceil := min(100*time.Millisecond<<min(attempt-1, 30), time.Second)
		for range 20 {
			if b := d.backoff(attempt); b < 0 || b > ceil {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, b, ceil)
			}
		}
	}
}
