package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// debianBinaries is where Debian's postgresql packages install, one
// directory per major version.
var debianBinaries = "/usr/lib/postgresql/*/bin"

// findBinaries returns the directory holding initdb and postgres: the
// environment's PGTEST_BINDIR, else Debian's /usr/lib/postgresql/N/bin of
// the highest N, else the directory of postgres on PATH.
func findBinaries() (string, error) {
	if dir := os.Getenv("PGTEST_BINDIR"); dir != "" {
		return dir, checkBinaries(dir)
	}
	dirs, _ := filepath.Glob(debianBinaries)
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if checkBinaries(dir) == nil {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		dir := filepath.Dir(p)
		if checkBinaries(dir) == nil {
			return dir, nil
		}
	}
	return "", skipError{"PostgreSQL binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin, on PATH or in PGTEST_BINDIR; install the postgresql package"}
}

// version is N of /usr/lib/postgresql/N/bin, 0 when not a number.
func version(dir string) int {
	v := filepath.Base(filepath.Dir(dir))
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

func checkBinaries(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("no executable %s in %s", name, dir)
		}
	}
	return nil
}

// credential returns the OS user to run PostgreSQL as: nil (ourselves)
// unless we are root, which initdb and postgres refuse; then the postgres
// user, created with useradd under CI=true when missing.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil && os.Getenv("CI") == "true" {
		if out, err := exec.Command("useradd", "--system", "postgres").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("creating OS user postgres: %v: %s", err, out)
		}
		u, err = user.Lookup("postgres")
	}
	if err != nil {
		return nil, skipError{"running as root and there is no OS user postgres to run PostgreSQL as (initdb refuses root): " + err.Error()}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Temporary directories are named dirPrefix*; ownerFile in each holds the
// PID of the test binary that made it.
const (
	dirPrefix = "govbus-pgtest-"
	ownerFile = "owner.pid"
)

// sweep removes the directories left by test binaries that exited without
// cleaning up (see Start): those whose owner and postmaster have both gone.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		if alive(filepath.Join(dir, ownerFile)) || alive(filepath.Join(dir, "data", "postmaster.pid")) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, ownerFile)); err == nil {
			os.RemoveAll(dir)
		}
	}
}

// alive reports whether the PID on the first line of the file at path is a
// running process; false when the file is missing.
func alive(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// children returns the PIDs of the processes whose parent is pid, read from
// /proc.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if child, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			pids = append(pids, child)
		}
	}
	return pids
}
