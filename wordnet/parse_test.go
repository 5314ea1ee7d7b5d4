package wordnet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const miniHeader = "  1 This is a small WordNet-format database for tests.\n  2 It follows the WordNet 3.0 file layout.\n"

// miniData holds data.noun lines; {k} stands for the offset of line k.
var miniData = []string{
	"{0} 03 n 01 entity 0 001 ~ {1} n 0000 | that which exists  ",
	"{1} 05 n 02 canine 0 canid 0 002 @ {0} n 0000 ~ {2} n 0000 | a dog-like mammal  ",
	"{2} 05 n 02 dog 0 domestic_dog 0 002 @ {1} n 0000 ~ {3} n 0000 | a domesticated canid; \"the dog barked\"  ",
	"{3} 05 n 02 puppy 0 Pup 0 001 @ {2} n 0000 | a young dog  ",
	"{4} 05 n 01 goose 0 000 | a web-footed bird  ",
	"{5} 18 n 01 dog 1 000 | a dull person  ",
}

var miniIndex = []string{
	"canid n 1 1 @ 1 0 {1}  ",
	"canine n 1 2 @ ~ 1 0 {1}  ",
	"dog n 2 2 @ ~ 2 1 {2} {5}  ",
	"domestic_dog n 1 2 @ ~ 1 0 {2}  ",
	"entity n 1 1 ~ 1 1 {0}  ",
	"goose n 1 0 1 0 {4}  ",
	"pup n 1 1 @ 1 0 {3}  ",
	"puppy n 1 1 @ 1 0 {3}  ",
}

var miniExc = []string{"geese goose", "dogges dog"}

// writeMini writes the small database into a new directory; edit may change
// the lines of a file (by base name) before they are written.
func writeMini(t testing.TB, edit func(file string, lines []string) []string) string {
	t.Helper()
	if edit == nil {
		edit = func(_ string, l []string) []string { return l }
	}
	offsets := make([]string, len(miniData))
	off := len(miniHeader)
	for i, l := range miniData {
		offsets[i] = fmt.Sprintf("%08d", off)
		off += len(substitute(l, make([]string, len(miniData)))) + 1
	}
	dir := t.TempDir()
	write := func(name, header string, lines []string) {
		var b strings.Builder
		b.WriteString(header)
		for _, l := range edit(name, append([]string(nil), lines...)) {
			b.WriteString(substitute(l, offsets))
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("data.noun", miniHeader, miniData)
	write("index.noun", miniHeader, miniIndex)
	write("noun.exc", "", miniExc)
	return dir
}

func substitute(line string, offsets []string) string {
	for k := range offsets {
		o := offsets[k]
		if o == "" {
			o = "00000000"
		}
		line = strings.ReplaceAll(line, fmt.Sprintf("{%d}", k), o)
	}
	return line
}

func TestOpenMini(t *testing.T) {
	db, err := Open(writeMini(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	dogs := db.Lookup("dog")
	if len(dogs) != 2 || dogs[0].Words[0].Lemma != "dog" || dogs[1].Gloss != "a dull person" {
		t.Fatalf("Lookup(dog) = %v", dogs)
	}
	if got, want := dogs[0].Gloss, `a domesticated canid; "the dog barked"`; got != want {
		t.Errorf("gloss %q, want %q", got, want)
	}
	if got := dogs[0].Hypernyms(); len(got) != 1 || got[0].Words[0].Lemma != "canine" {
		t.Errorf("hypernyms of dog: %v", got)
	}
	if got := dogs[0].Hyponyms(); len(got) != 1 || got[0].Words[1].Lemma != "Pup" {
		t.Errorf("hyponyms of dog: %v", got)
	}
	if got, want := morphy(db, "geese", Noun), []string{"goose"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Morphy(geese) = %v, want %v", got, want)
	}
	if got, want := morphy(db, "puppies", Noun), []string{"puppy"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Morphy(puppies) = %v, want %v", got, want)
	}
	if has(db, "run", Verb) {
		t.Error("mini database without index.verb knows the verb run")
	}
}

func TestOpenMalformed(t *testing.T) {
	tests := []struct {
		name string
		file string
		line int    // 1-based line in the file, header included
		bad  string // replaces that line
		want string // in the error
	}{
		{"index pos", "index.noun", 3, "canid v 1 1 @ 1 0 {1}  ", "pos"},
		{"index fields", "index.noun", 4, "canine n 1 2 @ ~ 1 0", "fields"},
		{"index sense count", "index.noun", 5, "dog n 2 2 @ ~ 3 1 {2} {5}  ", "sense_cnt"},
		{"index offset", "index.noun", 5, "dog n 2 2 @ ~ 2 1 {2} 123  ", "synset offset"},
		{"index tagged", "index.noun", 5, "dog n 2 2 @ ~ 2 9 {2} {5}  ", "tagsense_cnt"},
		{"index missing synset", "index.noun", 9, "pup n 1 1 @ 1 0 99999999  ", "not in data.noun"},
		{"data no gloss", "data.noun", 6, "{3} 05 n 02 puppy 0 Pup 0 001 @ {2} n 0000 a young dog ", "gloss"},
		{"data word count", "data.noun", 6, "{3} 05 n 0g puppy 0 Pup 0 001 @ {2} n 0000 | a young dog  ", "w_cnt"},
		{"data lex id", "data.noun", 6, "{3} 05 n 02 puppy 0 Pup x 001 @ {2} n 0000 | a young dog  ", "lex_id"},
		{"data pointer count", "data.noun", 6, "{3} 05 n 02 puppy 0 Pup 0 002 @ {2} n 0000 | a young dog  ", "p_cnt"},
		{"data pointer pos", "data.noun", 6, "{3} 05 n 02 puppy 0 Pup 0 001 @ {2} q 0000 | a young dog  ", "pos"},
		{"data extra fields", "data.noun", 6, "{3} 05 n 02 puppy 0 Pup 0 001 @ {2} n 0000 xx | a young dog  ", "unexpected"},
		{"data offset", "data.noun", 4, "{2} 05 n 02 canine 0 canid 0 002 @ {0} n 0000 ~ {2} n 0000 | a dog-like mammal  ", "byte offset"},
		{"data dangling pointer", "data.noun", 8, "{5} 18 n 01 dog 1 001 @ 00000001 n 0000 | a dull person  ", "missing synset"},
		{"exc", "noun.exc", 2, "dogges", "fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := 2
			if tc.file == "noun.exc" {
				header = 0
			}
			dir := writeMini(t, func(file string, lines []string) []string {
				if file == tc.file {
					lines[tc.line-1-header] = tc.bad
				}
				return lines
			})
			_, err := Open(dir)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Open: got %v, want a *ParseError", err)
			}
			if pe.File != tc.file || pe.Line != tc.line {
				t.Errorf("error at %s line %d, want %s line %d: %v", pe.File, pe.Line, tc.file, tc.line, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, fmt.Sprintf("%s line %d", tc.file, tc.line)) {
				t.Errorf("error %q does not name %s line %d and %q", msg, tc.file, tc.line, tc.want)
			}
		})
	}
}

func TestOpenMissing(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "data.noun") {
		t.Errorf("Open(empty dir) = %v, want an error naming data.noun", err)
	}
}

func FuzzParseDataLine(f *testing.F) {
	for _, l := range miniData {
		f.Add(substitute(l, []string{"00000100", "00000200", "00000300", "00000400", "00000500", "00000600"}))
	}
	f.Add("02132136 05 n 03 brown_bear 0 bruin 1 Ursus_arctos 0 005 @ 02131653 n 0000 #m 02131942 n 0000 ~ 02132466 n 0000 ~ 02132580 n 0000 ~ 02132788 n 0000 | large ferocious bear of Eurasia  ")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseDataLine(line, 'n')
		if err != nil {
			return
		}
		if len(e.words) == 0 {
			t.Fatalf("parsed %q with no words", line)
		}
		for _, p := range e.ptrs {
			if p.kind >= numPointerKinds {
				t.Fatalf("parsed %q with pointer kind %d", line, p.kind)
			}
		}
	})
}

func FuzzParseIndexLine(f *testing.F) {
	for _, l := range miniIndex {
		f.Add(substitute(l, []string{"00000100", "00000200", "00000300", "00000400", "00000500", "00000600"}))
	}
	f.Add("new_york n 3 4 @ #p %p - 3 2 09119277 09117351 09118181  ")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseIndexLine(line, 'n')
		if err != nil {
			return
		}
		if len(e.offsets) == 0 || e.tagged > len(e.offsets) || e.name == "" {
			t.Fatalf("parsed %q as %+v", line, e)
		}
	})
}
