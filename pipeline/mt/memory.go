package mt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Memory is a translation memory: English translations of German segments,
// keyed by MemoryKey. Get reports a miss as ok == false with a nil error.
type Memory interface {
	Get(ctx context.Context, key string) (en string, ok bool, err error)
	Put(ctx context.Context, key, en string) error
}

// MemoryKey is the memory key of a German segment translated by an engine
// and model: 64 hex digits, valid as a NATS KV key.
func MemoryKey(engine, model, de string) string {
	h := sha256.New()
	h.Write([]byte(engine))
	h.Write([]byte{0})
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(NormalizeSegment(de)))
	return hex.EncodeToString(h.Sum(nil))
}

// NormalizeSegment is the form of a segment the memory compares: NFC,
// runs of whitespace collapsed to one space, trimmed.
func NormalizeSegment(s string) string {
	return strings.Join(strings.FieldsFunc(norm.NFC.String(s), unicode.IsSpace), " ")
}

// MemoryTM is an in-process Memory for offline use and tests.
type MemoryTM struct {
	mu sync.RWMutex
	m  map[string]string
}

// NewMemoryTM returns an empty in-process memory.
func NewMemoryTM() *MemoryTM { return &MemoryTM{m: make(map[string]string)} }

// Get implements Memory.
func (m *MemoryTM) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	en, ok := m.m[key]
	return en, ok, nil
}

// Put implements Memory.
func (m *MemoryTM) Put(_ context.Context, key, en string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]string)
	}
	m.m[key] = en
	return nil
}

// Len is the number of entries.
func (m *MemoryTM) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

// BatchMemory is a Memory that reads and writes many entries in one round
// trip; the Translator uses it when the Memory offers it.
type BatchMemory interface {
	Memory
	// GetMany returns the entries found; missing keys are absent.
	GetMany(ctx context.Context, keys []string) (map[string]string, error)
	PutMany(ctx context.Context, entries map[string]string) error
}
