package engine

import (
	"fmt"
	"strings"
	"sync"
)

// capture keeps the output of a try for its log: everything up to limit
// bytes, then the latest limit bytes with a note of how much was dropped. It
// is written by the subprocess pipe and read by the lease renewer.
type capture struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	dropped int
}

func newCapture(limit int) *capture { return &capture{limit: limit} }

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	if over := len(c.buf) - 2*c.limit; over > 0 {
		cut := len(c.buf) - c.limit
		c.dropped += cut
		c.buf = append(c.buf[:0], c.buf[cut:]...)
	}
	return len(p), nil
}

func (c *capture) Printf(format string, args ...any) {
	fmt.Fprintf(c, format+"\n", args...)
}

// String returns the log as PostgreSQL text: valid UTF-8 without NUL bytes
// (producers of bad bytes must not make a log unwritable).
func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	if len(b) > c.limit {
		c.dropped += len(b) - c.limit
		b = b[len(b)-c.limit:]
		c.buf = append(c.buf[:0], b...)
		b = c.buf
	}
	s := strings.ToValidUTF8(strings.ReplaceAll(string(b), "\x00", ""), "\uFFFD")
	if c.dropped > 0 {
		s = fmt.Sprintf("[... %d earlier bytes dropped ...]\n", c.dropped) + s
	}
	return s
}
