package backend_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestAuditActionText: every Audit* constant in audit.go reads as plain words, so that a new
// action cannot reach the audit log as a bare identifier.
func TestAuditActionText(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "audit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Audit") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s: not a string literal", name.Name)
					continue
				}
				action, _ := strconv.Unquote(lit.Value)
				text := backend.AuditActionText(action)
				if text == action || text == "" {
					t.Errorf("AuditActionText(%s = %q): got %q, want plain words", name.Name, action, text)
				}
				if other, dup := seen[text]; dup {
					t.Errorf("AuditActionText(%s) = %q, the same as for %s", name.Name, text, other)
				}
				seen[text] = name.Name
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("found %d Audit* actions in audit.go, want them all (at least 20)", len(seen))
	}
	if got := backend.AuditActionText("some.future_action"); got != "some.future_action" {
		t.Errorf("AuditActionText of an unknown action: got %q, want it unchanged", got)
	}
}
