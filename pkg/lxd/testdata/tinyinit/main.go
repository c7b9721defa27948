// Command tinyinit is the only program in the integration tests' image:
// PID 1 waits for a stop signal; other invocations act by their first
// argument, so Exec can be tested without a distribution in the image.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if os.Getpid() == 1 {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGPWR, syscall.SIGTERM, syscall.SIGINT)
		<-c
		os.Exit(0)
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tinyinit cat|echo|exit|bytes|sleep ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "cat": // stdin to stdout
		_, _ = io.Copy(os.Stdout, os.Stdin)
	case "echo": // args to stdout, "err:" args to stderr
		for _, a := range os.Args[2:] {
			if len(a) > 4 && a[:4] == "err:" {
				fmt.Fprintln(os.Stderr, a[4:])
				continue
			}
			fmt.Println(a)
		}
	case "exit":
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	case "bytes": // N bytes of a repeating pattern to stdout, then "end\n"
		n, _ := strconv.Atoi(os.Args[2])
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		_, _ = os.Stdout.Write(b)
		fmt.Println("end")
	case "sleep":
		d, _ := time.ParseDuration(os.Args[2])
		time.Sleep(d)
	default:
		fmt.Fprintf(os.Stderr, "tinyinit: unknown command %q\n", os.Args[1])
		os.Exit(127)
	}
}
