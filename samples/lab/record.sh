#!/usr/bin/env bash
# record.sh — re-records the lab samples (samples/lab-*.pcapng) with the real
# go command. Run as root: `make lab`, or samples/lab/record.sh [NAME...].
#
# Each recording gets fresh network namespaces joined by veth pairs, with no
# default route and addresses only inside them, so nothing can leave the
# machine:
#
#   client 10.77.0.2 ──── 10.77.0.1 server: labd (GOPROXY over HTTPS, HTTP/2,
#   (go, dumpcap)                           server-side key log) on :443,
#          10.77.2.2                        dnsmasq on :53 (10.77.0.1, 10.77.1.1)
#             │                           10.77.1.1
#          10.77.2.1 ──── mitm 10.77.1.2 ──────┘   (mitm has one host route to
#                       (mitmdump :8080)            10.77.0.1 via 10.77.1.1)
#
# The GOPROXY host is proxy.golang.org: a name answered only by the lab's
# dnsmasq inside the namespaces (10.77.0.1), so that the recordings exercise
# modsniff's verdicts for the public module proxy. The go command runs with a
# fresh module cache, GOSUMDB=off, GOTOOLCHAIN=local and SSL_CERT_FILE set
# (the lab CA, or mitmproxy's CA where the client trusts the interceptor),
# like lab.GoEnv. dumpcap records the client namespace (-i any, LINUX_SLL2,
# pcapng). Key logs go beside the captures as samples/<name>.keys: labd's
# for direct sessions, mitmproxy's (SSLKEYLOGFILE) for intercepted ones.
#
# The expectations (samples/<name>.expect.json) are written by hand from the
# intent of each recording; this script never touches them. It ends by
# replaying the recordings with bin/modsniff when that exists.
#
# Environment: GO (the go command), MODSNIFF (default bin/modsniff),
# KEEP=1 keeps the work directory with every log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
samples="$repo/samples"
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
MODSNIFF=${MODSNIFF:-$repo/bin/modsniff}
module=example.com/hello@v1.1.0

all=(lab-healthy-direct lab-mitmproxy-tls13 lab-mitmproxy-tls12-no-h2 lab-mitmproxy-trusted
	lab-resolver-down lab-dnsmasq-bogon lab-plain-http-on-443 lab-proxy-closes)

die() { echo "record.sh: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and packet capture)"
for tool in ip dumpcap dnsmasq mitmdump ss timeout python3; do
	command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y iproute2 tshark dnsmasq-base mitmproxy)"
done
[ -x "$GO" ] || die "no go command (set GO)"
if [ $# -gt 0 ]; then names=("$@"); else names=("${all[@]}"); fi
for n in "${names[@]}"; do
	case " ${all[*]} " in *" $n "*) ;; *) die "unknown recording $n (known: ${all[*]})" ;; esac
done

work=$(mktemp -d /tmp/modsniff-lab.XXXXXX)
tag=$$
ns_c="msl${tag}c" ns_s="msl${tag}s" ns_m="msl${tag}m"
pids=()
namespaces=()

# stop_all ends every process this script started and removes its namespaces.
stop_all() {
	local p ns
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
	for ns in "${namespaces[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
	namespaces=()
}

cleanup() {
	local status=$?
	set +e
	stop_all
	if [ -n "${KEEP:-}" ] || [ $status -ne 0 ]; then
		echo "record.sh: logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# nsx NS CMD... runs CMD inside a namespace.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# bg LOG NS CMD... starts CMD inside NS in the background, logging to LOG.
bg() {
	local log=$1 ns=$2; shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	pids+=($!)
	last_pid=$!
}

# wait_until SECONDS WHAT CMD... polls CMD until it succeeds.
wait_until() {
	local secs=$1 what=$2 i; shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "timed out after ${secs}s waiting for $what"
}

# listening NS tcp|udp ADDR:PORT reports whether something listens there.
listening() {
	local flag=-Hltn
	[ "$2" = udp ] && flag=-Hlun
	nsx "$1" ss "$flag" | awk '{print $4}' | grep -qxF "$3"
}

# setup_net builds the three namespaces and their links.
setup_net() {
	local ns
	for ns in "$ns_c" "$ns_s" "$ns_m"; do
		ip netns add "$ns"
		namespaces+=("$ns")
		ip -n "$ns" link set lo up
		# No IPv6: keeps router solicitations and MLD reports out of the captures.
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	veth "$ns_c" vc0 10.77.0.2/24 "$ns_s" vs0 10.77.0.1/24
	veth "$ns_c" vc1 10.77.2.2/24 "$ns_m" vm0 10.77.2.1/24
	veth "$ns_m" vm1 10.77.1.2/24 "$ns_s" vs1 10.77.1.1/24
	# mitmproxy reaches the GOPROXY at the address the lab's DNS gives.
	ip -n "$ns_m" route add 10.77.0.1/32 via 10.77.1.1
	mkdir -p "/etc/netns/$ns_c" "/etc/netns/$ns_m"
	printf 'nameserver 10.77.0.1\noptions timeout:2 attempts:2\n' >"/etc/netns/$ns_c/resolv.conf"
	printf 'nameserver 10.77.1.1\n' >"/etc/netns/$ns_m/resolv.conf"
	printf '127.0.0.1 localhost\n' >"/etc/netns/$ns_c/hosts"
	printf '127.0.0.1 localhost\n' >"/etc/netns/$ns_m/hosts"
}

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2 joins two namespaces.
veth() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# start_labd LOGDIR starts the lab GOPROXY in the server namespace.
start_labd() {
	local d=$1 ca=(-ca-key-out "$work/ca-key.pem")
	[ -f "$work/ca-key.pem" ] && ca=(-ca "$work/ca-key.pem")
	bg "$d/labd.log" "$ns_s" "$work/labd" serve -goproxy 0.0.0.0:443 -cert-host proxy.golang.org \
		"${ca[@]}" -ca-out "$work/ca.pem" -keylog "$d/server.keys"
	wait_until 20 "labd" grep -qx ready "$d/labd.log"
}

# start_dnsmasq LOGDIR ARGS... starts dnsmasq in the server namespace.
start_dnsmasq() {
	local d=$1; shift
	bg "$d/dnsmasq.log" "$ns_s" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--no-poll --bind-interfaces --listen-address=10.77.0.1 --listen-address=10.77.1.1 \
		--user=root --pid-file= --log-queries --log-facility=- --local-ttl=60 "$@"
	wait_until 20 "dnsmasq" listening "$ns_s" udp 10.77.0.1:53
}

# start_mitmdump LOGDIR ARGS... starts mitmproxy in the mitm namespace,
# trusting the lab CA upstream and logging its TLS keys.
start_mitmdump() {
	local d=$1; shift
	mkdir -p "$work/mitmproxy"
	bg "$d/mitmdump.log" "$ns_m" env SSLKEYLOGFILE="$d/mitm.keys" HOME="$work/mitmproxy" \
		mitmdump --mode regular --listen-host 10.77.2.1 -p 8080 --set confdir="$work/mitmproxy" \
		--set ssl_verify_upstream_trusted_ca="$work/ca.pem" "$@"
	wait_until 60 "mitmdump" listening "$ns_m" tcp 10.77.2.1:8080
	wait_until 10 "mitmproxy's CA" test -s "$work/mitmproxy/mitmproxy-ca-cert.pem"
}

# start_capture LOGDIR starts dumpcap on every interface of the client
# namespace.
start_capture() {
	local d=$1
	bg "$d/dumpcap.log" "$ns_c" dumpcap -q -i any -y LINUX_SLL2 -s 0 -w "$d/capture.pcapng"
	capture_pid=$last_pid
	wait_until 20 "dumpcap" grep -q "Capturing on" "$d/dumpcap.log"
	sleep 0.5
}

stop_capture() {
	sleep 1 # late packets: FINs, RSTs, ICMP errors
	kill -INT "$capture_pid"
	wait "$capture_pid" || true
}

# run_go LOGDIR CAFILE [HTTPS_PROXY] runs go mod download in the client
# namespace with a fresh module cache; its status goes to LOGDIR/go.status.
run_go() {
	local d=$1 cafile=$2 proxy=${3:-}
	local home="$d/go"
	mkdir -p "$home/work"
	local env=(PATH="$(dirname "$GO"):/usr/local/bin:/usr/bin:/bin" HOME="$home" GOPATH="$home/gopath"
		GOMODCACHE="$home/gopath/pkg/mod" GOCACHE="$home/gocache" GOPROXY=https://proxy.golang.org
		GOSUMDB=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -modcacherw" GOENV=off GOWORK=off GO111MODULE=on
		SSL_CERT_FILE="$cafile" SSL_CERT_DIR="$home/no-cert-dir")
	[ -n "$proxy" ] && env+=(HTTPS_PROXY="$proxy")
	local status=0
	nsx "$ns_c" env -i -C "$home/work" "${env[@]}" timeout 120 "$GO" mod download -json "$module" \
		>"$d/go.stdout" 2>"$d/go.stderr" || status=$?
	echo "$status" >"$d/go.status"
}

# go_said LOGDIR prints the go command's error: the Error field of its
# JSON output, or the last line of its standard error.
go_said() {
	local e
	e=$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' "$1/go.stdout" | tail -n 1)
	[ -n "$e" ] || e=$(grep -v '^[[:space:]]*$' "$1/go.stderr" | tail -n 1)
	echo "${e:-nothing (success)}" | cut -c1-200
}

# start_python LOGDIR NAME CODE runs a small python3 server (it prints
# "ready" once listening) in the server namespace.
start_python() {
	local d=$1 name=$2 code=$3
	bg "$d/$name.log" "$ns_s" "$py" -u -c "$code"
	wait_until 20 "$name" grep -qx ready "$d/$name.log"
}

# A plain HTTP server on 10.77.0.1:443: what a transparent proxy or portal
# answering HTTPS with HTTP looks like to the go command.
plain_http_443='
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302); self.send_header("Location", "http://portal.example/login"); self.end_headers()
s = http.server.HTTPServer(("10.77.0.1", 443), H)
print("ready")
s.serve_forever()
'

# A "proxy" on 10.77.0.1:3128 that accepts, reads the CONNECT and closes
# without a word.
closing_proxy='
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 3128)); s.listen(16)
print("ready")
while True:
    c, _ = s.accept(); c.recv(4096); c.close()
'

# record NAME: one recording, from fresh namespaces to the files in samples/.
record() {
	local name=$1 d="$work/$1" cafile proxy="" keys=""
	mkdir -p "$d"
	setup_net
	case $name in
	lab-plain-http-on-443) start_python "$d" plain-http "$plain_http_443" ;;
	*) start_labd "$d" ;;
	esac
	cafile="$work/ca.pem"
	case $name in
	lab-proxy-closes) start_python "$d" closing-proxy "$closing_proxy" ;;
	esac
	case $name in
	lab-resolver-down) ;; # nothing on 10.77.0.1:53
	# --local: golang.org is answered from this configuration only, so an
	# AAAA query gets NODATA rather than REFUSED for want of an upstream.
	lab-dnsmasq-bogon) start_dnsmasq "$d" --address=/proxy.golang.org/# ;;
	*) start_dnsmasq "$d" --local=/golang.org/ --host-record=proxy.golang.org,10.77.0.1 ;;
	esac
	case $name in
	lab-mitmproxy-tls13 | lab-mitmproxy-trusted) start_mitmdump "$d" ;;
	lab-mitmproxy-tls12-no-h2) start_mitmdump "$d" --set tls_version_client_max=TLS1_2 --set http2=false ;;
	esac
	case $name in
	lab-proxy-closes) proxy=http://10.77.0.1:3128 ;;
	lab-mitmproxy-*) proxy=http://10.77.2.1:8080 keys="$d/mitm.keys" ;;
	lab-healthy-direct) keys="$d/server.keys" ;;
	esac
	[ "$name" = lab-mitmproxy-trusted ] && cafile="$work/mitmproxy/mitmproxy-ca-cert.pem"

	start_capture "$d"
	run_go "$d" "$cafile" "$proxy"
	stop_capture
	stop_all

	install -m 0644 "$d/capture.pcapng" "$samples/$name.pcapng"
	rm -f "$samples/$name.keys"
	if [ -n "$keys" ] && [ -s "$keys" ]; then install -m 0644 "$keys" "$samples/$name.keys"; fi
	[ "$name" = lab-healthy-direct ] && install -m 0644 "$work/ca.pem" "$samples/lab-ca.pem"
	printf '%-28s go exit %s, %6d bytes; go said: %s\n' "$name" "$(cat "$d/go.status")" \
		"$(stat -c %s "$samples/$name.pcapng")" "$(go_said "$d")"
}

py=$(python3 -c 'import sys; print(sys.executable)')
echo "record.sh: building labd"
(cd "$repo" && "$GO" build -o "$work/labd" ./samples/lab/labd)
for n in "${names[@]}"; do record "$n"; done

replay=()
for n in "${names[@]}"; do
	if [ -f "$samples/$n.expect.json" ]; then replay+=("samples/$n.pcapng"); fi
done
if [ -x "$MODSNIFF" ] && [ ${#replay[@]} -gt 0 ]; then
	echo "record.sh: replaying the recordings against their expectations"
	(cd "$repo" && "$MODSNIFF" replay "${replay[@]}" | sed 's/^/  /') || true
fi
