// Package docker tests moat the way most people will meet it: registered
// as a runtime with a real Docker engine (`dockerd --add-runtime
// moat=…`) and with containerd's runc shim (`ctr run --runtime
// io.containerd.runc.v2 --runc-binary …/moat`), both of which drive moat
// with runc's command line.
//
// The tests are behind the build tag "docker" so that `go test ./...`
// leaves them out: run them with `make test-docker` (which installs
// docker.io, containerd and runc with apt when missing). TestMain starts a
// private containerd and dockerd (their own sockets, state and data
// directories under /run/moat-test-* and /var/lib/moat-test-*, no
// iptables, no bridge), imports a busybox image made from the host's
// static busybox, runs the cases and tears everything down: no daemon,
// shim or sandbox is left running and the directories are removed. Where
// the machine lacks root or the daemons the tests skip with the reason,
// except with CI=true, where that is a failure.
package docker
