// Package openai is the mt.Engine for any OpenAI-compatible chat
// completions server (OpenAI, vLLM, Ollama, llama.cpp): segments go in as a
// JSON array with the entity glossary in the system prompt, and must come
// back as an array of the same length, else each segment is sent alone.
//
// The API key is sent only in the Authorization header and never appears
// in errors or in the printed Config.
package openai
