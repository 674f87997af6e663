package intake

import (
	"path/filepath"
	"strings"
)

// maxSourceName bounds a source name, which becomes a subject token.
const maxSourceName = 64

// SourceName sanitizes a source name for use in subjects: lower case,
// German umlauts and ß spelled out, every other character outside
// [a-z0-9_-] replaced by '-', runs of '-' collapsed, at most 64 bytes.
// A name with nothing left is "unknown".
func SourceName(s string) string {
	var b strings.Builder
	dash := false
runes:
	for _, r := range strings.ToLower(s) {
		var rep string
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			rep = string(r)
		case r == 'ä':
			rep = "ae"
		case r == 'ö':
			rep = "oe"
		case r == 'ü':
			rep = "ue"
		case r == 'ß':
			rep = "ss"
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		dash = false
		b.WriteString(rep)
		if b.Len() >= maxSourceName {
			break runes
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > maxSourceName {
		out = strings.TrimRight(out[:maxSourceName], "-")
	}
	if out == "" {
		return "unknown"
	}
	return out
}

// DefaultSourceName names the source of a file after its folder
// ("feeds/apa/x.txt" is "apa"), or after the file when it has no folder;
// stdin ("" or "-") is "stdin".
func DefaultSourceName(path string) string {
	if path == "" || path == "-" {
		return "stdin"
	}
	dir := filepath.Base(filepath.Dir(filepath.Clean(path)))
	if dir == "." || dir == string(filepath.Separator) || dir == ".." {
		base := filepath.Base(path)
		return SourceName(strings.TrimSuffix(base, filepath.Ext(base)))
	}
	return SourceName(dir)
}
