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
// node load.js CHROMIUM BASE_URL PACED_PATH FAST_PATH RATE DYNAMIC
//
// Loads BASE_URL + PACED_PATH (served by mod_dialup at RATE bit/s) and
// BASE_URL + FAST_PATH (the same page, not paced) in headless chromium,
// driven by playwright-core over its DevTools pipe, with a fresh profile.
// For each load it measures when the load event fires (the navigation
// timing entry's loadEventStart) and what the page fetched (bytes of
// headers and body per response, from the browser), then checks:
//
//   paced: the load event comes after about the time the responses take
//          at RATE: the HTML, then the pictures, each response paced on
//          its own (mod_dialup paces responses, and chromium fetches the
//          pictures in parallel on up to 6 connections).  Bounds 0.7x ..
//          2x + 2 s.  The time a single shared line would need for all
//          the bytes is printed for comparison.
//   dynamic: the response of PACED_PATH + DYNAMIC (the demo's CGI page,
//          in an iframe) is served and took at least 0.7x the time its
//          bytes take at RATE: dynamic content is paced too.
//   fast:  the load event comes within 2 s.
//   both:  every picture is loaded (naturalWidth > 0).
//
// Prints one line per check and a closing "browser-check: PASS ..." or
// "browser-check: FAIL ..." line; exits 0 only when everything passed.

'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [chromiumPath, base, pacedPath, fastPath, rateArg, dynPath] =
    process.argv.slice(2);
if (!dynPath) {
    console.error('usage: node load.js CHROMIUM BASE_URL PACED_PATH '
                  + 'FAST_PATH RATE DYNAMIC');
    process.exit(2);
}
const rate = Number(rateArg);            // bit/s
const PULSE = 0.2;                       // mod_dialup's first pulse, s
const CONNS_PER_HOST = 6;                // chromium, HTTP/1.1
const FAST_LIMIT = 2;                    // s

// Seconds a response of n bytes takes at rate (the first bytes go with
// the first pulse, 200 ms after the request).
function paced(n) {
    return Math.max(PULSE, n * 8 / rate);
}

// The load time that per-response pacing gives: the document, then its
// subresources in the order they were requested, each on the first of
// CONNS_PER_HOST connections to become free.
function expectedLoad(doc, subs) {
    const tDoc = paced(doc.bytes);
    const free = new Array(CONNS_PER_HOST).fill(tDoc);
    let end = tDoc;
    for (const s of subs) {
        free.sort((a, b) => a - b);
        free[0] += paced(s.bytes);
        end = Math.max(end, free[0]);
    }
    return end;
}

// Loads url in a new page; returns the load time (s), the responses
// and how many images are complete.
async function load(context, url) {
    const page = await context.newPage();
    const responses = [];
    page.on('requestfinished', async (req) => {
        const timing = req.timing();
        const entry = { url: req.url(), started: timing.startTime,
                        took: (timing.responseEnd - timing.requestStart)
                              / 1000 };
        responses.push(entry);
        try {
            const res = await req.response();
            const sizes = await req.sizes();
            entry.status = res ? res.status() : 0;
            entry.bytes = sizes.responseHeadersSize + sizes.responseBodySize;
        }
        catch (e) {
            entry.status = 0;
            entry.bytes = 0;
        }
    });
    await page.goto(url, { waitUntil: 'load', timeout: 120000 });
    const nav = await page.evaluate(() => {
        const e = performance.getEntriesByType('navigation')[0];
        const imgs = Array.from(document.images);
        return {
            load: e.loadEventStart / 1000,
            images: imgs.length,
            complete: imgs.filter((i) => i.complete && i.naturalWidth > 0)
                .length,
        };
    });
    // Let the last requestfinished handlers settle.
    await page.waitForTimeout(200);
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
        // The paced page first: nothing of it can be in the cache.
        const slow = await load(context, base + pacedPath);
        const fast = await load(context, base + fastPath);

        for (const r of [slow, fast]) {
            for (const e of r.responses) {
                console.log(`browser-check:   ${e.status} ${e.bytes} bytes `
                            + e.url);
            }
        }

        const ok2xx = (e) => e.status === 200 || e.status === 206;
        const doc = slow.responses.find((e) => e.url === base + pacedPath);
        const subs = slow.responses
            .filter((e) => e !== doc && ok2xx(e)
                           && e.url.startsWith(base + pacedPath))
            .sort((a, b) => a.started - b.started);
        const total = slow.responses.filter(ok2xx)
            .reduce((n, e) => n + e.bytes, 0);

        check(doc && ok2xx(doc), `${pacedPath}: the document is served `
              + `(${doc ? doc.status : 'no response'})`);
        for (const r of [slow, fast]) {
            check(r.images > 0 && r.complete === r.images,
                  `${r.path}: ${r.complete} of ${r.images} pictures loaded`);
        }
        if (doc) {
            const want = expectedLoad(doc, subs);
            const lo = 0.7 * want;
            const hi = 2 * want + 2;
            check(slow.load >= lo && slow.load <= hi,
                  `${pacedPath}: load event after ${fmt(slow.load)} s; `
                  + `expected ${fmt(lo)}..${fmt(hi)} s (${fmt(want)} s: `
                  + `${subs.length + 1} responses paced each at ${rate} `
                  + `bit/s on up to ${CONNS_PER_HOST} connections; the `
                  + `${total} bytes in all would take `
                  + `${fmt(total * 8 / rate)} s on one shared line)`);
        }
        const dyn = slow.responses.find(
            (e) => e.url === base + pacedPath + dynPath);
        if (dyn && ok2xx(dyn)) {
            check(dyn.took >= 0.7 * paced(dyn.bytes),
                  `${pacedPath}${dynPath}: the dynamic page took `
                  + `${fmt(dyn.took)} s for its ${dyn.bytes} bytes; `
                  + `expected at least ${fmt(0.7 * paced(dyn.bytes))} s `
                  + `(0.7x its time at ${rate} bit/s)`);
        }
        else {
            check(false, `${pacedPath}${dynPath}: the dynamic page is `
                  + `served (${dyn ? dyn.status : 'no response'})`);
        }
        check(fast.load < FAST_LIMIT,
              `${fastPath}: load event after ${fmt(fast.load)} s `
              + `(limit ${FAST_LIMIT} s)`);

        console.log(`browser-check: ${failed ? 'FAIL' : 'PASS'}: `
                    + `${pacedPath} loaded in ${fmt(slow.load)} s at `
                    + `${rate} bit/s, ${fastPath} in ${fmt(fast.load)} s; `
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
