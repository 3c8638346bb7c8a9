package wire

import (
	"testing"
	"time"
	"unsafe"
)

func TestRefNamesInputOnlyAfterTheFirst(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		ref  Ref
		want string
		zero bool
	}{
		{Ref{}, "#0", true},
		{NewRef(0, 12, at), "#12", false},
		{Ref{Input: 1, Packet: 12}, "1#12", false},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.ref, got, tt.want)
		}
		if got := tt.ref.IsZero(); got != tt.zero {
			t.Errorf("%+v.IsZero() = %v, want %v", tt.ref, got, tt.zero)
		}
	}
}

func TestDirNamesTheSenderAndFlips(t *testing.T) {
	if ClientToServer.String() != "client" || ServerToClient.String() != "server" {
		t.Errorf("names: %q %q", ClientToServer, ServerToClient)
	}
	if ClientToServer.Other() != ServerToClient || ServerToClient.Other() != ClientToServer {
		t.Error("Other does not flip the direction")
	}
}

func TestRefKeepsTimeToTheNanosecondInSixteenBytes(t *testing.T) {
	if got := unsafe.Sizeof(Ref{}); got != 16 {
		t.Errorf("Ref is %d bytes, want 16", got)
	}
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero time stays zero", time.Time{}, time.Time{}},
		{"the epoch is a time, not the zero time", time.Unix(0, 0), time.Unix(0, 0).UTC()},
		{"nanoseconds survive", time.Unix(1_700_000_000, 123_456_789), time.Unix(1_700_000_000, 123_456_789).UTC()},
		{"a zone is read as UTC", time.Date(2026, 12, 5, 13, 0, 0, 1, time.FixedZone("X", 3600)), time.Date(2026, 12, 5, 12, 0, 0, 1, time.UTC)},
		{"before 1678 is clamped", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), minTime.UTC()},
		{"after 2262 is clamped", time.Date(2554, 1, 1, 0, 0, 0, 0, time.UTC), maxTime.UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRef(2, 7, tt.in)
			if got := r.Time(); !got.Equal(tt.want) || got.Location() != tt.want.Location() {
				t.Errorf("Time() = %v, want %v", got, tt.want)
			}
			if r.Input != 2 || r.Packet != 7 {
				t.Errorf("input/packet = %d/%d", r.Input, r.Packet)
			}
		})
	}
}

func TestNewRefHoldsLargePacketNumbersAtTheLimit(t *testing.T) {
	if r := NewRef(0, MaxPacket+10, time.Time{}); r.Packet != MaxPacket {
		t.Errorf("packet %d, want %d", r.Packet, MaxPacket)
	}
	if r := NewRef(-1, -5, time.Time{}); r.Input != 0 || r.Packet != 0 {
		t.Errorf("negative numbers kept: %+v", r)
	}
}
