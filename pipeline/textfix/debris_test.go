package textfix_test

import (
	"testing"

	"github.com/dewire/dewire/pipeline/textfix"
)

func TestDebris(t *testing.T) {
	for _, tc := range []struct {
		name    string
		style   textfix.Style
		in      string
		want    string
		suspect bool
	}{
		{"a photo credit paragraph is removed", de, "Foto: dpa/Michael Kappeler", "", false},
		{"an agency credit with slashes is removed", de, "REUTERS/Gleb Garanich", "", false},
		{"a copyright credit is removed", en, "© AFP/Getty Images", "", false},
		{"a teaser paragraph is removed", de, "Lesen Sie auch: Putin droht dem Westen", "", false},
		{"a topic teaser is removed", de, "Mehr zum Thema", "", false},
		{"an English teaser is removed", en, "Read also: EU warns Tbilisi", "", false},
		{"an advertising marker is removed", de, "Anzeige", "", false},
		{"an English advertising marker is removed", en, "ADVERTISEMENT", "", false},
		{"a share bar is removed", de, "Teilen Facebook Twitter WhatsApp E-Mail", "", false},
		{"a page marker is removed", de, "Seite 2 von 3", "", false},
		{"a lone page number is removed", de, "17", "", false},
		{"a credit glued to a sentence is removed", de, "Der Präsident sprach. Foto: Reuters/Gleb Garanich", "Der Präsident sprach.", false},
		{"a teaser glued to a sentence is removed", de, "Der Minister trat zurück. Lesen Sie auch: Putin droht", "Der Minister trat zurück.", false},
		{"an English teaser glued is removed", en, "Parliament passed the law. Read more: What the law says", "Parliament passed the law.", false},
		{"a share bar glued is removed", en, "The law passed. Share Facebook Twitter Email", "The law passed.", false},
		{"a page marker glued is removed", en, "The law passed. Page 2", "The law passed.", false},
		{"a page number after a closing quotation mark is removed", de, "Er sagte: „Wir warten nicht.“12", "Er sagte: „Wir warten nicht.“", false},
		{"a page number after a closing mark without a period is removed", de, "Das nannte er „eine Lüge“17", "Das nannte er „eine Lüge“", false},
		{"a page number after the final period is removed", de, "Das Wachstum lag bei 3,5 Prozent.17", "Das Wachstum lag bei 3,5 Prozent.", false},
		{"a source line after a sentence is only flagged", de, "Die Inflation stieg. Quelle: Statistisches Bundesamt", "Die Inflation stieg. Quelle: Statistisches Bundesamt", true},
		{"a headline after Fotos: is only flagged", de, "Fotos: Nach Restaurationen weiht Ägypten die Gräber ein", "Fotos: Nach Restaurationen weiht Ägypten die Gräber ein", true},
		{"a year followed by digits is only flagged", de, "Die Zahlen stammen aus dem Jahr 2022.15", "Die Zahlen stammen aus dem Jahr 2022.15", true},
		{"a sentence that starts like a teaser stays", de, "Lesen Sie auch den Kommentar unseres Korrespondenten.", "Lesen Sie auch den Kommentar unseres Korrespondenten.", false},
		{"the word Werbung inside a sentence stays", de, "Er kritisierte die Werbung", "Er kritisierte die Werbung", false},
		{"a page reference inside a sentence stays", de, "Das steht auf Seite 2 der Zeitung.", "Das steht auf Seite 2 der Zeitung.", false},
		{"a time after um stays", de, "Die Sitzung beginnt um 20.15", "Die Sitzung beginnt um 20.15", false},
		{"a numbered reference stays", de, "Siehe Art.5", "Siehe Art.5", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustNew(t, tc.style)
			got, edits, flags := f.Fix(tc.in)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got != tc.in {
				if len(edits) == 0 || edits[len(edits)-1].Rule != textfix.RuleDebris || edits[len(edits)-1].Before == "" {
					t.Errorf("the removal is not an edit keeping the text: %+v", edits)
				}
				if r := replay(t, tc.in, edits); r != got {
					t.Errorf("replay %q", r)
				}
			}
			suspect := false
			for _, fl := range flags {
				if fl.Code == textfix.FlagDebrisSuspect {
					suspect = true
					if fl.Offset > 0 && fl.Suggestion == "" {
						t.Errorf("a suspect tail without the shortened text as suggestion: %+v", fl)
					}
				}
			}
			if suspect != tc.suspect {
				t.Errorf("debris.suspect raised %v, want %v: %+v", suspect, tc.suspect, flags)
			}
		})
	}
}

func TestQuoteRepairs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		style    textfix.Style
		in, want string
		restored bool
	}{
		{"nested straight single quotes become German nested marks", de,
			"„Er nannte das 'absurd' und 'gefährlich'“, sagte sie.", "„Er nannte das ‚absurd‘ und ‚gefährlich‘“, sagte sie.", false},
		{"nested straight single quotes become English nested marks", en,
			"“He called it 'absurd',” she said.", "“He called it ‘absurd’,” she said.", false},
		{"apostrophes inside a quotation stay", de,
			"„Wie geht's? Das war 'ne Sache“, sagte er.", "„Wie geht's? Das war 'ne Sache“, sagte er.", false},
		{"a plural possessive inside an English quotation stays", en,
			"“The soldiers' families said 'no',” he said.", "“The soldiers' families said ‘no’,” he said.", false},
		{"space-padded straight double quotes pair", de,
			`Alijew sagte: " Wir sind bereit. " Dann ging er.`, "Alijew sagte: „Wir sind bereit.“ Dann ging er.", false},
		{"two padded quotations pair in turn", de,
			`Er sagte: " Das ist falsch. " Und: " Wir warten. "`, "Er sagte: „Das ist falsch.“ Und: „Wir warten.“", false},
		{"padded English quotes pair", en,
			`Tokayev said: " We will hold elections. " He left.`, "Tokayev said: “We will hold elections.” He left.", false},
		{"an odd number of straight quotes is left alone", de,
			`Er sagte: " Wir sind bereit. " Dann " ging er.`, `Er sagte: " Wir sind bereit. " Dann " ging er.`, false},
		{"a restored opener goes to the first first-person sentence", de,
			"Die Lage ist ernst. Wir haben Vorschläge gemacht. Wir warten“, sagte er.",
			"Die Lage ist ernst. „Wir haben Vorschläge gemacht. Wir warten“, sagte er.", true},
		{"a restored opener stays at its sentence after narration", de,
			"Er kam am Montag. Die Antwort fehlt bis heute“, sagte er.",
			"Er kam am Montag. „Die Antwort fehlt bis heute“, sagte er.", true},
		{"a restored opener in English", en,
			"The people waited. We owe them an answer,” Tokayev said.",
			"The people waited. “We owe them an answer,” Tokayev said.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustNew(t, tc.style)
			got, edits, flags := f.Fix(tc.in)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if r := replay(t, tc.in, edits); r != got {
				t.Errorf("replay %q", r)
			}
			restored := false
			for _, fl := range flags {
				if fl.Code == textfix.FlagOpeningRestored {
					restored = true
					if fl.Offset < 0 || fl.Offset >= len(got) {
						t.Fatalf("flag offset %d outside the text", fl.Offset)
					}
					if want := map[bool]string{false: "„", true: "“"}[tc.style.Lang == "en"]; got[fl.Offset:fl.Offset+len(want)] != want {
						t.Errorf("flag points at %q, not at the restored mark", got[fl.Offset:])
					}
				}
			}
			if restored != tc.restored {
				t.Errorf("opening_restored flag %v, want %v", restored, tc.restored)
			}
		})
	}
}
