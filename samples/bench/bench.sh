#!/usr/bin/env bash
# bench.sh [SIZE_MB] — measure modsniff on generated captures and print one
# table.
#
# For each mix (BENCH_MIXES, default "default handshake-heavy"; see
# samples/bench/gen -h) and each scale (BENCH_SCALES, default "1 4": SIZE and
# 4×SIZE MiB, the connections growing with the size), it generates a
# deterministic capture in a temporary directory under TMPDIR, runs
# `modsniff analyze --format json` on it BENCH_RUNS times (default 3; the
# fastest run counts, the largest peak RSS is shown) with MODSNIFF_STATS=1,
# which makes modsniff report its phase times and the garbage collector's
# share of CPU (runtime/metrics) on standard error, then runs tshark's
# equivalent field extraction once on the same file (same run, so the ratio
# holds on a loaded machine) and deletes the capture. It ends with the
# analysis time ratio between the scales (linear analysis keeps it near the
# size ratio) and the wall time of a small sample (startup, root bundle,
# report), taken before the large runs and again after them.
#
# With BENCH_BASE=BINARY (another build of modsniff, e.g. of an earlier
# commit) every capture is also analysed by that binary, in turns with
# ./bin/modsniff on the same file, and the table gets a row for each: a
# before/after comparison measured back to back.
#
# Needs ./bin/modsniff (make build), go, GNU time (/usr/bin/time) and jq or
# python3. Environment: BENCH_RUNS, BENCH_BASE, BENCH_MIXES, BENCH_SCALES, BENCH_TSHARK=0
# to skip tshark, BENCH_TSHARK_MAX_MB (skip tshark on larger captures: it
# needs minutes per GiB of handshakes), BENCH_GZIP=0 to skip the row of the
# first capture compressed with gzip -1, MODSNIFF (default ./bin/modsniff),
# TMPDIR.
set -euo pipefail

size=${1:-1024}
runs=${BENCH_RUNS:-3}
mixes=${BENCH_MIXES:-default handshake-heavy}
scales=${BENCH_SCALES:-1 4}
case $size in
'' | *[!0-9]*) echo "usage: $0 [SIZE_MB]" >&2; exit 2 ;;
esac
if [ "$size" -lt 4 ]; then
	echo "bench: SIZE_MB must be at least 4" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${MODSNIFF:-./bin/modsniff}
if [ ! -x "$bin" ]; then
	echo "bench: $bin not found: run 'make build' first" >&2
	exit 2
fi
if [ ! -x /usr/bin/time ]; then
	echo "bench: GNU time (/usr/bin/time) is needed for the peak RSS: apt-get install -y time" >&2
	exit 2
fi

bins=("$bin")
labels=(new)
if [ -n "${BENCH_BASE:-}" ]; then
	if [ ! -x "$BENCH_BASE" ]; then
		echo "bench: BENCH_BASE=$BENCH_BASE is not an executable" >&2
		exit 2
	fi
	bins=("$BENCH_BASE" "$bin")
	labels=(base new)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/modsniff-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
go build -o "$tmp/gen" ./samples/bench/gen

# stamp VAR sets VAR to the time in seconds: from bash's own clock
# (EPOCHREALTIME, bash 5) when there is one, without starting a process. A
# $(date) took 10 ms on a slow machine, a third of the small sample's whole
# run, and was counted in it.
stamp() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		printf -v "$1" '%s' "${EPOCHREALTIME/,/.}"
	else
		printf -v "$1" '%s' "$(date +%s.%N)"
	fi
}
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
rss_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
# field NAME FILE: a field of the modsniff-stats line (number only).
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$2" | tail -1; }
packets() {
	if command -v jq >/dev/null; then
		jq '.inputs[0].packets' "$1"
	else
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["inputs"][0]["packets"])' "$1"
	fi
}

# run_modsniff FILE [BINARY]: BENCH_RUNS runs; sets best_wall, best_read
# and gc (of the fastest run), best_ana (the fastest analysis + output of
# any run: reading, which is most of the wall time, should not pick the
# run whose analysis counts), peak_rss (KiB, largest).
run_modsniff() {
	local file=$1 b=${2:-$bin} i rc start end wall rss a
	best_wall="" best_ana="" peak_rss=0
	for ((i = 1; i <= runs; i++)); do
		rc=0
		stamp start
		MODSNIFF_STATS=1 /usr/bin/time -v -o "$tmp/time.txt" "$b" analyze --format json "$file" >"$tmp/report.json" 2>"$tmp/stats.txt" || rc=$?
		stamp end
		# Exit status 1 only means findings (the synthetic CAs are foreign).
		if [ "$rc" -gt 1 ]; then
			echo "bench: modsniff failed with status $rc" >&2
			cat "$tmp/stats.txt" "$tmp/time.txt" >&2
			exit 1
		fi
		wall=$(calc "$end - $start")
		rss=$(rss_kb "$tmp/time.txt")
		printf '  modsniff run %d: %7.3f s  %s\n' "$i" "$wall" "$(grep modsniff-stats "$tmp/stats.txt" | cut -d' ' -f2-)"
		if [ -z "$best_wall" ] || [ "$(calc "($wall < $best_wall) ? 1 : 0")" = 1 ]; then
			best_wall=$wall
			best_read=$(field read "$tmp/stats.txt")
			gc=$(field gc-cpu "$tmp/stats.txt")
		fi
		a=$(calc "$(field analyze "$tmp/stats.txt") + $(field output "$tmp/stats.txt")")
		if [ -z "$best_ana" ] || [ "$(calc "($a < $best_ana) ? 1 : 0")" = 1 ]; then
			best_ana=$a
		fi
		if [ "$rss" -gt "$peak_rss" ]; then
			peak_rss=$rss
		fi
	done
	npackets=$(packets "$tmp/report.json")
}

# small_sample WHEN: the fastest of 20 runs of each binary on a small
# sample (startup, the root bundle, the report), in ms, into
# small_best[WHEN.k]. It runs twice: first, with each binary's file as the
# build left it in the page cache (what a user who just built or often
# runs modsniff gets); last, after the large captures have pushed it out
# and it was read back from disk, whose pages the kernel maps in smaller
# pieces (about 900 page faults at start-up instead of 700 on this kind
# of virtual machine).
small=samples/healthy-direct-tls13.pcapng
declare -A small_best
small_sample() {
	local when=$1 i k w start end
	for ((i = 1; i <= 20; i++)); do
		for k in "${!bins[@]}"; do
			stamp start
			"${bins[$k]}" analyze --format json "$small" >/dev/null || true
			stamp end
			w=$(calc "($end - $start) * 1000")
			if [ -z "${small_best[$when.$k]:-}" ] || [ "$(calc "($w < ${small_best[$when.$k]}) ? 1 : 0")" = 1 ]; then
				small_best[$when.$k]=$w
			fi
		done
	done
}
small_sample first

tshark_fields=(-e frame.number -e dns.qry.name -e dns.qry.type -e dns.a -e dns.aaaa -e dns.cname
	-e tls.handshake.type -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str
	-e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite
	-e x509sat.printableString -e x509sat.uTF8String)
use_tshark=1
if [ "${BENCH_TSHARK:-1}" = 0 ]; then
	use_tshark=0
elif ! command -v tshark >/dev/null; then
	echo "== tshark is not installed: no comparison (apt-get install -y tshark)"
	use_tshark=0
fi

rows=()
declare -A ana
for mix in $mixes; do
	for scale in $scales; do
		mb=$((size * scale))
		file="$tmp/$mix-$mb.pcapng"
		echo "== $mix mix, $mb MiB"
		"$tmp/gen" -mix "$mix" -size "$mb" -o "$file"
		bytes=$(stat -c %s "$file" 2>/dev/null || wc -c <"$file")
		declare -A bw br ba bg bp
		for k in "${!bins[@]}"; do
			echo "  ${labels[$k]}: ${bins[$k]}"
			run_modsniff "$file" "${bins[$k]}"
			bw[$k]=$best_wall br[$k]=$best_read ba[$k]=$best_ana bg[$k]=$gc bp[$k]=$peak_rss
		done
		tw=-
		if [ "$use_tshark" = 1 ] && [ "$mb" -le "${BENCH_TSHARK_MAX_MB:-$mb}" ]; then
			rc=0
			stamp start
			tshark -r "$file" -T fields "${tshark_fields[@]}" -Y 'dns or tls.handshake' >"$tmp/tshark.txt" 2>"$tmp/tshark.err" || rc=$?
			stamp end
			if [ "$rc" -ne 0 ]; then
				echo "bench: tshark failed with status $rc:" >&2
				cat "$tmp/tshark.err" >&2
				exit 1
			fi
			tw=$(calc "$end - $start")
			echo "  tshark: $tw s, $(wc -l <"$tmp/tshark.txt") lines of fields"
			# modsniff once more right after tshark, so a change in the
			# machine's load shows in the ratio (one run per binary).
			for k in "${!bins[@]}"; do
				runs=1 run_modsniff "$file" "${bins[$k]}"
				if [ "$(calc "($best_wall < ${bw[$k]}) ? 1 : 0")" = 1 ]; then
					bw[$k]=$best_wall br[$k]=$best_read ba[$k]=$best_ana bg[$k]=$gc
				fi
				bp[$k]=$((peak_rss > ${bp[$k]} ? peak_rss : ${bp[$k]}))
			done
			tw=$(printf '%.2f' "$tw")
		fi
		for k in "${!bins[@]}"; do
			ratio=-
			if [ "$tw" != - ]; then
				ratio=$(printf '%.1f×' "$(calc "$tw / ${bw[$k]}")")
			fi
			ana[${labels[$k]}.$mix.$scale]=${ba[$k]}
			rows+=("$(printf '%-4s %-8s %-15s %11d %9d %8.3f %7.0f %10.0f %8.1f %6.1f %8.3f %9.3f %8s %7s' \
				"${labels[$k]}" "$mb MiB" "$mix" "$bytes" "$npackets" "${bw[$k]}" "$(calc "$bytes / 1e6 / ${bw[$k]}")" \
				"$(calc "$npackets / ${bw[$k]}")" "$(calc "${bp[$k]} / 1024")" "${bg[$k]}" "${br[$k]}" "${ba[$k]}" "$tw" "$ratio")")
		done
		if [ "${BENCH_GZIP:-1}" = 1 ] && [ -z "${gz_done:-}" ]; then
			gz_done=1
			echo "== $mix mix, $mb MiB, gzip -1"
			gzip -1 -c "$file" >"$file.gz"
			for k in "${!bins[@]}"; do
				run_modsniff "$file.gz" "${bins[$k]}"
				rows+=("$(printf '%-4s %-8s %-15s %11d %9d %8.3f %7.0f %10.0f %8.1f %6.1f %8.3f %9.3f %8s %7s' \
					"${labels[$k]}" "$mb MiB" "$mix .gz" "$bytes" "$npackets" "$best_wall" "$(calc "$bytes / 1e6 / $best_wall")" \
					"$(calc "$npackets / $best_wall")" "$(calc "$peak_rss / 1024")" "$gc" "$best_read" "$best_ana" - -)")
			done
			rm -f "$file.gz"
		fi
		rm -f "$file"
	done
done

small_sample after
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== $("$bin" version 2>/dev/null | head -1), $(nproc) CPUs, load average $load; fastest of $runs runs, largest peak RSS; MB = 10^6 bytes"
printf '%-4s %-8s %-15s %11s %9s %8s %7s %10s %8s %6s %8s %9s %8s %7s\n' bin size mix bytes packets "wall s" MB/s packets/s "RSS MiB" "GC %" "read s" "analysis" "tshark s" ratio
for r in "${rows[@]}"; do echo "$r"; done
set -- $scales
if [ $# -ge 2 ]; then
	for k in "${!bins[@]}"; do
		for mix in $mixes; do
			a1=${ana[${labels[$k]}.$mix.$1]} a2=${ana[${labels[$k]}.$mix.${!#}]}
			printf '%s: analysis+output time, %s mix, %s× / %s×: %.3f s / %.3f s = %.2f\n' "${labels[$k]}" "$mix" "${!#}" "$1" "$a2" "$a1" "$(calc "$a2 / ($a1 > 0 ? $a1 : 0.001)")"
		done
	done
fi
for k in "${!bins[@]}"; do
	printf '%s: small sample (%s, %s packets): %.0f ms wall before the large runs, %.0f ms after them\n' \
		"${labels[$k]}" "$small" "$("${bins[$k]}" analyze --format json "$small" 2>/dev/null | { jq '.inputs[0].packets' 2>/dev/null || echo '?'; })" \
		"${small_best[first.$k]}" "${small_best[after.$k]}"
done
