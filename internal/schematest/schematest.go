// Package schematest validates records against the repository's JSON Schema
// for dewire.article/v1 (schema/article.v1.json). It is for tests only.
package schematest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dewire/dewire/internal/testenv"
)

var (
	once   sync.Once
	schema *jsonschema.Schema
	err    error
)

// Schema compiles schema/article.v1.json once (with format assertions on).
func Schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		schema, err = c.Compile(filepath.Join(testenv.Root(t), "schema", "article.v1.json"))
	})
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return schema
}

// passed holds the hashes of records that passed: tests that poll a sink
// validate each record once, not on every poll.
var passed sync.Map

// Validate fails t when the JSON record data does not satisfy the schema.
func Validate(t testing.TB, data []byte) {
	t.Helper()
	sum := sha256.Sum256(data)
	if _, ok := passed.Load(sum); ok {
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("record is not JSON: %v", err)
	}
	if err := Schema(t).Validate(v); err != nil {
		t.Errorf("record violates schema/article.v1.json: %#v\n%s", err, data)
		return
	}
	passed.Store(sum, true)
}

// ValidateRecord marshals rec as the pipeline does and validates it.
func ValidateRecord(t testing.TB, rec any) {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	Validate(t, data)
}

// ValidateDir validates every line of the articles-*.jsonl files in dir.
func ValidateDir(t testing.TB, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "articles-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			if len(line) > 0 {
				Validate(t, line)
			}
		}
	}
}
