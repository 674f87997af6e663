package normalize_test

import (
	"testing"
	"unicode/utf8"
)

func fuzzNormalize(f *testing.F, lang string) {
	for _, s := range []string{
		"Aliyev sagte, er habe Putin gefragt “, sagte er auf der Konferenz„ Ein neuer Blick “in Baku",
		"Nikolai Pashinyan traf Alijew in Shushi.?? Informationen.2477",
		"Stepanakert, die die Armenier so nennen (Chankendi)",
		"Konaschenkov sagte. Konashenkov fügte hinzu. Tschernow und Chernov.",
		"“We have a version ”, Aliev said.",
		"Foto: dpa/AFP. Lesen Sie auch: Putin droht. Seite 2",
		`Alijew sagte: " Wir sind 'bereit'. " Sein Sohn Nikolai Pashinyan und Lavrova.`,
		"Pu\u200btin, Selen\u00adskyj und \u202eAliyev\u202c in Kyiv (ukrainisch: Kyjiw).",
	} {
		f.Add(s)
	}
	n := normalizer(f, lang)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		once, _, _ := n.Text(s)
		twice, edits, _ := n.Text(once)
		if twice != once {
			t.Errorf("not idempotent:\nin    %q\nonce  %q\ntwice %q\n%+v", s, once, twice, edits)
		}
	})
}

func FuzzNormalizeDE(f *testing.F) { fuzzNormalize(f, "de") }

func FuzzNormalizeEN(f *testing.F) { fuzzNormalize(f, "en") }
