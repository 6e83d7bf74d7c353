package gateway

import "github.com/sesame-share/sesame"

// notifyJSON is the notify extension field of a link: which owner emails
// it asks for, and where they go.
type notifyJSON struct {
	Events   []string `json:"events"`
	Email    string   `json:"email,omitempty"`
	Language string   `json:"language,omitempty"`
}

// linkNotify turns a request's notify into the core's; nil stays nil, and
// an object without events asks for none.
func linkNotify(n *notifyJSON) *sesame.LinkNotify {
	if n == nil {
		return nil
	}
	out := &sesame.LinkNotify{Events: make([]sesame.OwnerEvent, len(n.Events)), Email: n.Email, Language: n.Language}
	for i, e := range n.Events {
		out.Events[i] = sesame.OwnerEvent(e)
	}
	return out
}

// viewNotify is a link's notify as replies show it; nil when unset.
func viewNotify(n *sesame.LinkNotify) *notifyJSON {
	if n == nil {
		return nil
	}
	out := &notifyJSON{Events: make([]string, len(n.Events)), Email: n.Email, Language: n.Language}
	for i, e := range n.Events {
		out.Events[i] = string(e)
	}
	return out
}
