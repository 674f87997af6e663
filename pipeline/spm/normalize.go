package spm

import (
	"strings"
	"unicode/utf8"
)

// normalizer applies a model's NormalizerSpec the way the reference does:
// user-defined symbols pass through untouched, otherwise the longest rule of
// the precompiled charsmap applies, and whitespace is collapsed and escaped.
type normalizer struct {
	chars *charsMap // nil: identity
	user  *trie     // nil: no user-defined symbols

	addDummyPrefix          bool
	removeExtraWhitespaces  bool
	escapeWhitespaces       bool
	treatWhitespaceAsSuffix bool
}

func newNormalizer(mp *modelProto, user *trie) (normalizer, error) {
	n := normalizer{
		user:                    user,
		addDummyPrefix:          mp.addDummyPrefix,
		removeExtraWhitespaces:  mp.removeExtraWhitespaces,
		escapeWhitespaces:       mp.escapeWhitespaces,
		treatWhitespaceAsSuffix: mp.treatWhitespaceAsSuffix,
	}
	if len(mp.precompiledCharsmap) > 0 {
		c, err := decodeCharsMap(mp.precompiledCharsmap)
		if err != nil {
			return normalizer{}, err
		}
		n.chars = c
	}
	return n, nil
}

// prefix normalizes the first unit of s: it returns the replacement text and
// how many bytes of s it consumed (at least one when s is not empty).
func (n *normalizer) prefix(s string) (string, int) {
	if n.user != nil {
		if l := n.user.longestPrefix(s); l > 0 {
			return s[:l], l
		}
	}
	if n.chars != nil {
		if l, v := n.chars.longestPrefix(s); l > 0 {
			return n.chars.replacementAt(v), l
		}
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size == 1 {
		// A malformed byte becomes U+FFFD and is consumed alone.
		return "\uFFFD", 1
	}
	return s[:size], size
}

// normalize returns the normalized form of text, the string the segmenter works on.
func (n *normalizer) normalize(text string) string {
	if text == "" {
		return ""
	}
	if n.removeExtraWhitespaces {
		for text != "" {
			r, l := n.prefix(text)
			if r != " " {
				break
			}
			text = text[l:]
		}
		if text == "" {
			return ""
		}
	}
	space := " "
	if n.escapeWhitespaces {
		space = spaceSymbol
	}
	var b strings.Builder
	b.Grow(len(text) + len(text)/2 + len(space))
	if !n.treatWhitespaceAsSuffix && n.addDummyPrefix {
		b.WriteString(space)
	}
	prevSpace := n.removeExtraWhitespaces
	for text != "" {
		r, l := n.prefix(text)
		text = text[l:]
		if prevSpace {
			r = strings.TrimLeft(r, " ")
		}
		if r != "" {
			if n.escapeWhitespaces {
				for i := 0; i < len(r); i++ {
					if r[i] == ' ' {
						b.WriteString(spaceSymbol)
					} else {
						b.WriteByte(r[i])
					}
				}
			} else {
				b.WriteString(r)
			}
			prevSpace = r[len(r)-1] == ' '
		}
		if !n.removeExtraWhitespaces {
			prevSpace = false
		}
	}
	out := b.String()
	if n.removeExtraWhitespaces {
		for strings.HasSuffix(out, space) {
			out = out[:len(out)-len(space)]
		}
	}
	if n.treatWhitespaceAsSuffix && n.addDummyPrefix {
		out += space
	}
	return out
}
