package schematest

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const valid = `{"schema":"dewire.article/v1","id":"0123456789abcdef0123456789abcdef","rev":1,"hash":"h",
"source":{"name":"seed","ingested_at":"2026-12-01T10:00:00Z"},"lang":{"code":"de","confidence":0.99},
"de":{"title":"T","paragraphs":["P"]},"segments":[],"entities":[],"edits":[],"flags":[],"trace":[]}`

func check(t *testing.T, doc string) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return Schema(t).Validate(v)
}

func TestTheSchemaTellsGoodRecordsFromBad(t *testing.T) {
	if err := check(t, valid); err != nil {
		t.Fatalf("a minimal record is refused: %v", err)
	}
	rejection := strings.Replace(strings.Replace(valid, `"rev":1`, `"rev":0`, 1), `"trace":[]`, `"trace":[],"reject":{"code":"lang.not_german","reason":"English"}`, 1)
	if err := check(t, rejection); err != nil {
		t.Fatalf("a rejection record (rev 0) is refused: %v", err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"a null list", `"flags":[]`, `"flags":null`},
		{"a missing list", `,"edits":[]`, ``},
		{"another schema version", `dewire.article/v1`, `dewire.article/v2`},
		{"revision zero", `"rev":1`, `"rev":0`},
		{"an unknown field", `"hash":"h"`, `"hash":"h","extra":1`},
		{"an edit without its final offset", `"edits":[]`, `"edits":[{"stage":"normalize-de","rule":"r","field":"de.title","offset":0,"before":"a","after":"b"}]`},
		{"a field name that is no field", `"edits":[]`, `"edits":[{"stage":"normalize-de","rule":"r","field":"de.body","offset":0,"final_offset":0,"before":"a","after":"b"}]`},
		{"a bad time", `2026-12-01T10:00:00Z`, `yesterday`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(valid, tc.from, tc.to, 1)
			if doc == valid {
				t.Fatal("the case changes nothing")
			}
			if err := check(t, doc); err == nil {
				t.Errorf("accepted: %s", doc)
			}
		})
	}
}
