// Copyright 2026 The daemonkit Authors.
//
// The original demo's mistake, kept for tests/go_ticker_test.cc to show:
// fork() from cgo once the Go runtime runs. The child is a copy of the one
// thread that called fork; the runtime's other threads (sysmon, the
// scheduler's Ms, the garbage collector's workers) are not in it, so
// whatever they held or were about to do is lost. The child stays in C
// (returning into Go there would be undefined), and the parent prints both
// pids, then waits to be killed.
package main

/*
#include <unistd.h>

static int fork_like_the_demo(void) {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return (int)pid;
}
*/
import "C"

import (
	"fmt"
	"os"
	"time"
)

func main() {
	// Goroutines that block in system calls make the runtime start threads.
	for i := 0; i < 4; i++ {
		go func() {
			for {
				time.Sleep(time.Millisecond)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	child := C.fork_like_the_demo()
	if child < 0 {
		fmt.Fprintln(os.Stderr, "fork failed")
		os.Exit(1)
	}
	fmt.Printf("parent %d child %d\n", os.Getpid(), int(child))
	select {}
}
