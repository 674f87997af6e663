package textfix_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/textfix"
)

func mustNew(t testing.TB, s textfix.Style) *textfix.Fixer {
	t.Helper()
	f, err := textfix.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFixGerman(t *testing.T) {
	f := mustNew(t, textfix.Style{Lang: "de"})
	cases := []struct{ name, in, want string }{
		{"a closing mark set off by a space moves to the word and the missing opener is restored at the first quoted sentence",
			"Am 4. April schrieb unser Verteidigungsministerium einen offiziellen Brief an das russische Verteidigungsministerium mit Foto- und Videomaterial, das die Entdeckung von Raketenabfällen bestätigte. Neun Tage sind vergangen, und wir haben keine Antwort erhalten “, sagte er auf der Konferenz„ Ein neuer Blick auf den Südkaukasus: Entwicklung und Zusammenarbeit nach Konflikten “in Baku",
			"„Am 4. April schrieb unser Verteidigungsministerium einen offiziellen Brief an das russische Verteidigungsministerium mit Foto- und Videomaterial, das die Entdeckung von Raketenabfällen bestätigte. Neun Tage sind vergangen, und wir haben keine Antwort erhalten“, sagte er auf der Konferenz „Ein neuer Blick auf den Südkaukasus: Entwicklung und Zusammenarbeit nach Konflikten“ in Baku"},
		{"an attributed quotation at the end of a paragraph gets its opener",
			"Und das Wrack hier in Baku befindet sich im Military Trophy Park. Sie können gehen und sehen “, sagte Aliyev.",
			"Und das Wrack hier in Baku befindet sich im Military Trophy Park. „Sie können gehen und sehen“, sagte Aliyev."},
		{"a quotation with both marks only loses the space before the closer",
			"„Wir haben eine Version davon, wie dies passieren könnte. Wir warten jedoch auf eine offizielle Antwort “, sagte der aserbaidschanische Präsident.",
			"„Wir haben eine Version davon, wie dies passieren könnte. Wir warten jedoch auf eine offizielle Antwort“, sagte der aserbaidschanische Präsident."},
		{"a doubled period around an embedded quotation is reduced to the sentence's own",
			"Raketen „explodierten nicht und explodierten nur zu 10%.“. Als Reaktion darauf berichtete das Ministerium.",
			"Raketen „explodierten nicht und explodierten nur zu 10%“. Als Reaktion darauf berichtete das Ministerium."},
		{"doubled question marks collapse",
			"Woher wussten sie, dass alle Raketen in Lagern waren?? Dann sagte er etwas.",
			"Woher wussten sie, dass alle Raketen in Lagern waren? Dann sagte er etwas."},
		{"page debris glued to the final sentence is stripped",
			"Das Ministerium schlug vor, dass der Premierminister irregeführt werden könnte, und verwendete daher ungenaue Informationen.2477",
			"Das Ministerium schlug vor, dass der Premierminister irregeführt werden könnte, und verwendete daher ungenaue Informationen."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, edits, flags := f.Fix(c.in)
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			t.Logf("edits %+v flags %+v", edits, flags)
		})
	}
}

func TestFixEnglish(t *testing.T) {
	american := mustNew(t, textfix.Style{Lang: "en"})
	british := mustNew(t, textfix.Style{Lang: "en", Placement: textfix.PlacementBritish})
	cases := []struct {
		name string
		f    *textfix.Fixer
		in   string
		want string
	}{
		{"a spaced closing mark and comma move inside and the opener is restored at the first quoted sentence", american,
			"The park is open. You can go and see ” , he said.",
			"The park is open. “You can go and see,” he said."},
		{"American style moves a comma inside the closing mark", american,
			"“We are still waiting for an answer”, said the president.",
			"“We are still waiting for an answer,” said the president."},
		{"American style moves a period inside the closing mark", american,
			"He called it a “half victory”.",
			"He called it a “half victory.”"},
		{"British style keeps a period outside a quoted fragment", british,
			"He called it a “half victory”.",
			"He called it a “half victory”."},
		{"doubled question marks collapse but ?! stays", american,
			"How did they know?? Really?!",
			"How did they know? Really?!"},
		{"page debris after the final sentence is stripped", american,
			"The ministry therefore used inaccurate information.2477",
			"The ministry therefore used inaccurate information."},
		{"marks glued to the wrong word are repaired as in German", american,
			"We wrote to Moscow. Nine days have passed and we have not received an answer ”, he said at the conference“ A new look at the South Caucasus ”in Baku",
			"“We wrote to Moscow. Nine days have passed and we have not received an answer,” he said at the conference “A new look at the South Caucasus” in Baku"},
		{"an opening mark glued to the word before it opens", american,
			"He spoke at the forum“ Security first ” on Monday.",
			"He spoke at the forum “Security first” on Monday."},
		{"German quotation marks in English are re-rendered", american,
			"He said „we will wait“ and left.",
			"He said “we will wait” and left."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, _, _ := c.f.Fix(c.in); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestLeftIntact(t *testing.T) {
	de := mustNew(t, textfix.Style{Lang: "de"})
	en := mustNew(t, textfix.Style{Lang: "en"})
	for _, s := range []string{
		"Na, wie geht’s? Peter O’Brien kam in den ’90s, Putin's Rede.",
		`Ein 15" Monitor und 5′ Kabel.`,
		"Es kostet 3,5 Mio. oder 12 345 Euro, also 12.345 Euro, 10 % mehr …",
		"Siehe https://example.com/a?b=1 oder schreib an info@example.com ...",
		"Das Spiel endete 2 : 1 :-) und Art.5 sowie Nr.5",
		"Version 1.4.2021 und 3.5",
		"„Das hört man nicht oft, ‚Ich bringe ihn nur nach Glasgow‘“, sagte der Schaffner.",
		"Toll!! Ich freue mich, dass Sie Ihr eBook jetzt öffnen konnten!!!",
	} {
		for _, f := range []*textfix.Fixer{de, en} {
			if f == en && strings.ContainsRune(s, '„') {
				continue
			}
			t.Run("leaves "+s+" alone", func(t *testing.T) {
				if got, edits, _ := f.Fix(s); got != s {
					t.Errorf("changed to %q by %+v", got, edits)
				}
			})
		}
	}
}

func TestNew(t *testing.T) {
	for _, s := range []textfix.Style{{Lang: "fr"}, {Lang: "de", Quotes: "fancy"}, {Lang: "de", Placement: "american"}, {Lang: "en", Placement: "sideways"}} {
		t.Run(fmt.Sprintf("rejects %+v", s), func(t *testing.T) {
			if _, err := textfix.New(s); err == nil {
				t.Error("want an error")
			}
		})
	}
}
