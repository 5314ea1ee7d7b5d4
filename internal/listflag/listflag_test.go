package listflag

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestValue(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	depths := Value[int]{20, 56}
	ps := Value[float64]{0}
	only := Value[string]{}
	fs.Var(&depths, "depths", "")
	fs.Var(&ps, "p", "")
	fs.Var(&only, "only", "")
	if got := fs.Lookup("depths").DefValue; got != "20,56" {
		t.Errorf("default shown as %q, want 20,56", got)
	}
	if err := fs.Parse([]string{"--depths", " 8, 14,", "--p", "0,0.25,.5", "--only", "noise, loss"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(depths, Value[int]{8, 14}) || !slices.Equal(ps, Value[float64]{0, 0.25, 0.5}) || !slices.Equal(only, Value[string]{"noise", "loss"}) {
		t.Errorf("parsed %v %v %v", depths, ps, only)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--depths", "8,x"}, `"x" is not an integer`},
		{[]string{"--p", "0,1e"}, `"1e" is not a number`},
		{[]string{"--only", " , "}, "no values"},
	} {
		err := fs.Parse(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), strings.TrimLeft(tc.args[0], "-")) {
			t.Errorf("%v: %v, want an error naming the flag and %s", tc.args, err, tc.want)
		}
	}
}
