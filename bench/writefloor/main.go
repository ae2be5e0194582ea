// Command writefloor measures the floor of a live fan-out's server CPU on
// this machine: what one write(2) of a frame to a loopback TCP connection
// costs the writing thread, with nothing else — no GraphQL, no WebSocket
// framing logic, no locks. On loopback that syscall also runs the
// receiving side's TCP stack and wakes the reader (the kernel does both in
// the sender's context), so it is the least any server writing one frame
// per subscriber per event spends here, and the number to read
// bench/livesubs' "server CPU per delivery" against.
//
// It opens -conns connection pairs on 127.0.0.1, a reader goroutine
// draining each, and from one goroutine locked to its OS thread writes a
// -size byte frame to every connection, -events times, at -rate per
// second; the thread's own CPU time (getrusage RUSAGE_THREAD) divided by
// the writes is the floor.
//
//	go run ./bench/writefloor -conns 5000 -size 260
//
// Tested by running it: bench/run.sh (make bench) runs it; it has no unit
// tests.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"
)

func main() {
	conns := flag.Int("conns", 5000, "connections (two descriptors each, in this process)")
	size := flag.Int("size", 260, "bytes per frame (a WebSocket frame of one eventTracked delivery is about 260)")
	events := flag.Int("events", 50, "frames written to every connection")
	rate := flag.Float64("rate", 10, "events per second")
	flag.Parse()
	if err := run(*conns, *size, *events, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "writefloor:", err)
		os.Exit(1)
	}
}

func run(n, size, events int, rate float64) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	writers := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return fmt.Errorf("dial (raise ulimit -n?): %w", err)
		}
		go io.Copy(io.Discard, c) //nolint:errcheck // the reader drains until the end
		writers = append(writers, <-accepted)
	}
	frame := make([]byte, size)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	wall := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var busy time.Duration
	for e := range events {
		if e > 0 {
			<-tick.C
		}
		t0 := time.Now()
		for _, c := range writers {
			if _, err := c.Write(frame); err != nil {
				return err
			}
		}
		busy += time.Since(t0)
	}
	cpu := threadCPU() - start
	writes := n * events
	fmt.Printf("writefloor conns=%d size=%d events=%d writes=%d thread_cpu=%s wall=%s cpu_per_write=%.2fus wall_per_event=%.1fms\n",
		n, size, events, writes, cpu.Round(time.Millisecond), time.Since(wall).Round(time.Millisecond),
		float64(cpu)/float64(writes)/1e3, float64(busy)/float64(events)/1e6)
	for _, c := range writers {
		c.Close()
	}
	return nil
}

// threadCPU is the calling OS thread's user and system time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
