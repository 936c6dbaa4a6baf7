// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the Node.js victims share (as victim_common.py for the Python ones):
 * options, the 10 ms heartbeat and the start protocol. A victim prints
 * `ready`, runs its scenario on SIGUSR2 (--wait-signal) or after
 * --delay-ms, between `scenario NAME begin` and `scenario NAME end`, then
 * idles --linger-ms and prints `done`; the loop ends by itself.
 */
'use strict';

const fs = require('fs');
const path = require('path');

// --ms, --delay-ms, --linger-ms take a number; each boolean default is a flag
// (waitSignal: --wait-signal). Bad input: one line on stderr, exit 2.
function parseArgs(defaults) {
	const prog = path.basename(process.argv[1]);
	const opt = { ms: 300, waitSignal: false, delayMs: 200, lingerMs: 300, ...defaults };
	const flagName = (key) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
	const argv = process.argv.slice(2);
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const key = Object.keys(opt).find((k) => flagName(k) === a);
		if (key === undefined) {
			process.stderr.write(`${prog}: unknown option '${a}'\n`);
			process.exit(2);
		}
		if (typeof opt[key] === 'boolean') {
			opt[key] = true;
			continue;
		}
		const v = Number(argv[++i]);
		if (!Number.isFinite(v) || v < 0) {
			process.stderr.write(`${prog}: ${a}: expected a number\n`);
			process.exit(2);
		}
		opt[key] = v;
	}
	return opt;
}

// The kernel's own account of this thread (/proc/thread-self/schedstat: ns
// on the CPU, ns in the run queue), which tests hold loopstall's split against.
function threadAccount() {
	const [onCpu, runq] = fs.readFileSync('/proc/thread-self/schedstat', 'utf8')
		.split(' ').map(Number);
	return [Number(process.hrtime.bigint()), onCpu, runq];
}

/*
 * Runs work() once on the loop thread as scenario `name` (with the thread's
 * schedstat over it when `account`), then lingers and ends the loop;
 * afterwards(result) runs just before `done`.
 */
function run(opt, name, work, { account = false, afterwards = () => {} } = {}) {
	// keeps the loop iterating constantly
	const heartbeat = setInterval(() => {}, 10);
	let started = false;

	function scenario() {
		if (started)
			return;
		started = true;
		console.log(`scenario ${name} begin`);
		const a0 = threadAccount();
		const result = work();
		if (account) {
			const a1 = threadAccount();
			const ms = (i) => ((a1[i] - a0[i]) / 1e6).toFixed(1);
			console.log(`schedstat ${name} wall_ms=${ms(0)} on_cpu_ms=${ms(1)} runqueue_ms=${ms(2)}`);
		}
		console.log(`scenario ${name} end`);
		setTimeout(() => {
			clearInterval(heartbeat);
			process.removeAllListeners('SIGUSR2');
			afterwards(result);
			console.log('done');
		}, opt.lingerMs);
	}

	process.on('SIGUSR2', () => setTimeout(scenario, 0));
	if (!opt.waitSignal)
		setTimeout(scenario, opt.delayMs);
	// On Linux, console.log to a pipe is synchronous: the line is out when it returns.
	console.log('ready');
}

module.exports = { parseArgs, run };
