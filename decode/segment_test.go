package decode

import (
	"slices"
	"testing"
)

// TestSegmentsRecordWhatEachMomentAdded checks that a segment holds the
// events each moment added, that a moment adding more than a byte counts
// takes several segments with its key, and that a moment adding nothing
// takes none.
func TestSegmentsRecordWhatEachMomentAdded(t *testing.T) {
	d := &Decoder{ev: &Events{}}
	l := &segLog{d: d}
	first, second, third := moment{at: 1, phase: phasePacket}, moment{at: 2, phase: phasePacket}, moment{at: 3, phase: phaseSweep, flow: 7}

	l.begin(first)
	d.ev.DNS = make([]*DNSExchange, 2)
	d.ev.Notes = make([]Note, 1)
	l.begin(second) // adds nothing
	l.begin(third)
	d.ev.TCP = make([]*TCPConn, 600)
	d.ev.DNS = make([]*DNSExchange, 3)
	l.seal()

	want := []segment{
		{key: first, added: [numEventKinds]uint8{evDNS: 2, evNotes: 1}},
		{key: third, added: [numEventKinds]uint8{evDNS: 1, evTCP: 255}},
		{key: third, added: [numEventKinds]uint8{evTCP: 255}},
		{key: third, added: [numEventKinds]uint8{evTCP: 90}},
	}
	if l.segs.len() != len(want) {
		t.Fatalf("%d segments, want %d", l.segs.len(), len(want))
	}
	for i, w := range want {
		if got := l.segs.at(i); got != w {
			t.Errorf("segment %d: %+v, want %+v", i, got, w)
		}
	}
}

// TestSegmentBlocksAreFreedAsTheyAreRead checks that take frees a block of
// segments once its last one is read, and not before.
func TestSegmentBlocksAreFreedAsTheyAreRead(t *testing.T) {
	var l segList
	for i := range segBlock + 2 {
		l.add(segment{key: moment{at: int64(i)}})
	}
	for i := range segBlock + 2 {
		if got := l.take(i); got.key.at != int64(i) {
			t.Fatalf("segment %d has the key of %d", i, got.key.at)
		}
		if freed := l.blocks[0] == nil; freed != (i >= segBlock-1) {
			t.Fatalf("after segment %d the first block is freed: %v", i, freed)
		}
	}
	if l.blocks[1] == nil {
		t.Error("the last, partly read block was freed")
	}
}

// TestSegmentsAreMergedInMomentOrder checks the order in which the
// shards' segments are merged: by moment, ties in decoder order, the
// segments of one moment that took several in a row, each with the
// decoder's counts before and after it.
func TestSegmentsAreMergedInMomentOrder(t *testing.T) {
	at := func(n int64) moment { return moment{at: n, phase: phasePacket} }
	seg := func(m moment, dns, tcp uint8) segment {
		return segment{key: m, added: [numEventKinds]uint8{evDNS: dns, evTCP: tcp}}
	}
	var a, b, c segList
	for _, s := range []segment{seg(at(1), 1, 0), seg(at(3), 0, 255), seg(at(3), 0, 45), seg(at(5), 2, 0)} {
		a.add(s)
	}
	for _, s := range []segment{seg(at(2), 0, 1), seg(at(3), 1, 0), seg(at(4), 0, 1)} {
		b.add(s)
	}
	type visit struct {
		dec      int
		at       int64
		from, to [2]int32 // DNS, TCP
	}
	var got []visit
	eachSegment([]*segList{&a, &b, &c}, func(di int, key moment, from, to *[numEventKinds]int32) {
		got = append(got, visit{di, key.at, [2]int32{from[evDNS], from[evTCP]}, [2]int32{to[evDNS], to[evTCP]}})
	})
	want := []visit{
		{0, 1, [2]int32{0, 0}, [2]int32{1, 0}},
		{1, 2, [2]int32{0, 0}, [2]int32{0, 1}},
		{0, 3, [2]int32{1, 0}, [2]int32{1, 255}},
		{0, 3, [2]int32{1, 255}, [2]int32{1, 300}},
		{1, 3, [2]int32{0, 1}, [2]int32{1, 1}},
		{1, 4, [2]int32{1, 1}, [2]int32{1, 2}},
		{0, 5, [2]int32{1, 300}, [2]int32{3, 300}},
	}
	if !slices.Equal(got, want) {
		t.Errorf("merged\n%v\nwant\n%v", got, want)
	}
}
