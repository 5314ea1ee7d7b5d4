package shards

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Inspect writes a summary of a shard directory to w: the config that made
// it, each split's shards, rows and bytes, and a histogram of the top tags
// of the train split.
func Inspect(dir string, w io.Writer, top int) error {
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "shards   %s\ncreated  %s\nvocab    %d tags, %s\nconfig   shard-mb %d, val-fraction %g, seed %d\n",
		dir, m.Created.Format("2006-01-02 15:04:05 MST"), m.NumClasses, m.VocabHash, m.Config.ShardMB, m.Config.ValFraction, m.Config.Seed)
	for _, name := range []string{SplitTrain, SplitVal} {
		s, ok := m.Splits[name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-8s %d rows in %d shards, %s\n", name, s.Rows, len(s.Shards), humanBytes(s.Bytes))
	}
	s, ok := m.Splits[SplitTrain]
	if !ok || top <= 0 {
		return nil
	}
	ids := make([]int, 0, len(s.TagCounts))
	var maxCount int64
	for id, c := range s.TagCounts {
		if c > 0 {
			ids = append(ids, id)
			maxCount = max(maxCount, c)
		}
	}
	sort.Slice(ids, func(a, b int) bool {
		ca, cb := s.TagCounts[ids[a]], s.TagCounts[ids[b]]
		return ca > cb || ca == cb && ids[a] < ids[b]
	})
	fmt.Fprintf(w, "\ntop tags of train (%d of %d tags have images)\n", len(ids), m.NumClasses)
	for _, id := range ids[:min(top, len(ids))] {
		tag := fmt.Sprint(id)
		if id < len(m.Tags) {
			tag = m.Tags[id]
		}
		c := s.TagCounts[id]
		bar := strings.Repeat("█", int(40*c/maxCount))
		fmt.Fprintf(w, "  %6d %-24s %8d %s\n", id, tag, c, bar)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Dump writes the images of the first n rows of a split (in file order) to
// out as NNNNNN_<key>.jpg, with index.tsv listing file, key, label ids,
// tags and URL. It returns how many it wrote.
func Dump(dir, split string, n int, out string) (int, error) {
	ss, err := OpenShardSet(dir, split)
	if err != nil {
		return 0, err
	}
	defer ss.Close()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", out, err)
	}
	idx, err := os.Create(filepath.Join(out, "index.tsv"))
	if err != nil {
		return 0, fmt.Errorf("create index: %w", err)
	}
	defer idx.Close()
	fmt.Fprintln(idx, "file\tkey\tlabels\ttags\turl")
	written := 0
	for k, info := range ss.split.Shards {
		if written >= n {
			break
		}
		o, err := ss.acquire(k)
		if err != nil {
			return written, err
		}
		for r := 0; r < o.s.Rows() && written < n; r++ {
			row, err := o.s.Row(r)
			if err != nil {
				ss.release(o)
				return written, err
			}
			name := fmt.Sprintf("%06d_%s.jpg", written, safeName(row.Key))
			if err := os.WriteFile(filepath.Join(out, name), row.Image, 0o644); err != nil {
				ss.release(o)
				return written, fmt.Errorf("dump %s row %d: %w", info.File, r, err)
			}
			labels := make([]string, len(row.Labels))
			for i, l := range row.Labels {
				labels[i] = fmt.Sprint(l)
			}
			fmt.Fprintf(idx, "%s\t%s\t%s\t%s\t%s\n", name, row.Key, strings.Join(labels, ","), strings.Join(row.Tags, ","), row.URL)
			written++
		}
		ss.release(o)
	}
	if err := idx.Close(); err != nil {
		return written, fmt.Errorf("write index: %w", err)
	}
	return written, nil
}

// safeName keeps letters, digits, '-', '_' and '.' of a key, at most 60.
func safeName(key string) string {
	var b strings.Builder
	for _, r := range key {
		if b.Len() >= 60 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
