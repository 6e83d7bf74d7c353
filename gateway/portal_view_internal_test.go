package gateway

import (
	"testing"

	"github.com/sesame-share/sesame"
)

func TestDecodeText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cut  bool
		want string
	}{
		{"UTF8", "héllo\n", false, "héllo\n"},
		{"ByteOrderMark", "\xef\xbb\xbfhi", false, "hi"},
		{"Invalid", "a\xffb\xc3", false, "a\uFFFDb\uFFFD"},
		{"CutInsideCharacter", "ab\xe2\x82", true, "ab"},     // the first two bytes of €
		{"CutAfterCharacter", "ab\xe2\x82\xac", true, "ab€"}, // a whole €
		{"BrokenEndNotCut", "ab\xe2\x82", false, "ab\uFFFD"},
		{"UTF16LE", "\xff\xfeh\x00\xe9\x00", false, "hé"},
		{"UTF16BE", "\xfe\xff\x00h\x00\xe9", false, "hé"},
		{"UTF16LECutInsidePair", "\xff\xfeh\x00\x3d\xd8", true, "h"}, // a high surrogate alone
		{"UTF16OddByte", "\xff\xfeh\x00i", true, "h"},
		{"NUL", "a\x00b", false, "a\x00b"}, // html/template shows it as U+FFFD
		{"Empty", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeText([]byte(tt.in), tt.cut); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestViewKind(t *testing.T) {
	tests := []struct {
		name, mime, want string
		folder           bool
	}{
		{"photo.png", "image/png", viewImage, false},
		{"photo.webp", "image/webp", viewImage, false},
		{"notes.txt", "text/plain; charset=utf-8", viewText, false},
		{"data.json", "application/json", viewText, false},
		{"report.pdf", "application/pdf", viewPDF, false},
		{"song.mp3", "audio/mpeg", viewAudio, false},
		{"song.flac", "audio/flac", viewAudio, false},
		{"voice.ogg", "application/ogg", viewAudio, false},
		{"clip.ogv", "application/ogg", viewVideo, false},
		{"clip.webm", "video/webm", viewVideo, false},
		{"clip.mp4", "video/mp4", viewVideo, false},
		{"logo.svg", "image/svg+xml", "", false},
		{"page.html", "text/html; charset=utf-8", "", false},
		{"page.html", "text/plain; charset=utf-8", "", false}, // the name alone rules it out
		{"pic.svg", "image/png", "", false},
		{"feed.xml", "text/plain", "", false},
		{"tool.exe", "application/octet-stream", "", false},
		{"docs", "", "", true},
	}
	for _, tt := range tests {
		o := &sesame.Object{Name: tt.name, MimeType: tt.mime, Type: sesame.TypeFile}
		if tt.folder {
			o.Type = sesame.TypeFolder
		}
		if got := viewKind(o); got != tt.want {
			t.Errorf("viewKind(%s, %s): got %q, want %q", tt.name, tt.mime, got, tt.want)
		}
	}
}
