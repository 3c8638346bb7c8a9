package wire

import (
	"testing"
	"time"
)

func TestRefNamesInputOnlyAfterTheFirst(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		ref  Ref
		want string
		zero bool
	}{
		{Ref{}, "#0", true},
		{Ref{Packet: 12, Time: at}, "#12", false},
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
