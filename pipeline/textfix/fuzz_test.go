package textfix_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/textfix"
)

var fuzzSeeds = []string{
	"Neun Tage sind vergangen, und wir haben keine Antwort erhalten “, sagte er auf der Konferenz„ Ein neuer Blick nach Konflikten “in Baku",
	"Raketen „explodierten nicht und explodierten nur zu 10%.“. Als Reaktion",
	"Woher wussten sie das?? Informationen.2477",
	"“We have no answer ” , he said. Really??",
	"FÃ¼r â€žJaâ€œ und SÃO PAULO",
	`Er sagte "Hallo" und ging. 16x12" Monitor, geht’s, O’Brien, ’90s, 3,5 und 12 345, 10 %...`,
	"»Guten Tag«, sagte sie. «Bonjour», dit-il. ‚nested‘ ‹x›",
	"Mehr unter https://example.com/a..b?x=1 oder mail@example.com :-) :P ;)",
}

func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

func fuzzFix(f *testing.F, style textfix.Style) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	fx := mustNew(f, style)
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return
		}
		out, edits, _ := fx.Fix(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q", out)
		}
		if got := replay(t, in, edits); got != out {
			t.Fatalf("replay gives %q, want %q", got, out)
		}
		if again, _, _ := fx.Fix(out); again != out {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
		for _, e := range edits {
			if e.Rule == textfix.RuleDebris || e.Rule == textfix.RuleMojibake {
				return
			}
		}
		if letters(in) != letters(out) {
			t.Fatalf("letters or digits changed:\n in  %q\n out %q", in, out)
		}
	})
}

func FuzzFixDE(f *testing.F) { fuzzFix(f, textfix.Style{Lang: "de"}) }

func FuzzFixEN(f *testing.F) { fuzzFix(f, textfix.Style{Lang: "en"}) }
