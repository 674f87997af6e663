package article

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NewID derives the stable article id: the source's GUID, else its URL, else
// the content hash. Ids are 32 hex digits so they are safe in NATS subjects
// and KV keys.
func NewID(source Source, contentHash string) string {
	var basis string
	switch {
	case strings.TrimSpace(source.GUID) != "":
		basis = "guid:" + strings.TrimSpace(source.GUID)
	case strings.TrimSpace(source.URL) != "":
		basis = "url:" + strings.TrimSpace(source.URL)
	default:
		return contentHash[:32]
	}
	sum := sha256.Sum256([]byte(basis))
	return hex.EncodeToString(sum[:16])
}

// ContentHash hashes the text of an article (title, lead, paragraphs) with
// unambiguous separators, as 64 hex digits.
func ContentHash(t *Text) string {
	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(t.Title)
	write(t.Lead)
	for _, p := range t.Paragraphs {
		write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
