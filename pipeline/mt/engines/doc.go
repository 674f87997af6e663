// Package engines opens the translation engine a configuration names, or
// for "auto" the best one available: an installed embedded model, else a
// service whose credentials are set, else none with a hint on enabling one.
//
// It reads no environment and no flags; the caller passes settings in.
package engines
