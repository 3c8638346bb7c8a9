package synth

import (
	"errors"
	"io"
	"net"
	"testing"
)

func TestConverseRecordsWritesInCausalOrder(t *testing.T) {
	client := func(c net.Conn) error {
		c.Write([]byte("ping"))
		c.Write([]byte("ping2"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		_, err := c.Write([]byte("bye"))
		return err
	}
	server := func(c net.Conn) error {
		buf := make([]byte, 9)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		_, err := c.Write([]byte("pong"))
		return err
	}
	conv := Converse(client, server)
	if conv.ClientErr != nil || conv.ServerErr != nil {
		t.Fatalf("errors: client %v, server %v", conv.ClientErr, conv.ServerErr)
	}
	want := []Chunk{{FromClient, []byte("ping"), 0}, {FromClient, []byte("ping2"), 0}, {FromServer, []byte("pong"), 0}, {FromClient, []byte("bye"), 0}}
	if len(conv.Transcript) != len(want) {
		t.Fatalf("%d writes, want %d", len(conv.Transcript), len(want))
	}
	for i, c := range conv.Transcript {
		if c.Dir != want[i].Dir || string(c.Data) != string(want[i].Data) {
			t.Errorf("write %d: %v %q, want %v %q", i, c.Dir, c.Data, want[i].Dir, want[i].Data)
		}
	}
}

func TestConverseEndsReadsWithoutDeadlock(t *testing.T) {
	read := func(c net.Conn) error { _, err := c.Read(make([]byte, 1)); return err }
	for _, tc := range []struct {
		name           string
		client, server func(net.Conn) error
		clientErr      error
		serverErr      error
	}{
		{"both read: the second stalls, the first sees it leave", read, read, io.EOF, ErrStalled},
		{"the peer returned: EOF", read, func(net.Conn) error { return nil }, io.EOF, nil},
		{"the peer closed: EOF", read, func(c net.Conn) error { return c.Close() }, io.EOF, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conv := Converse(tc.client, tc.server)
			if !errors.Is(conv.ClientErr, tc.clientErr) || !errors.Is(conv.ServerErr, tc.serverErr) {
				t.Errorf("client %v, server %v; want %v, %v", conv.ClientErr, conv.ServerErr, tc.clientErr, tc.serverErr)
			}
		})
	}
}

func TestThinkIsRecordedWithoutData(t *testing.T) {
	conv := Converse(func(c net.Conn) error {
		Think(c, 7)
		_, err := c.Write([]byte("x"))
		return err
	}, func(net.Conn) error { return nil })
	tr := conv.Transcript
	if len(tr) != 2 || tr[0].Data != nil || tr[0].Think != 7 || string(tr[1].Data) != "x" {
		t.Errorf("transcript %+v", tr)
	}
	if got := string(tr.Bytes(FromClient)); got != "x" {
		t.Errorf("Bytes = %q", got)
	}
}
