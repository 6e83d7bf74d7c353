package notify_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
)

const smsText = "483920 is your sesame code. It expires in 10 min. Do not share it."

func smsMessage() *sesame.Message {
	return &sesame.Message{Channel: sesame.ChannelSMS, To: "+14155550123", Text: smsText, Kind: "code"}
}

// setTwilioEnv puts credentials in the environment that must never be used.
func setTwilioEnv(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "ACenvironmentenvironmentenvironmen")
	t.Setenv("TWILIO_AUTH_TOKEN", "environmenttoken")
	t.Setenv("TWILIO_API_KEY", "SKenvironment")
	t.Setenv("TWILIO_API_SECRET", "environmentsecret")
}

func TestTwilioSend(t *testing.T) {
	setTwilioEnv(t)
	for _, tt := range []struct {
		name     string
		cfg      notify.TwilioConfig
		user     string
		pass     string
		wantForm map[string]string
		noFrom   bool
	}{
		{
			name: "api key", cfg: notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, APISecret: testAPISecret, From: testFrom},
			user: testAPIKey, pass: testAPISecret,
			wantForm: map[string]string{"To": "+14155550123", "From": testFrom, "Body": smsText, "ValidityPeriod": "600"},
		},
		{
			name: "auth token", cfg: notify.TwilioConfig{AccountSID: testAccountSID, AuthToken: "authtoken0123456789", From: testFrom},
			user: testAccountSID, pass: "authtoken0123456789",
			wantForm: map[string]string{"To": "+14155550123", "From": testFrom, "Body": smsText, "ValidityPeriod": "600"},
		},
		{
			name: "messaging service", cfg: notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, APISecret: testAPISecret,
				From: testFrom, MessagingServiceSID: "MG0123456789abcdef0123456789abcdef"},
			user: testAPIKey, pass: testAPISecret, noFrom: true,
			wantForm: map[string]string{"To": "+14155550123", "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef", "Body": smsText, "ValidityPeriod": "600"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := testrig.NewTwilioServer(t)
			fake.Answer(http.StatusCreated, `{"sid":"SM123","status":"queued","to":"+14155550123","body":"`+smsText+`"}`)
			cfg := tt.cfg
			cfg.BaseURL = fake.URL
			tw, err := notify.NewTwilio(cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := tw.Notify(context.Background(), smsMessage())
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if id != "SM123" {
				t.Errorf("got id %q, want SM123", id)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+testAccountSID+"/Messages.json" {
				t.Errorf("got %s %s, want POST /2010-04-01/Accounts/%s/Messages.json", r.Method, r.Path, testAccountSID)
			}
			if !r.BasicAuth || r.User != tt.user || r.Pass != tt.pass {
				t.Errorf("got Basic auth %v %q:%q, want %q:%q", r.BasicAuth, r.User, r.Pass, tt.user, tt.pass)
			}
			got := map[string]string{}
			for k := range r.Form {
				got[k] = r.Form.Get(k)
			}
			if diff := cmp.Diff(tt.wantForm, got); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			if tt.noFrom && r.Form.Has("From") {
				t.Errorf("From %q sent beside MessagingServiceSid", r.Form.Get("From"))
			}
		})
	}
}

func TestTwilioErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   sesame.Kind
	}{
		{"invalid number", http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`, sesame.Invalid},
		{"server error", http.StatusInternalServerError, `{"code":20500,"message":"Internal Server Error","status":500}`, sesame.Unavailable},
		{"server error, not JSON", http.StatusBadGateway, `<html>bad gateway</html>`, sesame.Unavailable},
		{"rate limited", http.StatusTooManyRequests, `{"code":20429,"message":"Too Many Requests","status":429}`, sesame.Unavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := testrig.NewTwilioServer(t)
			fake.Answer(tt.status, tt.body)
			_, err := newTwilio(t, fake).Notify(context.Background(), smsMessage())
			if got := sesame.KindOf(err); got != tt.want {
				t.Fatalf("got kind %v (%v), want %v", got, err, tt.want)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		ln.Close()
		tw, err := notify.NewTwilio(notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, APISecret: testAPISecret, From: testFrom, BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tw.Notify(context.Background(), smsMessage())
		if got := sesame.KindOf(err); got != sesame.Unavailable {
			t.Fatalf("got kind %v (%v), want unavailable", got, err)
		}
	})
}

// Through the worker: a 4xx fails the message at once, a 5xx schedules a
// retry.
func TestTwilioThroughWorker(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		status     int
		body       string
		wantStatus string
	}{
		{"400 fails", http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`, sesame.OutboxFailed},
		{"500 retries", http.StatusInternalServerError, `{"code":20500,"message":"Internal Server Error","status":500}`, sesame.OutboxQueued},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clk := newClock()
			dir := t.TempDir()
			st := openStore(t, dir, clk)
			fake := testrig.NewTwilioServer(t)
			fake.Answer(tt.status, tt.body)
			w := newWorker(t, st, clk, nil, newTwilio(t, fake), 10)
			if err := st.Enqueue(ctx, smsMessage()); err != nil {
				t.Fatal(err)
			}
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("RunOnce tried %d, want 1", n)
			}
			n := only(t, st)
			if n.Status != tt.wantStatus || n.Attempts != 1 || n.LastError == "" {
				t.Fatalf("got %s, %d attempts, error %q; want %s, 1, an error", n.Status, n.Attempts, n.LastError, tt.wantStatus)
			}
			if tt.wantStatus == sesame.OutboxQueued {
				if gap := n.NextAttempt.Sub(clk.Now()); gap != time.Minute {
					t.Fatalf("next try in %v, want 1m", gap)
				}
				// It goes through once Twilio recovers.
				fake.Answer(http.StatusCreated, `{"sid":"SM456","status":"queued"}`)
				clk.Add(time.Minute)
				if n := runOnce(t, w); n != 1 {
					t.Fatalf("retry: RunOnce tried %d, want 1", n)
				}
				if n := only(t, st); n.Status != sesame.OutboxSent || n.ProviderID != "SM456" || n.Attempts != 2 {
					t.Fatalf("after the retry: got %s %q after %d attempts, want sent SM456 after 2", n.Status, n.ProviderID, n.Attempts)
				}
				if got := len(fake.Requests()); got != 2 {
					t.Fatalf("got %d requests, want 2", got)
				}
				return
			}
			if !payloadIsNull(t, testrig.OpenDB(t, dir), n.ID) {
				t.Errorf("the sealed payload is still in the outbox after failing")
			}
			clk.Add(48 * time.Hour)
			if n := runOnce(t, w); n != 0 {
				t.Fatalf("RunOnce two days later tried %d, want 0", n)
			}
			if got := len(fake.Requests()); got != 1 {
				t.Fatalf("got %d requests, want 1 (no retry)", got)
			}
		})
	}
}

// NewTwilio never falls back on TWILIO_* from the environment.
func TestTwilioConfigRejected(t *testing.T) {
	setTwilioEnv(t)
	for _, tt := range []struct {
		name string
		cfg  notify.TwilioConfig
		want string
	}{
		{"empty", notify.TwilioConfig{}, "account_sid"},
		{"no account sid", notify.TwilioConfig{APIKey: testAPIKey, APISecret: testAPISecret, From: testFrom}, "account_sid"},
		{"no credentials", notify.TwilioConfig{AccountSID: testAccountSID, From: testFrom}, "auth_token"},
		{"key without secret", notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, From: testFrom}, "api_secret"},
		{"secret without key", notify.TwilioConfig{AccountSID: testAccountSID, APISecret: testAPISecret, From: testFrom}, "api_key"},
		{"key and token but no secret", notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, AuthToken: "tok", From: testFrom}, "api_secret"},
		{"no sender", notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, APISecret: testAPISecret}, "from"},
		{"bad base url", notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, APISecret: testAPISecret, From: testFrom, BaseURL: "ftp://x"}, "base_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tw, err := notify.NewTwilio(tt.cfg)
			if err == nil {
				t.Fatalf("got a Twilio transport %v, want an error", tw)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %q, want one naming %s", err, tt.want)
			}
		})
	}
}
