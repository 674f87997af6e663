package deepl_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/deepl"
)

func Example() {
	eng, err := deepl.New(deepl.Config{AuthKey: os.Getenv("DEWIRE_DEEPL_AUTH_KEY"), TargetLang: "EN-GB"})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := &mt.Translator{Engine: eng, Memory: mt.NewMemoryTM()}
	_ = tr // tr.Translate(ctx, article) fills article.EN
	_ = eng.Check(context.Background())
}
