package engines_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/engines"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

// services answers the start-up checks of DeepL, LibreTranslate and an
// OpenAI-compatible server; only mttest.Secret is a valid key.
func services(t *testing.T) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v2/usage":
			if r.Header.Get("Authorization") != "DeepL-Auth-Key "+mttest.Secret {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"message":"Forbidden"}`)
				return
			}
			fmt.Fprint(w, `{"character_count":10,"character_limit":500000}`)
		case "/languages":
			fmt.Fprint(w, `[{"code":"de","name":"German","targets":["en"]}]`)
		case "/v1/models":
			fmt.Fprint(w, `{"data":[{"id":"m"}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestOpen(t *testing.T) {
	url := services(t)
	installed := func() (mt.Engine, bool, error) {
		return &mttest.Engine{EngineName: "ct2", ModelName: "argos-de-en"}, true, nil
	}
	missing := func() (mt.Engine, bool, error) { return nil, false, nil }
	tests := []struct {
		name     string
		cfg      engines.Config
		want     string
		wantHint string
		wantErr  error
	}{
		{"auto picks an installed ct2 model first", engines.Config{CT2: installed, DeepLURL: url, DeepLAuthKey: mttest.Secret}, "ct2", "argos-de-en", nil},
		{"auto picks deepl when its key is set and no model is installed", engines.Config{CT2: missing, DeepLURL: url, DeepLAuthKey: mttest.Secret, LibreTranslateURL: url}, "deepl", "deepl", nil},
		{"auto picks libretranslate when only its URL is set", engines.Config{Name: "auto", LibreTranslateURL: url}, "libretranslate", "libretranslate", nil},
		{"auto picks openai when its URL and model are set", engines.Config{OpenAIURL: url, OpenAIModel: "m"}, "openai", "m", nil},
		{"auto falls back to none with a hint", engines.Config{CT2: missing}, "none", mt.NoneHint, nil},
		{"none is none", engines.Config{Name: "none", DeepLAuthKey: "x"}, "none", mt.NoneHint, nil},
		{"deepl without a key is a usage error", engines.Config{Name: "deepl"}, "", "", engines.ErrNotConfigured},
		{"deepl with a bad key fails fast", engines.Config{Name: "deepl", DeepLURL: url, DeepLAuthKey: "bad-key:fx"}, "", "", mt.ErrAuth},
		{"auto with a bad deepl key fails fast", engines.Config{DeepLURL: url, DeepLAuthKey: "bad-key:fx"}, "", "", mt.ErrAuth},
		{"ct2 without the hook is a usage error", engines.Config{Name: "ct2"}, "", "", engines.ErrNotConfigured},
		{"ct2 without a model is a usage error", engines.Config{Name: "ct2", CT2: missing}, "", "", engines.ErrNotConfigured},
		{"openai without a model is a usage error", engines.Config{Name: "openai", OpenAIURL: url}, "", "", engines.ErrNotConfigured},
		{"an unknown name is refused", engines.Config{Name: "babelfish"}, "", "", engines.ErrUnknownEngine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, hint, err := engines.Open(context.Background(), tt.cfg)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "bad-key") {
					t.Errorf("error shows the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if eng.Name() != tt.want || !strings.Contains(hint, tt.wantHint) {
				t.Errorf("got %s (%q), want %s (%q)", eng.Name(), hint, tt.want, tt.wantHint)
			}
		})
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	cfg := engines.Config{DeepLAuthKey: mttest.Secret, OpenAIAPIKey: mttest.Secret, LibreTranslateAPIKey: mttest.Secret}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, mttest.Secret) {
			t.Errorf("printed config shows a secret: %s", s)
		}
	}
}
