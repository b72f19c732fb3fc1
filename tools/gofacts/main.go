// gofacts lists the functions, methods and tests of a Go source tree using
// Go's own parser (go/parser), as an independent check of porttrack's
// importer. It applies the same rules as README's "Go import rules" and
// prints one line per item:
//
//	F <id> <path> <line> <receiver> <name> <loc>
//	T <id> <path> <line> <name> <loc>
//	C <test id> <comma-separated bare names the test body calls>
//
// Usage: go run tools/gofacts/main.go DIR
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

func main() {
	root := os.Args[1]
	base := filepath.Base(root)
	var files []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".go") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, base+"/"+filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	fset := token.NewFileSet()
	nf, nt := 0, 0
	for _, rel := range files {
		p := filepath.Join(filepath.Dir(root), rel)
		src, _ := os.ReadFile(p)
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			fmt.Fprintln(os.Stderr, "PARSEERR", rel, err)
			continue
		}
		ignored := false
		for _, cg := range f.Comments {
			if cg.Pos() > f.Package {
				break
			}
			for _, c := range cg.List {
				if c.Text == "//go:build ignore" || c.Text == "// +build ignore" {
					ignored = true
				}
			}
		}
		if ignored {
			fmt.Println("IGNORED", rel)
			continue
		}
		isTest := strings.HasSuffix(rel, "_test.go")
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			start := fset.Position(fd.Pos()).Line
			if fd.Doc != nil {
				start = fset.Position(fd.Type.Func).Line
			}
			end := fset.Position(fd.End()).Line
			recv := ""
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				t := fd.Recv.List[0].Type
				if s, ok := t.(*ast.StarExpr); ok {
					t = s.X
				}
				switch x := t.(type) {
				case *ast.Ident:
					recv = x.Name
				case *ast.IndexExpr:
					recv = x.X.(*ast.Ident).Name
				case *ast.IndexListExpr:
					recv = x.X.(*ast.Ident).Name
				}
			}
			name := fd.Name.Name
			if isTest {
				if recv != "" || !strings.HasPrefix(name, "Test") || name == "TestMain" {
					continue
				}
				rest := name[4:]
				if rest != "" {
					r, _ := utf8.DecodeRuneInString(rest)
					if unicode.IsLower(r) {
						continue
					}
				}
				nt++
				fmt.Printf("T\t%d\t%s\t%d\t%s\t%d\n", nt, rel, start, name, end-start+1)
				calls := map[string]bool{}
				if fd.Body != nil {
					ast.Inspect(fd.Body, func(n ast.Node) bool {
						if c, ok := n.(*ast.CallExpr); ok {
							switch f := c.Fun.(type) {
							case *ast.Ident:
								calls[f.Name] = true
							case *ast.SelectorExpr:
								calls[f.Sel.Name] = true
							}
						}
						return true
					})
				}
				names := []string{}
				for k := range calls {
					names = append(names, k)
				}
				sort.Strings(names)
				fmt.Printf("C\t%d\t%s\n", nt, strings.Join(names, ","))
			} else {
				nf++
				fmt.Printf("F\t%d\t%s\t%d\t%s\t%s\t%d\n", nf, rel, start, recv, name, end-start+1)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "features=%d tests=%d\n", nf, nt)
}
