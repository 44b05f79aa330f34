// go-daemon, as its README shows: Reborn() re-executes the program as the
// daemon, which then writes and locks the pid file.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sevlyar/go-daemon"
)

func main() {
	context := &daemon.Context{
		PidFileName: os.Args[1],
		PidFilePerm: 0644,
		WorkDir:     "/",
		Umask:       0,
	}
	child, err := context.Reborn()
	if err != nil {
		os.Exit(1)
	}
	if child != nil {
		return
	}
	defer context.Release()
	delay, _ := strconv.Atoi(os.Getenv("READY_DELAY_MS"))
	time.Sleep(time.Duration(delay) * time.Millisecond)
	for {
		fmt.Println(time.Now())
		time.Sleep(time.Second)
	}
}
