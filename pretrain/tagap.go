package pretrain

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"weaksup/atomicfile"
	"weaksup/storage"
	"weaksup/train"
)

// TagAPFile is the per-tag average precision of a pretraining run's last
// held-out evaluation, written into the run directory.
const TagAPFile = "tag_ap.tsv"

// TagAP is the held-out average precision of one hashtag.
type TagAP struct {
	ID        int     `json:"id"`
	Tag       string  `json:"tag"`
	AP        float64 `json:"ap"`
	Positives int     `json:"positives"` // held-out images carrying the tag
}

// TagAPs returns the per-class AP of r for the classes with at least
// minPositives positive images, best first; tags names the classes (a
// class past its end is named by its id).
func TagAPs(r *train.EvalResult, tags []string, minPositives int) []TagAP {
	if r == nil {
		return nil
	}
	var out []TagAP
	for c, ap := range r.ClassAP {
		if c >= len(r.ClassPositives) || r.ClassPositives[c] < max(1, minPositives) {
			continue
		}
		name := fmt.Sprint(c)
		if c < len(tags) {
			name = tags[c]
		}
		out = append(out, TagAP{ID: c, Tag: name, AP: ap, Positives: r.ClassPositives[c]})
	}
	slices.SortStableFunc(out, func(a, b TagAP) int { return cmp.Compare(b.AP, a.AP) })
	return out
}

// FormatTagAPs is a one-line summary of per-tag APs (best first): the n
// best and the n worst tags with their AP and positives.
func FormatTagAPs(aps []TagAP, n int) string {
	if len(aps) == 0 {
		return "no tag has held-out positives"
	}
	list := func(s []TagAP) string {
		var parts []string
		for _, t := range s {
			parts = append(parts, fmt.Sprintf("#%s %.2f (%d)", t.Tag, t.AP, t.Positives))
		}
		return strings.Join(parts, ", ")
	}
	if len(aps) <= 2*n {
		return "per-tag AP (positives): " + list(aps)
	}
	return fmt.Sprintf("per-tag AP (positives), best: %s; worst: %s", list(aps[:n]), list(aps[len(aps)-n:]))
}

// WriteTagAPs writes aps as a TSV file: id, tag, ap, positives.
func WriteTagAPs(path string, aps []TagAP) error {
	return atomicfile.WriteFile(path, tagAPsTSV(aps))
}

func tagAPsTSV(aps []TagAP) []byte {
	var sb strings.Builder
	sb.WriteString("id\ttag\tap\tpositives\n")
	for _, t := range aps {
		fmt.Fprintf(&sb, "%d\t%s\t%.6f\t%d\n", t.ID, t.Tag, t.AP, t.Positives)
	}
	return []byte(sb.String())
}

// reportTagAPs writes the per-tag APs of a pretraining run's last
// evaluation into its directory (a local path or a gs:// or s3:// URL,
// written atomically either way) and prints the best and worst tags.
func reportTagAPs(ctx context.Context, out string, opts *storage.Options, r *train.EvalResult, tags []string, log io.Writer) error {
	aps := TagAPs(r, tags, 1)
	d, err := storage.Create(ctx, out, opts)
	if err != nil {
		return fmt.Errorf("write %s: %w", TagAPFile, err)
	}
	defer d.Close()
	if err := d.WriteFile(ctx, TagAPFile, tagAPsTSV(aps)); err != nil {
		return err
	}
	if log != nil {
		fmt.Fprintf(log, "pretrain: held-out mAP %.4f over %d tags; %s\n", r.MAP, r.Classes, FormatTagAPs(aps, 5))
	}
	return nil
}
