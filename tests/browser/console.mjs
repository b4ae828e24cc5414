// tests/browser/console.mjs: browser test of the staff console (/login,
// /console, /console/appeals/{no}, /logout) against a running stack
// ($DGJ_BASE_URL), in Debian's Chromium driven by playwright-core.  The
// demo accounts of intake, handler, reviewer and supervisor sign in on the
// login page with password and TOTP (codes from tests/lib/DgjLogin.pm, so
// that a code is never used twice), each in its own browser, and walk one
// appeal with hostile text in every field from submission to closure: a
// return refused by intake, a supervisor's urge, an assist sub-task
// answered by the assisting department, an extension asked and approved,
// the reply, its approval and the citizen's rating.  Then a session that
// ends mid-form keeps the typed text across the sign-in, at 1366x768 and
// on a tablet.  Prints TAP; exit status 1 on any failure.  Screenshots in
// build/screenshots/console-*.png.

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

const LAPTOP = { width: 1366, height: 768 };
const TABLET = { width: 768, height: 1024 };

// what a hostile submitter types into every field (a name: at most 50)
const X = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'&';
const XS = '<img src=x onerror=alert(3)>"\'&';

const state = {
    browsers: {},
    problems: [],
    profiles: [],
    no: null,
    code: null,
};

function perl(code, args = []) {
    return execFileSync('perl', ['-I', path.join(root, 'tests', 'lib'),
        '-MDgjLogin', '-e', code, ...args]).toString().trim();
}

function account(user) {
    const line = perl('my $a = DgjLogin::demo_account($ARGV[0]);'
        + ' print "$a->{password} $a->{secret}"', [user]);
    const [password, secret] = line.split(' ');
    return { password, secret };
}

// a code of a TOTP step never used before for user (DgjLogin's book)
function totp(user) {
    return perl('my $a = DgjLogin::demo_account($ARGV[0]);'
        + ' print DgjLogin::totp_code($a->{secret},'
        + ' DgjLogin::fresh_step($ARGV[0]))', [user]);
}

// the cookies of a minted session: access token and its CSRF token
function minted(roles, dept) {
    const tool = path.join(root, 'build', 'bin', 'dgj-token');
    const keys = path.join(vardir, 'secrets', 'token.keys');
    const session = execFileSync(tool, ['session']).toString().trim();
    const at = execFileSync(tool, ['mint', '--keys', keys, '--user', '990107',
        '--roles', roles, '--dept', String(dept), '--session', session,
        '--ttl', '900', '--level', '2']).toString().trim();
    const csrf = execFileSync(tool, ['csrf', '--keys', keys, '--session',
        session]).toString().trim();
    return [
        { name: 'dgj_at', value: at, url: base, httpOnly: true,
          sameSite: 'Lax' },
        { name: 'dgj_csrf', value: csrf, url: base, sameSite: 'Strict' },
    ];
}

async function json(method, p, body) {
    const res = await fetch(base + p, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
}

async function browser(name, viewport) {
    const profile = mkdtempSync(path.join(buildDir, 'chromium-profile-'));
    state.profiles.push(profile);
    const context = await state.pw.chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport,
        locale: 'zh-CN',
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (msg) => {
        if (msg.type() === 'error'
            && !msg.text().startsWith('Failed to load resource')) {
            state.problems.push(`${name} console: ${msg.text()}`);
        }
    });
    page.on('pageerror', (e) => {
        state.problems.push(`${name} page error: ${e.message}`);
    });
    page.on('dialog', (d) => {
        state.problems.push(`${name}: a dialog opened: ${d.message()}`);
        d.dismiss().catch(() => {});
    });
    state.browsers[name] = { context, page };
    return page;
}

async function shot(page, name) {
    mkdirSync(shotDir, { recursive: true });
    const file = path.join(shotDir, `console-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const size = statSync(file).size;
    assert(size > 10000, `screenshot ${file} is ${size} bytes`);
}

// fills and sends the login form; the page must be /login
async function login(page, user) {
    const a = account(user);
    await page.locator('#login-username').fill(user);
    await page.locator('#login-password').fill(a.password);
    await page.locator('#login-totp').fill(totp(user));
    await Promise.all([
        page.waitForURL((u) => !u.pathname.startsWith('/login'),
            { timeout: 20000 }),
        page.locator('#login-form button[type=submit]').click(),
    ]);
}

// the staff member of `name` signs in from the console's address
async function signIn(name, user, viewport = LAPTOP) {
    const page = await browser(name, viewport);
    await page.goto(`${base}/console`, { waitUntil: 'load' });
    const u = new URL(page.url());
    assert(u.pathname === '/login' && u.searchParams.get('next') === '/console',
        `not sent to the login page: ${page.url()}`);
    await login(page, user);
    assert(new URL(page.url()).pathname === '/console',
        `after login at ${page.url()}`);
    return page;
}

async function openAppeal(page) {
    const res = await page.goto(`${base}/console/appeals/${state.no}`,
        { waitUntil: 'load' });
    assert(res.status() === 200, `appeal page status ${res.status()}`);
}

async function appealState(page) {
    return page.getByTestId('appeal-state').getAttribute('data-state');
}

async function actions(page) {
    const ids = await page.locator('form[data-testid^="action-"]')
        .evaluateAll((fs) => fs.map((f) => f.dataset.testid.slice(7)));
    return ids.sort().join(',');
}

// opens the action's form, lets fill() type into it, sends it and waits
// for the page to come back with the appeal in `want` (null: the inbox)
async function act(page, action, fill, want) {
    const details = page.locator(`details[data-action="${action}"]`);
    assert(await details.count() === 1, `no form for ${action}`);
    await details.locator('summary').click();
    const form = page.getByTestId(`action-${action}`);
    if (fill) {
        await fill(form);
    }
    await Promise.all([
        page.waitForNavigation({ waitUntil: 'load', timeout: 20000 }),
        form.locator('button[type=submit]').click(),
    ]);
    if (want === null) {
        assert(new URL(page.url()).pathname === '/console',
            `after ${action} at ${page.url()}`);
        return;
    }
    const s = await appealState(page);
    assert(s === want, `after ${action}: state ${s}, wanted ${want}`);
}

const tests = [
    ['console-1: DGJ_BASE_URL, DGJ_VAR set; playwright-core loads',
        async () => {
            assert(base !== '' && vardir !== '',
                'DGJ_BASE_URL or DGJ_VAR not set');
            state.pw = await import('playwright-core');
            mkdirSync(buildDir, { recursive: true });
            const d = await json('GET', '/api/v1/departments');
            state.dept = {};
            for (const it of d.body.items) {
                state.dept[it.code] = it.id;
            }
            assert(state.dept['city.housing'] && state.dept['city.ecology'],
                'departments');
        }],

    ['console-2: a citizen submits an appeal with markup in every field',
        async () => {
            const r = await json('POST', '/api/v1/appeals', {
                channel: 'portal', category_code: '0301',
                district_code: '441900101', address: `地址${X}`,
                title: `噪声${X}`, content: `夜间施工噪声扰民${X}`,
                name: `张${XS}`, phone: '13800138000',
                anonymous: false, publish_consent: true,
            });
            assert(r.status === 201, `submit ${r.status}`);
            state.no = r.body.tracking_no;
            state.code = r.body.query_code;
        }],

    ['console-3: intake is sent to /login?next=/console, signs in with '
        + 'password and TOTP, lands on the intake box', async () => {
        const page = await signIn('intake', 'demo.intake');
        const box = await page.getByTestId('inbox-title')
            .getAttribute('data-box');
        assert(box === 'intake', `box ${box}`);
        const counts = await page.getByTestId('count').count();
        assert(counts >= 4, `${counts} counts`);
        await shot(page, 'intake-inbox');
    }],

    ['console-4: intake filters to new appeals of 石碣镇 and finds it',
        async () => {
            const page = state.browsers.intake.page;
            await page.locator('select[name="state"]')
                .selectOption('submitted');
            await page.locator('select[name="district"]')
                .selectOption('441900101');
            await page.locator('select[name="channel"]')
                .selectOption('portal');
            await Promise.all([
                page.waitForNavigation({ waitUntil: 'load' }),
                page.locator('.console-filters button[type=submit]').click(),
            ]);
            const states = await page.getByTestId('inbox-row')
                .evaluateAll((rs) => rs.map((r) => r.dataset.state));
            assert(states.length > 0
                   && states.every((s) => s === 'submitted'),
                `states ${states.join(',')}`);
            let row = page.locator(`[data-no="${state.no}"]`);
            while (await row.count() === 0
                   && await page.getByTestId('next-page').count() > 0) {
                await Promise.all([
                    page.waitForNavigation({ waitUntil: 'load' }),
                    page.getByTestId('next-page').click(),
                ]);
                row = page.locator(`[data-no="${state.no}"]`);
            }
            assert(await row.count() === 1, 'the new appeal is not listed');
            const title = await row.locator('td').nth(1).textContent();
            assert(title.includes(`噪声${X}`), `title shown as ${title}`);
            const badge = await row.getByTestId('badge').textContent();
            assert(/个工作日|今日到期/.test(badge), `badge ${badge}`);
            await Promise.all([
                page.waitForNavigation({ waitUntil: 'load' }),
                row.locator('a').first().click(),
            ]);
        }],

    ['console-5: the detail shows every field as text, the contact '
        + 'masked, and only intake\'s actions', async () => {
        const page = state.browsers.intake.page;
        assert(await appealState(page) === 'submitted', 'state');
        const content = await page.getByTestId('appeal-content')
            .textContent();
        assert(content === `夜间施工噪声扰民${X}`, `content ${content}`);
        const imgs = await page.locator('main img, main script').count();
        assert(imgs === 0, `${imgs} injected elements`);
        const phone = await page.getByTestId('submitter-phone').textContent();
        assert(phone === '138****8000', `phone ${phone}`);
        const acts = await actions(page);
        assert(acts === 'accept,direct_answer,dispatch,merge,note,'
            + 'reclassify,reject', `actions ${acts}`);
        await shot(page, 'intake-detail');
    }],

    ['console-6: showing the full phone is a recorded action', async () => {
        const page = state.browsers.intake.page;
        await page.getByTestId('reveal').click();
        await page.waitForFunction(() => document.querySelector(
            '[data-testid="submitter-phone"]').textContent === '13800138000');
        await openAppeal(page);
        const last = await page.locator('[data-testid="timeline"] li')
            .last().getAttribute('data-action');
        assert(last === 'reveal', `last event ${last}`);
    }],

    ['console-7: intake dispatches to the housing bureau', async () => {
        const page = state.browsers.intake.page;
        await act(page, 'dispatch', async (f) => {
            await f.locator('select[name="department_id"]')
                .selectOption(String(state.dept['city.housing']));
        }, 'dispatched');
    }],

    ['console-8: the handler signs in and returns it (not ours)',
        async () => {
            const page = await signIn('handler', 'demo.handler');
            const box = await page.getByTestId('inbox-title')
                .getAttribute('data-box');
            assert(box === 'handler', `box ${box}`);
            await openAppeal(page);
            const acts = await actions(page);
            assert(acts === 'note,return,sign', `actions ${acts}`);
            await act(page, 'return', async (f) => {
                await f.locator('select[name="reason_code"]')
                    .selectOption('not_our_duty');
                await f.locator('textarea[name="legal_basis"]')
                    .fill('《东莞市住房和城乡建设局职责目录》不含建筑施工噪声');
            }, 'returned');
        }],

    ['console-9: intake refuses the return', async () => {
        const page = state.browsers.intake.page;
        await openAppeal(page);
        await act(page, 'refuse_return', async (f) => {
            await f.locator('textarea[name="comment"]')
                .fill('工地位于住宅小区内，属住建部门监管范围。');
        }, 'dispatched');
    }],

    ['console-10: the handler signs and asks the ecology bureau to assist',
        async () => {
            const page = state.browsers.handler.page;
            await openAppeal(page);
            await act(page, 'sign', null, 'handling');
            await act(page, 'assist_request', async (f) => {
                await f.locator('select[name="department_ids[]"]')
                    .selectOption([String(state.dept['city.ecology'])]);
                await f.locator('textarea[name="comment"]')
                    .fill('请协助夜间噪声监测。');
            }, 'handling');
            const tasks = await page.getByTestId('tasks').textContent();
            assert(tasks.includes('协办中'), 'no open task shown');
        }],

    ['console-11: the supervisor signs in and urges it', async () => {
        const page = await signIn('supervisor', 'demo.supervisor');
        await openAppeal(page);
        const acts = await actions(page);
        assert(acts === 'note,supervise,urge', `actions ${acts}`);
        await act(page, 'urge', async (f) => {
            await f.locator('textarea[name="comment"]').fill('请加快办理。');
        }, 'handling');
    }],

    ['console-12: the assisting department answers its sub-task',
        async () => {
            const page = await browser('assist', LAPTOP);
            await state.browsers.assist.context.addCookies(
                minted('handler', state.dept['city.ecology']));
            await openAppeal(page);
            const acts = await actions(page);
            assert(acts === 'assist_reply,note', `actions ${acts}`);
            await act(page, 'assist_reply', async (f) => {
                await f.locator('select[name="task_id"]').selectOption(
                    { index: 1 });
                await f.locator('textarea[name="reply"]')
                    .fill('经监测，夜间噪声超标 12 分贝。');
            }, null);
            await openAppeal(page);
            const tasks = await page.getByTestId('tasks').textContent();
            assert(tasks.includes('已回复') && tasks.includes('超标 12 分贝'),
                `tasks: ${tasks}`);
            assert(await actions(page) === 'note', 'actions left');
        }],

    ['console-13: the handler asks for 3 more working days', async () => {
        const page = state.browsers.handler.page;
        await openAppeal(page);
        await act(page, 'extension_request', async (f) => {
            await f.locator('input[name="days"]').fill('3');
            await f.locator('textarea[name="comment"]')
                .fill('需等待协办监测报告。');
        }, 'handling');
        const p = await page.getByTestId('pending-extension').textContent();
        assert(p.includes('3'), `pending ${p}`);
    }],

    ['console-14: intake sees the request in its box and approves it',
        async () => {
            const page = state.browsers.intake.page;
            await page.goto(`${base}/console?state=handling`,
                { waitUntil: 'load' });
            const row = page.locator(`[data-no="${state.no}"]`);
            const flags = await row.textContent();
            assert(flags.includes('申请延期 3 个工作日'), 'no request shown');
            await openAppeal(page);
            await act(page, 'extension_approve', null, 'handling');
        }],

    ['console-15: the handler replies', async () => {
        const page = state.browsers.handler.page;
        await openAppeal(page);
        await act(page, 'reply', async (f) => {
            await f.locator('textarea[name="reply"]')
                .fill('已责令施工单位夜间停工，并处以罚款。');
            await f.locator('select[name="outcome"]').selectOption('resolved');
        }, 'replied');
    }],

    ['console-16: the reviewer signs in, finds it in the box, approves',
        async () => {
            const page = await signIn('reviewer', 'demo.reviewer');
            const box = await page.getByTestId('inbox-title')
                .getAttribute('data-box');
            assert(box === 'reviewer', `box ${box}`);
            await openAppeal(page);
            await act(page, 'approve', null, 'awaiting_feedback');
        }],

    ['console-17: the citizen rates it; the appeal is closed', async () => {
        const r = await json('POST', '/api/v1/appeals/track/rate', {
            tracking_no: state.no, query_code: state.code, rating: 1,
            resolved: true,
        });
        assert(r.status === 200 && r.body.state === 'closed',
            `rate ${r.status} ${r.body && r.body.state}`);
        const page = state.browsers.reviewer.page;
        await openAppeal(page);
        assert(await appealState(page) === 'closed', 'not closed');
        const events = await page.locator('[data-testid="timeline"] li')
            .evaluateAll((ls) => ls.map((l) => l.dataset.action));
        for (const a of ['submit', 'reveal', 'dispatch', 'return',
            'refuse_return', 'sign', 'assist_request', 'urge',
            'assist_reply', 'extension_request', 'extension_approve',
            'reply', 'approve', 'rate']) {
            assert(events.includes(a), `no ${a} in ${events.join(',')}`);
        }
        const internal = await page.locator(
            '[data-testid="timeline"] li.is-internal').count();
        assert(internal >= 5, `${internal} internal events shown`);
        await shot(page, 'closed');
    }],

    ['console-18: a stale form is refused plainly, with a reload button',
        async () => {
            // the supervisor's page still holds the version of step 11
            const page = state.browsers.supervisor.page;
            await page.locator('details[data-action="note"] summary').click();
            await page.getByTestId('action-note').locator('textarea')
                .fill('过时的备注');
            await page.getByTestId('action-note')
                .locator('button[type=submit]').click();
            await page.getByTestId('conflict').waitFor({ state: 'visible' });
            const text = await page.getByTestId('conflict').textContent();
            assert(text.includes('重新加载'), text);
            await shot(page, 'conflict');
            await Promise.all([
                page.waitForNavigation({ waitUntil: 'load' }),
                page.locator('[data-reload]').click(),
            ]);
            assert(await appealState(page) === 'closed', 'not reloaded');
            const kept = await page.getByTestId('action-note')
                .locator('textarea').inputValue();
            assert(kept === '过时的备注', `text after reload: ${kept}`);
        }],

    ['console-19: signing out ends the session', async () => {
        const page = state.browsers.handler.page;
        await page.goto(`${base}/logout`, { waitUntil: 'load' });
        await Promise.all([
            page.waitForURL(/\/login\?signed_out=1$/),
            page.getByTestId('logout-form').locator('button[type=submit]')
                .click(),
        ]);
        await page.getByTestId('signed-out').waitFor();
        await page.goto(`${base}/console`, { waitUntil: 'load' });
        assert(new URL(page.url()).pathname === '/login',
            `still in at ${page.url()}`);
    }],
];

// a session that ends while a form is typed: the text survives sign-in
for (const [name, user, viewport] of [
    ['laptop', 'demo.intake', LAPTOP], ['tablet', 'demo.supervisor', TABLET],
]) {
    tests.push([`console-20 (${name} ${viewport.width}x${viewport.height}): `
        + 'an expired session mid-form keeps the typed text', async () => {
        const page = await browser(`expiry-${name}`, viewport);
        await page.goto(`${base}/console/appeals/${state.no}`,
            { waitUntil: 'load' });
        await login(page, user);
        assert(new URL(page.url()).pathname === `/console/appeals/${state.no}`,
            `back at ${page.url()}`);
        await page.locator('details[data-action="note"] summary').click();
        const typed = `会话过期前输入的备注 ${name}`;
        await page.getByTestId('action-note').locator('textarea').fill(typed);
        // the session ends (idle timeout, sign-out elsewhere): no cookie
        // is left to refresh with
        await state.browsers[`expiry-${name}`].context.clearCookies();
        await Promise.all([
            page.waitForURL(/\/login\?next=/),
            page.getByTestId('action-note').locator('button[type=submit]')
                .click(),
        ]);
        assert(new URL(page.url()).searchParams.get('next')
               === `/console/appeals/${state.no}`, `next in ${page.url()}`);
        await page.getByTestId('login-next').waitFor();
        await shot(page, `expired-${name}`);
        await login(page, user);
        assert(new URL(page.url()).pathname === `/console/appeals/${state.no}`,
            `back at ${page.url()}`);
        const kept = await page.getByTestId('action-note').locator('textarea')
            .inputValue();
        assert(kept === typed, `text after sign-in: "${kept}"`);
        const open = await page.locator('details[data-action="note"]')
            .evaluate((d) => d.open);
        assert(open, 'the note form is not open');
        await shot(page, `restored-${name}`);
    }]);
}

tests.push(['console-21: no console error (CSP), script error or dialog',
    async () => {
        assert(state.problems.length === 0, state.problems.join('\n'));
    }]);

await runTests(tests, async () => {
    for (const b of Object.values(state.browsers)) {
        await b.context.close().catch(() => {});
    }

    for (const p of state.profiles) {
        rmSync(p, { recursive: true, force: true });
    }
});
