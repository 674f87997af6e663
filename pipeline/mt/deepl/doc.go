// Package deepl is the mt.Engine for the DeepL API v2: batched JSON
// requests to /v2/translate, entity protection through DeepL glossaries
// (created once per entry set and reused) or XML tags, and DeepL's error
// codes mapped to mt's classes (456 quota, 403 credentials, 429 and 5xx retry).
//
// The auth key is sent only in the Authorization header and never appears
// in errors or in the printed Config.
package deepl
