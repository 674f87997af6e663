package tm_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/tm"
)

func ExampleNewKV() {
	dir, _ := os.MkdirTemp("", "tm-example")
	defer os.RemoveAll(dir)
	ns, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	go ns.Start()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)
	nc, _ := nats.Connect(ns.ClientURL())
	defer nc.Close()
	js, _ := jetstream.New(nc)

	ctx := context.Background()
	memory, err := tm.NewKV(ctx, js, "DEWIRE_TM")
	if err != nil {
		fmt.Println(err)
		return
	}
	key := mt.MemoryKey("deepl", "EN-US", "Guten Morgen.")
	_ = memory.Put(ctx, key, "Good morning.")
	en, ok, _ := memory.Get(ctx, key)
	fmt.Println(en, ok)
	// Output: Good morning. true
}
