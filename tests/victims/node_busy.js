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

const vc = require('./victim_common');

// Spins on the CPU; performance.now() is a vDSO clock read, no syscall.
function busyLoop(ms) {
	const end = performance.now() + ms;
	let x = 1;
	while (performance.now() < end)
		x = (x * 31 + 7) % 1000003;
	return x;
}

const opt = vc.parseArgs({});
vc.run(opt, 'busy', () => busyLoop(opt.ms), { account: true });
