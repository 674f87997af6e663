package textfix_test

import (
	"testing"

	"github.com/dewire/dewire/pipeline/textfix"
)

// TestGermanQuotationRules holds hand-written German sentences and the form a
// copy editor expects under the amtliches Regelwerk (§§ 89–94) and Duden:
// „…“ outside, ‚…‘ inside, a comma after the closing mark before the
// accompanying clause, the quoted sentence's period dropped there, ? and !
// kept inside.
func TestGermanQuotationRules(t *testing.T) {
	f := mustNew(t, textfix.Style{Lang: "de"})
	cases := []struct{ name, in, want string }{
		{"straight quotes become „…“", `Er sagte "Hallo" und ging.`, "Er sagte „Hallo“ und ging."},
		{"English curly quotes become „…“", "Er sagte “Hallo” und ging.", "Er sagte „Hallo“ und ging."},
		{"guillemets become „…“ in the default style", "»Guten Tag«, sagte sie.", "„Guten Tag“, sagte sie."},
		{"straight quotes before an accompanying clause keep the comma after the closer", `"Wir warten", sagte er.`, "„Wir warten“, sagte er."},
		{"English single quotes inside a quotation become ‚…‘", "„Er rief ‘Halt!’ und lief weg“, sagte sie.", "„Er rief ‚Halt!‘ und lief weg“, sagte sie."},
		{"the period of a quoted sentence is dropped before the comma of the accompanying clause", "„Wir warten.“, sagte er.", "„Wir warten“, sagte er."},
		{"a comma inside the closing mark moves after it", "„Wir warten,“ sagte er.", "„Wir warten“, sagte er."},
		{"spaces inside the marks are removed", "Er sagte „ Hallo “ und ging.", "Er sagte „Hallo“ und ging."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, edits, _ := f.Fix(c.in); got != c.want {
				t.Errorf("got  %s\nwant %s\nedits %+v", got, c.want, edits)
			}
		})
	}
	for _, s := range []string{
		"„Er rief ‚Halt!‘ und lief weg“, sagte sie.",
		"„Kommst du?“, fragte sie.",
		"„Gehen Sie!“, rief er.",
		"Er sagte: „Wir kommen.“",
		"Er nannte es einen „halben Sieg“.",
		"Sie las den Roman „Der Prozess“ von Kafka.",
		"„Ich habe ‚Der Prozess‘ gelesen“, sagte er.",
		"Er sagte „Hallo“ und „Tschüss“.",
		"„Das ist der erste Absatz einer Rede, die im nächsten weitergeht.",
	} {
		t.Run("correct German stays as it is: "+s, func(t *testing.T) {
			if got, edits, flags := f.Fix(s); got != s || len(edits) != 0 || len(flags) != 0 {
				t.Errorf("changed to %s by %+v, flags %+v", got, edits, flags)
			}
		})
	}
	t.Run("an opening mark that never closes mid-paragraph is left and flagged", func(t *testing.T) {
		const in = "Er sagte „Hallo und ging."
		got, edits, flags := f.Fix(in)
		if got != in || len(edits) != 0 {
			t.Fatalf("changed to %s by %+v", got, edits)
		}
		if len(flags) != 1 || flags[0].Code != textfix.FlagUnbalanced || flags[0].Offset != len("Er sagte ") {
			t.Errorf("flags %+v, want one %s at the opening mark", flags, textfix.FlagUnbalanced)
		}
	})
}

func TestQuoteStylesRenderTheirOwnMarks(t *testing.T) {
	const in = "Er sagte „Hallo ‚Welt‘ und so“ und ging."
	for _, c := range []struct {
		q    textfix.QuoteStyle
		want string
	}{
		{textfix.QuotesDE, "Er sagte „Hallo ‚Welt‘ und so“ und ging."},
		{textfix.QuotesDEGuillemets, "Er sagte »Hallo ›Welt‹ und so« und ging."},
		{textfix.QuotesCH, "Er sagte «Hallo ‹Welt› und so» und ging."},
	} {
		t.Run(string(c.q)+" renders "+c.want, func(t *testing.T) {
			if got, _, _ := mustNew(t, textfix.Style{Lang: "de", Quotes: c.q}).Fix(in); got != c.want {
				t.Errorf("got %s", got)
			}
		})
	}
}
