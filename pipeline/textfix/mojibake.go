package textfix

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// cp1252C1 lists what Windows-1252 decodes bytes 0x80–0x9F to; 0 where undefined.
var cp1252C1 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// cp1252Byte returns the byte that Windows-1252 (or Latin-1, for its C1
// controls) decodes to r.
func cp1252Byte(r rune) (byte, bool) {
	if r >= 0x80 && r <= 0xFF {
		return byte(r), true
	}
	if r < 0x152 || r > 0x2122 {
		return 0, false
	}
	for i, c := range cp1252C1 {
		if c == r {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}

// cp1252Low decodes a C1 control byte as Windows-1252 would have.
func cp1252Low(b byte) (rune, bool) {
	r := cp1252C1[b-0x80]
	return r, r != 0
}

// mayBeMojibake is the fast check: a Latin-1 letter followed by a character
// that Windows-1252 makes of a UTF-8 continuation byte, or a C1 control.
func mayBeMojibake(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		switch s[i] {
		case 0xC2:
			if s[i+1] <= 0x9F {
				return true
			}
		case 0xC3:
			if i+2 < len(s) {
				switch s[i+2] {
				case 0xC2, 0xC5, 0xC6, 0xCB, 0xE2:
					return true
				}
			}
		}
	}
	return false
}

// seq is one candidate mis-decoded sequence s[start:end] standing for d.
type seq struct {
	start, end int
	d          rune
	lead       byte
	cont       rune // the first continuation character as it appears
}

// fixMojibake undoes UTF-8 that was decoded as Windows-1252: "â€ž" → "„",
// "Ã¼" → "ü". It decodes only complete, plausible sequences, so legitimate
// text such as Portuguese "SÃO" or Finnish "SELKÄ" is left alone.
func (f *Fixer) fixMojibake(s string, _, _ *[]article.Flag) []repl {
	if !mayBeMojibake(s) {
		return nil
	}
	var cands []seq
	var buf [4]byte
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		if r >= 0x80 && r <= 0x9F {
			// A C1 control never belongs in text: it is a Windows-1252 byte read as Latin-1.
			if d, ok := cp1252Low(byte(r)); ok {
				cands = append(cands, seq{start: i, end: i + sz, d: d, lead: 0})
			}
			i += sz
			continue
		}
		lead, ok := cp1252Byte(r)
		if !ok || lead < 0xC2 || lead > 0xF4 || r == '×' || r == '÷' {
			i += sz
			continue
		}
		need := 1
		switch {
		case lead >= 0xF0:
			need = 3
		case lead >= 0xE0:
			need = 2
		}
		buf[0] = lead
		j := i + sz
		got := 0
		var cont rune
		for got < need && j < len(s) {
			c, csz := utf8.DecodeRuneInString(s[j:])
			b, ok := cp1252Byte(c)
			if !ok || b < 0x80 || b > 0xBF {
				break
			}
			if got == 0 {
				cont = c
			}
			got++
			buf[got] = b
			j += csz
		}
		if got < need {
			i += sz
			continue
		}
		d, dsz := utf8.DecodeRune(buf[:need+1])
		if d == utf8.RuneError || dsz != need+1 {
			i += sz
			continue
		}
		cands = append(cands, seq{start: i, end: j, d: d, lead: lead, cont: cont})
		i = j
	}
	var rs []repl
	for k, c := range cands {
		adjacent := k > 0 && cands[k-1].end == c.start || k+1 < len(cands) && cands[k+1].start == c.end
		if !plausible(s, c, adjacent, len(cands)) {
			continue
		}
		text := string(c.d)
		// merge with a sequence ending right here so one edit covers a whole word's debris
		if n := len(rs); n > 0 && rs[n-1].end == c.start {
			rs[n-1].end = c.end
			rs[n-1].text += text
		} else {
			rs = append(rs, repl{start: c.start, end: c.end, text: text, rule: RuleMojibake})
		}
	}
	return rs
}

// commonLatin are the accented letters of Western European languages, the
// usual victims of Windows-1252 mis-decoding.
const commonLatin = "äöüßéèêëáàâíìîïóòôúùûñçÄÖÜÉÈÊÁÀÂÍÓÔÚÑÇ"

// plausible judges a candidate: common patterns always, rarer ones only in
// company or inside a word, never where the original reads as real text.
func plausible(s string, c seq, adjacent bool, n int) bool {
	d := c.d
	switch {
	case c.lead == 0:
		return true
	case d >= 0x80 && d <= 0x9F:
		return adjacent // an intermediate step of doubly mis-decoded text
	case d < 0xA0 || unicode.Is(unicode.Co, d) || unicode.Is(unicode.Cs, d) || unicode.Is(unicode.Cc, d) ||
		(d >= 0xFDD0 && d <= 0xFDEF) || d&0xFFFE == 0xFFFE:
		return false
	case c.lead == 0xC2:
		return d >= 0xA0 // Â before a Windows-1252 high character: Latin-1 punctuation
	case c.lead == 0xC3:
		return strings.ContainsRune(commonLatin, d) || n >= 2 || adjacent
	case c.lead == 0xE2:
		return d >= 0x2000 && d <= 0x2BFF // punctuation, currency, symbols: â€ž, â€“, â‚¬
	case c.lead >= 0xF0:
		return d >= 0x1F000 // emoji
	}
	// Other leads are letters in their own right (Ä, Ö, É…): accept only letters
	// in a run of sequences, or inside a word after an unusual character.
	if !unicode.IsLetter(d) && !unicode.Is(unicode.Mn, d) {
		return false
	}
	if adjacent {
		return true
	}
	return isWord(runeBefore(s, c.start)) && isWord(runeAt(s, c.end)) && !strings.ContainsRune("‘’“”\u00a0£«»°´·", c.cont)
}
