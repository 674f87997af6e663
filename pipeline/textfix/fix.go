package textfix

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/dewire/dewire/pipeline/article"
)

// Rule names recorded in edits.
const (
	RuleMojibake         = "encoding.mojibake"
	RuleQuoteStyle       = "quote.style"
	RuleQuoteSpacing     = "quote.spacing"
	RuleQuoteRestored    = "quote.opening_restored"
	RulePunctPlacement   = "punct.placement"
	RulePunctCollapse    = "punct.collapse"
	RulePunctSpaceBefore = "punct.space_before"
	RuleDebris           = "debris.strip"
)

// Flag codes raised for a human to check.
const (
	FlagOpeningRestored = "quote.opening_restored"
	FlagUnbalanced      = "quote.unbalanced"
	FlagDebrisSuspect   = "debris.suspect"
	// FlagRepeatedExclamation marks "!!" left alone under the default style.
	FlagRepeatedExclamation = "punct.repeated_exclamation"
)

// maxRounds bounds the repair loop; one round almost always reaches the fixpoint.
const maxRounds = 4

// repl replaces s[start:end] with text; a pass returns them sorted and disjoint.
type repl struct {
	start, end int
	text       string
	rule       string
}

// Fix repairs one paragraph (or title or lead). Edits are listed in the order
// they were applied, each with the byte offset in the text as it stood just
// before it, so replaying them reproduces out. Flags about text that was left
// alone carry offsets into out.
func (f *Fixer) Fix(text string) (out string, edits []article.Edit, flags []article.Flag) {
	need := needs(text)
	if need == 0 {
		return text, nil, nil
	}
	out = text
	var acted, observed []article.Flag // reused by every pass and round
	var actedAt []int                  // for each flag kept from acted, how many edits preceded its pass
	for round := 0; round < maxRounds; round++ {
		var changed bool
		observed = observed[:0]
		for k := 0; k < 4; k++ {
			if need&(1<<k) == 0 {
				continue
			}
			acted = acted[:0]
			var rs []repl
			switch k {
			case 0:
				rs = f.fixMojibake(out, &acted, &observed)
			case 1:
				rs = f.fixQuotes(out, &acted, &observed)
			case 2:
				rs = f.fixPunct(out, &acted, &observed)
			default:
				rs = f.fixDebris(out, &acted, &observed)
			}
			if len(rs) == 0 {
				continue
			}
			changed = true
			at := len(edits)
			out, edits = apply(out, rs, edits)
			for range acted {
				actedAt = append(actedAt, at)
			}
			flags = append(flags, acted...)
		}
		if !changed {
			flags = append(flags, observed...)
			break
		}
		need = needs(out) // a repair may have exposed another
	}
	// Flags about repairs point into out, where the desk reads them.
	for i, at := range actedAt {
		fl := &flags[i]
		fl.Offset = mapOffset(edits[at:], fl.Offset)
		if fl.Code == FlagOpeningRestored {
			fl.Message = fmt.Sprintf("opening quotation mark inserted: %q; check where the quotation begins", snippet(out[fl.Offset:], 20))
		}
	}
	return out, edits, flags
}

// mapOffset carries an offset in a text through the edits applied to it
// after; an offset inside a replaced stretch moves to its start, one at an
// insertion stays before the inserted text.
func mapOffset(edits []article.Edit, off int) int {
	for _, e := range edits {
		switch {
		case e.Offset+len(e.Before) <= off && !(len(e.Before) == 0 && e.Offset == off):
			off += len(e.After) - len(e.Before)
		case e.Offset < off:
			off = e.Offset
		}
	}
	return off
}

// apply performs rs on s and appends one edit per replacement.
func apply(s string, rs []repl, edits []article.Edit) (string, []article.Edit) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	var buf strings.Builder // its String needs no copy
	buf.Grow(len(s) + 16)
	last, shift := 0, 0
	for _, r := range rs {
		if r.start < last {
			continue // overlapping; the next round sees it again
		}
		buf.WriteString(s[last:r.start])
		buf.WriteString(r.text)
		edits = append(edits, article.Edit{
			Rule:   r.rule,
			Offset: r.start + shift,
			Before: s[r.start:r.end],
			After:  r.text,
		})
		shift += len(r.text) - (r.end - r.start)
		last = r.end
	}
	buf.WriteString(s[last:])
	return buf.String(), edits
}

// Passes a paragraph may need, found by one cheap scan.
const (
	needMojibake uint8 = 1 << iota
	needQuotes
	needPunct
	needDebris
	needAll = needMojibake | needQuotes | needPunct | needDebris
)

// trigger marks the bytes at which needs looks closer; all others are skipped.
var trigger = func() (t [256]bool) {
	for _, c := range []byte{'"', 0xE2, 0xC2, 0xC3, '?', '!', '.', ',', ';', ':'} {
		t[c] = true
	}
	return t
}()

// load64 reads s[i:i+8] as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// zeroLanes sets the high bit of every zero byte of x (and at most of a 0x01
// byte above one), the others' stay clear.
func zeroLanes(x uint64) uint64 {
	return (x - 0x0101010101010101) &^ x & 0x8080808080808080
}

// needs is the fast path: most paragraphs have nothing any pass could change,
// and most of the rest need only one pass.
func needs(s string) uint8 {
	var need uint8
	n := len(s)
	for i := 0; i < n; i++ {
		// Skip eight bytes at a time while none can matter: '"',
		// punctuation after a space or before its own double, the lead
		// bytes 0xC2 and 0xE2, or 0xC3 two bytes before a byte that may
		// make it mojibake (the other non-ASCII bytes, umlauts among them,
		// pass).
		for i+10 <= n {
			x := load64(s, i)
			var prev uint64
			if i > 0 {
				prev = uint64(s[i-1])
			}
			next := uint64(s[i+8])
			t := x & 0x7F7F7F7F7F7F7F7F
			punct := (0xBFBFBFBFBFBFBFBF - t) & (t + 0x5F5F5F5F5F5F5F5F) // lanes '!'…'?'
			m := punct&(zeroLanes(x<<8|prev^0x2020202020202020)|zeroLanes(x^(x>>8|next<<56))) | zeroLanes(x^0x2222222222222222)
			if hi := x & 0x8080808080808080; hi != 0 {
				y := load64(s, i+2) // the byte two after each lane
				m |= zeroLanes(x^0xC2C2C2C2C2C2C2C2) | zeroLanes(x^0xE2E2E2E2E2E2E2E2) |
					zeroLanes(x^0xC3C3C3C3C3C3C3C3)&(zeroLanes(y^0xC2C2C2C2C2C2C2C2)|zeroLanes(y^0xC5C5C5C5C5C5C5C5)|
						zeroLanes(y^0xC6C6C6C6C6C6C6C6)|zeroLanes(y^0xCBCBCBCBCBCBCBCB)|zeroLanes(y^0xE2E2E2E2E2E2E2E2))
			}
			if m &= 0x8080808080808080; m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < n && !trigger[s[i]] {
			i++
		}
		if i == n {
			break
		}
		switch c := s[i]; c {
		case '"':
			need |= needQuotes
		case 0xE2:
			if i+2 < n && s[i+1] == 0x80 {
				switch s[i+2] {
				case 0x98, 0x9A, 0x9C, 0x9D, 0x9E, 0xB9, 0xBA:
					need |= needQuotes
				}
			}
		case 0xC2:
			if i+1 < n {
				switch {
				case s[i+1] == 0xAB || s[i+1] == 0xBB:
					need |= needQuotes
				case s[i+1] <= 0x9F:
					need |= needMojibake
				}
			}
		case 0xC3:
			// A Latin-1 letter followed by a Windows-1252 high character may be mojibake.
			if i+2 < n {
				switch s[i+2] {
				case 0xC2, 0xC5, 0xC6, 0xCB, 0xE2:
					need |= needMojibake
				}
			}
		default: // punctuation
			if i > 0 && s[i-1] == ' ' || (c == '?' || c == '.' || c == '!') && i+1 < n && s[i+1] == c {
				need |= needPunct
			}
		}
	}
	if mayBeDebris(s) {
		need |= needDebris
	}
	return need
}
