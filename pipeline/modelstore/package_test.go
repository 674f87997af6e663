package modelstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/dewire/dewire/pipeline/modelstore"
)

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenPackageReadsTheArgosLayout(t *testing.T) {
	p, err := modelstore.OpenPackage(writeTemp(t, "de_en.argosmodel", buildPackage("translate-de_en-1_9", "de", "en", "1.9")))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := modelstore.Metadata{PackageVersion: "1.9", ArgosVersion: "1.9.0", FromCode: "de", FromName: "German", ToCode: "en", ToName: "English"}
	if p.Metadata != want {
		t.Errorf("Metadata = %+v, want %+v", p.Metadata, want)
	}
	if p.Root != "translate-de_en-1_9" {
		t.Errorf("Root = %q", p.Root)
	}
	if err := p.CheckPair("de", "en"); err != nil {
		t.Errorf("CheckPair(de, en) = %v", err)
	}
	if err := p.CheckPair("en", "de"); !errors.Is(err, modelstore.ErrWrongPair) {
		t.Errorf("CheckPair(en, de) = %v, want ErrWrongPair", err)
	}
	if err := fstest.TestFS(p.FS(), "metadata.json", "model/model.bin", "model/config.json", "sentencepiece.model"); err != nil {
		t.Error(err)
	}
	b, err := fs.ReadFile(p.FS(), "sentencepiece.model")
	if err != nil || string(b) != "spm bytes" {
		t.Errorf("ReadFile(sentencepiece.model) = %q, %v", b, err)
	}
}

func TestOpenPackageRejectsBadFiles(t *testing.T) {
	meta := `{"package_version":"1.0","from_code":"de","to_code":"en"}`
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"a file that is not a zip", []byte("PK? no, plain text"), modelstore.ErrNotPackage},
		{"an empty file", nil, modelstore.ErrNotPackage},
		{"a zip without metadata.json", buildZip([]zipFile{{name: "p/model/model.bin", body: "x"}}), modelstore.ErrNotPackage},
		{"metadata.json nested too deep", buildZip([]zipFile{{name: "a/b/metadata.json", body: meta}}), modelstore.ErrNotPackage},
		{"metadata.json that is not JSON", buildZip([]zipFile{{name: "p/metadata.json", body: "{"}}), modelstore.ErrNotPackage},
		{"metadata without language codes", buildZip([]zipFile{{name: "p/metadata.json", body: `{"package_version":"1.0"}`}}), modelstore.ErrNotPackage},
		{"an entry that climbs out with ..", buildZip([]zipFile{{name: "p/metadata.json", body: meta}, {name: "p/../../evil", body: "x"}}), modelstore.ErrUnsafePath},
		{"an absolute entry path", buildZip([]zipFile{{name: "p/metadata.json", body: meta}, {name: "/etc/passwd", body: "x"}}), modelstore.ErrUnsafePath},
		{"a Windows-style entry path", buildZip([]zipFile{{name: "p/metadata.json", body: meta}, {name: `p\..\evil`, body: "x"}}), modelstore.ErrUnsafePath},
		{"an entry declaring 5 GiB", buildZip([]zipFile{{name: "p/metadata.json", body: meta}, {name: "p/model/model.bin", size: 5 << 30}}), modelstore.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := modelstore.OpenPackage(writeTemp(t, "x.argosmodel", tc.data))
			if !errors.Is(err, tc.want) {
				if p != nil {
					p.Close()
				}
				t.Fatalf("OpenPackage = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestOpenPackageReportsAMissingFile(t *testing.T) {
	_, err := modelstore.OpenPackage(filepath.Join(t.TempDir(), "absent.argosmodel"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenPackage = %v, want fs.ErrNotExist", err)
	}
}

func FuzzReadPackage(f *testing.F) {
	f.Add(buildPackage("translate-de_en-1_9", "de", "en", "1.9"))
	f.Add(buildZip([]zipFile{{name: "p/metadata.json", body: `{"from_code":"de","to_code":"en"}`}, {name: "p/../x", body: "x"}}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := modelstore.ReadPackage(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, modelstore.ErrNotPackage) && !errors.Is(err, modelstore.ErrUnsafePath) && !errors.Is(err, modelstore.ErrTooLarge) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if p.Metadata.FromCode == "" || p.Metadata.ToCode == "" {
			t.Fatalf("package accepted without language codes: %+v", p.Metadata)
		}
		// Walking the package must stay inside it and never panic.
		fs.WalkDir(p.FS(), ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !fs.ValidPath(path) {
				t.Fatalf("walked to invalid path %q", path)
			}
			return nil
		})
	})
}

func ExampleOpenPackage() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "translate-de_en-1_9.argosmodel")
	if err := os.WriteFile(file, buildPackage("translate-de_en-1_9", "de", "en", "1.9"), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	p, err := modelstore.OpenPackage(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	fmt.Println(p.Metadata.Pair(), p.Metadata.PackageVersion)
	vocab, err := fs.ReadFile(p.FS(), "model/shared_vocabulary.txt")
	fmt.Printf("%q %v\n", vocab[:6], err)
	// Output:
	// de-en 1.9
	// "<unk>\n" <nil>
}
