package normalize_test

import (
	"testing"

	"github.com/dewire/dewire/pipeline/normalize"
)

func TestInvisibleCharacters(t *testing.T) {
	for _, tc := range []struct {
		name, lang, in, want string
		removed              int
		bidiFlags            int
	}{
		{"a zero-width space inside a name is removed and the name found", "de", "Pu\u200btin und Aliy\u200bev", "Putin und Alijew", 2, 0},
		{"a word joiner and a byte-order mark are removed", "de", "\ufeffDer Kreml\u2060sprecher", "Der Kremlsprecher", 2, 0},
		{"a soft hyphen inside a word is removed", "de", "Selen\u00adskyj sprach in Char\u00adkiw", "Selenskyj sprach in Charkiw", 2, 0},
		{"a bidirectional override in left-to-right text is removed", "en", "a note by \u202eIlham Aliyev\u202c today", "a note by Ilham Aliyev today", 2, 0},
		{"isolates in left-to-right text are removed", "en", "the \u2066Kyiv\u2069 office", "the Kyiv office", 2, 0},
		{"a zero-width joiner between letters is removed", "en", "Ma\u200dria said", "Maria said", 1, 0},
		{"a joiner inside an emoji sequence stays", "en", "a family 👨\u200d👩\u200d👧 here", "a family 👨\u200d👩\u200d👧 here", 0, 0},
		{"bidirectional controls in right-to-left text stay and are flagged", "en", "the name \u202bהסכם\u202c was shown", "the name \u202bהסכם\u202c was shown", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := normalizer(t, tc.lang)
			got, edits, flags := n.Text(tc.in)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			removed := 0
			for _, e := range edits {
				if e.Rule == normalize.RuleInvisible {
					removed++
					if e.Before == "" || e.After != "" {
						t.Errorf("edit %+v", e)
					}
				}
			}
			if removed != tc.removed {
				t.Errorf("%d removals, want %d: %+v", removed, tc.removed, edits)
			}
			bidi := 0
			for _, f := range flags {
				if f.Code == normalize.FlagBidi {
					bidi++
				}
			}
			if bidi != tc.bidiFlags {
				t.Errorf("%d bidi flags, want %d", bidi, tc.bidiFlags)
			}
		})
	}
}
