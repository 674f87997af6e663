package textfix

import "testing"

// debrisStartByByte is debrisStart one byte at a time.
func debrisStartByByte(s string, end, from int) (int, int) {
	if from == 0 && end > 0 {
		return 0, 0
	}
	for k := max(from, 2); k < end; k++ {
		if s[k-1] == ' ' && s[k] != ' ' && mayEndSentence(s[k-2]) && sentenceEnd(s, k-1) {
			return k, k - 1
		}
	}
	return end, end
}

func debrisStartsAgree(t *testing.T, s string) {
	t.Helper()
	for end := 0; end <= len(s); end++ {
		for from := 0; from <= end; from++ {
			k, start := debrisStart(s, end, from)
			wk, wstart := debrisStartByByte(s, end, from)
			if k != wk || start != wstart {
				t.Fatalf("debrisStart(%q, %d, %d) = %d, %d; byte by byte %d, %d", s, end, from, k, start, wk, wstart)
			}
		}
	}
}

// The eight-byte scan finds the same candidate starts as a scan byte by byte.
func TestDebrisStartFindsWhatAByteScanFinds(t *testing.T) {
	for _, s := range []string{
		"", "a", "Ein Satz. Foto: dpa", "Er ging. Dann kam er! Wer? „Ja.“ (Bild) Ende… Mehr",
		"x.  y", "..  .. . . ! ? ) \" a", "Größe. Über. Straße… Ärger", "ab. cd. ef. gh. ij. kl. mn. op. qr.",
		"12345678. 9", "\x80 \x80 \x80 \x80 \x80 \x80 a", "abcdefg. \x01\x00 z",
	} {
		debrisStartsAgree(t, s)
	}
}

func FuzzDebrisStart(f *testing.F) {
	f.Add("Er ging. Dann kam er! Wer? „Ja.“ (Bild) Ende… Mehr")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 80 {
			s = s[:80]
		}
		debrisStartsAgree(t, s)
	})
}
