package names

import (
	"math/rand"
	"strings"
	"testing"
)

// Where translitStart answers, its three bytes are those the whole word's
// transliteration starts with, for words of every length and ending.
func TestTranslitStartIsTheStartOfTheWholeWord(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const letters = "abcdefghijklmnopqrstuvwxyzschtzhkeeie"
	decided := 0
	for range 200000 {
		var b strings.Builder
		b.WriteByte('A' + byte(rng.Intn(26)))
		for range 2 + rng.Intn(9) {
			b.WriteByte(letters[rng.Intn(len(letters))])
		}
		if rng.Intn(4) == 0 {
			b.WriteString([]string{"ä", "ß", "é", "ов", "-"}[rng.Intn(5)])
		}
		w := b.String()
		got, ok := translitStart(w)
		if !ok {
			continue
		}
		decided++
		want := appendTranslit(nil, w)
		if len(want) < 3 || string(want[:3]) != string(got[:]) {
			t.Fatalf("translitStart(%q) = %q, the word maps to %q", w, got[:], want)
		}
	}
	if decided < 50000 {
		t.Fatalf("only %d of 200,000 words decided by their first three letters", decided)
	}
}

// Each three-letter start it decides keeps its three bytes under random
// continuations made of the letters the spellings are made of.
func TestTranslitStartHoldsUnderEveryKindOfContinuation(t *testing.T) {
	const alphabet = "schtzkepaiyjo"
	rng := rand.New(rand.NewSource(4))
	decided := 0
	for i := range 26 * 26 * 26 {
		w := string([]byte{'A' + byte(i/676), 'a' + byte(i/26%26), 'a' + byte(i%26)})
		got, ok := translitStart(w)
		if !ok {
			continue
		}
		decided++
		for _, c := range append(continuations, "", "x", "q") {
			if want := appendTranslit(nil, w+c); len(want) < 3 || string(want[:3]) != string(got[:]) {
				t.Fatalf("translitStart(%q) = %q, but %q maps to %q", w, got[:], w+c, want)
			}
		}
		for range 12 {
			c := make([]byte, 1+rng.Intn(7))
			for j := range c {
				c[j] = alphabet[rng.Intn(len(alphabet))]
			}
			if want := appendTranslit(nil, w+string(c)); len(want) < 3 || string(want[:3]) != string(got[:]) {
				t.Fatalf("translitStart(%q) = %q, but %q maps to %q", w, got[:], w+string(c), want)
			}
		}
	}
	t.Logf("%d of %d three-letter starts decide their first three bytes", decided, 26*26*26)
}
