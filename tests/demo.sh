#!/usr/bin/env bash
# make demo: what lastgasp is for. A small Go HTTP service (goshim/example/service) runs with
# lastgasp, both ways in: built with the goshim package, and unmodified under LD_PRELOAD. One
# request crashes it in a goroutine, another inside a cgo call; each dump is rendered. Then the
# same for a C program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tools/deps.sh demo
make -s all build/tests/demo
command -v go >/dev/null || { echo "demo: needs Go (the service is a Go program)" >&2; exit 1; }
dir=$(mktemp -d /tmp/lastgasp-demo.XXXXXX)
out=build/demo
mkdir -p "$out"
go build -o "$out/service" ./goshim/example/service
go build -tags nolastgasp -o "$out/service-plain" ./goshim/example/service

# crash WAY URL-PATH: start the service, ask /hello, then the crashing path; show how it ended and
# the dump it left.
crash() {
  local way=$1 path=$2 log=$dir/service.log port pid status
  local -a cmd=(env LASTGASP_DIR="$dir" "$out/service")
  [ "$way" = preload ] && cmd=(env LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR="$dir" "$out/service-plain")
  echo
  echo "================ $way: GET $path"
  echo "\$ ${cmd[*]:1} -addr 127.0.0.1:0 &"
  # In a subshell whose stderr is muted: bash's own "Killed" line would repeat what the status says.
  ( set +e; "${cmd[@]}" -addr 127.0.0.1:0 >"$log" 2>&1; echo $? >"$dir/status" ) 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.*serving on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; echo "demo: the service did not start" >&2; exit 1; }
  echo "\$ curl http://127.0.0.1:$port/hello"
  curl -s "http://127.0.0.1:$port/hello"
  echo "\$ curl http://127.0.0.1:$port$path"
  curl -s "http://127.0.0.1:$port$path" || echo "(curl: the connection closed: the service died)"
  wait "$pid"
  status=$(cat "$dir/status")
  if [ "$status" -gt 128 ]; then
    echo "(the service ended with status $status: killed by signal $((status - 128)), $(kill -l $((status - 128))))"
  else
    echo "(the service ended with status $status, as Go ends a crash without lastgasp)"
  fi
  echo "--- its stderr, last lines:"
  { grep -v '^\s' "$log" | grep -E 'lastgasp|panic|SIGSEGV|fatal' || true; } | head -5
  local dump
  dump=$(ls -t "$dir"/*.dmp | head -1)
  echo
  echo "\$ build/lastgasp show $dump   (first 45 lines)"
  { build/lastgasp show "$dump" || true; } | head -45 # head closes the pipe early
}

crash goshim /crash/goroutine
crash goshim /crash/cgo
crash preload /crash/goroutine
crash preload /crash/cgo

echo
echo "================ a C program, preloaded"
echo "\$ LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR=$dir build/tests/demo"
set +e
LD_PRELOAD=build/liblastgasp.so LASTGASP_DIR="$dir" build/tests/demo
status=$?
set -e
echo "(exit status $status: killed by signal $((status - 128)), exactly as without lastgasp)"
dump=$(ls -t "$dir"/*.dmp | head -1)
echo "\$ build/lastgasp show $dump   (first 30 lines)"
{ build/lastgasp show "$dump" || true; } | head -30
echo
echo "All dumps of this demo are in $dir"
