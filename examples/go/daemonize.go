// Copyright 2026 The daemonkit Authors.
//
// The demo's own approach, daemonizing from inside the Go program through
// cgo, made safe: the C API (daemon/c/daemonkit.h) daemonizes in a
// constructor, which runs before the Go runtime starts its threads, so
// the forks copy a process of one thread and lose nothing. (The demo forked
// from main, after the runtime started; tests/go_ticker_test.cc shows the
// child keeping one thread of the several the runtime had.) glibc calls
// the constructor with argc, argv and envp, so the --daemon_* flags,
// control actions included, work as in C; Go's own flag parsing, if any,
// must skip them.
//
// Built only with -tags daemonkit, and linked against the shared library
// of the C API (//daemon:libdaemonkit_c.so): a shared library's C++
// static constructors (Abseil's flag registry, glog) run before the
// executable's constructors, whereas in one static link their order
// against this constructor would be the linker's. README, "The Go demo",
// has the build command.
//
// Signals: the Go runtime installs its own handlers over the library's
// when it starts, so SIGTERM and SIGINT would kill the daemon without
// removing its pid file and SIGHUP would kill it instead of reopening its
// output. init() below takes them with os/signal and hands each to the
// library's handler, saved by the constructor; the handle's loop
// (daemonkit_wait) runs on one locked OS thread and ends the program on a
// stop.

//go:build daemonkit

package main

/*
#cgo LDFLAGS: -ldaemonkit_c
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/c/daemonkit.h"

static daemonkit_daemon* daemonkit_handle;
static const int daemonkit_routed[3] = {SIGTERM, SIGINT, SIGHUP};
static struct sigaction daemonkit_library_action[3];

__attribute__((constructor)) static void daemonkit_before_go(int argc,
                                                             char** argv,
                                                             char** envp) {
  (void)envp;
  // Control actions exit here; the launcher exits here once
  // daemonkit_go_serve() declares the daemon ready; only the daemon goes on
  // into Go.
  int rc = daemonkit_daemonize(argc, argv, &daemonkit_handle);
  if (rc != 0) exit(rc);
  for (int i = 0; i < 3; ++i) {
    if (sigaction(daemonkit_routed[i], NULL, &daemonkit_library_action[i]) !=
        0) {
      daemonkit_fail_startup(daemonkit_handle, "sigaction failed");
      exit(1);
    }
  }
}

// Runs the library's handler for `signo`, which writes it to the library's
// pipe (async-signal-safe, so callable from any thread) and so wakes
// daemonkit_wait() in daemonkit_go_serve().
static void daemonkit_go_forward(int signo) {
  for (int i = 0; i < 3; ++i) {
    if (daemonkit_routed[i] != signo) continue;
    void (*handler)(int) = daemonkit_library_action[i].sa_handler;
    if ((daemonkit_library_action[i].sa_flags & SA_SIGINFO) == 0 &&
        handler != SIG_DFL && handler != SIG_IGN) {
      handler(signo);
    }
  }
}

// The handle's life after the constructor, on one thread: ready (the Go
// runtime runs: the launcher may exit 0), then reloads, the watchdog's
// keep-alives, the pid file's upkeep, until a stop; then removes the pid
// file.
static void daemonkit_go_serve(void) {
  daemonkit_notify_ready(daemonkit_handle);
  while (daemonkit_wait(daemonkit_handle, -1) != DAEMONKIT_EVENT_STOP) {
  }
  daemonkit_close(daemonkit_handle);
  daemonkit_handle = NULL;
}
*/
import "C"

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func init() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for sig := range signals {
			C.daemonkit_go_forward(C.int(sig.(syscall.Signal)))
		}
	}()
	go func() {
		// The handle is used from this thread only, from now on.
		runtime.LockOSThread()
		C.daemonkit_go_serve()
		os.Exit(0)
	}()
}
