// Package auditcheck finds the calls in phala's tests that the suite audit
// must see. The audit (phala/audit_test.go) lives in test files only, so
// it sees a call's error and result only when the test hands them to it:
// every call to a phala function or method that returns an error is
// written audited(c.GetCVMInfo(ctx, id)) or auditedErr(...), and every
// client a test builds goes through auditedClient or auditedFake so that
// its key is registered and its logs and hooks are recorded. This package
// lists the calls that are not, for the test that keeps the audit whole.
package auditcheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"
)

const (
	phalaPath     = "github.com/phalacloud/go-sdk/phala"
	phalatestPath = "github.com/phalacloud/go-sdk/phala/phalatest"
)

// auditFiles are the audit's own files: their calls test the audit.
var auditFiles = map[string]bool{"audit_test.go": true, "audit_ext_test.go": true, "export_test.go": true}

// Wrappers names, for each kind of call, the test helper that audits it.
var Wrappers = map[Kind]string{
	KindValue:  "audited",
	KindErr:    "auditedErr",
	KindClient: "auditedClient",
	KindFake:   "auditedFake",
	KindEnvs:   "secretEnvs",
	KindToken:  "secretToken",
}

// Kind says which wrapper a call needs.
type Kind int

// The kinds of audited calls.
const (
	KindValue  Kind = iota // (T, error)
	KindErr                // error only
	KindClient             // phala.NewClient: (*Client, error)
	KindFake               // (*phalatest.Server).Client: *Client
	KindEnvs               // an argument of type []EnvVar: secrets handed to the call
	KindToken              // a commit token argument (a parameter named token)
)

// Site is one call (or method value) in a test file that the audit must see.
type Site struct {
	File       string
	Line       int
	Start, End int // byte offsets of the call expression in File
	Kind       Kind
	Callee     string
	Wrapped    bool
	Value      bool // a method value or function value, not a call
	GoOrDefer  bool // the call, or its wrapper, is the statement of a go or defer
	InExample  bool // inside an Example function (documentation: not audited)
}

func (s Site) String() string {
	what := "call to " + s.Callee
	if s.Value {
		what = "function value " + s.Callee
	}
	return fmt.Sprintf("%s:%d: %s not wrapped in %s(...)", s.File, s.Line, what, Wrappers[s.Kind])
}

// Find loads the tests of the package pattern names (./phala), relative to
// dir (the module root), and returns every site, wrapped or not.
func Find(dir, pattern string) ([]Site, error) {
	cfg := &packages.Config{
		Mode:  packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Tests: true,
		Dir:   dir,
	}
	pkgs, err := packages.Load(cfg, pattern)
	if err != nil {
		return nil, err
	}
	var sites []Site
	seen := map[string]bool{}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("loading %s: %v", p.ID, p.Errors[0])
		}
		if !strings.HasSuffix(p.ID, ".test]") {
			continue
		}
		for _, f := range p.Syntax {
			name := p.Fset.File(f.Pos()).Name()
			if !strings.HasSuffix(name, "_test.go") || seen[name] || auditFiles[filepath.Base(name)] {
				continue
			}
			seen[name] = true
			sites = append(sites, fileSites(p.Fset, p.TypesInfo, f, name)...)
		}
	}
	sort.Slice(sites, func(i, j int) bool {
		if sites[i].File != sites[j].File {
			return sites[i].File < sites[j].File
		}
		return sites[i].Start < sites[j].Start
	})
	return sites, nil
}

func fileSites(fset *token.FileSet, info *types.Info, f *ast.File, name string) []Site {
	var sites []Site
	var stack []ast.Node
	inExample := false
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if fd, ok := n.(*ast.FuncDecl); ok {
			inExample = strings.HasPrefix(fd.Name.Name, "Example")
		}
		var parent ast.Node
		if len(stack) > 1 {
			parent = stack[len(stack)-2]
		}
		switch x := n.(type) {
		case *ast.CallExpr:
			fn, _ := typeutil.Callee(info, x).(*types.Func)
			kind, ok := classify(fn)
			if !ok {
				return true
			}
			s := site(fset, x, name, kind, fn)
			s.InExample = inExample
			if pc, ok := parent.(*ast.CallExpr); ok && len(pc.Args) == 1 && pc.Args[0] == x {
				if id, ok := pc.Fun.(*ast.Ident); ok && id.Name == Wrappers[kind] {
					s.Wrapped = true
				}
			}
			stmt, call := parent, x
			if s.Wrapped && len(stack) > 2 {
				// go audited(c.X()) would call c.X before the go statement.
				stmt, call = stack[len(stack)-3], parent.(*ast.CallExpr)
			}
			switch p := stmt.(type) {
			case *ast.GoStmt:
				s.GoOrDefer = p.Call == call
			case *ast.DeferStmt:
				s.GoOrDefer = p.Call == call
			}
			sites = append(sites, s)
			sites = append(sites, argSites(fset, x, name, fn, inExample)...)
		case *ast.SelectorExpr, *ast.Ident:
			if pc, ok := parent.(*ast.CallExpr); ok && pc.Fun == n {
				return true
			}
			if sel, ok := parent.(*ast.SelectorExpr); ok && sel.Sel == n {
				return true // the Sel of a selector is judged with the selector
			}
			fn, _ := objectOf(info, n.(ast.Expr)).(*types.Func)
			kind, ok := classify(fn)
			if !ok {
				return true
			}
			if _, isDecl := parent.(*ast.FuncDecl); isDecl {
				return true
			}
			s := site(fset, n.(ast.Expr), name, kind, fn)
			s.Value, s.InExample = true, inExample
			sites = append(sites, s)
		}
		return true
	})
	return sites
}

// argSites are the arguments of an audited call that hand it secrets:
// each must be written secretEnvs(envs) or secretToken(token), so that the
// audit knows the values it must not find.
func argSites(fset *token.FileSet, call *ast.CallExpr, name string, fn *types.Func, inExample bool) []Site {
	sig := fn.Type().(*types.Signature)
	var sites []Site
	for i, arg := range call.Args {
		if i >= sig.Params().Len() {
			break
		}
		p := sig.Params().At(i)
		kind := Kind(-1)
		switch {
		case isEnvVars(p.Type()):
			kind = KindEnvs
		case p.Name() == "token" && types.Identical(p.Type(), types.Typ[types.String]):
			kind = KindToken
		default:
			continue
		}
		s := site(fset, arg, name, kind, fn)
		s.Callee = fmt.Sprintf("%s (argument %s)", fn.FullName(), p.Name())
		s.InExample = inExample
		if ac, ok := arg.(*ast.CallExpr); ok && len(ac.Args) == 1 {
			if id, ok := ac.Fun.(*ast.Ident); ok && id.Name == Wrappers[kind] {
				s.Wrapped = true
			}
		}
		sites = append(sites, s)
	}
	return sites
}

func isEnvVars(t types.Type) bool {
	sl, ok := t.(*types.Slice)
	if !ok {
		return false
	}
	n, ok := sl.Elem().(*types.Named)
	return ok && n.Obj().Name() == "EnvVar" && n.Obj().Pkg().Path() == phalaPath
}

func objectOf(info *types.Info, e ast.Expr) types.Object {
	switch x := e.(type) {
	case *ast.Ident:
		return info.Uses[x]
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[x]; ok {
			return sel.Obj()
		}
		return info.Uses[x.Sel]
	}
	return nil
}

func site(fset *token.FileSet, e ast.Expr, name string, kind Kind, fn *types.Func) Site {
	start, end := fset.Position(e.Pos()), fset.Position(e.End())
	return Site{
		File: filepath.Base(name), Line: start.Line, Start: start.Offset, End: end.Offset,
		Kind: kind, Callee: fn.FullName(),
	}
}

// classify says whether fn is audited and how: an exported function of
// phala, or an exported method of one of its types, whose last result is
// an error; and the fake's Client.
func classify(fn *types.Func) (Kind, bool) {
	if fn == nil || fn.Pkg() == nil || !fn.Exported() {
		return 0, false
	}
	sig := fn.Type().(*types.Signature)
	switch fn.Pkg().Path() {
	case phalatestPath:
		if fn.Name() == "Client" && sig.Recv() != nil {
			return KindFake, true
		}
	case phalaPath:
		if sig.Recv() != nil && !isClient(sig.Recv().Type()) {
			return 0, false // methods of values (Error, UnmarshalJSON): not a call into the SDK
		}
		res := sig.Results()
		if res.Len() == 0 || !isError(res.At(res.Len()-1).Type()) {
			return 0, false
		}
		switch {
		case fn.Name() == "NewClient":
			return KindClient, true
		case res.Len() == 1:
			return KindErr, true
		case res.Len() == 2:
			return KindValue, true
		}
	}
	return 0, false
}

func isClient(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := p.Elem().(*types.Named)
	return ok && n.Obj().Name() == "Client"
}

func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}
