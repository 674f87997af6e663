package normalize_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// adversarial are the patterns that made rewriters quadratic: one long
// paragraph of mixed punctuation and quotation marks, nesting and names.
var adversarial = []struct {
	name string
	unit string // repeated to the wanted size
	lang string
}{
	{"period-quote-period", ".“.", "de"},
	{"question-quote-question", "?“?", "de"},
	{"questions-bang", "??!", "de"},
	{"straight-quotes-spaced", ` " Wort. " `, "de"},
	{"all-quote-kinds", "„a“ »b« ‚c‘ ‹d› “e” \"f\" 'g' ", "de"},
	{"closers-with-attribution", "Wir warten“, sagte er. ", "de"},
	{"names-repeated", "Aliyev traf Pashinyan und Konaschenkov in Shushi. ", "de"},
	{"names-repeated-en", "Alijew met Paschinjan and Lawrowa in Schuschi. ", "en"},
	{"no-spaces-names", "Aliyev,", "de"},
	{"debris-glued", "Foto: dpa. Lesen Sie auch: x.2477 ", "de"},
	{"invisible", "Pu\u200btin\u00ad\u202e ", "de"},
	{"url-like", "www.a.b/„x“?y=1&", "de"},
	{"single-openers", "‚x „y ", "de"},
	{"restored-openers", "Wir warten nicht länger“, sagte Putin. ", "de"},
	{"long-sentence-closers", "und wir warten “, sagte er ", "de"},
	{"dotted-word", "a.a.a.a.“,", "de"},
	{"double-periods", "Ende.. ", "de"},
	{"mojibake", "FÃ¼r â€žJaâ€œ ", "de"},
	{"spaces-before-punct", "Wort , und ; dann ! ", "de"},
	{"en-quotes", "“We said ” , he said. ‘x’ ", "en"},
}

// nested builds n quotations nested inside each other.
func nested(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			b.WriteString("„Er sagte ")
		} else {
			b.WriteString("‚sie sagte ")
		}
	}
	b.WriteString("nichts")
	for i := n - 1; i >= 0; i-- {
		if i%2 == 0 {
			b.WriteString("“")
		} else {
			b.WriteString("‘")
		}
	}
	return b.String()
}

// repeatTo repeats unit to about size bytes (at least once).
func repeatTo(unit string, size int) string {
	return strings.Repeat(unit, max(1, size/len(unit)))
}

// BenchmarkAdversarial normalizes each pattern at 100 KB and 1 MB as one
// paragraph; linear rewriters take ten times as long for the larger size
// (ns/op ratio ≈ 10), quadratic ones a hundred times.
func BenchmarkAdversarial(b *testing.B) {
	cases := adversarial
	for _, size := range []int{100 << 10, 1 << 20} {
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%dKB", c.name, size>>10), func(b *testing.B) {
				n := normalizer(b, c.lang)
				s := repeatTo(c.unit, size)
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					n.Text(s)
				}
			})
		}
		b.Run(fmt.Sprintf("nested-1000/%dKB", size>>10), func(b *testing.B) {
			n := normalizer(b, "de")
			s := repeatTo(nested(1000)+" ", size)
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				n.Text(s)
			}
		})
	}
}

// FuzzLinear grows each input to a long paragraph and normalizes it with a
// deadline scaled to its size: linear rewriters finish far inside it, a
// quadratic one (seconds at 100 KB, minutes at 1 MB) does not.
func FuzzLinear(f *testing.F) {
	for _, c := range adversarial {
		f.Add(c.unit, c.lang == "en")
	}
	f.Add(nested(50), false)
	de, en := normalizer(f, "de"), normalizer(f, "en")
	f.Fuzz(func(t *testing.T, unit string, english bool) {
		if unit == "" || !utf8.ValidString(unit) {
			return
		}
		n := de
		if english {
			n = en
		}
		s := repeatTo(unit, linearSize)
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.Text(s)
		}()
		select {
		case <-done:
		case <-time.After(linearBudget(len(s))):
			t.Fatalf("normalizing %q repeated to %d bytes did not finish within %v", unit, len(s), linearBudget(len(s)))
		}
	})
}

// linearSize is the length FuzzLinear grows its inputs to.
const linearSize = 256 << 10

// linearBudget is the deadline for a paragraph of n bytes: 20 µs a byte
// (5 s at 256 KB) is some forty times what the slowest pattern takes (four
// times under the race detector), and a quarter of what the quadratic
// rewriters took.
func linearBudget(n int) time.Duration {
	return time.Second + time.Duration(n)*20*time.Microsecond
}
