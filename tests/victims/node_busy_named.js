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

const vc = require('./victim_common');

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

const opt = vc.parseArgs({ ms: 400 });
vc.run(opt, 'busy', () => burnCpu(opt.ms), {
	account: true,
	afterwards: (result) => process.stderr.write(`burnCpu result ${result}\n`),
});
