package deploy

import (
	"bufio"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// requiredEnv is deploy/.env as env.example has it, without the optional
// settings (engine, database, HTTP token) that may stay unset.
func requiredEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") && strings.HasPrefix(k, "NATS_") {
			env[k] = v
		}
	}
	if len(env) < len(roles) {
		t.Fatalf("env.example names %d NATS passwords, accounts.conf needs %d", len(env), len(roles))
	}
	return env
}

// loadCompose loads docker-compose.yml with the compose specification's own
// loader, as `docker compose` does.
func loadCompose(t *testing.T, env map[string]string, profiles ...string) (*types.Project, error) {
	t.Helper()
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  ".",
		ConfigFiles: []types.ConfigFile{{Filename: "docker-compose.yml"}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("dewire", true)
		o.Profiles = profiles
	})
}

func TestComposeLoadsWithTheSpecLoader(t *testing.T) {
	t.Run("without the optional profile's variables", func(t *testing.T) {
		p, err := loadCompose(t, requiredEnv(t))
		if err != nil {
			t.Fatalf("a .env with only the NATS passwords: %v", err)
		}
		for _, name := range []string{"nats", "setup", "ingest", "normalize", "translate", "sink"} {
			if _, err := p.GetService(name); err != nil {
				t.Errorf("service %s: %v", name, err)
			}
		}
		if _, err := p.GetService("postgres"); err == nil {
			t.Error("postgres runs without --profile postgres")
		}
	})
	t.Run("with the postgres profile", func(t *testing.T) {
		env := requiredEnv(t)
		env["POSTGRES_PASSWORD"] = "pw"
		p, err := loadCompose(t, env, "postgres")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.GetService("postgres"); err != nil {
			t.Fatalf("postgres: %v", err)
		}
	})
	t.Run("a missing NATS password is refused", func(t *testing.T) {
		env := requiredEnv(t)
		delete(env, "NATS_SYS_PASSWORD")
		if _, err := loadCompose(t, env); err == nil || !strings.Contains(err.Error(), "NATS_SYS_PASSWORD") {
			t.Fatalf("%v, want an error naming NATS_SYS_PASSWORD", err)
		}
	})
	t.Run("the sink writes its volume as the non-root user the image prepares it for", func(t *testing.T) {
		p, err := loadCompose(t, requiredEnv(t))
		if err != nil {
			t.Fatal(err)
		}
		sink, _ := p.GetService("sink")
		if sink.User != "65532:65532" || !sink.ReadOnly {
			t.Fatalf("sink user %q read_only %v", sink.User, sink.ReadOnly)
		}
		i := slices.IndexFunc(sink.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/var/lib/dewire/out" })
		if i < 0 || sink.Volumes[i].Type != types.VolumeTypeVolume || sink.Volumes[i].ReadOnly {
			t.Fatalf("sink volumes %+v: want the named volume on /var/lib/dewire/out, writable", sink.Volumes)
		}
		if !slices.Contains(sink.Command, "/var/lib/dewire/out") {
			t.Fatalf("sink command %v does not write to its volume", sink.Command)
		}
		// A fresh named volume takes the owner of the folder it covers in the
		// image: the Dockerfile must create it owned by 65532.
		df, _ := os.ReadFile("Dockerfile")
		if !strings.Contains(string(df), "mkdir -p /out/var/lib/dewire/out") ||
			!strings.Contains(string(df), "COPY --from=build --chown=65532:65532 /out/var/lib/dewire /var/lib/dewire") {
			t.Fatal("the Dockerfile does not create /var/lib/dewire/out owned by 65532")
		}
	})
	t.Run("the compose version it needs is stated", func(t *testing.T) {
		head, _ := os.ReadFile("docker-compose.yml")
		readme, _ := os.ReadFile("README.md")
		for name, b := range map[string][]byte{"docker-compose.yml": head, "README.md": readme} {
			if !strings.Contains(string(b), "Compose v2.20") {
				t.Errorf("%s does not state the Docker Compose version (v2.20, for depends_on required: false)", name)
			}
		}
	})
}
