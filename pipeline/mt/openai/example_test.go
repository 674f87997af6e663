package openai_test

import (
	"fmt"
	"os"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/openai"
)

func Example() {
	eng, err := openai.New(openai.Config{URL: "http://localhost:8000", Model: "Qwen/Qwen2.5-7B-Instruct", APIKey: os.Getenv("DEWIRE_OPENAI_API_KEY")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(openai.SystemPrompt("US", []mt.Term{{DE: "Ilham Alijew", EN: "Ilham Aliyev"}})[:45], eng.Model())
	// Output: You translate German news into US English for Qwen/Qwen2.5-7B-Instruct
}
