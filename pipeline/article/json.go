package article

import (
	json "github.com/goccy/go-json"
)

// MarshalJSON writes the record with every list present: an empty list is
// [] and never null (segments, entities, edits, flags, trace, paragraphs,
// mentions), so consumers and the JSON Schema need no null case.
func (a Article) MarshalJSON() ([]byte, error) {
	return Marshal(&a)
}

// plain is Article without its methods: marshalling it calls no MarshalJSON.
type plain Article

// Marshal is json.Marshal(a), the same bytes, made in one pass: the
// encoder need not check and copy what a MarshalJSON method returned.
func Marshal(a *Article) ([]byte, error) {
	p := plain(*a)
	p.Segments = nonNil(p.Segments)
	p.Edits = nonNil(p.Edits)
	p.Flags = nonNil(p.Flags)
	p.Trace = nonNil(p.Trace)
	p.DE.Paragraphs = nonNil(p.DE.Paragraphs)
	if p.EN != nil {
		en := *p.EN
		en.Paragraphs = nonNil(en.Paragraphs)
		p.EN = &en
	}
	if p.Entities == nil {
		p.Entities = []Entity{}
	} else {
		for i := range p.Entities {
			if p.Entities[i].Mentions == nil {
				p.Entities = append([]Entity(nil), p.Entities...)
				for j := range p.Entities {
					p.Entities[j].Mentions = nonNil(p.Entities[j].Mentions)
				}
				break
			}
		}
	}
	return json.Marshal(p)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
