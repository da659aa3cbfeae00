package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultRoot is where container state lives unless --root says otherwise.
const DefaultRoot = "/run/moat"

// Files inside one container's state directory.
const (
	StateFile   = "state.json"
	LockFile    = "lock"
	ControlSock = "control.sock"
)

// ErrNotExist is wrapped by errors about an unknown container ID.
var ErrNotExist = errors.New("does not exist")

// ErrExist is wrapped by Create when the ID is in use.
var ErrExist = errors.New("container ID already exists")

var idPattern = regexp.MustCompile(`^[\w+\-.]+$`)

// ValidateID checks a container ID. IDs become directory names under
// --root, so "/" and the names "." and ".." must never get through.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("container ID is empty")
	}
	if len(id) > 1024 {
		return fmt.Errorf("container ID %.20q...: too long", id)
	}
	if !idPattern.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("container ID %q: invalid (allowed: letters, digits, _ + - .)", id)
	}
	return nil
}

// State is what moat keeps on disk about one container: the OCI state
// plus what moat needs to find and check its sentry again.
type State struct {
	specs.State
	// Created is when create started.
	Created time.Time `json:"created"`
	// StartTime is the sentry's start time in clock ticks since boot
	// (field 22 of /proc/PID/stat): a PID alone may have been reused by
	// an unrelated process by the time delete kills it.
	StartTime uint64 `json:"startTime,omitempty"`
	// Rootfs is the resolved root.path.
	Rootfs string `json:"rootfs,omitempty"`
	// Owner is the uid that created the container.
	Owner int `json:"owner"`
	// Hooks are config.json's hooks as create read them: start and
	// delete run them from here, since later edits of config.json must
	// not affect the container.
	Hooks *specs.Hooks `json:"hooks,omitempty"`
}

// Root is the --root directory.
type Root struct {
	Dir string
}

// ContainerDir returns the state directory of id.
func (r Root) ContainerDir(id string) string { return filepath.Join(r.Dir, id) }

// Container is one container's state directory, locked by its opener.
type Container struct {
	ID  string
	Dir string
	// lock is the flock'ed lock file; nil once unlocked.
	lock *os.File
}

// Create makes the state directory of a new container and locks it. It
// fails with ErrExist when the ID is in use.
func (r Root) Create(id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Dir, 0o711); err != nil {
		return nil, fmt.Errorf("state root %s: %w", r.Dir, err)
	}
	dir := r.ContainerDir(id)
	// mkdir is the atomic test-and-set: two creates of one ID race here
	// and exactly one wins.
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrExist)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	c := &Container{ID: id, Dir: dir}
	if err := c.Lock(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// Open locks the state directory of an existing container.
func (r Root) Open(id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := r.ContainerDir(id)
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err != nil {
		return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
	}
	c := &Container{ID: id, Dir: dir}
	if err := c.Lock(); err != nil {
		return nil, err
	}
	// A delete that held the lock before us may have removed it.
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err != nil {
		c.Unlock()
		return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
	}
	return c, nil
}

// List returns the IDs of the containers under r, sorted.
func (r Root) List() ([]string, error) {
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("state root %s: %w", r.Dir, err)
	}
	var ids []string
	for _, e := range ents {
		if !e.IsDir() || ValidateID(e.Name()) != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.Dir, e.Name(), StateFile)); err != nil {
			continue
		}
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids, nil
}

// Lock takes the container's exclusive lock, waiting for other moat
// commands on the same container to finish.
func (c *Container) Lock() error {
	if c.lock != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(c.Dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("container %q: lock: %w", c.ID, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("container %q: lock: %w", c.ID, err)
	}
	c.lock = f
	return nil
}

// Unlock releases the lock taken by Create, Open or Lock.
func (c *Container) Unlock() {
	if c.lock == nil {
		return
	}
	// Closing the descriptor drops the flock.
	c.lock.Close()
	c.lock = nil
}

// ReadState reads state.json.
func (c *Container) ReadState() (*State, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, StateFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("container %q: %w", c.ID, ErrNotExist)
		}
		return nil, fmt.Errorf("container %q: %w", c.ID, err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("container %q: %s: %w", c.ID, StateFile, err)
	}
	return &st, nil
}

// WriteState replaces state.json atomically: readers see the old or the
// new file, never half of one.
func (c *Container) WriteState(st *State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("container %q: %w", c.ID, err)
	}
	if err := WriteFileAtomic(filepath.Join(c.Dir, StateFile), data, 0o600); err != nil {
		return fmt.Errorf("container %q: %w", c.ID, err)
	}
	return nil
}

// ControlSocket returns the path of the sentry's control socket.
func (c *Container) ControlSocket() string { return filepath.Join(c.Dir, ControlSock) }

// Remove deletes the state directory and releases the lock.
func (c *Container) Remove() error {
	err := os.RemoveAll(c.Dir)
	c.Unlock()
	if err != nil {
		return fmt.Errorf("container %q: %w", c.ID, err)
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file beside path and renames
// it over path.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ProcStartTime returns the start time of process pid in clock ticks since
// boot, from /proc/PID/stat, and whether the process is a zombie.
func ProcStartTime(pid int) (start uint64, zombie bool, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	return parseStat(string(data))
}

// parseStat extracts the state (field 3) and starttime (field 22) of a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(s string) (start uint64, zombie bool, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("/proc stat %q: malformed", s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, false, fmt.Errorf("/proc stat %q: too few fields", s)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("/proc stat starttime %q: %w", f[19], err)
	}
	return start, f[0] == "Z" || f[0] == "X", nil
}

// Alive reports whether the sentry recorded in st still runs: the PID
// exists, is not a zombie, and has the recorded start time.
func (st *State) Alive() bool {
	if st.Pid <= 0 {
		return false
	}
	start, zombie, err := ProcStartTime(st.Pid)
	if err != nil || zombie {
		return false
	}
	return st.StartTime == 0 || start == st.StartTime
}

// Ours reports whether PID st.Pid is still the process create started,
// zombie or not (so it may be signalled and waited for).
func (st *State) Ours() bool {
	if st.Pid <= 0 {
		return false
	}
	start, _, err := ProcStartTime(st.Pid)
	if err != nil {
		return false
	}
	return st.StartTime == 0 || start == st.StartTime
}
