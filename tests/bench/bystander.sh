#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What does loopstall cost the processes it does NOT trace? Its hooks are
# machine-wide (wait-call tracepoints, sched_switch, sched_wakeup, fork/exit),
# so every process runs them and leaves after a map lookup. This runs the
# bystander program (syscall-heavy and context-switch-heavy modes) with no
# agent and with `loopstall record` attached to an idle event loop, in
# interleaved rounds, and prints the medians and their ratio.
#
# usage: bystander.sh [--rounds N] [--seconds S] [--no-agent | --floor]
# env:   LOOPSTALL      agent CLI (default: <repo>/build/cli/loopstall)
#        HOOK_FLOOR     for --floor (default: <repo>/build/tests/hook_floor)
#        BYSTANDER_BIN  prebuilt bystander (default: build bystander.c)
#        DEMO_SERVICE   idle target "$DEMO_SERVICE --idle-ms 600000"
#                       (default: a Python asyncio loop waiting forever)
#        BYSTANDER_CPU  CPU to pin the bystander to, or "none"
#                       (default: the last CPU)
#        AGENT_TIMEOUT  seconds to wait for "recording" (default 60)
#        AGENT_SETTLE   seconds to wait after it (default 1)
#        QUIET_TIMEOUT  seconds to wait for other tracers to go (default 600)
#        OUT            JSON results (default: bystander.json)
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

rounds=5
seconds=3
no_agent=0
floor=0
modes=(syscalls switches)
units=(ops round_trips)
# A phase that saw someone else's tracer is measured at most this many times.
attempts_max=3

die() {
	echo "$prog: $*" >&2
	exit 1
}

warn() {
	echo "$prog: warning: $*" >&2
}

usage() {
	cat <<-EOF
		usage: $prog [--rounds N] [--seconds S] [--no-agent | --floor]
		  --rounds N    interleaved off/on rounds (default 5)
		  --seconds S   length of each bystander run (default 3)
		  --no-agent    A/A run: the "on" phase without the agent (noise floor)
		  --floor       the "on" phase with empty programs on the agent's
		                machine-wide hooks (tests/bench/hook_floor): what the
		                hooks cost before the agent does any work
		env: LOOPSTALL HOOK_FLOOR BYSTANDER_BIN DEMO_SERVICE BYSTANDER_CPU AGENT_TIMEOUT
		     AGENT_SETTLE QUIET_TIMEOUT OUT (see the top of this script)
	EOF
}

while (($#)); do
	case $1 in
	--rounds) rounds=${2-}; shift 2 || { usage >&2; exit 2; } ;;
	--rounds=*) rounds=${1#*=}; shift ;;
	--seconds) seconds=${2-}; shift 2 || { usage >&2; exit 2; } ;;
	--seconds=*) seconds=${1#*=}; shift ;;
	--no-agent) no_agent=1; shift ;;
	--floor) floor=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$prog: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "$prog: --rounds wants a positive integer" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+(\.[0-9]+)?$ && ! $seconds =~ ^0+(\.0+)?$ ]] ||
	{ echo "$prog: --seconds wants a positive number" >&2; exit 2; }
((EUID == 0)) || { echo "$prog: must run as root (the agent loads BPF programs)" >&2; exit 2; }

LOOPSTALL=${LOOPSTALL:-$here/../../build/cli/loopstall}
HOOK_FLOOR=${HOOK_FLOOR:-$here/../../build/tests/hook_floor}
((no_agent && floor)) && { echo "$prog: --no-agent and --floor exclude each other" >&2; exit 2; }
OUT=${OUT:-bystander.json}
AGENT_TIMEOUT=${AGENT_TIMEOUT:-60}
AGENT_SETTLE=${AGENT_SETTLE:-1}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-600}
cpu=${BYSTANDER_CPU:-$(($(nproc) - 1))}
if ((floor)); then
	[[ -x $HOOK_FLOOR ]] || { echo "$prog: no hook_floor at $HOOK_FLOOR (set HOOK_FLOOR)" >&2; exit 2; }
	LOOPSTALL=$HOOK_FLOOR
elif ((!no_agent)); then
	[[ -x $LOOPSTALL ]] || { echo "$prog: no agent at $LOOPSTALL (set LOOPSTALL)" >&2; exit 2; }
fi
have_bpftool=1
command -v bpftool >/dev/null || {
	have_bpftool=0
	warn "no bpftool: cannot tell whether someone else is tracing during a phase"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bystander.XXXXXX")
bench_pid=
agent_pid=
target_pid=
watch_pid=
our_ids=" "

alive() {
	[[ -n $1 ]] && kill -0 "$1" 2>/dev/null
}

# Waits up to $2 seconds for $1 to end; bash reaps children as they exit,
# so kill -0 stops succeeding as soon as the process is gone.
wait_gone() {
	local pid=$1 tenths=$(($2 * 10))
	while alive "$pid" && ((tenths-- > 0)); do
		sleep 0.1
	done
	! alive "$pid"
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	alive "$watch_pid" && kill -TERM "$watch_pid"
	alive "$bench_pid" && kill -TERM "$bench_pid"
	if alive "$agent_pid"; then
		kill -INT "$agent_pid"
		wait_gone "$agent_pid" 5 || kill -KILL "$agent_pid"
	fi
	alive "$target_pid" && kill -KILL "$target_pid"
	wait 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n ${BYSTANDER_BIN:-} ]]; then
	bin=$BYSTANDER_BIN
else
	bin=$tmp/bystander
	"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Werror -pthread \
		-o "$bin" "$here/bystander.c" || die "cannot build $here/bystander.c"
fi
pin=()
[[ $cpu == none ]] || pin=(--cpu "$cpu")

# IDs and names of the BPF programs on tracing hooks (tracepoints, tp_btf,
# raw tracepoints, perf events, kprobes), one "ID NAME" a line.
tracing_progs() {
	((have_bpftool)) || return 0
	bpftool prog show 2>/dev/null |
		awk '/^[0-9]+: / && $2 ~ /tracepoint|tracing|perf_event|kprobe/ {
			sub(":", "", $1); print $1, ($3 == "name" ? $4 : "?") }'
}

# Tracing programs that are not our agent's: another loopstall (or any
# tracer) on these hooks during an "off" phase would spoil the baseline, and
# on a shared machine other people's tests load them all the time.
foreign_tracers() {
	tracing_progs | awk -v ours="$our_ids" 'index(ours, " " $1 " ") == 0 { n++ } END { print n + 0 }'
}

wait_quiet() {
	local n waited=0
	while n=$(foreign_tracers) && ((n > 0)); do
		((waited > 0)) || echo "$prog: waiting for $n BPF tracing programs of someone else to go away" >&2
		((waited++ < QUIET_TIMEOUT)) || { warn "still $n after ${QUIET_TIMEOUT}s; measuring anyway"; return 1; }
		sleep 1
	done
	((waited == 0)) || echo "$prog: quiet again after ${waited}s" >&2
}

# Samples foreign_tracers in the background while a phase runs, since an
# agent someone starts and stops within a phase is invisible before and after.
watch_start() {
	: >"$tmp/foreign"
	(
		trap 'kill $! 2>/dev/null; exit 0' TERM
		while :; do
			foreign_tracers >>"$tmp/foreign"
			sleep 0.5 &
			wait $!
		done
	) &
	watch_pid=$!
}

# The most foreign tracing programs seen since watch_start, in $REPLY.
watch_stop() {
	kill -TERM "$watch_pid" 2>/dev/null || true
	wait "$watch_pid" 2>/dev/null || true
	watch_pid=
	foreign_tracers >>"$tmp/foreign"
	REPLY=$(sort -n "$tmp/foreign" | tail -n 1)
}

# user+system CPU seconds a process has used so far
cpu_seconds() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	# comm may hold spaces: fields are counted from after its ')'
	awk -v tck="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / tck }' <<<"${stat##*) }"
}

# Runs one bystander mode; "WALL CPU" rates land in $REPLY. The rate per CPU
# second leaves out time the bystander waited while others used its CPU.
measure() {
	local mode=$1 unit=$2
	"$bin" "${pin[@]}" --cputime "$mode" "$seconds" >"$tmp/bench.out" &
	bench_pid=$!
	wait "$bench_pid" || die "bystander $mode failed"
	bench_pid=
	REPLY=$(sed -n "s/^$mode ${unit}_per_sec=\([0-9]*\) ${unit}_per_cpu_sec=\([0-9]*\)\$/\1 \2/p" "$tmp/bench.out")
	[[ -n $REPLY ]] || die "bystander $mode printed '$(cat "$tmp/bench.out")'"
}

start_target() {
	if [[ -n ${DEMO_SERVICE:-} ]]; then
		target_desc="$DEMO_SERVICE --idle-ms 600000"
		"$DEMO_SERVICE" --idle-ms 600000 >"$tmp/target.log" 2>&1 &
	else
		target_desc="python3 asyncio loop waiting forever"
		# python3 may be a wrapper script (pyenv): start the interpreter
		# itself so the PID we attach to is the loop from the start.
		py=$(python3 -c 'import sys; print(sys.executable)') || die "python3 not found"
		"$py" -c 'import asyncio; asyncio.run(asyncio.Event().wait())' \
			>"$tmp/target.log" 2>&1 &
	fi
	target_pid=$!
	# Let it reach its loop: an exec that fails shows up here, not at attach.
	sleep 1
	alive "$target_pid" || die "target '$target_desc' exited: $(cat "$tmp/target.log")"
}

# Starts `loopstall record` on the target and waits until it says it is
# attached. Background jobs of a script ignore SIGINT; env restores it so
# the agent's own handler (or the default action) sees our SIGINT.
start_agent() {
	local tenths=$((AGENT_TIMEOUT * 10)) rc
	agent_err=$tmp/agent.$round.err
	alive "$target_pid" || die "target pid $target_pid is gone"
	if ((floor)); then
		env --default-signal=INT "$HOOK_FLOOR" >"$tmp/agent.out" 2>"$agent_err" &
	else
		env --default-signal=INT "$LOOPSTALL" record -p "$target_pid" -o /dev/null \
			>"$tmp/agent.out" 2>"$agent_err" &
	fi
	agent_pid=$!
	until grep -q -e recording -e 'hook_floor: attached' "$agent_err"; do
		if ! alive "$agent_pid"; then
			wait "$agent_pid" && rc=0 || rc=$?
			agent_pid=
			die "agent exited ($rc) before recording: $LOOPSTALL record -p $target_pid -o /dev/null:"$'\n'"$(cat "$agent_err")"
		fi
		((tenths-- > 0)) || die "agent did not print 'recording' in ${AGENT_TIMEOUT}s:"$'\n'"$(cat "$agent_err")"
		sleep 0.1
	done
	# Its start-up work (BTF, symbols of the target) is not a steady cost.
	sleep "$AGENT_SETTLE"
	agent_cpu0=$(cpu_seconds "$agent_pid")
}

# SIGINT, as a user would stop it; the exit code is kept for the report.
stop_agent() {
	local rc=0
	agent_cpu=$(awk -v a="$(cpu_seconds "$agent_pid")" -v b="$agent_cpu0" 'BEGIN { printf "%.2f", a - b }')
	kill -INT "$agent_pid" 2>/dev/null || true
	if ! wait_gone "$agent_pid" 10; then
		warn "agent ignored SIGINT for 10 s; killing it"
		kill -KILL "$agent_pid" 2>/dev/null || true
	fi
	{ wait "$agent_pid"; } 2>/dev/null || rc=$?
	agent_pid=
	our_ids=" "
	((rc == 0)) || warn "agent exited $rc after SIGINT:"$'\n'"$(cat "$agent_err")"
	agent_rc=$rc
}

# Attaches the agent while nobody else's tracer is loaded. bpftool may not
# show owner PIDs, but the agent's own fds name its programs (fdinfo).
attach_agent() {
	wait_quiet || true
	start_agent
	our_ids=" $({ grep -h '^prog_id:' /proc/"$agent_pid"/fdinfo/* 2>/dev/null || true; } |
		awk '{ print $2 }' | sort -un | tr '\n' ' ')"
	agent_progs=$(wc -w <<<"$our_ids")
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) printf "%.0f\n", v[(NR + 1) / 2];
		      else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v on="$1" -v off="$2" 'BEGIN { printf "%.4f\n", on / off }'
}

# extra time per iteration with the agent on, in ns
delta_ns() {
	awk -v on="$1" -v off="$2" 'BEGIN { printf "%.1f\n", 1e9 / on - 1e9 / off }'
}

json_array() {
	local IFS=,
	echo "[$*]"
}

quote() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# One phase of a round: every mode once, repeated while someone else's
# tracer shows up. Results go to wall[], cpur[] and dirty[].
run_phase() {
	local phase=$1 try i mode line foreign
	for ((try = 1; ; try++)); do
		wait_quiet || true
		watch_start
		line="round $round/$rounds $phase:"
		for i in "${!modes[@]}"; do
			mode=${modes[i]}
			measure "$mode" "${units[i]}"
			wall[$mode.$phase.$round]=${REPLY% *}
			cpur[$mode.$phase.$round]=${REPLY#* }
			line+=" $mode=${REPLY% *} (cpu ${REPLY#* })"
		done
		watch_stop
		foreign=$REPLY
		if [[ $phase == on ]] && ((!no_agent)) && ! alive "$agent_pid"; then
			die "agent died during the measurement:"$'\n'"$(cat "$agent_err")"
		fi
		dirty[$phase.$round]=$((foreign > 0))
		((foreign > 0)) || break
		if ((try >= attempts_max)); then
			warn "round $round $phase: someone else's tracer in all $try attempts; kept and marked '*'"
			break
		fi
		echo "$prog: $line: $foreign BPF tracing programs of someone else appeared; measuring again" >&2
	done
	echo "$prog: $line" >&2
}

# Load moves the wall-time numbers more than the agent might.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
agent_sha=null
((no_agent)) || agent_sha=$(sha256sum "$LOOPSTALL" | cut -c1-16)
start_target
echo "$prog: $rounds rounds x ${seconds}s, bystander cpu=$cpu, target pid $target_pid ($target_desc)" >&2
if ((no_agent)); then
	echo "$prog: --no-agent: the \"on\" phase runs without the agent (A/A)" >&2
else
	echo "$prog: agent $LOOPSTALL (sha256 $agent_sha...)" >&2
fi

# shellcheck disable=SC2034 # wall and cpur are read through namerefs
declare -A wall cpur dirty
orders=() agent_rcs=() agent_cpus=() agent_nprogs=()
for ((round = 1; round <= rounds; round++)); do
	# Alternate which phase goes first so slow drift cancels out.
	if ((round % 2)); then order=(off on); else order=(on off); fi
	orders+=("${order[0]}/${order[1]}")
	for phase in "${order[@]}"; do
		if [[ $phase == off ]] || ((no_agent)); then
			run_phase "$phase"
			continue
		fi
		attach_agent
		run_phase on
		stop_agent
		agent_rcs+=("$agent_rc")
		agent_cpus+=("$agent_cpu")
		agent_nprogs+=("$agent_progs")
		echo "$prog: agent: $agent_progs BPF programs, ${agent_cpu}s CPU during the phase, exit $agent_rc" >&2
	done
done

if ((!no_agent)) && [[ $(sha256sum "$LOOPSTALL" | cut -c1-16) != "$agent_sha" ]]; then
	warn "$LOOPSTALL changed during the run (rebuilt?): rounds may have used different agents"
fi

# Table and JSON for one mode and one kind of rate (wall or cpu).
summarize() {
	local mode=$1 unit=$2 kind=$3
	local -n res=$4
	local off=() on=() ratios=() moff mon r d
	for ((round = 1; round <= rounds; round++)); do
		off+=("${res[$mode.off.$round]}")
		on+=("${res[$mode.on.$round]}")
		ratios+=("$(ratio "${res[$mode.on.$round]}" "${res[$mode.off.$round]}")")
	done
	moff=$(median "${off[@]}")
	mon=$(median "${on[@]}")
	r=$(ratio "$mon" "$moff")
	d=$(delta_ns "$mon" "$moff")
	printf '%-9s %-27s %12s %12s %8s %9s\n' "$mode" "${unit}_per_${kind}sec" "$moff" "$mon" "$r" "$d"
	REPLY=$(printf '{"off":%s,"on":%s,"ratio_per_round":%s,"median_off":%s,"median_on":%s,"ratio":%s,"delta_ns_per_op":%s}' \
		"$(json_array "${off[@]}")" "$(json_array "${on[@]}")" "$(json_array "${ratios[@]}")" \
		"$moff" "$mon" "$r" "$d")
}

mark() {
	[[ $1 == 0 ]] || echo '*'
}

per_round() {
	local -n res=$1
	local mode
	printf '%-6s %-7s' round order
	for mode in "${modes[@]}"; do printf ' %13s %13s %7s' "$mode off" "$mode on" ratio; done
	printf '\n'
	for ((round = 1; round <= rounds; round++)); do
		printf '%-6s %-7s' "$round" "${orders[round - 1]}"
		for mode in "${modes[@]}"; do
			printf ' %12s%1s %12s%1s %7s' \
				"${res[$mode.off.$round]}" "$(mark "${dirty[off.$round]}")" \
				"${res[$mode.on.$round]}" "$(mark "${dirty[on.$round]}")" \
				"$(ratio "${res[$mode.on.$round]}" "${res[$mode.off.$round]}")"
		done
		printf '\n'
	done
}

printf '\n%-9s %-27s %12s %12s %8s %9s\n' mode rate "median off" "median on" on/off "ns/op"
json_modes=()
for i in "${!modes[@]}"; do
	summarize "${modes[i]}" "${units[i]}" "" wall
	jw=$REPLY
	summarize "${modes[i]}" "${units[i]}" cpu_ cpur
	json_modes+=("$(printf '"%s":{"unit":"%s_per_sec","wall":%s,"cpu":%s}' "${modes[i]}" "${units[i]}" "$jw" "$REPLY")")
done
printf '\nper round, rates per second of wall time:\n'
per_round wall
printf '\nper round, rates per second of the bystander'"'"'s CPU time:\n'
per_round cpur
printf '\nns/op: extra time per iteration with the agent on (1e9/on - 1e9/off).\n'
printf '*: someone else'"'"'s BPF tracing programs were loaded during that phase.\n'

dirty_off=() dirty_on=() quoted_orders=()
for ((round = 1; round <= rounds; round++)); do
	dirty_off+=("${dirty[off.$round]}")
	dirty_on+=("${dirty[on.$round]}")
	quoted_orders+=("$(quote "${orders[round - 1]}")")
done
{
	agent_json=null
	if ((floor)); then
		agent_json=$(quote "$HOOK_FLOOR")
	elif ((!no_agent)); then
		agent_json=$(quote "$LOOPSTALL record -p PID -o /dev/null")
	fi
	[[ $agent_sha == null ]] || agent_sha=$(quote "$agent_sha")
	printf '{"rounds":%s,"seconds":%s,"cpu":%s,"kernel":%s,"agent":%s,"agent_sha256_prefix":%s,"target":%s,' \
		"$rounds" "$seconds" "$(quote "$cpu")" "$(quote "$(uname -r)")" \
		"$agent_json" "$agent_sha" "$(quote "$target_desc")"
	printf '"loadavg_start":%s,"loadavg_end":%s,"order":%s,' "$(quote "$load_start")" \
		"$(quote "$(cut -d' ' -f1-3 /proc/loadavg)")" "$(json_array "${quoted_orders[@]}")"
	printf '"foreign_tracers_off":%s,"foreign_tracers_on":%s,' \
		"$(json_array "${dirty_off[@]}")" "$(json_array "${dirty_on[@]}")"
	printf '"agent_exit_codes":%s,"agent_cpu_seconds":%s,"agent_bpf_programs":%s,' \
		"$(json_array "${agent_rcs[@]}")" "$(json_array "${agent_cpus[@]}")" \
		"$(json_array "${agent_nprogs[@]}")"
	printf '"modes":{%s}}\n' "$(json_array "${json_modes[@]}" | sed 's/^\[//; s/\]$//')"
} >"$OUT"
echo "$prog: results in $OUT" >&2
