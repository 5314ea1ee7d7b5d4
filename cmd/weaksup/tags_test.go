package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTagsCanon(t *testing.T) {
	code, out, errOut := runCaptured(t, "tags", "#BrownBears", "#bruin", "#ursusarctos", "#happy", "#nofilter")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "tag          brownbear  n02132136"); n != 3 {
		t.Errorf("%d hashtags shown as brownbear n02132136, want 3:\n%s", n, out)
	}
	for _, want := range []string{"normal form  brownbears", "suffix rule", "not_noun", "unknown", "sense 2      bruin  n02132320"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTagsJSONAndDir(t *testing.T) {
	code, out, errOut := runCaptured(t, "tags", "canon", "--json", "--sense-policy", "all", "--wordnet-dir", "/usr/share/wordnet", "#crane", "#geese")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []struct {
		Normal   string `json:"normal"`
		Lemma    string `json:"lemma"`
		Concepts []struct {
			Tag  string `json:"tag"`
			WNID string `json:"wnid"`
		} `json:"concepts"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(got) != 2 || len(got[0].Concepts) != 5 || got[0].Concepts[0].WNID != "n02012849" || got[1].Lemma != "goose" {
		t.Errorf("JSON %+v: want crane with 5 senses (bird first) and geese → goose", got)
	}
}

func TestTagsExtractAndSynset(t *testing.T) {
	code, out, errOut := runCaptured(t, "tags", "extract", "Dawn at the river #BrownBear #wildlife C# &#39;")
	if code != 0 || !strings.Contains(out, "hashtags: BrownBear wildlife\n") {
		t.Errorf("extract: exit %d, output:\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCaptured(t, "tags", "synset", "n02132136", "new york")
	if code != 0 {
		t.Fatalf("synset: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"n02132136  brownbear  (noun.animal)", "hypernyms  bear n02131653", "grizzly n02132580", "n09119277  newyork"} {
		if !strings.Contains(out, want) {
			t.Errorf("synset output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := runCaptured(t, "tags", "synset", "xyzzyplugh"); code != 1 || !strings.Contains(errOut, "neither") {
		t.Errorf("synset of nonsense: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCaptured(t, "tags"); code != 2 {
		t.Errorf("tags without arguments: exit %d, want 2", code)
	}
	if code, _, errOut := runCaptured(t, "tags", "--sense-policy", "most", "#dog"); code != 1 || !strings.Contains(errOut, "--sense-policy") {
		t.Errorf("bad policy: exit %d, %q", code, errOut)
	}
}
