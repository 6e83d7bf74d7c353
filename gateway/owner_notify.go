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
	return sesame.NewLinkNotify(n.Events, n.Email, n.Language)
}

// viewNotify is a link's notify as replies show it; nil when unset.
func viewNotify(n *sesame.LinkNotify) *notifyJSON {
	if n == nil {
		return nil
	}
	return &notifyJSON{Events: n.EventNames(), Email: n.Email, Language: n.Language}
}
