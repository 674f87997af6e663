// Package modelstore reads Argos Translate model packages (".argosmodel" zip
// files) and manages the local folder they are cached in, including pulling
// a package from the Argos package index with checksum verification.
// It only fetches and checks packages; loading and running the model inside
// one is the translation engine's job.
package modelstore
