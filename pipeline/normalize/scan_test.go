package normalize

import (
	"testing"

	"github.com/dewire/dewire/pipeline/article"

	"golang.org/x/text/unicode/norm"
)

// scanAgrees checks the one-pass scan against the plain definitions.
func scanAgrees(t *testing.T, s string) {
	nfc, spaced := scan(s)
	if want := collapseSpace(s) != s; spaced != want {
		t.Errorf("%q: spaced %v, want %v", s, spaced, want)
	}
	if nfc && !norm.NFC.IsNormalString(s) {
		t.Errorf("%q: reported NFC but is not", s)
	}
}

func TestScanFindsSpacesAndNonNFC(t *testing.T) {
	for _, s := range []string{
		"", " ", "a", "a ", " a", "a  b", "a\tb", "a\u00a0b", "10\u202f%", "z.\u00a0B.", "Straße „Zitat“ – …",
		"Cafe\u0301 und mehr Text hinter dem Akzent", "abcdefgh  ijklmnop", "abcdefghijklmno\np", "Ärger\u2000x", "e\u0301",
		"Ein ganz normaler Satz mit Wörtern über acht Bytes, Zahlen 12 345 und 10\u00a0%.",
	} {
		scanAgrees(t, s)
	}
}

func FuzzScan(f *testing.F) {
	f.Add("Ein ganz normaler Satz mit Wörtern über acht Bytes  und Cafe\u0301.")
	f.Fuzz(scanAgrees)
}

func TestFieldsAreTheArticlesFields(t *testing.T) {
	n, err := New("de")
	if err != nil {
		t.Fatal(err)
	}
	for _, txt := range []article.Text{
		{Title: "T"},
		{Title: "T", Lead: "L", Paragraphs: []string{"a", "b"}},
		{Title: "T", Paragraphs: make([]string, namedParagraphs)},
		{Title: "T", Lead: "L", Paragraphs: make([]string, namedParagraphs+3)},
	} {
		// with no memory given, and in a reused list too short for the text
		for _, buf := range [][]article.Field{nil, make([]article.Field, 0, 2)} {
			got, want := n.fields(&txt, buf), txt.Fields("de")
			if len(got) != len(want) {
				t.Fatalf("%d fields, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Name != want[i].Name || got[i].Text != want[i].Text {
					t.Errorf("field %d is %s, want %s", i, got[i].Name, want[i].Name)
				}
			}
		}
	}
}
