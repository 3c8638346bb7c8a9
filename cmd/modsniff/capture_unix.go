//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// runAs is the user who invoked sudo: the wrapped command runs as them.
type runAs struct {
	uid, gid   int
	groups     []uint32
	name, home string
}

// invokingUser returns the user who ran modsniff through sudo (SUDO_UID,
// SUDO_GID), or nil when modsniff is not root by sudo.
func invokingUser() (*runAs, error) {
	su, sg := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
	if os.Geteuid() != 0 || su == "" {
		return nil, nil
	}
	uid, err := strconv.Atoi(su)
	if err != nil || uid < 0 {
		return nil, fmt.Errorf("SUDO_UID=%q is not a user ID", su)
	}
	if uid == 0 {
		return nil, nil
	}
	gid, err := strconv.Atoi(sg)
	if err != nil || gid < 0 {
		return nil, fmt.Errorf("SUDO_GID=%q is not a group ID", sg)
	}
	r := &runAs{uid: uid, gid: gid, name: os.Getenv("SUDO_USER")}
	if u, err := user.LookupId(su); err == nil {
		r.name, r.home = u.Username, u.HomeDir
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.ParseUint(id, 10, 32); err == nil {
					r.groups = append(r.groups, uint32(g))
				}
			}
		}
	}
	if r.name == "" {
		r.name = su
	}
	return r, nil
}

// environ is environ with HOME, USER and LOGNAME of the user; the rest is
// kept.
func (r *runAs) environ(environ []string) []string {
	set := map[string]string{"USER": r.name, "LOGNAME": r.name}
	if r.home != "" {
		set["HOME"] = r.home
	}
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for _, k := range []string{"HOME", "USER", "LOGNAME"} {
		if v, ok := set[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// prepare makes cmd run as the user.
func (r *runAs) prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid), Groups: r.groups}
}
