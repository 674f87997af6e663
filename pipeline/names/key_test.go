package names_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/names"
)

func TestKeyJoinsSpellings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		forms []string
	}{
		{"German, English and hybrid transcriptions of Konashenkov agree", []string{"Konaschenkow", "Konashenkov", "Konaschenkov", "Konashenkow"}},
		{"the Azerbaijani, German and English Aliyev agree", []string{"Əliyev", "Alijew", "Aliyev", "Aliev"}},
		{"German w and English v agree", []string{"Lawrow", "Lavrov"}},
		{"German sch and English sh agree", []string{"Schuscha", "Shusha"}},
		{"German ch and English kh agree", []string{"Charkiw", "Kharkiv"}},
		{"German tsch and English ch agree", []string{"Tschernow", "Chernov"}},
		{"German z and English ts agree", []string{"Donezk", "Donetsk"}},
		{"German s and English z agree", []string{"Selenskyj", "Zelensky", "Zelenskyy"}},
		{"German schsch and English zhzh agree", []string{"Saporischschja", "Zaporizhzhia"}},
		{"Georgian z-ch and ts-kh agree", []string{"Zchinwali", "Tskhinvali"}},
		{"doubled letters collapse", []string{"Odessa", "Odesa"}},
		{"a leading glide is optional", []string{"Jerewan", "Yerevan", "Erevan"}},
		{"Turkish diacritics fold", []string{"Erdoğan", "Erdogan"}},
		{"Cyrillic romanizes", []string{"Путин", "Putin"}},
		{"-ejew and -eev agree", []string{"Sergejew", "Sergeev", "Sergeyev"}},
		{"German and English given names agree", []string{"Dmitri", "Dmitry", "Dmitrij"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := names.Key(tc.forms[0])
			for _, f := range tc.forms[1:] {
				if got := names.Key(f); got != want {
					t.Errorf("Key(%q) = %q, Key(%q) = %q", tc.forms[0], want, f, got)
				}
			}
		})
	}
}

func TestKeyKeepsDifferentNamesApart(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Putin", "Puten"},
		{"Minsk", "Pinsk"},
		{"Iwanow", "Iwanowa"},
		{"Baku", "Bakum"},
	} {
		t.Run(tc.a+" and "+tc.b+" have different keys", func(t *testing.T) {
			if names.Key(tc.a) == names.Key(tc.b) {
				t.Errorf("Key(%q) == Key(%q) == %q", tc.a, tc.b, names.Key(tc.a))
			}
		})
	}
}

// scheme is one romanization table of corpora/translit.
type scheme struct {
	Name    string            `json:"name"`
	Mapping map[string]string `json:"mapping"`
	Prev    map[string]string `json:"prev_mapping"`
	Next    map[string]string `json:"next_mapping"`
	Ending  map[string]string `json:"ending_mapping"`
	Samples [][]string        `json:"samples"`
}

// romanize applies a scheme to one lower-case Cyrillic word.
func (s *scheme) romanize(word string) string {
	rs := []rune(word)
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		if i >= len(rs)-2 && s.Ending != nil {
			if v, ok := s.Ending[string(rs[i:])]; ok {
				b.WriteString(v)
				break
			}
		}
		cur := string(rs[i])
		if i == 0 {
			if v, ok := s.Prev[cur]; ok {
				b.WriteString(v)
				continue
			}
		} else if v, ok := s.Prev[string(rs[i-1:i+1])]; ok {
			b.WriteString(v)
			continue
		}
		if i+1 < len(rs) {
			if v, ok := s.Next[string(rs[i:i+2])]; ok {
				b.WriteString(v)
				continue
			}
		}
		b.WriteString(s.Mapping[cur])
	}
	return b.String()
}

// duden romanizes the way German press transcription does.
func duden(word string) string {
	m := map[rune]string{'а': "a", 'б': "b", 'в': "w", 'г': "g", 'д': "d", 'е': "e", 'ё': "jo", 'ж': "sch", 'з': "s", 'и': "i", 'й': "i",
		'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "ch", 'ц': "z",
		'ч': "tsch", 'ш': "sch", 'щ': "schtsch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "ju", 'я': "ja"}
	vowel := func(r rune) bool { return strings.ContainsRune("аеёиоуыэюяьъ", r) }
	rs := []rune(word)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == 'е' && (i == 0 || vowel(rs[i-1])):
			b.WriteString("je")
		case r == 'й' && i == len(rs)-1 && i > 0 && (rs[i-1] == 'и' || rs[i-1] == 'ы'):
		case r == 'ь' && i+1 < len(rs) && vowel(rs[i+1]) && rs[i+1] != 'е':
			b.WriteString("j")
		default:
			b.WriteString(m[r])
		}
	}
	return b.String()
}

func TestKeyAgreesAcrossRussianRomanizations(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "corpora", "translit")
	var schemes []*scheme
	words := map[string]bool{}
	for _, name := range []string{"bgn_pcgn", "wikipedia", "ala_lc"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		s := &scheme{}
		if err := json.Unmarshal(b, s); err != nil {
			t.Fatal(err)
		}
		schemes = append(schemes, s)
		for _, p := range s.Samples {
			for _, w := range strings.FieldsFunc(strings.ToLower(p[0]), func(r rune) bool { return !(r >= 'а' && r <= 'я' || r == 'ё') }) {
				words[w] = true
			}
		}
	}
	clean := strings.NewReplacer("·", "", "’", "", "”", "", "ʹ", "", "ʺ", "", "-", "")
	var pairs, agree, all, allAgree int
	for w := range words {
		forms := []string{duden(w)}
		for _, s := range schemes {
			forms = append(forms, clean.Replace(s.romanize(w)))
		}
		keys := make([]string, len(forms))
		for i, f := range forms {
			keys[i] = names.Key(f)
		}
		same := true
		for i := range keys {
			for j := i + 1; j < len(keys); j++ {
				pairs++
				if keys[i] == keys[j] {
					agree++
				} else {
					same = false
				}
			}
		}
		all++
		if same {
			allAgree++
		} else {
			t.Logf("%s: %q → %q", w, forms, keys)
		}
	}
	rate := float64(agree) / float64(pairs)
	t.Logf("%d Russian words, 4 romanizations (Duden, BGN/PCGN, Wikipedia, ALA-LC): pairwise key agreement %.1f%% (%d/%d), all four agree on %d/%d words",
		all, 100*rate, agree, pairs, allAgree, all)
	if rate < 0.85 {
		t.Errorf("pairwise key agreement %.1f%%, want at least 85%%", 100*rate)
	}
}
