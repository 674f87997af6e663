package spm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// charsMap is a decoded precompiled_charsmap: a Darts-clone double array that
// maps UTF-8 prefixes to offsets into a blob of NUL-terminated replacements.
type charsMap struct {
	units       []byte // little-endian uint32 double-array units
	replacement string
}

// maxCharsMapResults matches the fixed result buffer of the reference
// normalizer: only the first (shortest) matches are considered.
const maxCharsMapResults = 32

func decodeCharsMap(blob []byte) (*charsMap, error) {
	if len(blob) <= 4 {
		return nil, fmt.Errorf("%w: precompiled_charsmap of %d bytes is too short", ErrInvalidModel, len(blob))
	}
	size := binary.LittleEndian.Uint32(blob)
	if uint64(size) >= uint64(len(blob)) {
		return nil, fmt.Errorf("%w: precompiled_charsmap trie size %d exceeds blob of %d bytes", ErrInvalidModel, size, len(blob))
	}
	blob = blob[4:]
	// Copy, so that the model file's buffer can be freed.
	units := bytes.Clone(blob[:size/4*4])
	return &charsMap{units: units, replacement: string(blob[size:])}, nil
}

func (c *charsMap) unit(i uint32) (uint32, bool) {
	off := uint64(i) * 4
	if off+4 > uint64(len(c.units)) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(c.units[off:]), true
}

// Darts-clone unit layout.
func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// longestPrefix returns the length of the longest key in the trie that is a
// prefix of s, among the first maxCharsMapResults matches, and its value.
func (c *charsMap) longestPrefix(s string) (length int, value uint32) {
	u, ok := c.unit(0)
	if !ok {
		return 0, 0
	}
	pos := unitOffset(u)
	found := 0
	for i := 0; i < len(s); i++ {
		label := uint32(s[i])
		pos ^= label
		u, ok = c.unit(pos)
		if !ok || unitLabel(u) != label {
			return length, value
		}
		pos ^= unitOffset(u)
		if unitHasLeaf(u) {
			leaf, ok := c.unit(pos)
			if !ok {
				return length, value
			}
			if found < maxCharsMapResults {
				length, value = i+1, unitValue(leaf)
			}
			found++
		}
	}
	return length, value
}

// replacementAt returns the NUL-terminated replacement starting at off.
func (c *charsMap) replacementAt(off uint32) string {
	if uint64(off) >= uint64(len(c.replacement)) {
		return ""
	}
	r := c.replacement[off:]
	if i := strings.IndexByte(r, 0); i >= 0 {
		r = r[:i]
	}
	return r
}
