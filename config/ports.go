package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// StackPort shifts the port of addr (host:port) by WEIR_STACK_PORT_OFFSET,
// the offset the native local stack's ports are shifted by, so the jobs of
// two stacks on one machine do not collide. Without the variable addr is
// returned as it is.
func StackPort(addr string) (string, error) {
	v := os.Getenv("WEIR_STACK_PORT_OFFSET")
	if v == "" {
		return addr, nil
	}
	off, err := strconv.Atoi(v)
	if err != nil {
		return "", fmt.Errorf("WEIR_STACK_PORT_OFFSET: %w", err)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+off)), nil
}

// StackListen is addr shifted as StackPort does, or addr itself when the
// offset or addr cannot be read: the default listen address of a job of
// the stack, where the stack's Prometheus looks for it.
func StackListen(addr string) string {
	shifted, err := StackPort(addr)
	if err != nil {
		return addr
	}
	return shifted
}
