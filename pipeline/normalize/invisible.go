package normalize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// Rules and flags of invisible characters.
const (
	// RuleInvisible removes a character that displays as nothing: zero-width
	// space, word joiner, byte-order mark, soft hyphen, a stray joiner, or a
	// bidirectional control in left-to-right text.
	RuleInvisible = "unicode.invisible"
	// FlagBidi marks a bidirectional control kept because the paragraph has
	// right-to-left text, where it may be meant.
	FlagBidi = "unicode.bidi"
)

// hasInvisible reports whether s may hold a character removeInvisible acts on.
func hasInvisible(s string) bool {
	// Each invisible character starts with one of four lead bytes; IndexByte
	// finds them far faster than a loop over every byte of non-ASCII text.
	for _, lead := range [...]byte{0xE2, 0xC2, 0xEF, 0xE1} {
		for i := 0; ; i++ {
			k := strings.IndexByte(s[i:], lead)
			if k < 0 {
				break
			}
			i += k
			if i+1 >= len(s) {
				break
			}
			b := s[i+1]
			switch lead {
			case 0xC2: // U+00AD
				if b == 0xAD {
					return true
				}
			case 0xE1: // U+180E
				if b == 0xA0 && i+2 < len(s) && s[i+2] == 0x8E {
					return true
				}
			case 0xE2:
				if i+2 < len(s) {
					c := s[i+2]
					if b == 0x80 && (c >= 0x8B && c <= 0x8F || c >= 0xAA && c <= 0xAE) || b == 0x81 && c >= 0xA0 && c <= 0xA9 {
						return true
					}
				}
			case 0xEF: // U+FEFF
				if b == 0xBB && i+2 < len(s) && s[i+2] == 0xBF {
					return true
				}
			}
		}
	}
	return false
}

// invisibleKind is what removeInvisible does with a rune.
type invisibleKind uint8

const (
	visible   invisibleKind = iota
	removable               // always removed
	bidi                    // removed in left-to-right text, else flagged
	joiner                  // ZWJ/ZWNJ: removed between letters of Latin-like scripts, else kept
)

func invisibleOf(r rune) invisibleKind {
	switch {
	case r == '\u200B', r == '\u2060', r == '\uFEFF', r == '\u00AD', r == '\u180E', r >= '\u2061' && r <= '\u2064':
		return removable
	case r == '\u200E', r == '\u200F', r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return bidi
	case r == '\u200C', r == '\u200D':
		return joiner
	}
	return visible
}

// removeInvisible deletes the invisible characters of s, one edit per run,
// and flags the bidirectional controls it keeps.
func removeInvisible(s string, edits []article.Edit, flags []article.Flag) (string, []article.Edit, []article.Flag) {
	rtl, rtlKnown := false, false
	isRTL := func() bool {
		if !rtlKnown {
			rtl, rtlKnown = hasRTL(s), true
		}
		return rtl
	}
	b := make([]byte, 0, len(s))
	last := 0 // s[last:i] is visible and not copied yet
	for i := 0; i < len(s); {
		if !invisibleLead[s[i]] {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if invisibleOf(r) == visible {
			i += size
			continue
		}
		b = append(b, s[last:i]...)
		// a run of invisible characters
		j := i
		keep := false
		for j < len(s) {
			r2, sz := utf8.DecodeRuneInString(s[j:])
			k2 := invisibleOf(r2)
			if k2 == visible {
				break
			}
			switch {
			case k2 == bidi && isRTL():
				keep = true
			case k2 == joiner:
				prev, _ := utf8.DecodeLastRuneInString(s[:i])
				next, _ := utf8.DecodeRuneInString(s[j+sz:])
				if !latinLike(prev) || !latinLike(next) {
					keep = true // an emoji sequence, Persian or Indic text
				}
			}
			j += sz
		}
		run := s[i:j]
		if keep {
			if isRTL() {
				flags = append(flags, article.Flag{Code: FlagBidi, Offset: len(b),
					Message: fmt.Sprintf("invisible control %U kept in right-to-left text; check that the paragraph displays as it reads", []rune(run)[0])})
			}
			b = append(b, run...)
		} else {
			edits = append(edits, article.Edit{Rule: RuleInvisible, Offset: len(b), Before: run, After: "",
				Evidence: fmt.Sprintf("invisible %U", []rune(run)[0]), Confidence: 1})
		}
		i, last = j, j
	}
	b = append(b, s[last:]...)
	return string(b), edits, flags
}

// invisibleLead marks the first bytes of the UTF-8 forms invisibleOf does
// not call visible.
var invisibleLead = [256]bool{0xC2: true, 0xE1: true, 0xE2: true, 0xEF: true}

// latinLike reports letters of the scripts names in this pipeline use.
func latinLike(r rune) bool {
	return unicode.In(r, unicode.Latin, unicode.Cyrillic, unicode.Greek) || r >= '0' && r <= '9'
}

// hasRTL reports whether s has Hebrew, Arabic, Syriac or Thaana letters.
func hasRTL(s string) bool {
	for _, r := range s {
		if r >= 0x0590 && r <= 0x08FF || r >= 0xFB1D && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFE {
			return true
		}
	}
	return false
}
