package desk

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrEditors is returned (wrapped) for an editors file that cannot be used.
var ErrEditors = errors.New("desk: invalid editors file")

// ParseEditors reads an editors file: one editor a line, "name:token" (or a
// bare token, for an editor named "editor"); blank lines and lines starting
// with # are ignored. Tokens shorter than 16 characters are refused.
func ParseEditors(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, token, ok := strings.Cut(s, ":")
		if !ok {
			name, token = "editor", s
		}
		name, token = strings.TrimSpace(name), strings.TrimSpace(token)
		if len(token) < 16 || name == "" {
			return nil, fmt.Errorf("%w: line %d: want name:token with a token of at least 16 characters", ErrEditors, line)
		}
		out[token] = name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("desk: editors: %w", err)
	}
	return out, nil
}

const (
	sessionCookie = "dewire_desk_session"
	csrfCookie    = "dewire_desk_csrf"
	sessionTTL    = 12 * time.Hour
)

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// editorFor returns the editor a token belongs to (constant time per token).
func (d *Desk) editorFor(token string) (string, bool) {
	found := ""
	for t, name := range d.opt.Editors {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			found = name
		}
	}
	return found, found != ""
}

func (d *Desk) sign(s string) string {
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// session makes the cookie value for an editor: name, expiry and a MAC.
func (d *Desk) session(name string) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(name)) + "." + strconv.FormatInt(d.opt.Now().Add(sessionTTL).Unix(), 10)
	return body + "." + d.sign("session|"+body)
}

// editor returns who is acting: a bearer token (API clients: no cookie, so
// no CSRF) or a signed session cookie (browsers). csrfNeeded says whether
// the request rides on a cookie and must carry the CSRF token.
func (d *Desk) editor(r *http.Request) (name string, csrfNeeded bool, ok bool) {
	if tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		name, ok := d.editorFor(strings.TrimSpace(tok))
		return name, false, ok
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false, false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(parts[2]), []byte(d.sign("session|"+parts[0]+"."+parts[1]))) {
		return "", false, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	raw, err2 := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || err2 != nil || d.opt.Now().Unix() > exp {
		return "", false, false
	}
	return string(raw), true, true
}

// csrfToken returns the request's CSRF token, setting the cookie when the
// browser has none yet (double submit: the form field must equal the cookie,
// which another site can neither read nor set).
func (d *Desk) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	b, err := randomBytes(32)
	if err != nil {
		return ""
	}
	tok := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return tok
}

// csrfOK checks the double-submitted token and, when the browser says, the origin.
func csrfOK(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return false // another site (or an opaque origin) posting to the desk
		}
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 64 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}
