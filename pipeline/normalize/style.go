package normalize

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/textfix"
)

// Style is a desk's house style, read from YAML:
//
//	quotes: {de: de, en: en}        # de | de-guillemets | ch | en
//	placement: american             # English: american | british
//	exclamations: keep              # keep (flag "!!") | collapse
//	contested: canonical            # canonical | keep | canonical-first-mention
//	names:
//	  file: desk-names.yaml         # a gazetteer file; relative to the style file
//	  persons:                      # and/or entries inline, same layout as the file
//	    - {country: ru, de: Dmitri Peskow, en: Dmitry Peskov}
//
// The zero Style is the default style.
type Style struct {
	Quotes       Quotes               `yaml:"quotes,omitempty"`
	Placement    textfix.Placement    `yaml:"placement,omitempty"`
	Exclamations textfix.Exclamations `yaml:"exclamations,omitempty"`
	Contested    names.Policy         `yaml:"contested,omitempty"`
	Names        Names                `yaml:"names,omitempty"`
}

// Quotes selects the quotation marks per language.
type Quotes struct {
	DE textfix.QuoteStyle `yaml:"de,omitempty"`
	EN textfix.QuoteStyle `yaml:"en,omitempty"`
}

// Names are a desk's own gazetteer entries; they override embedded entities
// with the same id and add the others. Entries in File come before inline ones.
type Names struct {
	Path       string `yaml:"file,omitempty"` // a gazetteer file
	names.File `yaml:",inline"`
}

// ErrStyle is returned (wrapped) for a style that cannot be used.
var ErrStyle = errors.New("normalize: invalid style")

// LoadStyle reads a style from YAML. Unknown keys and unknown values are an
// error. A names file path is kept as written: relative to the working
// directory (LoadStyleFile resolves it against the style file instead).
func LoadStyle(r io.Reader) (*Style, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var st Style
	if err := dec.Decode(&st); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %v", ErrStyle, err)
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	return &st, nil
}

// LoadStyleFile reads a style file; a names file it names is resolved
// relative to the style file's folder.
func LoadStyleFile(path string) (*Style, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("normalize: style: %w", err)
	}
	defer f.Close()
	st, err := LoadStyle(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Names.Path != "" && !filepath.IsAbs(st.Names.Path) {
		st.Names.Path = filepath.Join(filepath.Dir(path), st.Names.Path)
	}
	return st, nil
}

func (st *Style) validate() error {
	for _, q := range []textfix.QuoteStyle{st.Quotes.DE, st.Quotes.EN} {
		switch q {
		case "", textfix.QuotesDE, textfix.QuotesDEGuillemets, textfix.QuotesCH, textfix.QuotesEN:
		default:
			return fmt.Errorf("%w: quotes %q (want de, de-guillemets, ch or en)", ErrStyle, q)
		}
	}
	switch st.Placement {
	case "", textfix.PlacementAmerican, textfix.PlacementBritish:
	default:
		return fmt.Errorf("%w: placement %q (want american or british)", ErrStyle, st.Placement)
	}
	switch st.Contested {
	case "", names.Canonical, names.Keep, names.CanonicalFirstMention:
	default:
		return fmt.Errorf("%w: contested %q (want canonical, keep or canonical-first-mention)", ErrStyle, st.Contested)
	}
	return nil
}

// gazetteer builds the embedded gazetteer with the desk's names on top.
func (st *Style) gazetteer() (*names.Gazetteer, error) {
	if err := st.validate(); err != nil {
		return nil, err
	}
	def, err := names.DefaultFile()
	if err != nil {
		return nil, err
	}
	files := []*names.File{def}
	if st.Names.Path != "" {
		f, err := os.Open(st.Names.Path)
		if err != nil {
			return nil, fmt.Errorf("names file: %w", err)
		}
		desk, err := names.ParseFile(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Names.Path, err)
		}
		files = append(files, desk)
	}
	files = append(files, &st.Names.File)
	return names.New(files...)
}
