// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A Node.js loop with a 10 ms heartbeat whose callback runs
 * child_process.execSync('sleep S'): libuv runs a nested loop on a second
 * epoll fd (epoll_pwait) until the child exits. loopstall must report a
 * stall of about --ms blocked in that nested wait, not mistake it for the
 * loop's own wait. --idle: the same program with no execSync (control).
 *
 * usage: node node_exec_sync.js [--ms N] [--idle] [--wait-signal] [--delay-ms N] [--linger-ms N]
 */
'use strict';

const { execSync } = require('child_process');

function parseArgs(argv) {
	const opt = { ms: 300, idle: false, waitSignal: false, delayMs: 200, lingerMs: 300 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const num = () => {
			const v = Number(argv[++i]);
			if (!Number.isFinite(v) || v < 0) {
				process.stderr.write(`node_exec_sync.js: ${a}: expected a number\n`);
				process.exit(2);
			}
			return v;
		};
		if (a === '--ms') opt.ms = num();
		else if (a === '--delay-ms') opt.delayMs = num();
		else if (a === '--linger-ms') opt.lingerMs = num();
		else if (a === '--idle') opt.idle = true;
		else if (a === '--wait-signal') opt.waitSignal = true;
		else {
			process.stderr.write(`node_exec_sync.js: unknown option '${a}'\n`);
			process.exit(2);
		}
	}
	return opt;
}

const opt = parseArgs(process.argv.slice(2));
const heartbeat = setInterval(() => {}, 10);
let started = false;

function scenario() {
	if (started)
		return;
	started = true;
	console.log('scenario exec begin');
	if (!opt.idle)
		execSync(`sleep ${opt.ms / 1000}`);
	console.log('scenario exec end');
	setTimeout(() => {
		clearInterval(heartbeat);
		process.removeAllListeners('SIGUSR2');
		console.log('done');
	}, opt.lingerMs);
}

process.on('SIGUSR2', () => setTimeout(scenario, 0));
if (!opt.waitSignal)
	setTimeout(scenario, opt.delayMs);
console.log('ready');
