package modelstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EnvModelDir names the environment variable that overrides the cache folder.
const EnvModelDir = "DEWIRE_MODEL_DIR"

// packageExt is the file name extension of Argos Translate packages.
const packageExt = ".argosmodel"

// Dir returns the model cache folder: $DEWIRE_MODEL_DIR when set, else
// dewire/models under the user's cache folder. It does not create it.
func Dir() (string, error) {
	if d := os.Getenv(EnvModelDir); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("model cache folder: %w (set %s)", err, EnvModelDir)
	}
	return filepath.Join(base, "dewire", "models"), nil
}

// InstalledPackage is one package file in the cache folder.
type InstalledPackage struct {
	Path     string
	Metadata Metadata
	// SHA256 is the checksum recorded beside the file at download, if any.
	SHA256 string
	// Err says why the file could not be read; Metadata is empty then.
	Err error
}

// List returns the packages in dir, newest version first within a pair. A
// missing dir holds no packages.
func List(dir string) ([]InstalledPackage, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var out []InstalledPackage
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), packageExt) {
			continue
		}
		ip := InstalledPackage{Path: filepath.Join(dir, e.Name())}
		if p, err := OpenPackage(ip.Path); err != nil {
			ip.Err = err
		} else {
			ip.Metadata = p.Metadata
			p.Close()
		}
		ip.SHA256 = readChecksumFile(ip.Path + ".sha256")
		out = append(out, ip)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Metadata, out[j].Metadata
		if a.Pair() != b.Pair() {
			return a.Pair() < b.Pair()
		}
		return compareVersions(a.PackageVersion, b.PackageVersion) > 0
	})
	return out, nil
}

// Installed returns the path of the newest readable package in dir that
// translates from into to.
func Installed(dir, from, to string) (path string, ok bool) {
	list, err := List(dir)
	if err != nil {
		return "", false
	}
	for _, ip := range list {
		if ip.Err == nil && ip.Metadata.FromCode == from && ip.Metadata.ToCode == to {
			return ip.Path, true
		}
	}
	return "", false
}

// readChecksumFile returns the hex digest of a sha256sum-style file, or "".
func readChecksumFile(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return ""
	}
	return strings.ToLower(fields[0])
}

// compareVersions orders dotted versions numerically ("1.10" > "1.9").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}
