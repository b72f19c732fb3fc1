// gofacts lists the modules, functions, methods and tests of a Go source
// tree using Go's own parser (go/parser), as an independent check of
// porttrack's importer. It applies the same rules as README's "Go import
// rules" (testdata/, _- and .-prefixed directories left out, as go build
// leaves them out) and prints one tab-separated line per item:
//
//	M <id> <name> <dir>
//	F <id> <module id> <path> <line> <receiver> <name> <loc>
//	T <id> <module id> <path> <line> <name> <loc>
//
// Links are checked against Go's type checker instead: tools/golinks.
//
// Usage: go run tools/gofacts/main.go DIR
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

type module struct {
	name  string // last component of dir
	dir   string // relative to DIR's parent, "/"-separated
	files []string
}

func main() {
	root := filepath.Clean(os.Args[1])
	base := filepath.Base(root)
	byDir := map[string]*module{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() && p != root {
			if n := info.Name(); n == "testdata" || strings.HasPrefix(n, "_") || strings.HasPrefix(n, ".") {
				return filepath.SkipDir
			}
		}
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".go") {
			rel, _ := filepath.Rel(root, p)
			rel = path.Join(base, filepath.ToSlash(rel))
			dir := path.Dir(rel)
			m := byDir[dir]
			if m == nil {
				m = &module{name: path.Base(dir), dir: dir}
				byDir[dir] = m
			}
			m.files = append(m.files, rel)
		}
		return nil
	})
	modules := []*module{}
	for _, m := range byDir {
		modules = append(modules, m)
	}
	// Modules by name, then (for two directories of one name) by path;
	// files of a module by file name.
	sort.Slice(modules, func(i, j int) bool {
		if modules[i].name != modules[j].name {
			return modules[i].name < modules[j].name
		}
		return modules[i].dir < modules[j].dir
	})
	for id, m := range modules {
		sort.Slice(m.files, func(i, j int) bool { return path.Base(m.files[i]) < path.Base(m.files[j]) })
		fmt.Printf("M\t%d\t%s\t%s\n", id+1, m.name, m.dir)
	}
	fset := token.NewFileSet()
	nf, nt := 0, 0
	var tests []string
	for mid, m := range modules {
		for _, rel := range m.files {
			p := filepath.Join(filepath.Dir(root), filepath.FromSlash(rel))
			src, _ := os.ReadFile(p)
			f, err := parser.ParseFile(fset, p, src, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "PARSEERR", rel, err)
				os.Exit(1)
			}
			isTest := strings.HasSuffix(rel, "_test.go")
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					continue
				}
				start := fset.Position(fd.Type.Func).Line
				end := fset.Position(fd.End()).Line
				recv := receiverName(fd)
				name := fd.Name.Name
				if !isTest {
					nf++
					fmt.Printf("F\t%d\t%d\t%s\t%d\t%s\t%s\t%d\n", nf, mid+1, rel, start, recv, name, end-start+1)
					continue
				}
				if recv != "" || fd.Recv != nil || !(strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Benchmark")) {
					continue
				}
				nt++
				tests = append(tests, fmt.Sprintf("T\t%d\t%d\t%s\t%d\t%s\t%d", nt, mid+1, rel, start, name, end-start+1))
			}
		}
	}
	for _, t := range tests {
		fmt.Println(t)
	}
	fmt.Fprintf(os.Stderr, "modules=%d features=%d tests=%d\n", len(modules), nf, nt)
}

// receiverName is the receiver's type name without "*" and type parameters.
func receiverName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
