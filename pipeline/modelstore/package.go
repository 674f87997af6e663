package modelstore

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Sentinel errors; the errors returned wrap one of them where it applies.
var (
	// ErrNotPackage reports a file that is not a readable Argos package.
	ErrNotPackage = errors.New("not an Argos Translate package")
	// ErrUnsafePath reports a zip entry whose name escapes the package folder.
	ErrUnsafePath = errors.New("unsafe path in package")
	// ErrTooLarge reports a zip entry, index or download above its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrWrongPair reports a package for other languages than the ones asked for.
	ErrWrongPair = errors.New("package is for another language pair")
)

const (
	// MaxEntrySize bounds one uncompressed file inside a package.
	MaxEntrySize = 4 << 30
	// maxMetadataSize bounds metadata.json.
	maxMetadataSize = 1 << 20
	// maxEntries bounds the number of files in a package.
	maxEntries = 100_000
)

// Metadata is a package's metadata.json.
type Metadata struct {
	PackageVersion string `json:"package_version"`
	ArgosVersion   string `json:"argos_version"`
	FromCode       string `json:"from_code"`
	FromName       string `json:"from_name,omitempty"`
	ToCode         string `json:"to_code"`
	ToName         string `json:"to_name,omitempty"`
	Type           string `json:"type,omitempty"`
}

// Pair returns the language pair as "from-to", for example "de-en".
func (m Metadata) Pair() string { return m.FromCode + "-" + m.ToCode }

// Package is an opened Argos Translate package. Close releases its file.
type Package struct {
	Metadata Metadata
	// Root is the package's top folder inside the zip ("." when it has none).
	Root string

	fsys   fs.FS
	closer io.Closer
}

// OpenPackage opens an .argosmodel file and reads its metadata.
func OpenPackage(name string) (*Package, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open package %s: %w", name, err)
	}
	p, err := ReadPackage(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open package %s: %w", name, err)
	}
	p.closer = f
	return p, nil
}

// ReadPackage reads a package from the size bytes of r. Close is a no-op for
// the result; r must stay readable while the package is used.
func ReadPackage(r io.ReaderAt, size int64) (*Package, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: %v", ErrNotPackage, err)
	}
	if len(zr.File) > maxEntries {
		return nil, fmt.Errorf("%w: %d files, limit %d", ErrTooLarge, len(zr.File), maxEntries)
	}
	var metaFile *zip.File
	root := ""
	for _, f := range zr.File {
		if err := checkEntry(f); err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(f.Name, "/")
		dir, base := path.Split(name)
		if base != "metadata.json" || f.FileInfo().IsDir() || strings.Count(dir, "/") > 1 {
			continue
		}
		if metaFile == nil || len(dir) < len(root) {
			metaFile, root = f, strings.TrimSuffix(dir, "/")
		}
	}
	if metaFile == nil {
		return nil, fmt.Errorf("%w: no metadata.json in its top folder", ErrNotPackage)
	}
	if root == "" {
		root = "."
	}
	meta, err := readMetadata(metaFile)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(zr, root)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPackage, err)
	}
	return &Package{Metadata: meta, Root: root, fsys: sub}, nil
}

// checkEntry rejects names that could escape the package folder and entries
// whose declared size is over the limit.
func checkEntry(f *zip.File) error {
	name := strings.TrimSuffix(f.Name, "/")
	if name == "" || strings.Contains(f.Name, `\`) || strings.HasPrefix(f.Name, "/") || !fs.ValidPath(name) {
		return fmt.Errorf("%w: %q", ErrUnsafePath, f.Name)
	}
	if f.UncompressedSize64 > MaxEntrySize {
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, f.Name, f.UncompressedSize64, int64(MaxEntrySize))
	}
	return nil
}

func readMetadata(f *zip.File) (Metadata, error) {
	if f.UncompressedSize64 > maxMetadataSize {
		return Metadata{}, fmt.Errorf("%w: %s is %d bytes", ErrTooLarge, f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return Metadata{}, fmt.Errorf("%w: %s: %v", ErrNotPackage, f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxMetadataSize+1))
	if err != nil {
		return Metadata{}, fmt.Errorf("%w: %s: %v", ErrNotPackage, f.Name, err)
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return Metadata{}, fmt.Errorf("%w: %s: %v", ErrNotPackage, f.Name, err)
	}
	if m.FromCode == "" || m.ToCode == "" {
		return Metadata{}, fmt.Errorf("%w: %s lacks from_code or to_code", ErrNotPackage, f.Name)
	}
	return m, nil
}

// FS returns the package's files rooted at its top folder: "metadata.json",
// "sentencepiece.model", "model/model.bin" and so on.
func (p *Package) FS() fs.FS { return p.fsys }

// CheckPair returns an error wrapping ErrWrongPair unless the package
// translates from into to.
func (p *Package) CheckPair(from, to string) error {
	if p.Metadata.FromCode != from || p.Metadata.ToCode != to {
		return fmt.Errorf("%w: want %s-%s, package has %s", ErrWrongPair, from, to, p.Metadata.Pair())
	}
	return nil
}

// Close releases the package file.
func (p *Package) Close() error {
	if p.closer == nil {
		return nil
	}
	return p.closer.Close()
}
