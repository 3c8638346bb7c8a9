//go:build !unix

package main

import "os/exec"

// runAs is the user who invoked sudo; there is no sudo here.
type runAs struct {
	uid, gid int
	name     string
}

func invokingUser() (*runAs, error)                { return nil, nil }
func (r *runAs) environ(environ []string) []string { return environ }
func (r *runAs) prepare(cmd *exec.Cmd)             {}
