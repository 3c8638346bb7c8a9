package gokeys

// registerMap says where, at the entry of
// writeKeyLog(c *Config, label string, clientRandom, secret []byte), Go's
// register-based calling convention (the internal ABI, "ABIInternal", of
// go/src/cmd/compile/abi-internal.md) puts each argument, as offsets into
// the kernel's saved user registers (the uprobe program's context).
// Integer arguments take the registers in order: the receiver, then the
// string's pointer and length, then each slice's pointer, length and
// capacity.
type registerMap struct {
	labelPtr, labelLen   int16
	randomPtr, randomLen int16
	secretPtr, secretLen int16
	// minGo is the first Go 1.x minor release using the map.
	minGo int
}

// registerMaps are the maps known, by GOARCH.
var registerMaps = map[string]registerMap{
	// amd64 (since go1.17): RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11 —
	// receiver RAX, label RBX/RCX, client random RDI/RSI (cap R8), secret
	// R9/R10 (cap R11). Offsets are those of struct pt_regs
	// (arch/x86/include/asm/ptrace.h): r15 r14 r13 r12 bp bx r11 r10 r9
	// r8 ax cx dx si di, 8 bytes each.
	"amd64": {
		labelPtr: 40, labelLen: 88, // bx, cx
		randomPtr: 112, randomLen: 104, // di, si
		secretPtr: 64, secretLen: 56, // r9, r10
		minGo: 17,
	},
	// arm64 (since go1.18): R0–R15 — receiver R0, label R1/R2, client
	// random R3/R4 (cap R5), secret R6/R7 (cap R8). struct user_pt_regs
	// (arch/arm64/include/uapi/asm/ptrace.h) starts with regs[31].
	"arm64": {
		labelPtr: 8 * 1, labelLen: 8 * 2,
		randomPtr: 8 * 3, randomLen: 8 * 4,
		secretPtr: 8 * 6, secretLen: 8 * 7,
		minGo: 18,
	},
}
