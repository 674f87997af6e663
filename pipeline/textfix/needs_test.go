package textfix

import "testing"

// needsPlain is needs without the eight-byte skipping.
func needsPlain(s string) uint8 {
	var need uint8
	n := len(s)
	for i := 0; i < n; i++ {
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
			if i > 0 && s[i-1] == ' ' || (c == '?' || c == '.') && i+1 < n && s[i+1] == c {
				need |= needPunct
			}
		}
	}
	// Page debris is digits at the very end.
	for n > 0 && (s[n-1] == ' ' || s[n-1] == '\t') {
		n--
	}
	if n > 0 && s[n-1] >= '0' && s[n-1] <= '9' {
		need |= needDebris
	}
	return need
}

func needsAgree(t *testing.T, s string) {
	if got, want := needs(s), needsPlain(s); got != want {
		t.Errorf("%q: needs %04b, byte by byte %04b", s, got, want)
	}
}

func TestNeedsSkipsOnlyWhatCannotMatter(t *testing.T) {
	for _, s := range []string{
		"", "Ein Satz ohne alles", "Woher wussten sie das?? Dann", "abcdefg?" + "?hijklmn", "abcdefg " + ".hijklmn",
		"Zahl 12 345 und 10 % mehr, z. B. hier.", "Er sagte \"Hallo\" und ging.", "Informationen.2477", "abcdefgh . ,",
		"„Zitat“ – Ende… FÃ¼r", "Ende..", "Ende .", "Liste : eins ; zwei , drei ! vier ?",
	} {
		needsAgree(t, s)
	}
}

func FuzzNeeds(f *testing.F) {
	f.Add("Woher wussten sie das?? Dann sagte er „etwas“ , und .2477")
	f.Fuzz(needsAgree)
}
