// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A Node.js loop (libuv, epoll) with a 10 ms setInterval heartbeat whose
 * setTimeout callback spends --ms on the CPU in one named JavaScript
 * function, burnCpu. Run with `node --perf-basic-prof
 * --interpreted-frames-native-stack` so V8 writes /tmp/perf-PID.map:
 * loopstall must name burnCpu in the hottest CPU stack of the stall.
 *
 * burnCpu is large (V8 inlines only small functions) and reads the clock
 * only once per batch, so nearly every sample lands in its own code rather
 * than in a builtin.
 *
 * usage: node node_busy_named.js [--ms N] [--wait-signal] [--delay-ms N] [--linger-ms N]
 */
'use strict';

function parseArgs(argv) {
	const opt = { ms: 400, waitSignal: false, delayMs: 200, lingerMs: 300 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const num = () => {
			const v = Number(argv[++i]);
			if (!Number.isFinite(v) || v < 0) {
				process.stderr.write(`node_busy_named.js: ${a}: expected a number\n`);
				process.exit(2);
			}
			return v;
		};
		if (a === '--ms') opt.ms = num();
		else if (a === '--delay-ms') opt.delayMs = num();
		else if (a === '--linger-ms') opt.lingerMs = num();
		else if (a === '--wait-signal') opt.waitSignal = true;
		else {
			process.stderr.write(`node_busy_named.js: unknown option '${a}'\n`);
			process.exit(2);
		}
	}
	return opt;
}

// Several independent integer mixes per round: a body far past V8's
// inlining budget, all of it this function's own machine code once optimized.
function burnCpu(ms) {
	const end = performance.now() + ms;
	let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
	let rounds = 0;
	do {
		for (let i = 0; i < 4096; i++) {
			a = (a * 31 + i) % 1000003;
			b = (b * 37 + a) % 1000033;
			c = (c * 41 + b) % 1000037;
			d = (d * 43 + c) % 1000039;
			e = (e ^ (d << 3)) & 0xfffff;
			f = (f + (e >>> 2) + i) % 999983;
			g = (g * 47 + (f & 0xffff)) % 1000081;
			h = (h ^ (g << 1) ^ (a >>> 3)) & 0xfffff;
			if ((h & 0xff) === 0x5a) {
				a = (a + h) % 1000003;
				b = (b + g) % 1000033;
			} else if ((h & 0xff) === 0xa5) {
				c = (c + f) % 1000037;
				d = (d + e) % 1000039;
			}
		}
		rounds++;
	} while (performance.now() < end);
	return (a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ rounds) >>> 0;
}

const opt = parseArgs(process.argv.slice(2));
// Keeps the loop iterating constantly.
const heartbeat = setInterval(() => {}, 10);
let started = false;
let result = 0;

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
	result = burnCpu(opt.ms);
	sayAccount('busy', a0, threadAccount());
	console.log('scenario busy end');
	setTimeout(() => {
		clearInterval(heartbeat);
		process.removeAllListeners('SIGUSR2');
		process.stderr.write(`burnCpu result ${result}\n`);
		console.log('done');
	}, opt.lingerMs);
}

process.on('SIGUSR2', () => setTimeout(scenario, 0));
if (!opt.waitSignal)
	setTimeout(scenario, opt.delayMs);
// On Linux, console.log to a pipe is synchronous: the line is out when it returns.
console.log('ready');
