// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A Node.js loop (libuv, epoll) with a 10 ms setInterval heartbeat whose
 * setTimeout callback calls readFifoSync once: fs.readFileSync of a FIFO
 * blocks the loop until a writer comes (the test writes 300 ms after the
 * "scenario fifo begin" line). Called once, readFifoSync is still run by
 * V8's interpreter: loopstall must name it all the same.
 *
 * usage: node node_fifo.js FIFO [--linger-ms N]
 * The scenario starts on SIGUSR2.
 */
'use strict';

const fs = require('fs');

const argv = process.argv.slice(2);
if (argv.length < 1 || argv[0].startsWith('--')) {
	process.stderr.write('usage: node_fifo.js FIFO [--linger-ms N]\n');
	process.exit(2);
}
const fifo = argv[0];
let lingerMs = 300;
if (argv[1] === '--linger-ms') {
	lingerMs = Number(argv[2]);
	if (!Number.isFinite(lingerMs) || lingerMs < 0) {
		process.stderr.write(`node_fifo.js: --linger-ms: expected a number\n`);
		process.exit(2);
	}
} else if (argv.length > 1) {
	process.stderr.write(`node_fifo.js: unknown option '${argv[1]}'\n`);
	process.exit(2);
}

function readFifoSync(path) {
	return fs.readFileSync(path, 'utf8');
}

const heartbeat = setInterval(() => {}, 10);
let started = false;

function scenario() {
	if (started)
		return;
	started = true;
	console.log('scenario fifo begin');
	const got = readFifoSync(fifo);
	console.log('scenario fifo end');
	setTimeout(() => {
		clearInterval(heartbeat);
		process.removeAllListeners('SIGUSR2');
		process.stderr.write(`read ${got.length} bytes\n`);
		console.log('done');
	}, lingerMs);
}

process.on('SIGUSR2', () => setTimeout(scenario, 0));
// On Linux, console.log to a pipe is synchronous: the line is out when it returns.
console.log('ready');
