package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one line of a text input; a longer line is reported
// as a bad line and skipped.
const MaxLineBytes = 1 << 20

var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)

// lineScanner yields the lines of a text stream without their line ending,
// counting them from 1. Unlike bufio.Scanner it survives an over-long line.
type lineScanner struct {
	r    *bufio.Reader
	line int64
}

func newLineScanner(r io.Reader) *lineScanner {
	return &lineScanner{r: bufio.NewReaderSize(r, MaxLineBytes)}
}

// next returns the next line (valid until the following call), its number,
// and errLineTooLong for a line that was skipped, or io.EOF at the end.
func (s *lineScanner) next() ([]byte, int64, error) {
	b, err := s.r.ReadSlice('\n')
	if len(b) == 0 && err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			err = io.ErrUnexpectedEOF
		}
		return nil, s.line, err
	}
	s.line++
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = s.r.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, s.line, err
		}
		return nil, s.line, errLineTooLong
	}
	if err != nil && err != io.EOF {
		return nil, s.line, err
	}
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		n--
		if n > 0 && b[n-1] == '\r' {
			n--
		}
	}
	return b[:n], s.line, nil
}

// record returns the next line for a record reader: an over-long line comes
// back as a *LineError (counted and skipped by the crawl), a read error names
// the line it stopped at, and io.EOF ends the input.
func (s *lineScanner) record() ([]byte, int64, error) {
	b, line, err := s.next()
	switch {
	case err == errLineTooLong:
		return nil, line, &LineError{Line: line, Reason: ReasonBadLine, Err: err}
	case err != nil && err != io.EOF:
		return nil, line, fmt.Errorf("read line %d: %w", line+1, err)
	}
	return b, line, err
}
