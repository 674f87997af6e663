package libretranslate_test

import (
	"fmt"
	"os"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/libretranslate"
)

func Example() {
	eng, err := libretranslate.New(libretranslate.Config{URL: "http://localhost:5000", APIKey: os.Getenv("DEWIRE_LIBRETRANSLATE_API_KEY")})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := &mt.Translator{Engine: eng, Memory: mt.NewMemoryTM()}
	fmt.Println(tr.Engine.Name())
	// Output: libretranslate
}
