// Package listflag is the one comma-separated list flag of the command
// line: --depths 20,56,110, --p 0,0.1,0.25, --only noise,loss.
package listflag

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is a comma-separated list of ints, floats or strings, a
// flag.Value. Blanks around items and empty items are dropped; Set
// replaces the default rather than appending to it, and a list with no
// items is an error. Checks of the values themselves (positive, known)
// are the command's.
type Value[T int | float64 | string] []T

// Set parses a list, naming the item that is not a T.
func (v *Value[T]) Set(s string) error {
	var out []T
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		x, err := parse[T](item)
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return fmt.Errorf("no values in %q", s)
	}
	*v = out
	return nil
}

func parse[T int | float64 | string](s string) (T, error) {
	var zero T
	switch p := any(&zero).(type) {
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return zero, fmt.Errorf("%q is not an integer", s)
		}
		*p = n
	case *float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return zero, fmt.Errorf("%q is not a number", s)
		}
		*p = f
	case *string:
		*p = s
	}
	return zero, nil
}

func (v Value[T]) String() string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}
