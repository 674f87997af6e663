package textfix

// FixEncoding exposes the encoding repair alone to the tests.
func FixEncoding(f *Fixer, s string) string {
	for range maxRounds {
		rs := f.fixMojibake(s, nil, nil)
		if len(rs) == 0 {
			break
		}
		s, _ = apply(s, rs, nil)
	}
	return s
}
