// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  See the NOTICE file distributed with
// this work for additional information regarding copyright ownership.
// The ASF licenses this file to You under the Apache License, Version 2.0
// (the "License"); you may not use this file except in compliance with
// the License.  You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
//
// node load.js CHROMIUM BASE_URL FAST_PATH DYNAMIC PATH,RATE,RTT,FACTOR...
//
// Loads, in headless chromium driven by playwright-core over its DevTools
// pipe, with one fresh profile, each paced page BASE_URL + PATH (served by
// mod_dialup through one line of RATE bit/s down and RTT ms round-trip
// time, shared by all the browser's connections: DialupLink with the
// default DialupLine per-client), in the order given, then BASE_URL +
// FAST_PATH (the same page, not paced).  For each load it measures when
// the load event fires (the navigation timing entry's loadEventStart) and
// what the page fetched: the bytes of headers and body of each response,
// as the browser counted them (DevTools' encoded data length), which are
// the bytes mod_dialup paces.  With T = those bytes x 8 / RATE, the time
// the whole page takes on the one line, it checks:
//
//   paced: the load event comes after FACTOR x T + 2 x RTT (the bytes
//          share one line, and the pictures wait for the document: two
//          dependent requests of one RTT each) and before
//          2.5 x (T + 4 x RTT) + 3 s (the same two requests on new
//          connections, each with the RTT of its TCP handshake, and room
//          for a loaded machine).  FACTOR < 1 leaves room for the short
//          bursts of a line that was idle.  The time that one rate per
//          response would give (the behaviour before DialupLine
//          per-client) is printed for comparison;
//   latency: no response of a paced page has its first byte sooner than
//          one RTT after its request started, two on a connection that
//          the request opened;
//   dynamic: the response of PATH + DYNAMIC (the demo's CGI page, in an
//          iframe) is served and took at least RTT + 0.7 x the time its
//          bytes take at RATE: dynamic content is paced too;
//   fast:  the load event comes within 2 s;
//   all:   every picture is loaded (naturalWidth > 0).
//
// Prints one line per check and a closing "browser-check: PASS ..." or
// "browser-check: FAIL ..." line; exits 0 only when everything passed.

'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [chromiumPath, base, fastPath, dynPath, ...pacedArgs] =
    process.argv.slice(2);
const paced = pacedArgs.map((a) => {
    const [p, rate, rtt, factor] = a.split(',');
    return { path: p, rate: Number(rate), rtt: Number(rtt) / 1000,
             factor: Number(factor) };
});
if (!paced.length || paced.some((c) => !c.path || !(c.rate > 0)
                                       || !(c.rtt >= 0)
                                       || !(c.factor > 0))) {
    console.error('usage: node load.js CHROMIUM BASE_URL FAST_PATH DYNAMIC '
                  + 'PATH,RATE,RTT_MS,FACTOR...');
    process.exit(2);
}
const PULSE = 0.2;                       // mod_dialup's pulse, s
const CONNS_PER_HOST = 6;                // chromium, HTTP/1.1
const FAST_LIMIT = 2;                    // s
const SLACK = 0.005;                     // s, the browser's ms rounding

// The load time that one rate per response would give: the document,
// then its subresources in the order they were requested, each at the
// whole rate on the first of CONNS_PER_HOST connections to become free.
// Printed only, to show what sharing the line changed.
function perResponseLoad(rate, doc, subs) {
    const one = (n) => Math.max(PULSE, n * 8 / rate);
    const tDoc = one(doc.bytes);
    const free = new Array(CONNS_PER_HOST).fill(tDoc);
    let end = tDoc;
    for (const s of subs) {
        free.sort((a, b) => a - b);
        free[0] += one(s.bytes);
        end = Math.max(end, free[0]);
    }
    return end;
}

// Loads url in a new page; returns the load time (s), the responses
// (url, status, bytes, when requested, time to first byte and in all,
// the connection and whether the request was the first on it), how many
// images are complete, and the bytes the Performance API counted (printed
// as a cross check).  seen: the ids of the connections that earlier loads
// used, updated.
//
// The connection of a response comes from DevTools' own
// Network.responseReceived (connectionId).  A request is the first on its
// connection, the one mod_dialup gives the extra RTT of the handshake,
// when no request was sent on that connection before it, in this load or
// an earlier one.  Neither playwright's connect times (none on this
// chromium) nor DevTools' connectionReused (true on a socket that
// chromium opened ahead of need) tell that.
async function load(context, url, seen) {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const conns = new Map();
    cdp.on('Network.responseReceived', (ev) => {
        conns.set(ev.response.url, ev.response.connectionId);
    });
    await cdp.send('Network.enable');
    const responses = [];
    const pending = [];
    page.on('requestfinished', (req) => {
        const timing = req.timing();
        const entry = {
            url: req.url(), started: timing.startTime,
            sent: timing.startTime + timing.requestStart,
            ttfb: (timing.responseStart - timing.requestStart) / 1000,
            took: (timing.responseEnd - timing.requestStart) / 1000,
            status: 0, bytes: 0,
        };
        responses.push(entry);
        pending.push((async () => {
            try {
                const res = await req.response();
                const sizes = await req.sizes();
                entry.status = res ? res.status() : 0;
                entry.bytes = sizes.responseHeadersSize
                    + sizes.responseBodySize;
            }
            catch (e) {
                entry.status = 0;
            }
        })());
    });
    await page.goto(url, { waitUntil: 'load', timeout: 120000 });
    const nav = await page.evaluate(() => {
        const e = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const imgs = Array.from(document.images);
        return {
            load: e.loadEventStart / 1000,
            perfBytes: res.reduce((n, r) => n + r.transferSize,
                                  e.transferSize),
            images: imgs.length,
            complete: imgs.filter((i) => i.complete && i.naturalWidth > 0)
                .length,
        };
    });
    // Let the last requestfinished events arrive, then their sizes.
    await page.waitForTimeout(200);
    await Promise.all(pending);
    // In the order the requests went out.  (An unknown connection counts
    // as used before: one RTT is the least.)
    for (const e of [...responses].sort((a, b) => a.sent - b.sent)) {
        e.conn = conns.has(e.url) ? conns.get(e.url) : '?';
        e.fresh = e.conn !== '?' && !seen.has(e.conn);
        seen.add(e.conn);
    }
    await cdp.detach().catch(() => {});
    await page.close();
    return { path: new URL(url).pathname, ...nav, responses };
}

function fmt(x) {
    return x.toFixed(2);
}

async function main() {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(),
                                                 'dialup-chromium-'));
    let checks = 0;
    let failed = 0;
    const check = (ok, text) => {
        console.log(`browser-check: ${ok ? 'ok' : 'NOT OK'}: ${text}`);
        checks++;
        failed += ok ? 0 : 1;
    };
    const ok2xx = (e) => e.status === 200 || e.status === 206;
    const summary = [];

    let context;
    try {
        context = await chromium.launchPersistentContext(userDataDir, {
            executablePath: chromiumPath,
            headless: true,
            args: ['--headless', '--no-sandbox', '--disable-gpu',
                   '--disable-quic', '--no-first-run',
                   '--disable-background-networking',
                   '--disable-component-update', '--disable-sync'],
        });
        // The paced pages first, then the fast one: each path is its own
        // set of URLs, so nothing of a page can come from the cache.
        const loads = [];
        const seen = new Set();
        for (const c of paced) {
            loads.push(await load(context, base + c.path, seen));
        }
        const fast = await load(context, base + fastPath, seen);

        for (const r of [...loads, fast]) {
            for (const e of r.responses) {
                console.log(`browser-check:   ${e.status} ${e.bytes} bytes `
                            + `first byte ${fmt(e.ttfb)} s, all `
                            + `${fmt(e.took)} s, conn ${e.conn}`
                            + `${e.fresh ? ' (new)' : ''} ${e.url}`);
            }
        }

        for (let i = 0; i < paced.length; i++) {
            const c = paced[i];
            const r = loads[i];
            const mine = r.responses.filter(
                (e) => e.url.startsWith(base + c.path));
            const doc = mine.find((e) => e.url === base + c.path);
            const subs = mine.filter((e) => e !== doc && ok2xx(e))
                .sort((a, b) => a.started - b.started);
            const bytes = mine.filter(ok2xx).reduce((n, e) => n + e.bytes, 0);
            const line = bytes * 8 / c.rate;
            const rttMs = Math.round(c.rtt * 1000);

            check(doc && ok2xx(doc), `${c.path}: the document is served `
                  + `(${doc ? doc.status : 'no response'})`);
            check(r.images > 0 && r.complete === r.images,
                  `${c.path}: ${r.complete} of ${r.images} pictures loaded`);
            if (doc) {
                const lo = c.factor * line + 2 * c.rtt;
                const hi = 2.5 * (line + 4 * c.rtt) + 3;
                check(r.load >= lo && r.load <= hi,
                      `${c.path}: load event after ${fmt(r.load)} s; `
                      + `expected ${fmt(lo)}..${fmt(hi)} s: its `
                      + `${mine.length} responses, ${bytes} bytes `
                      + `(Performance API: ${r.perfBytes}), take `
                      + `${fmt(line)} s on one line of ${c.rate} bit/s, `
                      + `plus round trips of ${rttMs} ms (one rate per `
                      + `response on ${CONNS_PER_HOST} connections would `
                      + `give ${fmt(perResponseLoad(c.rate, doc, subs))} s)`);
            }

            // The least margin over the RTTs a response had to wait.
            let worst = null;
            for (const e of mine.filter(ok2xx)) {
                const want = (e.fresh ? 2 : 1) * c.rtt;
                if (!worst || e.ttfb - want < worst.ttfb - worst.want) {
                    worst = { ...e, want };
                }
            }
            if (worst) {
                check(worst.ttfb + SLACK >= worst.want,
                      `${c.path}: every response waited its round trips `
                      + `for the first byte; the least margin: `
                      + `${fmt(worst.ttfb)} s for ${worst.url} (at least `
                      + `${fmt(worst.want)} s: ${worst.fresh ? 2 : 1} x `
                      + `${rttMs} ms${worst.fresh ? ', a new connection'
                                                    : ''})`);
            }

            const dyn = mine.find((e) => e.url === base + c.path + dynPath);
            if (dyn && ok2xx(dyn)) {
                const want = c.rtt + 0.7 * dyn.bytes * 8 / c.rate;
                check(dyn.took + SLACK >= want,
                      `${c.path}${dynPath}: the dynamic page took `
                      + `${fmt(dyn.took)} s for its ${dyn.bytes} bytes; `
                      + `expected at least ${fmt(want)} s (${rttMs} ms + `
                      + `0.7x its time at ${c.rate} bit/s)`);
            }
            else {
                check(false, `${c.path}${dynPath}: the dynamic page is `
                      + `served (${dyn ? dyn.status : 'no response'})`);
            }
            summary.push(`${c.path} in ${fmt(r.load)} s (${bytes} bytes at `
                         + `${c.rate} bit/s, ${rttMs} ms RTT)`);
        }

        check(fast.images > 0 && fast.complete === fast.images,
              `${fastPath}: ${fast.complete} of ${fast.images} pictures `
              + `loaded`);
        check(fast.load < FAST_LIMIT,
              `${fastPath}: load event after ${fmt(fast.load)} s `
              + `(limit ${FAST_LIMIT} s)`);
        summary.push(`${fastPath} in ${fmt(fast.load)} s`);

        console.log(`browser-check: ${failed ? 'FAIL' : 'PASS'}: `
                    + `loaded ${summary.join(', ')}; `
                    + `${checks - failed} of ${checks} checks passed`);
    }
    catch (e) {
        console.log(`browser-check: FAIL: ${e && e.stack ? e.stack : e}`);
        failed++;
    }
    finally {
        if (context) {
            await context.close().catch(() => {});
        }
        fs.rmSync(userDataDir, { recursive: true, force: true });
    }
    process.exit(failed ? 1 : 0);
}

main();
