// Command servefile is the reference server of scripts/bench.sh: it serves
// one file with http.ServeFile, at every path, so the benchmark can compare
// the portal's download with the plainest Go file server.
//
//	go run ./scripts/bench/servefile -file /path/to/blob -listen 127.0.0.1:8081
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
)

func main() {
	file := flag.String("file", "", "the file to serve")
	listen := flag.String("listen", "127.0.0.1:0", "the address to listen on")
	flag.Parse()
	if *file == "" {
		log.Fatal("servefile: -file is required")
	}
	if _, err := os.Stat(*file); err != nil {
		log.Fatalf("servefile: %v", err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, *file)
	})
	log.Fatal(http.ListenAndServe(*listen, h))
}
