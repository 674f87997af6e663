package textfix

import (
	"testing"

	"github.com/dewire/dewire/pipeline/article"
)

// acting reports, as need bits, which passes would change s or raise a flag
// about it when run on their own.
func acting(f *Fixer, s string) uint8 {
	passes := [...]struct {
		bit uint8
		run func(string, *[]article.Flag, *[]article.Flag) []repl
	}{
		{needMojibake, f.fixMojibake},
		{needQuotes, f.fixQuotes},
		{needPunct, f.fixPunct},
		{needDebris, f.fixDebris},
	}
	var got uint8
	for _, p := range passes {
		var acted, observed []article.Flag
		if len(p.run(s, &acted, &observed)) > 0 || len(acted) > 0 || len(observed) > 0 {
			got |= p.bit
		}
	}
	return got
}

var needsFixers = func() []*Fixer {
	var out []*Fixer
	for _, s := range []Style{{Lang: "de"}, {Lang: "en"}, {Lang: "de", Exclamations: ExclamationsCollapse}, {Lang: "en", Placement: PlacementBritish}} {
		f, err := New(s)
		if err != nil {
			panic(err)
		}
		out = append(out, f)
	}
	return out
}()

// needsKeepsEveryActingPass fails when needs leaves out a pass that would
// change s or flag it: Fix would then skip a repair or a flag.
func needsKeepsEveryActingPass(t *testing.T, s string) {
	t.Helper()
	for _, f := range needsFixers {
		if missed := acting(f, s) &^ needs(s); missed != 0 {
			t.Errorf("%q (%+v): needs %04b leaves out acting passes %04b", s, f.Style(), needs(s), missed)
		}
	}
}

func TestNeedsSkipsOnlyWhatCannotMatter(t *testing.T) {
	for _, s := range []string{
		"", "Ein Satz ohne alles", "Woher wussten sie das?? Dann", "abcdefg?" + "?hijklmn", "abcdefg " + ".hijklmn",
		"Zahl 12 345 und 10 % mehr, z. B. hier.", "Er sagte \"Hallo\" und ging.", "Informationen.2477", "abcdefgh . ,",
		"„Zitat“ – Ende… FÃ¼r", "Ende..", "Ende .", "Liste : eins ; zwei , drei ! vier ?",
		"Toll!!", "Tokajew versprach, die Reformen fortzusetzen!!", "abcdefg!" + "!hijklmn",
		"\"Hallo\"", "Sieben \"Wörter\" hier", "Er sagte »Hallo« und ‚Welt‘ und ‹x› hier.", "Die Marke ‘X’ ist neu",
		"Er sagte „Hallo und ging.", "Warum ?", "Ein Satz , der", "Am Ende.12", "Ende ?! Nein",
		`Er rief:"Halt" und ging weiter`, `abcdefgh"ijklmnop"qrstuvwxyz`, "abcdefgh(“Zitat”)",
		"SÃO PAULO", "FÃ¼r die BehÃ¶rden", "Er sagte â€žJaâ€œ.",
		// mojibake after umlauts, deep in the eight-byte scan
		"Größere Änderungen für die Bürger: BehÃ¶rden in München", "Über Straßen und Plätze Ã¤ndern", "Die Präsidentin sagte Â« Ja »",
	} {
		needsKeepsEveryActingPass(t, s)
	}
}

// Text in which no pass can find anything takes the fast path: needs is 0.
func TestNeedsIsZeroForPlainProse(t *testing.T) {
	for _, s := range []string{
		"", "Ein Satz ohne alles", "Größe über Straßen und Plätze in München", "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich",
		"Er kam, sah und siegte. Dann ging er nach Hause", "Die Zahl 12 345 und 10 % mehr",
	} {
		if got := needs(s); got != 0 {
			t.Errorf("needs(%q) = %04b, want 0", s, got)
		}
		for _, f := range needsFixers {
			if got := acting(f, s); got != 0 {
				t.Fatalf("test sentence %q is not plain: passes %04b act on it", s, got)
			}
		}
	}
}

func FuzzNeeds(f *testing.F) {
	f.Add("Woher wussten sie das?? Dann sagte er „etwas“ , und .2477")
	f.Add("Toll!! Er sagte \"Hallo\" und FÃ¼r")
	f.Fuzz(needsKeepsEveryActingPass)
}
