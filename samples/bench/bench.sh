#!/usr/bin/env bash
# bench.sh [SIZE_MB] — measure modsniff on a generated, mostly-bulk capture.
#
# Generates captures of SIZE/4 and SIZE MiB (samples/bench/gen: deterministic,
# 3000 connections whatever the size) in a temporary directory, runs
# `modsniff analyze --format json` on each (BENCH_RUNS times, default 3, the
# fastest run counts) under GNU time, and prints MB/s, packets/s, wall time and
# peak RSS for both sizes, so that memory flatness shows. When tshark is
# installed it also runs tshark's equivalent field extraction on the SIZE file
# and prints its time and the speed ratio measured in this same run.
#
# Needs ./bin/modsniff (make build), go, GNU time (/usr/bin/time) and jq or
# python3. Environment: BENCH_RUNS (default 3), BENCH_TSHARK=0 to skip tshark,
# MODSNIFF (default ./bin/modsniff), TMPDIR (where the captures are written).
set -euo pipefail

size=${1:-1024}
runs=${BENCH_RUNS:-3}
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/modsniff-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

go build -o "$tmp/gen" ./samples/bench/gen

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }
# calc EXPR: evaluate a floating-point expression.
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
# rss_kb TIMEFILE: the peak RSS GNU time recorded, in KiB.
rss_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
# packets JSON: inputs[0].packets of a modsniff JSON report.
packets() {
	if command -v jq >/dev/null; then
		jq '.inputs[0].packets' "$1"
	else
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["inputs"][0]["packets"])' "$1"
	fi
}

# run_modsniff FILE: runs modsniff BENCH_RUNS times; sets best_wall (s),
# peak_rss (KiB, the largest of the runs) and npackets.
run_modsniff() {
	local file=$1 i rc start end wall rss
	best_wall="" peak_rss=0
	for ((i = 1; i <= runs; i++)); do
		rc=0
		start=$(now)
		/usr/bin/time -v -o "$tmp/time.txt" "$bin" analyze --format json "$file" >"$tmp/report.json" || rc=$?
		end=$(now)
		# Exit status 1 only means findings (the synthetic CAs are foreign).
		if [ "$rc" -gt 1 ]; then
			echo "bench: modsniff failed with status $rc" >&2
			cat "$tmp/time.txt" >&2
			exit 1
		fi
		wall=$(calc "$end - $start")
		rss=$(rss_kb "$tmp/time.txt")
		printf '  modsniff run %d: %6.3f s  peak RSS %6.1f MiB\n' "$i" "$wall" "$(calc "$rss / 1024")"
		if [ -z "$best_wall" ] || [ "$(calc "($wall < $best_wall) ? 1 : 0")" = 1 ]; then
			best_wall=$wall
		fi
		if [ "$rss" -gt "$peak_rss" ]; then
			peak_rss=$rss
		fi
	done
	npackets=$(packets "$tmp/report.json")
}

declare -A res_bytes res_wall res_rss res_packets
quarter=$((size / 4))
for mb in "$quarter" "$size"; do
	file="$tmp/bulk-$mb.pcapng"
	echo "== $mb MiB capture"
	"$tmp/gen" -size "$mb" -o "$file"
	bytes=$(stat -c %s "$file")
	run_modsniff "$file"
	res_bytes[$mb]=$bytes res_wall[$mb]=$best_wall res_rss[$mb]=$peak_rss res_packets[$mb]=$npackets
	if [ "$mb" != "$size" ]; then
		rm -f "$file"
	fi
done

# tshark's equivalent of what modsniff extracts: DNS questions and answers,
# TLS handshake types, SNI, ALPN, versions, cipher and certificate names.
tshark_fields=(-e frame.number -e dns.qry.name -e dns.qry.type -e dns.a -e dns.aaaa -e dns.cname
	-e tls.handshake.type -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str
	-e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite
	-e x509sat.printableString -e x509sat.uTF8String)
tshark_wall=""
if [ "${BENCH_TSHARK:-1}" = 0 ]; then
	echo "== tshark skipped (BENCH_TSHARK=0)"
elif ! command -v tshark >/dev/null; then
	echo "== tshark is not installed: no comparison (apt-get install -y tshark)"
else
	echo "== tshark on the $size MiB capture: tshark -r FILE -T fields ${tshark_fields[*]} -Y 'dns or tls.handshake'"
	rc=0
	start=$(now)
	/usr/bin/time -v -o "$tmp/time.txt" tshark -r "$tmp/bulk-$size.pcapng" -T fields "${tshark_fields[@]}" \
		-Y 'dns or tls.handshake' >"$tmp/tshark.txt" 2>"$tmp/tshark.err" || rc=$?
	end=$(now)
	if [ "$rc" -ne 0 ]; then
		echo "bench: tshark failed with status $rc:" >&2
		cat "$tmp/tshark.err" >&2
		exit 1
	fi
	tshark_wall=$(calc "$end - $start")
	tshark_rss=$(rss_kb "$tmp/time.txt")
	printf '  tshark: %.3f s, peak RSS %.1f MiB, %d lines of fields\n' "$tshark_wall" "$(calc "$tshark_rss / 1024")" "$(wc -l <"$tmp/tshark.txt")"
	# modsniff once more right after tshark, so a change in the machine's
	# load shows.
	run_modsniff "$tmp/bulk-$size.pcapng"
	if [ "$(calc "($best_wall < ${res_wall[$size]}) ? 1 : 0")" = 1 ]; then
		res_wall[$size]=$best_wall
	fi
	if [ "$peak_rss" -gt "${res_rss[$size]}" ]; then
		res_rss[$size]=$peak_rss
	fi
fi

echo
echo "== summary: $("$bin" version 2>/dev/null | head -1), $(nproc) CPUs, fastest of the runs, largest peak RSS (MB = 10^6 bytes)"
printf '%-10s %12s %10s %10s %10s %14s %13s\n' capture bytes packets wall MB/s packets/s "peak RSS"
for mb in "$quarter" "$size"; do
	printf '%-10s %12d %10d %8.3f s %10.0f %14.0f %9.1f MiB\n' "$mb MiB" "${res_bytes[$mb]}" "${res_packets[$mb]}" "${res_wall[$mb]}" \
		"$(calc "${res_bytes[$mb]} / 1e6 / ${res_wall[$mb]}")" "$(calc "${res_packets[$mb]} / ${res_wall[$mb]}")" \
		"$(calc "${res_rss[$mb]} / 1024")"
done
printf 'peak RSS, %d MiB -> %d MiB capture: %+.1f MiB\n' "$quarter" "$size" "$(calc "(${res_rss[$size]} - ${res_rss[$quarter]}) / 1024")"
if [ -n "$tshark_wall" ]; then
	printf '%-10s %12d %10s %8.3f s %10.0f %14s %9.1f MiB\n' tshark "${res_bytes[$size]}" - "$tshark_wall" \
		"$(calc "${res_bytes[$size]} / 1e6 / $tshark_wall")" - "$(calc "$tshark_rss / 1024")"
	printf 'modsniff is %.1fx as fast as tshark on the %d MiB capture (same run)\n' "$(calc "$tshark_wall / ${res_wall[$size]}")" "$size"
fi
