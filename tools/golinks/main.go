// golinks lists, with Go's type checker (go/types, loaded through
// golang.org/x/tools/go/packages), which functions and methods of a Go tree
// each of its tests calls: the reference porttrack's test→feature links are
// measured against (tools/golinks/compare.sh). Tests are top-level
// Test*/Benchmark* functions of _test.go files, as README's "Go import
// rules" define them; a call is any call expression in the test's body,
// function literals included.
//
// A call whose callee the type checker knows is "static". A call of an
// interface method is "dynamic": it is listed once for every concrete method
// of the tree that can stand behind it (class hierarchy analysis: every named
// type of the test's package and its imports inside the tree that implements
// the interface, by value or by pointer).
//
// Output, tab-separated, paths relative to DIR's parent as porttrack records
// them:
//
//	F <path>                          a non-test file the type checker compiled
//	T <path> <line> <name>            a test it saw
//	L <test path> <test line> <feature path> <feature line> static|dynamic
//
// Usage (GOPATH mode, with golang.org/x/tools on GOPATH; compare.sh sets it):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run tools/golinks/main.go DIR
//
// A tree inside a module (a go.mod in DIR or above it) that is not on GOPATH
// under its module path, such as nats-server's /v2, is reached through a
// temporary GOPATH holding one symbolic link.
package main

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: golinks DIR")
		os.Exit(2)
	}
	dir, err := filepath.Abs(os.Args[1])
	check(err)
	dir, err = filepath.EvalSymlinks(dir)
	check(err)
	loadDir, env, cleanup := gopathFor(dir)
	defer cleanup()

	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedSyntax |
			packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports | packages.NeedDeps,
		Tests: true,
		Dir:   loadDir,
		Env:   env,
	}
	pkgs, err := packages.Load(cfg, "./...")
	check(err)
	errors := 0
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if errors < 20 {
				fmt.Fprintln(os.Stderr, "golinks: type error:", e)
			}
			errors++
		}
	})

	// rel gives a file's path as porttrack records it, or "" outside DIR.
	base := filepath.Base(dir)
	rel := func(file string) string {
		r, err := filepath.Rel(loadDir, file)
		if err != nil || strings.HasPrefix(r, "..") {
			return ""
		}
		return path.Join(base, filepath.ToSlash(r))
	}
	isTestFile := func(p string) bool { return strings.HasSuffix(p, "_test.go") }

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	seenFiles := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.CompiledGoFiles {
			if r := rel(f); r != "" && !isTestFile(r) && !seenFiles[r] {
				seenFiles[r] = true
				fmt.Fprintf(out, "F\t%s\n", r)
			}
		}
	}

	// feature locates a concrete function or method inside DIR's non-test
	// files, or reports false.
	feature := func(fset *token.FileSet, fn *types.Func) (string, int, bool) {
		pos := fset.Position(fn.Pos())
		r := rel(pos.Filename)
		if r == "" || isTestFile(r) {
			return "", 0, false
		}
		return r, pos.Line, true
	}

	cha := newHierarchy(rel, isTestFile)
	doneFiles := map[string]bool{}
	links, tests := 0, 0
	for _, p := range pkgs {
		for i, f := range p.Syntax {
			if i >= len(p.CompiledGoFiles) {
				break
			}
			r := rel(p.CompiledGoFiles[i])
			if r == "" || !isTestFile(r) || doneFiles[r] {
				continue
			}
			doneFiles[r] = true
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv != nil || fd.Body == nil || !isTestName(fd.Name.Name) {
					continue
				}
				tests++
				testLine := p.Fset.Position(fd.Type.Func).Line
				fmt.Fprintf(out, "T\t%s\t%d\t%s\n", r, testLine, fd.Name.Name)
				found := map[string]string{}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					fn, recv := callee(p.TypesInfo, call.Fun)
					if fn == nil {
						return true
					}
					if recv != nil && types.IsInterface(recv) {
						for _, impl := range cha.implementations(p, fn) {
							if fp, fl, ok := feature(p.Fset, impl); ok {
								key := fmt.Sprintf("%s\t%d", fp, fl)
								if found[key] == "" {
									found[key] = "dynamic"
								}
							}
						}
						return true
					}
					if fp, fl, ok := feature(p.Fset, fn); ok {
						found[fmt.Sprintf("%s\t%d", fp, fl)] = "static"
					}
					return true
				})
				keys := make([]string, 0, len(found))
				for k := range found {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(out, "L\t%s\t%d\t%s\t%s\n", r, testLine, k, found[k])
					links++
				}
			}
		}
	}
	fmt.Fprintf(os.Stderr, "golinks: %d packages, %d type errors, %d tests, %d links\n", len(pkgs), errors, tests, links)
}

// isTestName is README's rule: Test* (TestMain and Testing included) or
// Benchmark*.
func isTestName(name string) bool {
	return strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Benchmark")
}

// callee is the function or method a call expression names, with the
// receiver type for a method (an interface type for a dynamic call).
func callee(info *types.Info, fun ast.Expr) (*types.Func, types.Type) {
	for {
		switch x := fun.(type) {
		case *ast.ParenExpr:
			fun = x.X
			continue
		case *ast.IndexExpr:
			fun = x.X
			continue
		case *ast.IndexListExpr:
			fun = x.X
			continue
		}
		break
	}
	var obj types.Object
	switch x := fun.(type) {
	case *ast.Ident:
		obj = info.Uses[x]
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[x]; ok {
			obj = sel.Obj()
		} else {
			obj = info.Uses[x.Sel]
		}
	}
	fn, ok := obj.(*types.Func)
	if !ok {
		return nil, nil
	}
	fn = fn.Origin()
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		return fn, nil
	}
	return fn, sig.Recv().Type()
}

// hierarchy answers which concrete methods of the tree implement an
// interface method, per test package (types of different package variants
// are distinct).
type hierarchy struct {
	rel        func(string) string
	isTestFile func(string) bool
	named      map[*packages.Package][]*types.Named
	impls      map[*packages.Package]map[*types.Func][]*types.Func
}

func newHierarchy(rel func(string) string, isTestFile func(string) bool) *hierarchy {
	return &hierarchy{rel: rel, isTestFile: isTestFile, named: map[*packages.Package][]*types.Named{}, impls: map[*packages.Package]map[*types.Func][]*types.Func{}}
}

// types of p and its imports declared in the tree's non-test files.
func (h *hierarchy) types(p *packages.Package) []*types.Named {
	if got, ok := h.named[p]; ok {
		return got
	}
	var out []*types.Named
	seen := map[*packages.Package]bool{}
	var visit func(q *packages.Package)
	visit = func(q *packages.Package) {
		if seen[q] || q.Types == nil {
			return
		}
		seen[q] = true
		scope := q.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			r := h.rel(q.Fset.Position(tn.Pos()).Filename)
			if r == "" || h.isTestFile(r) {
				continue
			}
			if n, ok := tn.Type().(*types.Named); ok && !types.IsInterface(n) && n.TypeParams().Len() == 0 {
				out = append(out, n)
			}
		}
		for _, imp := range q.Imports {
			visit(imp)
		}
	}
	visit(p)
	h.named[p] = out
	return out
}

func (h *hierarchy) implementations(p *packages.Package, m *types.Func) []*types.Func {
	byMethod := h.impls[p]
	if byMethod == nil {
		byMethod = map[*types.Func][]*types.Func{}
		h.impls[p] = byMethod
	}
	if got, ok := byMethod[m]; ok {
		return got
	}
	iface, _ := m.Type().(*types.Signature).Recv().Type().Underlying().(*types.Interface)
	var out []*types.Func
	if iface != nil {
		for _, n := range h.types(p) {
			for _, t := range []types.Type{n, types.NewPointer(n)} {
				if !types.Implements(t, iface) {
					continue
				}
				obj, _, _ := types.LookupFieldOrMethod(t, true, m.Pkg(), m.Name())
				if fn, ok := obj.(*types.Func); ok {
					out = append(out, fn.Origin())
				}
				break
			}
		}
	}
	byMethod[m] = out
	return out
}

// gopathFor returns the directory to load DIR through and the environment
// for go/packages. A module tree outside GOPATH is linked into a temporary
// GOPATH under its module path, so its own imports resolve to it.
func gopathFor(dir string) (string, []string, func()) {
	env := append(os.Environ(), "GO111MODULE=off")
	modDir, modPath := enclosingModule(dir)
	gopath := os.Getenv("GOPATH")
	if modPath == "" || modPath == "std" || modPath == "cmd" {
		return dir, env, func() {}
	}
	for _, g := range filepath.SplitList(gopath) {
		if filepath.Join(g, "src", filepath.FromSlash(modPath)) == modDir {
			return dir, env, func() {}
		}
	}
	tmp, err := os.MkdirTemp("", "golinks")
	check(err)
	link := filepath.Join(tmp, "src", filepath.FromSlash(modPath))
	check(os.MkdirAll(filepath.Dir(link), 0o755))
	check(os.Symlink(modDir, link))
	relDir, err := filepath.Rel(modDir, dir)
	check(err)
	env = append(env, "GOPATH="+tmp+string(filepath.ListSeparator)+gopath)
	return filepath.Join(link, relDir), env, func() { os.RemoveAll(tmp) }
}

// enclosingModule finds the go.mod in dir or above it and its module path.
func enclosingModule(dir string) (string, string) {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				fields := strings.Fields(line)
				if len(fields) >= 2 && fields[0] == "module" {
					return d, strings.Trim(fields[1], `"`)
				}
			}
			return d, ""
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "golinks:", err)
		os.Exit(1)
	}
}
