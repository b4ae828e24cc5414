// tests/browser/tap.mjs: what every browser test shares -- how Chromium is
// started (Debian's binary, the flags a headless test run needs), assert()
// and the TAP runner that runs a list of [name, async fn] and exits 0 only
// when every one passed.

export const chromiumPath = process.env.DGJ_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

export function assert(cond, message) {
    if (!cond) {
        throw new Error(message);
    }
}

// to stderr, which prove shows without -v: a CI log then says why
function diag(text) {
    const plain = String(text).replace(/\x1b\[[0-9;]*m/g, '');
    for (const line of plain.split('\n')) {
        process.stderr.write(`# ${line}\n`);
    }
}

// Runs tests in order as TAP, then cleanup() (browsers, profiles), then
// exits: 0 when all passed, 1 otherwise.
export async function runTests(tests, cleanup) {
    let failed = 0;

    process.stdout.write(`1..${tests.length}\n`);

    for (let i = 0; i < tests.length; i++) {
        const [name, fn] = tests[i];
        try {
            await fn();
            process.stdout.write(`ok ${i + 1} - ${name}\n`);
        } catch (e) {
            failed++;
            process.stdout.write(`not ok ${i + 1} - ${name}\n`);
            diag(e && e.message ? e.message : e);
        }
    }

    if (cleanup) {
        await cleanup();
    }

    process.exit(failed === 0 ? 0 : 1);
}
