//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

func raiseNoFile() (uint64, error) {
	return 0, errors.New("not supported on this system")
}

func childAttr() *syscall.SysProcAttr { return nil }

func selfCPU() time.Duration { return 0 }
