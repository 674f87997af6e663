package bus

import (
	"fmt"
	"strings"
)

// Stages as they appear in subjects: articles.<stage>.<source>.
const (
	Raw        = "raw"
	Normalized = "normalized"
	Translated = "translated"
	Clean      = "clean"
	Rejected   = "rejected"
	DLQ        = "dlq"
)

// Headers set on every article message.
const (
	HeaderID         = "Dewire-Id"
	HeaderRev        = "Dewire-Rev"
	HeaderStage      = "Dewire-Stage"      // stage that gave up (DLQ only)
	HeaderReason     = "Dewire-Reason"     // why it was dead-lettered
	HeaderSubject    = "Dewire-Subject"    // subject the message was taken from (DLQ only)
	HeaderDeliveries = "Dewire-Deliveries" // delivery count when dead-lettered
	HeaderReplays    = "Dewire-Replays"    // how many times dewire replay sent it back
)

// Subject returns articles.<stage>.<source> with the source reduced to a
// single safe subject token.
func Subject(stage, source string) string {
	return "articles." + stage + "." + SourceToken(source)
}

// DLQSubject is where a stage's dead letters go: articles.dlq.<stage>.<source>.
func DLQSubject(stage, source string) string {
	return "articles.dlq." + stage + "." + SourceToken(source)
}

// SourceFromSubject returns the last token of an article subject.
func SourceFromSubject(subject string) string {
	if i := strings.LastIndexByte(subject, '.'); i >= 0 {
		return subject[i+1:]
	}
	return subject
}

// MsgID is the deterministic Nats-Msg-Id of an article on a stage's subject:
// <id>@<rev>:<stage>. A re-publish after a crash is dropped as a duplicate.
func MsgID(id string, rev int, stage string) string {
	return fmt.Sprintf("%s@%d:%s", id, rev, stage)
}

// SourceToken maps a source name to [a-z0-9_-]+ so it is one subject token.
func SourceToken(source string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(source) {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
