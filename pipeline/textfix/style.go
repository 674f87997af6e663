package textfix

import "fmt"

// QuoteStyle names a desk's quotation marks.
type QuoteStyle string

// Quote styles a desk can choose.
const (
	QuotesDE           QuoteStyle = "de"            // „…“ nested ‚…‘, the German default
	QuotesDEGuillemets QuoteStyle = "de-guillemets" // »…« nested ›…‹
	QuotesCH           QuoteStyle = "ch"            // «…» nested ‹…›
	QuotesEN           QuoteStyle = "en"            // “…” nested ‘…’, the English default
)

// Placement says where periods and commas go relative to a closing quotation mark.
type Placement string

// Placements a desk can choose. German text always follows the German rules.
const (
	PlacementAmerican Placement = "american" // commas and periods inside the closing mark (English default)
	PlacementBritish  Placement = "british"  // outside, unless they belong to the quotation
	PlacementGerman   Placement = "german"   // amtliches Regelwerk §§ 89–92 (German default)
)

// Style configures a Fixer. Zero fields mean the language default; an empty
// Lang means German.
type Style struct {
	Lang         string // "de" or "en"
	Quotes       QuoteStyle
	Placement    Placement
	Exclamations Exclamations // default keep: "!!" is flagged, not changed
}

// Exclamations says what to do with repeated exclamation marks. In news
// copy "!!" is a defect, but in quoted speech and reader mail it is often
// deliberate emphasis, so by default it is flagged for the desk and left.
type Exclamations string

// Exclamation policies.
const (
	ExclamationsKeep     Exclamations = "keep"
	ExclamationsCollapse Exclamations = "collapse"
)

// marks are the four quotation marks of a style.
type marks struct {
	open, close, nestedOpen, nestedClose string
}

func marksOf(q QuoteStyle) (marks, bool) {
	switch q {
	case QuotesDE:
		return marks{"„", "“", "‚", "‘"}, true
	case QuotesDEGuillemets:
		return marks{"»", "«", "›", "‹"}, true
	case QuotesCH:
		return marks{"«", "»", "‹", "›"}, true
	case QuotesEN:
		return marks{"“", "”", "‘", "’"}, true
	}
	return marks{}, false
}

// Fixer repairs text in one language and style. It holds no mutable state,
// so one Fixer may be used from many goroutines at once.
type Fixer struct {
	en           bool
	quotes       QuoteStyle
	marks        marks
	placement    Placement
	exclamations Exclamations
}

// New returns a Fixer for the style, or an error for an unknown language,
// quote style or placement.
func New(s Style) (*Fixer, error) {
	f := &Fixer{}
	switch s.Lang {
	case "", "de":
		f.quotes, f.placement = QuotesDE, PlacementGerman
	case "en":
		f.en = true
		f.quotes, f.placement = QuotesEN, PlacementAmerican
	default:
		return nil, fmt.Errorf("textfix: unknown language %q (want de or en)", s.Lang)
	}
	if s.Quotes != "" {
		f.quotes = s.Quotes
	}
	switch s.Exclamations {
	case "", ExclamationsKeep:
		f.exclamations = ExclamationsKeep
	case ExclamationsCollapse:
		f.exclamations = ExclamationsCollapse
	default:
		return nil, fmt.Errorf("textfix: unknown exclamations %q (want keep or collapse)", s.Exclamations)
	}
	m, ok := marksOf(f.quotes)
	if !ok {
		return nil, fmt.Errorf("textfix: unknown quote style %q", s.Quotes)
	}
	f.marks = m
	switch s.Placement {
	case "":
	case PlacementAmerican, PlacementBritish:
		if !f.en {
			return nil, fmt.Errorf("textfix: placement %q applies to English only", s.Placement)
		}
		f.placement = s.Placement
	case PlacementGerman:
		if f.en {
			return nil, fmt.Errorf("textfix: placement %q applies to German only", s.Placement)
		}
	default:
		return nil, fmt.Errorf("textfix: unknown placement %q", s.Placement)
	}
	return f, nil
}

// Style reports the effective style of f, with defaults filled in.
func (f *Fixer) Style() Style {
	lang := "de"
	if f.en {
		lang = "en"
	}
	return Style{Lang: lang, Quotes: f.quotes, Placement: f.placement, Exclamations: f.exclamations}
}
