// Copyright 2026 The daemonkit Authors.
//
// The original demo's Go program, without its fork: it says "Run daemon",
// its gid/uid and pid/ppid, then the time every second. It does not
// daemonize itself (a Go program cannot fork once its runtime runs: the
// child keeps one thread of several, see tests/go_ticker_test.cc), and needs
// no change to become a correct daemon, in either of two ways (README, "The
// Go demo"). Run by the daemonkit command (tools/daemonkit.cc):
//
//	daemonkit --daemon_pidfile=/tmp/t.pid --daemon_stdout=/tmp/t.log \
//	    --ready=started -- ./ticker
//
// Or built with daemonize.go (-tags daemonkit), which daemonizes it through
// the C API (//daemon:c) in a cgo constructor, before the Go runtime starts:
//
//	./ticker --daemon_pidfile=/tmp/t.pid --daemon_stdout=/tmp/t.log
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("Run daemon")
	fmt.Printf("User gid: %d, uid: %d\n", os.Getegid(), os.Geteuid())
	fmt.Printf("Process id: %d %d\n", os.Getpid(), os.Getppid())
	// RFC 3339 with microseconds and a numeric offset, as the C and C++
	// tickers print it.
	const layout = "2006-01-02T15:04:05.000000-07:00"
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for now := time.Now(); ; now = <-tick.C {
		fmt.Println(now.Format(layout))
	}
}
