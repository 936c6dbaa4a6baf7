#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fuzz every harness in tests/fuzz for a while (not part of CI: a benchmark
# you run by hand). Builds them with clang (-DLOOPSTALL_FUZZ=ON, into
# $BUILD), starts each from a copy of its seed corpus, and prints what each
# covered and found. Crashes, leaks and timeouts are kept in $OUT/NAME/.
#
#   tests/fuzz/run.sh [-t SECONDS] [-j PARALLEL] [NAME...]
#
# Environment: BUILD (build-fuzz), OUT (a new temp dir), FUZZ_RSS_MB (2048).
# Exit status 1 when any harness found something.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
seconds=60
parallel=$(nproc)
while getopts "t:j:h" opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	j) parallel=$OPTARG ;;
	*) sed -n '2,12p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
BUILD=${BUILD:-$SRC/build-fuzz}
OUT=${OUT:-$(mktemp -d /tmp/loopstall-fuzz.XXXXXX)}
RSS=${FUZZ_RSS_MB:-2048}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for d in tests/fuzz/corpus/*/; do names+=("$(basename "$d")"); done
fi

CC=clang CXX=clang++ cmake -S "$SRC" -B "$BUILD" -DLOOPSTALL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]}" >/dev/null

fuzz_one() {
	local n=$1 dir=$OUT/$1
	mkdir -p "$dir/corpus"
	cp "$SRC/tests/fuzz/corpus/$n/"* "$dir/corpus/"
	# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: unbounded growth is a finding
	(cd "$dir" && "$BUILD/tests/fuzz/fuzz_$n" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb="$RSS" -print_final_stats=1 -artifact_prefix="$dir/" corpus \
		>"$dir/log" 2>&1) || true
}

echo "fuzzing ${names[*]} for $seconds s each, $parallel at a time; output in $OUT"
running=0
for n in "${names[@]}"; do
	fuzz_one "$n" &
	running=$((running + 1))
	if [ "$running" -ge "$parallel" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

found=0
printf '%-12s %10s %8s %7s %7s %9s %9s  %s\n' harness execs exec/s cov ft corpus seeds+new findings
for n in "${names[@]}"; do
	log=$OUT/$n/log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	# a harness that fails on a seed prints no progress line: || true, or set -e ends the table
	last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
	seeds=$(ls "$SRC/tests/fuzz/corpus/$n" | wc -l)
	new=$(sed -n 's/^stat::new_units_added: *//p' "$log")
	arts=$(find "$OUT/$n" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
		-o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
	what=none
	if [ "$arts" -gt 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error|deadly signal' "$log"; then
		found=1
		what="$arts artifact(s): $(grep -m1 -E 'SUMMARY|runtime error' "$log" || echo see log)"
	fi
	printf '%-12s %10s %8s %7s %7s %9s %9s  %s\n' "$n" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$seeds+${new:-?}" "$what"
done
echo "logs, grown corpora and artifacts: $OUT/NAME/"
exit $found
