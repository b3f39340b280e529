package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/sms"
)

// postRoutes are the paths of every POST route of the handler tree, read from the source of
// routes (middleware.go) so that a route added later is covered without anyone listing it,
// with the wildcards filled in: {id} a real user's, {action} a real action.
func postRoutes(t *testing.T, userID int64) []string {
	t.Helper()
	src, err := os.ReadFile("middleware.go")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range regexp.MustCompile(`"POST (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		p := strings.NewReplacer("{id}", fmt.Sprint(userID), "{action}", "require-two-factor", "{token}", "some-token").Replace(m[1])
		paths = append(paths, p)
	}
	if len(paths) < 30 {
		t.Fatalf("found %d POST routes in middleware.go, want them all (30 or more)", len(paths))
	}
	return append(paths, sms.WebhookPath) // mounted apart, with its own rule: checked for the temp directory only
}

// rawPost sends a POST of size bytes of content type ct, written by body, on a connection of
// its own, and reads the answer while the body is still being sent: a server that refuses a
// body answers before it has read it, and then closes the connection.
func rawPost(t *testing.T, base, path, ct, cookie string, size int64, body func(io.Writer) error) (int, string) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nOrigin: %s\r\nSec-Fetch-Site: same-origin\r\nCookie: %s\r\n\r\n",
			path, u.Host, ct, size, base, cookie)
		body(conn) // fails once the server has closed the connection: that is the point
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	page, _ := io.ReadAll(res.Body)
	conn.Close()
	<-sent
	return res.StatusCode, string(page)
}

// repeat writes n bytes of b.
func repeat(w io.Writer, b byte, n int64) error {
	chunk := []byte(strings.Repeat(string(b), 64<<10))
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// TestFormUploadsRefused pins issue 9 F2 (multipart bodies left temp files that were never
// removed) and F1's body limit: a 40 MB multipart upload (a file part larger than the 32 MB
// net/http keeps in memory) to every POST route of the real handler tree, by a signed-in
// administrator, is answered 415 without a byte reaching the temporary directory; a 1 MB
// urlencoded form (a 1 MB username) is answered 413 and changes nothing.
func TestFormUploadsRefused(t *testing.T) {
	e := newEnv(t, withSandbox)
	admin := e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	c := e.client()
	c.signIn("admin")
	u, _ := url.Parse(e.ts.URL)
	var cookies []string
	for _, ck := range c.http.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	cookie := strings.Join(cookies, "; ")

	// net/http spills uploads to os.TempDir(), that is $TMPDIR: an empty one of the test's own.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	users := func() string {
		var b strings.Builder
		for _, id := range []int64{admin.ID, bob.ID} {
			u, err := e.svc.User(context.Background(), e.svc.Operator(), id)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%+v\n", *u)
		}
		return b.String()
	}
	audit := func() int {
		p, err := e.svc.AuditLog(context.Background(), e.svc.Operator(), backend.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	usersBefore, auditBefore := users(), audit()

	const boundary = "gatehouse-test-boundary"
	const fileSize = 40 << 20
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	multipart := func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if err := repeat(w, 'x', fileSize); err != nil {
			return err
		}
		_, err := io.WriteString(w, tail)
		return err
	}
	const nameSize = 1 << 20
	form := func(w io.Writer) error {
		if _, err := io.WriteString(w, "username="); err != nil {
			return err
		}
		if err := repeat(w, 'a', nameSize); err != nil {
			return err
		}
		_, err := io.WriteString(w, "&password=wrong+password&new_password=x&confirm_password=x")
		return err
	}
	formSize := int64(len("username=") + nameSize + len("&password=wrong+password&new_password=x&confirm_password=x"))

	for _, path := range postRoutes(t, bob.ID) {
		st, page := rawPost(t, e.ts.URL, path, "multipart/form-data; boundary="+boundary, cookie, int64(len(head)+fileSize+len(tail)), multipart)
		if path != sms.WebhookPath && (st != http.StatusUnsupportedMediaType || !strings.Contains(page, "The System takes only the forms of its own pages")) {
			t.Errorf("multipart POST %s: status %d, want 415 and the page saying why:\n%s", path, st, excerpt(page))
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("multipart POST %s left %d files in the temp directory, e.g. %s", path, len(left), left[0].Name())
			for _, f := range left {
				os.RemoveAll(filepath.Join(tmp, f.Name()))
			}
		}
		st, page = rawPost(t, e.ts.URL, path, formType, cookie, formSize, form)
		if path != sms.WebhookPath && (st != http.StatusRequestEntityTooLarge || !strings.Contains(page, "The form is too large")) {
			t.Errorf("1 MB form to POST %s: status %d, want 413 and the page saying why:\n%s", path, st, excerpt(page))
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d files left in the temp directory by the urlencoded forms", len(left))
	}
	if after := users(); after != usersBefore {
		t.Errorf("the refused forms changed users:\n%s\nwant\n%s", after, usersBefore)
	}
	if after := audit(); after != auditBefore {
		t.Errorf("the refused forms wrote %d audit events", after-auditBefore)
	}
	c.get("/profile").wantStatus(t, http.StatusOK) // still signed in: nothing reached a handler
}

// TestFormContentTypes: a form of the System's own pages passes (a charset parameter
// included, and a POST without a body and without a type); any other type is 415.
func TestFormContentTypes(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	for _, tc := range []struct {
		ct, body string
		want     int
	}{
		{formType, "username=alice&password=" + url.QueryEscape(testPassword), http.StatusSeeOther},
		{formType + "; charset=UTF-8", "username=alice&password=" + url.QueryEscape(testPassword), http.StatusSeeOther},
		{"application/json", `{"username":"alice"}`, http.StatusUnsupportedMediaType},
		{"text/plain", "username=alice", http.StatusUnsupportedMediaType},
		{"", "username=alice", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", "--x--\r\n", http.StatusUnsupportedMediaType},
		{formType, "username=%zz", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("POST", e.ts.URL+"/login", strings.NewReader(tc.body))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		r := e.client().do(req)
		if r.StatusCode != tc.want {
			t.Errorf("POST /login as %q: status %d, want %d", tc.ct, r.StatusCode, tc.want)
		}
	}
	// No body, no type: a bare "Log out" button.
	req, _ := http.NewRequest("POST", e.ts.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := e.client().do(req); r.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /logout without a body: status %d, want 303", r.StatusCode)
	}
	if !slices.Contains(postRoutes(t, 1), "/logout") {
		t.Error("postRoutes misses /logout")
	}
}
