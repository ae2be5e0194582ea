// Package testlog gives tests a log destination that concurrent writers
// (a server's goroutines, slog handlers) share safely, to read back what
// was logged.
//
// Tested by the tests that read logs back through it (platform/observe's,
// broker/outbox's, …), some of them under the race detector.
package testlog

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is an io.Writer safe for concurrent writes.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Count is how many lines contain every one of the words.
func (s *Buffer) Count(words ...string) int {
	n := 0
	for _, line := range strings.Split(s.String(), "\n") {
		ok := line != ""
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			n++
		}
	}
	return n
}
