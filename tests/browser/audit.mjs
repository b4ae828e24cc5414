// tests/browser/audit.mjs: browser test of the auditor's console (/audit)
// against a running stack ($DGJ_BASE_URL), in Debian's Chromium driven by
// playwright-core: an auditor (a signed access token in the dgj_at cookie)
// watches the live view pick up an attack as it is logged, with its flags
// and the hostile path shown as text; searches; verifies a range with the
// button; no CSP violation or script error; a system admin is refused.
// Prints TAP; exit status 1 on any failure.  Screenshots in
// build/screenshots/audit-*.png.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, assert, chromiumPath, runTests } from './tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.DGJ_ROOT || path.resolve(here, '..', '..');
const base = (process.env.DGJ_BASE_URL || '').replace(/\/+$/, '');
const vardir = process.env.DGJ_VAR || '';
const buildDir = path.join(root, 'build');
const shotDir = path.join(buildDir, 'screenshots');

const chain = `tW${process.pid}`;
// this run's own attacker, so an earlier run's rows never match
const attacker = `198.18.${process.pid % 250}.${1 + process.pid % 253}`;
const attackPath = '/api/v1/appeals?id=1%27%20UNION%20SELECT%20NULL--'
    + '&q=<img src=x onerror=alert(9)>';

const state = {
    context: null,
    page: null,
    problems: [],
    profile: null,
};

function token(roles) {
    const tool = path.join(root, 'build', 'bin', 'dgj-token');
    const keys = path.join(vardir, 'secrets', 'token.keys');
    const session = execFileSync(tool, ['session']).toString().trim();
    return execFileSync(tool, ['mint', '--keys', keys, '--user', '990003',
        '--roles', roles, '--dept', '0', '--session', session,
        '--ttl', '900', '--level', '2']).toString().trim();
}

// lines sealed with the stack's key and stored as the ingester stores
// them (tests/lib/DgjAudit.pm), stamped now
function logAttack() {
    const perl = `
        use DgjAudit qw(new_chain start_line rec_line store ms_now);
        my $c = new_chain('${chain}');
        my $t = ms_now();
        start_line($c, $t);
        rec_line($c, $t + 1, ip => '${attacker}', status => 400,
                 ua => 'sqlmap/1.7.2#stable (https://sqlmap.org)',
                 path => $ENV{ATTACK_PATH});
        store(@{ $c->{lines} });`;
    execFileSync('perl', ['-I', path.join(root, 'tests', 'lib'), '-e', perl],
        { env: { ...process.env, ATTACK_PATH: attackPath } });
}

async function signIn(roles) {
    await state.context.clearCookies();
    await state.context.addCookies([{
        name: 'dgj_at', value: token(roles), url: base,
        httpOnly: true, sameSite: 'Lax',
    }]);
}

async function shot(name) {
    mkdirSync(shotDir, { recursive: true });
    const file = path.join(shotDir, `audit-${name}.png`);
    await state.page.screenshot({ path: file, fullPage: true });
    const size = statSync(file).size;
    assert(size > 10000, `screenshot ${file} is ${size} bytes`);
}

const tests = [
    ['audit-1: DGJ_BASE_URL, DGJ_VAR set; playwright-core loads', async () => {
        assert(base !== '' && vardir !== '', 'DGJ_BASE_URL or DGJ_VAR not set');
        try {
            state.pw = await import('playwright-core');
        } catch (e) {
            throw new Error('cannot load playwright-core'
                + ` (run npm ci in ${root}): ${e.message}`);
        }
    }],

    ['audit-2: Debian Chromium starts headless, fresh profile', async () => {
        mkdirSync(buildDir, { recursive: true });
        state.profile = mkdtempSync(path.join(buildDir, 'chromium-profile-'));
        state.context = await state.pw.chromium.launchPersistentContext(
            state.profile, {
                executablePath: chromiumPath,
                headless: true,
                args: CHROMIUM_ARGS,
                viewport: { width: 1440, height: 900 },
                locale: 'zh-CN',
            });
        state.page = state.context.pages()[0]
            || await state.context.newPage();
        state.page.setDefaultTimeout(10000);

        // a failed load is judged by its URL below, not by the console
        state.page.on('console', (msg) => {
            if (msg.type() === 'error'
                && !msg.text().startsWith('Failed to load resource')) {
                state.problems.push(`console: ${msg.text()}`);
            }
        });
        state.page.on('response', (r) => {
            if (r.status() >= 400) {
                state.problems.push(`HTTP ${r.status()}: ${r.url()}`);
            }
        });
        state.page.on('pageerror', (e) => {
            state.problems.push(`page error: ${e.message}`);
        });
        state.page.on('dialog', (d) => {
            state.problems.push(`a dialog opened: ${d.message()}`);
            d.dismiss().catch(() => {});
        });
    }],

    ['audit-3: the auditor opens the live view', async () => {
        state.t0 = Date.now();
        await signIn('auditor');
        const res = await state.page.goto(`${base}/audit?view=live`,
            { waitUntil: 'load', timeout: 30000 });
        assert(res && res.status() === 200, `status ${res && res.status()}`);
        const title = await state.page.title();
        assert(title.includes('审计日志'), `title "${title}"`);
        const view = await state.page.getByTestId('audit-console')
            .getAttribute('data-view');
        assert(view === 'live', `view "${view}"`);
    }],

    ['audit-4: its script runs (the pause button shows)', async () => {
        await state.page.getByTestId('audit-live-toggle')
            .waitFor({ state: 'visible' });
    }],

    ['audit-5: an attack logged now appears within seconds, flagged',
        async () => {
            logAttack();
            const row = state.page.locator(
                '#audit-live-rows tr[data-flags~="sqli"]', {
                    hasText: attacker });
            await row.first().waitFor({ state: 'visible', timeout: 15000 });
            const flags = await row.first().getAttribute('data-flags');
            assert(/\bscanner\b/.test(flags) && /\bsqli\b/.test(flags)
                   && /\bxss\b/.test(flags), `flags "${flags}"`);
            const labels = await row.first().locator('.audit-flag')
                .allTextContents();
            assert(labels.includes('扫描器') && labels.includes('SQL注入'),
                `labels ${labels.join(',')}`);
        }],

    ['audit-6: the hostile path is text, not markup', async () => {
        const row = state.page.locator(
            '#audit-live-rows tr[data-flags~="sqli"]', {
                hasText: attacker }).first();
        const text = await row.getByTestId('audit-path').textContent();
        assert(text === attackPath, `path shown as "${text}"`);
        const imgs = await state.page.locator('#audit-live-rows img').count();
        assert(imgs === 0, `${imgs} <img> elements in the table`);
        await shot('live');
    }],

    ['audit-7: search by address shows only that address', async () => {
        await state.page.goto(`${base}/audit`, { waitUntil: 'load' });
        await state.page.locator('input[name="ip"]').fill(attacker);
        await Promise.all([
            state.page.waitForNavigation({ waitUntil: 'load' }),
            state.page.getByTestId('audit-search').click(),
        ]);
        const ips = await state.page.locator(
            '[data-testid="audit-row"] td:nth-child(3)').allTextContents();
        assert(ips.length >= 1 && ips.every((ip) => ip === attacker),
            `addresses ${ips.join(',')}`);
        const href = await state.page.getByTestId('audit-export')
            .getAttribute('href');
        assert(href.startsWith('/api/v1/audit/export?')
               && href.includes(`ip=${attacker}`), `export link ${href}`);
        await shot('search');
    }],

    ['audit-8: one button verifies the time of this test', async () => {
        await state.page.goto(`${base}/audit?view=verify`,
            { waitUntil: 'load' });
        // from this test's start (UTC+8, as the auditor types it): the
        // range holds this suite's lines and those of any worker chain
        // that was idle since an earlier suite's backup restore, which
        // verify only because the restore rewinds the ingester to the
        // backup's place (tests/http/backup_restore.t bak-4.7)
        const from = new Date(state.t0 + 8 * 3600e3 - 1000).toISOString()
            .slice(0, 19);
        await state.page.locator('input[name="from"]').fill(from);
        await Promise.all([
            state.page.waitForNavigation({ waitUntil: 'load' }),
            state.page.getByTestId('audit-verify').click(),
        ]);
        const result = state.page.getByTestId('audit-verify-result');
        const ok = await result.getAttribute('data-ok');
        const text = await result.textContent();
        assert(ok === 'true' && text.includes('校验通过'),
            `result ${ok}: ${text}`);
        await shot('verify');
    }],

    ['audit-9: a system admin is refused the console', async () => {
        await signIn('sysadmin');
        const res = await state.page.goto(`${base}/audit?view=live`,
            { waitUntil: 'load' });
        assert(res.status() === 403, `status ${res.status()}`);
        const body = await res.text();
        assert(!body.includes(attacker), 'the log shows');
    }],

    ['audit-10: no console error (CSP), script error or dialog', async () => {
        // the refusal above is the only HTTP error wanted (and the icon
        // Chromium asks for after that JSON answer, which has none)
        const problems = state.problems.filter(
            (p) => !/^HTTP 403: .*\/audit\?view=live$/.test(p)
                   && !/^HTTP 404: .*\/favicon\.ico$/.test(p));
        assert(problems.length === 0, problems.join('\n'));
    }],
];

await runTests(tests, async () => {
    if (state.context) {
        await state.context.close().catch(() => {});
    }

    if (state.profile) {
        rmSync(state.profile, { recursive: true, force: true });
    }
});
