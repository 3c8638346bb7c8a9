//go:build linux

package gokeys

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Layout of a key event in the ring buffer (little-endian, as the host):
//
//	0   u32  process (thread group) ID
//	4   u32  flags: which copies failed (flagLabel, flagRandom, flagSecret)
//	8   u64  label pointer (for a second try from user space)
//	16  u64  label length
//	24  u64  client random length
//	32  u64  secret length
//	40  label, up to maxLabel bytes
//	72  client random, up to maxRandom bytes
//	104 secret, up to maxSecret bytes
const (
	evLabelPtr  = 8
	evLabelLen  = 16
	evRandomLen = 24
	evSecretLen = 32
	evLabel     = 40
	evRandom    = evLabel + maxLabel
	evSecret    = evRandom + maxRandom
	eventSize   = evSecret + maxSecret

	// Bounds of the copies: the longest label of the key log format is
	// 31 bytes, a client random is 32, a secret 32 or 48 (SHA-256 or
	// SHA-384). Longer arguments are not copied and the event is refused
	// in user space.
	maxLabel  = 32
	maxRandom = 32
	maxSecret = 64

	flagLabel  = 1
	flagRandom = 2
	flagSecret = 4
)

// Values of the tracked map: the processes whose keys are read, and the
// ancestors whose descendants are (modsniff itself, so that the command it
// starts is covered from its first instruction).
const (
	trackedAncestor = 1
	trackedProcess  = 2
)

// sigStop is SIGSTOP on Linux (every architecture Go supports).
const sigStop = 19

// maxAncestors is how far up its parents the exec program looks for a
// tracked process (a shell's subshell, make's children).
const maxAncestors = 8

// keyProgram is the uprobe program placed at writeKeyLog's entry: it reads
// the arguments from the registers of regs and copies them, bounded, into
// a ring buffer event. With tracked set, only processes marked
// trackedProcess are read; without, every process running the binary.
func keyProgram(regs registerMap, events, tracked, lost *ebpf.Map) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.RFP, -8, asm.R0, asm.Word),
	}
	if tracked != nil {
		insns = append(insns,
			asm.LoadMapPtr(asm.R1, tracked.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
			asm.JNE.Imm(asm.R1, trackedProcess, "out"),
		)
	}
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, events.FD()),
		asm.Mov.Imm(asm.R2, eventSize),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "lost"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R1, asm.RFP, -8, asm.Word),
		asm.StoreMem(asm.R7, 0, asm.R1, asm.Word),
		asm.StoreImm(asm.R7, 4, 0, asm.Word),
	)
	fields := []struct {
		ptr, len     int16 // registers
		evLen, evBuf int16
		max          int32
		flag         int32
		keepPtr      bool
		skip         string
	}{
		{regs.labelPtr, regs.labelLen, evLabelLen, evLabel, maxLabel, flagLabel, true, "random"},
		{regs.randomPtr, regs.randomLen, evRandomLen, evRandom, maxRandom, flagRandom, false, "secret"},
		{regs.secretPtr, regs.secretLen, evSecretLen, evSecret, maxSecret, flagSecret, false, "submit"},
	}
	for i, f := range fields {
		first := asm.LoadMem(asm.R8, asm.R6, f.ptr, asm.DWord)
		if i > 0 {
			first = first.WithSymbol(fields[i-1].skip)
		}
		insns = append(insns,
			first,
			asm.LoadMem(asm.R9, asm.R6, f.len, asm.DWord),
			asm.StoreMem(asm.R7, f.evLen, asm.R9, asm.DWord),
		)
		if f.keepPtr {
			insns = append(insns, asm.StoreMem(asm.R7, evLabelPtr, asm.R8, asm.DWord))
		}
		insns = append(insns,
			asm.JGT.Imm(asm.R9, f.max, f.skip),
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Add.Imm(asm.R1, int32(f.evBuf)),
			asm.Mov.Reg(asm.R2, asm.R9),
			asm.Mov.Reg(asm.R3, asm.R8),
			asm.FnProbeReadUser.Call(),
			asm.JEq.Imm(asm.R0, 0, f.skip),
			asm.LoadMem(asm.R1, asm.R7, 4, asm.Word),
			asm.Or.Imm(asm.R1, f.flag),
			asm.StoreMem(asm.R7, 4, asm.R1, asm.Word),
		)
	}
	return append(insns, submitTail(lost)...)
}

// submitTail ends a program: submit the ring-buffer record reserved in R7
// (label "submit"), return 0 (label "out"), and the "lost" path that
// counts a record that could not be reserved.
func submitTail(lost *ebpf.Map) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol("submit"),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufSubmit.Call(),
		asm.Ja.Label("out"),
	}
	insns = append(insns, countLost(lost, "lost")...)
	return append(insns,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
}

// countLost adds one to slot 0 of the array lost, then jumps to "out".
func countLost(lost *ebpf.Map, label string) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, -16, 0, asm.Word).WithSymbol(label),
		asm.LoadMapPtr(asm.R1, lost.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 0),
		asm.Ja.Label("out"),
	}
}

// execProgram runs at every exec (raw tracepoint sched_process_exec): when
// the process is tracked, or has a tracked ancestor within maxAncestors
// parents (found through task_struct's real_parent and tgid, at the
// offsets the kernel's BTF gives), it marks the process tracked, stops it
// (SIGSTOP, delivered before its first instruction) and reports its ID, so
// that user space can attach to the new program before it runs and then
// let it continue.
// readKernelField copies size bytes of the kernel structure at base, from
// offset off, to the stack slot at fpOff (bpf_probe_read_kernel), and
// jumps to "out" when the read fails.
func readKernelField(fpOff int16, size int32, base asm.Register, off int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, int32(fpOff)),
		asm.Mov.Imm(asm.R2, size),
		asm.Mov.Reg(asm.R3, base),
		asm.Add.Imm(asm.R3, off),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, "out"),
	}
}

func execProgram(events, tracked, lost *ebpf.Map, realParentOff, tgidOff int32) asm.Instructions {
	insns := asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.RFP, -8, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, tracked.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "walk"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.JEq.Imm(asm.R1, trackedProcess, "emit"),
		asm.Ja.Label("out"),
		asm.FnGetCurrentTask.Call().WithSymbol("walk"),
		asm.Mov.Reg(asm.R6, asm.R0),
	}
	for range maxAncestors {
		insns = append(insns, readKernelField(-24, 8, asm.R6, realParentOff)...)
		insns = append(insns,
			asm.LoadMem(asm.R6, asm.RFP, -24, asm.DWord),
			asm.JEq.Imm(asm.R6, 0, "out"),
		)
		insns = append(insns, readKernelField(-32, 4, asm.R6, tgidOff)...)
		insns = append(insns,
			asm.LoadMem(asm.R1, asm.RFP, -32, asm.Word),
			asm.JLE.Imm(asm.R1, 1, "out"), // init (or the idle task): no tracked ancestor
			asm.LoadMapPtr(asm.R1, tracked.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -32),
			asm.FnMapLookupElem.Call(),
			asm.JNE.Imm(asm.R0, 0, "add"),
		)
	}
	insns = append(insns,
		asm.Ja.Label("out"),
		asm.StoreImm(asm.RFP, -40, trackedProcess, asm.Word).WithSymbol("add"),
		asm.LoadMapPtr(asm.R1, tracked.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -40),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		// The signal is sent before the event is submitted: user space
		// continues the process only after the stop is pending.
		asm.LoadMapPtr(asm.R1, events.FD()).WithSymbol("emit"),
		asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "lost"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R1, asm.RFP, -8, asm.Word),
		asm.StoreMem(asm.R7, 0, asm.R1, asm.Word),
		asm.StoreImm(asm.R7, 4, 0, asm.Word),
		asm.Mov.Imm(asm.R1, sigStop),
		asm.FnSendSignal.Call(),
		asm.JEq.Imm(asm.R0, 0, "submit"),
		asm.StoreImm(asm.R7, 4, 1, asm.Word), // not stopped
	)
	return append(insns, submitTail(lost)...)
}
