package normalize_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/pipeline/textfix"
)

func TestLoadStyle(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		ok         bool
	}{
		{"an empty style is the default style", "", true},
		{"a full style loads", "quotes: {de: de-guillemets, en: en}\nplacement: british\ncontested: keep\n", true},
		{"an unknown key is an error", "quotes: {de: de}\ncolour: red\n", false},
		{"an unknown quote style is an error", "quotes: {de: curly}\n", false},
		{"an unknown placement is an error", "placement: german-ish\n", false},
		{"an unknown contested policy is an error", "contested: sometimes\n", false},
		{"inline desk names load", "names:\n  persons:\n    - {country: ru, de: Iwan Testow, en: Ivan Testov}\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := normalize.LoadStyle(strings.NewReader(tc.yaml))
			if tc.ok && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tc.ok && !errors.Is(err, normalize.ErrStyle) {
				t.Fatalf("got %v, want ErrStyle", err)
			}
		})
	}
}

func TestStyleChangesTheOutput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "desk.yaml"), []byte("places:\n  - {id: khankendi, country: az, de: Chankendi, en: Khankendi, contested: [Stepanakert], variants: []}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	style := "quotes: {de: de-guillemets}\ncontested: canonical-first-mention\nnames:\n  file: desk.yaml\n  persons:\n    - {country: ru, de: Iwan Testow, en: Ivan Testov}\n"
	if err := os.WriteFile(filepath.Join(dir, "style.yaml"), []byte(style), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := normalize.LoadStyleFile(filepath.Join(dir, "style.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Quotes.DE != textfix.QuotesDEGuillemets || st.Contested != names.CanonicalFirstMention {
		t.Fatalf("style %+v", st)
	}
	n, err := normalize.NewWithStyle("de", st)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := n.Text("„Wir bleiben“, sagte Ivan Testov in Stepanakert.")
	if want := "»Wir bleiben«, sagte Iwan Testow in Chankendi (Stepanakert)."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
