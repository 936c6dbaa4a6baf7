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

const vc = require('./victim_common');

const opt = vc.parseArgs({ idle: false });
vc.run(opt, 'exec', () => {
	if (!opt.idle)
		execSync(`sleep ${opt.ms / 1000}`);
});
