package sms_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// FuzzWebhook posts arbitrary bodies, query strings and signatures to the real webhook over the
// real Service: never a 500; a request without a valid X-Twilio-Signature is refused with 403
// and reaches nothing; a validly signed one is answered 200, 400 or 403. `go test` runs the seed
// corpus (testdata/fuzz/FuzzWebhook); the README has the command that fuzzes it for minutes.
func FuzzWebhook(f *testing.F) {
	// The real clock, and no logs kept: a fuzzing run sends millions of texts.
	h := backendtest.New(f, backendtest.WithRealClock(), backendtest.WithoutLogs(),
		backendtest.WithSMS("https://gatehouse.example", withTimeout))
	fake, cfg := h.Twilio, h.SMS
	form := fake.Form(smstest.Inbound{From: "+16502530067", Body: "ABCD-EFGH-JK", MessageSID: "SM0123456789abcdef0123456789abcdef"})
	for _, s := range []struct {
		body, query, sig string
		sign             bool
	}{
		{form.Encode(), "", "", true},
		{form.Encode(), "", "bm90IGEgc2lnbmF0dXJl", false},
		{form.Encode(), "x=1", "", true},
		{"Body=%zz&From=", "", "", true},
		{"From=%2B1&To=" + url.QueryEscape(smstest.PhoneNumber) + "&AccountSid=" + cfg.AccountSID + "&MessageSid=SM1&Body=" + strings.Repeat("A", 2000), "", "", true},
		{"AccountSid=ACother&To=%2B15005550006&From=not+a+number&MessageSid=SM2&Body=hi", "", "", true},
		{"", "", "", false}, {"\x00\xff", "", "=", false},
	} {
		f.Add(s.body, s.query, s.sig, s.sign)
	}
	rec := &receiver{svc: h.Service}
	wh, err := sms.NewWebhook(cfg, rec, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, query, sig string, sign bool) {
		target := cfg.WebhookURL()
		if query != "" {
			target += "?" + url.PathEscape(query)
		}
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		if err != nil {
			return // not a request anyone can send
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		signedForm, perr := url.ParseQuery(body)
		valid := sign && perr == nil
		if valid {
			sig = smstest.Signature(cfg.AuthToken, req.URL.String(), signedForm)
		}
		req.Header.Set("X-Twilio-Signature", sig)
		before := rec.n.Load()
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, req)
		switch {
		case w.Code >= 500 && w.Code != http.StatusServiceUnavailable:
			t.Fatalf("body %q: status %d", body, w.Code)
		case !valid && sig != smstest.Signature(cfg.AuthToken, req.URL.String(), signedForm):
			if w.Code != http.StatusForbidden || rec.n.Load() != before {
				t.Fatalf("unsigned body %q: status %d, reached the Service: %v", body, w.Code, rec.n.Load() != before)
			}
		case w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusForbidden:
			t.Fatalf("signed body %q: status %d", body, w.Code)
		}
	})
}

// receiver hands texts to the Service and counts them.
type receiver struct {
	svc *backend.Service
	n   atomic.Int64
}

func (r *receiver) ReceiveSMS(ctx context.Context, m backend.InboundSMS) (string, error) {
	r.n.Add(1)
	return r.svc.ReceiveSMS(ctx, m)
}
