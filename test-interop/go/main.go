// Command interop replays peerstore and bandwidth traces against go-libp2p
// so the TS side can compare its own results op by op.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: interop peerstore-trace|bandwidth-trace|node [file]")
	}
	in := io.Reader(os.Stdin)
	if len(os.Args) > 2 {
		f, err := os.Open(os.Args[2])
		if err != nil {
			fail(err.Error())
		}
		defer f.Close()
		in = f
	}
	var out any
	var err error
	switch os.Args[1] {
	case "peerstore-trace":
		// One P: a take's runtime.Gosched then runs the stream goroutines (addrstream.go).
		runtime.GOMAXPROCS(1)
		if err := runPeerstoreTraces(in, os.Stdout); err != nil {
			fail(err.Error())
		}
		return
	case "bandwidth-trace":
		out, err = runBandwidthTrace(in)
	case "node":
		if err := runNode(in, os.Stdout); err != nil {
			fail(err.Error())
		}
		return
	default:
		fail("unknown mode " + os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
