// Command checksize fails when product code grows past the project's
// limits: a file over 600 lines or a function over 80 lines. Tests,
// scripts and vendored files are not product code.
//
//	go run ./scripts/checksize [-max-file 600] [-max-func 80] [dir]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	maxFile := flag.Int("max-file", 600, "most lines in one product file")
	maxFunc := flag.Int("max-func", 80, "most lines in one function, from its signature to its closing brace")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	problems, err := check(root, *maxFile, *maxFunc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checksize:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Printf("checksize: %d problems (files ≤ %d lines, functions ≤ %d lines)\n", len(problems), *maxFile, *maxFunc)
		os.Exit(1)
	}
}

// product reports whether path is product Go code.
func product(path string) bool {
	if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		switch part {
		case "scripts", "vendor", "testdata", "node_modules", ".git":
			return false
		}
	}
	return true
}

func check(root string, maxFile, maxFunc int) ([]string, error) {
	var problems []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !product(path) {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if n := fset.File(f.Pos()).LineCount(); n > maxFile {
			problems = append(problems, fmt.Sprintf("%s: %d lines (at most %d)", path, n, maxFile))
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := fset.Position(fn.Pos()).Line, fset.Position(fn.End()).Line
			if n := end - start; n > maxFunc {
				problems = append(problems, fmt.Sprintf("%s:%d: func %s: %d lines (at most %d)", path, start, fn.Name.Name, n, maxFunc))
			}
		}
		return nil
	})
	return problems, err
}
