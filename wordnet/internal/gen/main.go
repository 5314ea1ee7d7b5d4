// Command gen writes the compact WordNet noun database that package wordnet
// embeds, from a WordNet database directory (Debian's wordnet-base installs
// WordNet 3.0 in /usr/share/wordnet). Run it through `go generate ./wordnet`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"weaksup/wordnet"
)

func main() {
	dir := flag.String("dir", "/usr/share/wordnet", "WordNet database directory")
	out := flag.String("out", "wn30.bin.zst", "output file")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	db, err := wordnet.Open(dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := db.WriteCompact(&buf); err != nil {
		return err
	}
	// Check the round trip before replacing the committed file.
	if _, err := wordnet.ReadCompact(bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("check %s: %w", out, err)
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("wrote %s: %d synsets, %d lemmas, %d bytes\n", out, len(db.Synsets()), len(db.Lemmas()), buf.Len())
	return nil
}
