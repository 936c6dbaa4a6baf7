// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A Node.js loop (libuv, epoll) with a 10 ms setInterval heartbeat whose
 * setTimeout callback runs a synchronous busy loop of --ms: the JavaScript
 * twin of the CPU-bound coroutine. loopstall must report a stall with cause
 * cpu of about --ms.
 *
 * usage: node node_busy.js [--ms N] [--wait-signal] [--delay-ms N] [--linger-ms N]
 */
'use strict';

function parseArgs(argv) {
	const opt = { ms: 300, waitSignal: false, delayMs: 200, lingerMs: 300 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const num = () => {
			const v = Number(argv[++i]);
			if (!Number.isFinite(v) || v < 0) {
				process.stderr.write(`node_busy.js: ${a}: expected a number\n`);
				process.exit(2);
			}
			return v;
		};
		if (a === '--ms') opt.ms = num();
		else if (a === '--delay-ms') opt.delayMs = num();
		else if (a === '--linger-ms') opt.lingerMs = num();
		else if (a === '--wait-signal') opt.waitSignal = true;
		else {
			process.stderr.write(`node_busy.js: unknown option '${a}'\n`);
			process.exit(2);
		}
	}
	return opt;
}

// Spins on the CPU; performance.now() is a vDSO clock read, no syscall.
function busyLoop(ms) {
	const end = performance.now() + ms;
	let x = 1;
	while (performance.now() < end)
		x = (x * 31 + 7) % 1000003;
	return x;
}

const opt = parseArgs(process.argv.slice(2));
// Keeps the loop iterating constantly.
const heartbeat = setInterval(() => {}, 10);
let started = false;

// The kernel's own account of this thread (/proc/thread-self/schedstat: ns
// on the CPU, ns in the run queue), which tests hold loopstall's split against.
function threadAccount() {
	const [onCpu, runq] = require('fs').readFileSync('/proc/thread-self/schedstat', 'utf8')
		.split(' ').map(Number);
	return [Number(process.hrtime.bigint()), onCpu, runq];
}

function sayAccount(name, a0, a1) {
	const ms = (i) => ((a1[i] - a0[i]) / 1e6).toFixed(1);
	console.log(`schedstat ${name} wall_ms=${ms(0)} on_cpu_ms=${ms(1)} runqueue_ms=${ms(2)}`);
}

function scenario() {
	if (started)
		return;
	started = true;
	console.log('scenario busy begin');
	const a0 = threadAccount();
	busyLoop(opt.ms);
	sayAccount('busy', a0, threadAccount());
	console.log('scenario busy end');
	setTimeout(() => {
		clearInterval(heartbeat);
		process.removeAllListeners('SIGUSR2');
		console.log('done');
	}, opt.lingerMs);
}

process.on('SIGUSR2', () => setTimeout(scenario, 0));
if (!opt.waitSignal)
	setTimeout(scenario, opt.delayMs);
// On Linux, console.log to a pipe is synchronous: the line is out when it returns.
console.log('ready');
