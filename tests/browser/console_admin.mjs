// tests/browser/console_admin.mjs: browser test of the supervision board
// and the system admin's pages against a running stack ($DGJ_BASE_URL), in
// Debian's Chromium driven by playwright-core, at 1366x768 and at a tablet
// size (768x1024): a system admin creates a user and sees the password
// and TOTP secret once, changes the user's roles, is refused two duties on
// one account in plain words, adds and removes a holiday, publishes a
// deadline rule version; a supervisor urges an overdue appeal from the
// board.  Staff sign in with minted tokens and their CSRF cookie.  The
// workers' clock is moved 15 days ahead for the overdue appeal and put
// back.  Prints TAP; exit status 1 on any failure.  Screenshots in
// build/screenshots/console-admin-*.png.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync,
         writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, assert, chromiumPath, runTests } from './tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.DGJ_ROOT || path.resolve(here, '..', '..');
const base = (process.env.DGJ_BASE_URL || '').replace(/\/+$/, '');
const vardir = process.env.DGJ_VAR || '';
const buildDir = path.join(root, 'build');
const shotDir = path.join(buildDir, 'screenshots');
const clockFile = process.env.DGJ_CLOCK_FILE
    || path.join(vardir, 'clock-offset');

const LAPTOP = { width: 1366, height: 768 };
const TABLET = { width: 768, height: 1024 };

const pid = process.pid;
const username = `adm.b${pid}`;
const holiday = '2027-03-17';           // a Wednesday
const note = `浏览器测试 ${pid}`;

const state = { context: null, page: null, problems: [], profile: null,
                offset0: 0, appeal: null };

function perl(code) {
    return execFileSync('perl', ['-I', path.join(root, 'tests', 'lib'),
        '-e', code]).toString().trim();
}

function tool(args) {
    return execFileSync(path.join(root, 'build', 'bin', 'dgj-token'), args)
        .toString().trim();
}

async function signIn(roles, user, dept) {
    const keys = path.join(vardir, 'secrets', 'token.keys');
    const session = tool(['session']);
    const at = tool(['mint', '--keys', keys, '--user', String(user),
        '--roles', roles, '--dept', String(dept), '--session', session,
        '--ttl', '900', '--level', '2']);
    const csrf = tool(['csrf', '--keys', keys, '--session', session]);
    await state.context.clearCookies();
    await state.context.addCookies([
        { name: 'dgj_at', value: at, url: base, httpOnly: true,
          sameSite: 'Lax' },
        { name: 'dgj_csrf', value: csrf, url: base, sameSite: 'Strict' },
    ]);
}

function readOffset() {
    try {
        const m = /^(-?\d+)/.exec(readFileSync(clockFile, 'utf8'));
        return m ? Number(m[1]) : 0;
    } catch (e) {
        return 0;
    }
}

function setOffset(seconds) {
    writeFileSync(`${clockFile}.tmp`, `${seconds}\n`, { mode: 0o644 });
    renameSync(`${clockFile}.tmp`, clockFile);
}

async function shot(name) {
    mkdirSync(shotDir, { recursive: true });
    const file = path.join(shotDir, `console-admin-${name}.png`);
    await state.page.screenshot({ path: file, fullPage: true });
    const size = statSync(file).size;
    assert(size > 10000, `screenshot ${file} is ${size} bytes`);
}

async function go(p) {
    const res = await state.page.goto(`${base}${p}`, { waitUntil: 'load' });
    assert(res && res.status() === 200, `${p}: status ${res && res.status()}`);
}

// the page fits its width: nothing but tables scrolls sideways
async function fits() {
    const over = await state.page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 1, `the page is ${over}px wider than the window`);
}

// submits a console.js form and waits for the reload it asks for
async function submitAndReload(form) {
    await Promise.all([
        state.page.waitForNavigation({ waitUntil: 'load' }),
        form.locator('button[type=submit]').click(),
    ]);
}

function beijingDate(days) {
    return new Date(Date.now() + readOffset() * 1000 + 8 * 3600e3
                    + days * 86400e3).toISOString().slice(0, 10);
}

const tests = [
    ['cadm-1: DGJ_BASE_URL, DGJ_VAR set; playwright-core loads', async () => {
        assert(base !== '' && vardir !== '', 'DGJ_BASE_URL or DGJ_VAR not set');
        state.pw = await import('playwright-core');
        state.offset0 = readOffset();
        state.sys = perl(`use DgjTest qw(sql); print join ' ', @{(sql('admin',
            "SELECT id, department_id FROM users WHERE username = 'demo.sysadmin'"))[0]}`)
            .split(' ');
    }],

    ['cadm-2: Debian Chromium starts headless at 1366x768', async () => {
        mkdirSync(buildDir, { recursive: true });
        state.profile = mkdtempSync(path.join(buildDir, 'chromium-profile-'));
        state.context = await state.pw.chromium.launchPersistentContext(
            state.profile, {
                executablePath: chromiumPath, headless: true,
                args: CHROMIUM_ARGS, viewport: LAPTOP, locale: 'zh-CN',
            });
        state.page = state.context.pages()[0]
            || await state.context.newPage();
        state.page.setDefaultTimeout(10000);
        state.page.on('console', (msg) => {
            if (msg.type() === 'error'
                && !msg.text().startsWith('Failed to load resource')) {
                state.problems.push(`console: ${msg.text()}`);
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

    ['cadm-3: a system admin creates a user; password and TOTP shown once',
        async () => {
            await signIn('sysadmin', state.sys[0], state.sys[1]);
            await go('/console/admin/users');
            await fits();
            const form = state.page.locator('#user-create');
            await form.locator('input[name=username]').fill(username);
            await form.locator('input[name=display_name]').fill('浏览器测试员');
            await form.locator('input[name="roles[]"][value=handler]').check();
            await form.locator('button[type=submit]').click();
            const panel = state.page.locator('[data-secret-panel]');
            await panel.waitFor({ state: 'visible' });
            const pw = await panel.locator('[data-secret=initial_password]')
                .textContent();
            const secret = await panel.locator('[data-secret=totp_secret]')
                .textContent();
            assert(pw.length >= 12, `password "${pw}"`);
            assert(/^[A-Z2-7]{16,}=*$/.test(secret), `secret "${secret}"`);
            await shot('user-created');
            await Promise.all([
                state.page.waitForNavigation({ waitUntil: 'load' }),
                panel.locator('[data-secret-done]').click(),
            ]);
            const html = await state.page.content();
            assert(!html.includes(pw), 'the password is still on the page');
        }],

    ['cadm-4: the user\'s roles changed', async () => {
        await go(`/console/admin/users?q=${username}`);
        const user = state.page.locator(`[data-user="${username}"]`);
        const form = user.locator('form[data-form=roles]');
        await form.locator('input[value=reviewer]').check();
        await submitAndReload(form);
        const again = state.page.locator(`[data-user="${username}"] `
            + 'form[data-form=roles]');
        assert(await again.locator('input[value=reviewer]').isChecked(),
            'reviewer not kept');
        assert(await again.locator('input[value=handler]').isChecked(),
            'handler lost');
    }],

    ['cadm-5: two duties on one account: refused in plain words',
        async () => {
            const form = state.page.locator(`[data-user="${username}"] `
                + 'form[data-form=roles]');
            await form.locator('input[value=sysadmin]').check();
            await form.locator('input[value=auditor]').check();
            await form.locator('button[type=submit]').click();
            const msg = form.locator('[data-form-message]');
            await msg.waitFor({ state: 'visible' });
            const text = await msg.textContent();
            assert(text.includes('三权分立'), `message "${text}"`);
            await shot('duty-conflict');
        }],

    ['cadm-6: a holiday added and removed', async () => {
        await go('/console/admin/calendar?year=2027');
        await fits();
        const form = state.page.locator('#day-set');
        await form.locator('input[name=date]').fill(holiday);
        await form.locator('select[name=kind]').selectOption('holiday');
        await form.locator('input[name=name]').fill('测试假日');
        await submitAndReload(form);
        const row = state.page.locator(`tr[data-day="${holiday}"]`);
        await row.waitFor({ state: 'visible' });
        assert((await row.textContent()).includes('测试假日'), 'name');
        await shot('calendar');
        await submitAndReload(row.locator('form'));
        assert(await state.page.locator(`tr[data-day="${holiday}"]`).count()
               === 0, 'the holiday is still listed');
    }],

    ['cadm-7: a deadline rule version published from tomorrow', async () => {
        await go('/console/admin/rules');
        await fits();
        const form = state.page.locator('#rule-create');
        await form.locator('select[name=stage]').selectOption('review');
        await form.locator('select[name=appeal_type]')
            .selectOption('praise');
        await form.locator('input[name=amount]').fill('2');
        await form.locator('input[name=effective_from]')
            .fill(beijingDate(1));
        await form.locator('input[name=note]').fill(note);
        await submitAndReload(form);
        const row = state.page.locator('tr', { hasText: note });
        await row.first().waitFor({ state: 'visible' });
        const text = await row.first().textContent();
        assert(text.includes('待生效') && text.includes('2个工作日'),
            `row "${text}"`);
        await shot('rules');
    }],

    ['cadm-8: the overview and every admin page fit a tablet', async () => {
        await state.page.setViewportSize(TABLET);
        for (const p of ['/console/admin', '/console/admin/users',
            '/console/admin/departments', '/console/admin/categories',
            '/console/admin/rules', '/console/admin/calendar']) {
            await go(p);
            await fits();
        }
        await go('/console/admin/users');
        await shot('users-tablet');
        await state.page.setViewportSize(LAPTOP);
    }],

    ['cadm-9: a supervisor urges an overdue appeal from the board',
        async () => {
            state.appeal = perl('use DgjWorkflow qw(walk_to);'
                + ' print walk_to("dispatched")');
            setOffset(state.offset0 + 15 * 86400);
            await signIn('supervisor', 990101, 0);
            await go('/console/board');
            await fits();
            const row = state.page.locator(
                `tr[data-appeal="${state.appeal}"]`);
            await row.waitFor({ state: 'visible' });
            assert((await row.locator('.badge--red').count()) === 1,
                'not shown red');
            await shot('board');
            const form = row.locator('form[data-api$="/actions/urge"]');
            await form.locator('input[name=comment]').fill('请今日内签收');
            await submitAndReload(form);
            const after = state.page.locator(
                `tr[data-appeal="${state.appeal}"]`);
            const text = await after.textContent();
            assert(text.includes('催办 1 次'), `row "${text}"`);
        }],

    ['cadm-10: the board and its assessment on a tablet', async () => {
        await state.page.setViewportSize(TABLET);
        await go('/console/board');
        await fits();
        await state.page.getByTestId('assessment').waitFor();
        await shot('board-tablet');
        await state.page.setViewportSize(LAPTOP);
    }],

    ['cadm-11: a system admin is refused the board', async () => {
        await signIn('sysadmin', state.sys[0], state.sys[1]);
        const res = await state.page.goto(`${base}/console/board`,
            { waitUntil: 'load' });
        assert(res.status() === 403, `status ${res.status()}`);
        assert(!(await res.text()).includes(state.appeal), 'appeal shown');
    }],

    ['cadm-12: no console error (CSP), script error or dialog', async () => {
        assert(state.problems.length === 0, state.problems.join('\n'));
    }],
];

await runTests(tests, async () => {
    setOffset(state.offset0);

    if (state.context) {
        await state.context.close().catch(() => {});
    }

    if (state.profile) {
        rmSync(state.profile, { recursive: true, force: true });
    }
});
