//go:build docker

package docker

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDockerBridgeServer runs busybox httpd in a moat container on
// Docker's bridge network and fetches a page from the host through the
// container's own address: a server's sockets in the sandbox are real
// sockets in the network namespace Docker made and configured.
func TestDockerBridgeServer(t *testing.T) {
	e := needEnv(t)
	r := e.docker("run", "-d", "--runtime=moat", image, "sh", "-c",
		"mkdir /www && echo served-by-moat > /www/index.html && exec httpd -f -p 8080 -h /www")
	if r.Exit != 0 {
		t.Fatalf("docker run -d: %v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	defer e.docker("rm", "-f", id)
	r = e.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", id)
	ip := strings.TrimSpace(r.Stdout)
	if r.Exit != 0 || net.ParseIP(ip) == nil {
		t.Fatalf("docker inspect: no address: %v", r)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	url := "http://" + net.JoinHostPort(ip, "8080") + "/index.html"
	// The server starts asynchronously: wait for it to listen (this is
	// readiness, not a timing assertion).
	var body string
	var lastErr error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		body = string(b)
		break
	}
	if body != "served-by-moat\n" {
		logs := e.docker("logs", id)
		t.Fatalf("GET %s: body %q, last error %v; container logs: %v", url, body, lastErr, logs)
	}
}

// TestDockerBridgeClient connects from a moat container to a listener of
// the test on the bridge's host address: outgoing TCP from the sandbox.
func TestDockerBridgeClient(t *testing.T) {
	e := needEnv(t)
	host, _, _ := strings.Cut(bridgeCIDR, "/")
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		fmt.Fprintf(c, "ack %s", line)
		got <- line
	}()
	r := e.docker("run", "--rm", "--runtime=moat", image, "sh", "-c",
		fmt.Sprintf("echo hello-from-moat | nc %s %d", host, port))
	if r.Exit != 0 || r.Stdout != "ack hello-from-moat\n" {
		t.Errorf("docker run nc: %v", r)
	}
	select {
	case line := <-got:
		if line != "hello-from-moat\n" {
			t.Errorf("listener got %q", line)
		}
	case <-time.After(60 * time.Second):
		t.Error("the listener never heard from the container")
	}
}

// TestDockerNetworkContainer runs a second moat container in the first's
// network namespace (--network container:X, which Docker passes as a
// namespace path): it sees the first's bridge address and reaches its
// server on localhost.
func TestDockerNetworkContainer(t *testing.T) {
	e := needEnv(t)
	r := e.docker("run", "-d", "--runtime=moat", image, "sh", "-c",
		"mkdir /www && echo shared-netns > /www/index.html && exec httpd -f -p 8081 -h /www")
	if r.Exit != 0 {
		t.Fatalf("docker run -d: %v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	defer e.docker("rm", "-f", id)
	ip := strings.TrimSpace(e.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", id).Stdout)
	if net.ParseIP(ip) == nil {
		t.Fatalf("no address for the first container")
	}
	// Retry until the server listens (readiness, not timing).
	script := "for i in $(seq 1 100); do wget -q -O - http://127.0.0.1:8081/index.html && break; sleep 0.2; done; ip -o addr"
	r = e.docker("run", "--rm", "--runtime=moat", "--network", "container:"+id, image, "sh", "-c", script)
	if r.Exit != 0 || !strings.HasPrefix(r.Stdout, "shared-netns\n") || !strings.Contains(r.Stdout, ip+"/") {
		t.Errorf("docker run --network container:%s: want the page and the address %s, got %v", id, ip, r)
	}
}
