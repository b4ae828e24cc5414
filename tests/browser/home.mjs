// tests/browser/home.mjs: browser test of the home page (/) against a
// running stack ($DGJ_BASE_URL): what a citizen sees, in Debian's Chromium
// driven by playwright-core.  Prints TAP; exit status 1 on any failure.
// Leaves a full-page screenshot in build/screenshots/home.png.

import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, assert, chromiumPath, runTests } from './tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.DGJ_ROOT || path.resolve(here, '..', '..');
const base = (process.env.DGJ_BASE_URL || '').replace(/\/+$/, '');
const buildDir = path.join(root, 'build');
const shotDir = path.join(buildDir, 'screenshots');

const state = {
    context: null,
    page: null,
    response: null,
    body: '',
    problems: [],
    profile: null,
};

async function testId(id) {
    const loc = state.page.getByTestId(id);
    const n = await loc.count();
    assert(n === 1, `expected one element data-testid="${id}", found ${n}`);
    return (await loc.textContent()).trim();
}

const tests = [
    ['home-1: DGJ_BASE_URL is set and playwright-core loads', async () => {
        assert(base !== '', 'DGJ_BASE_URL is not set');
        try {
            state.pw = await import('playwright-core');
        } catch (e) {
            throw new Error('cannot load playwright-core'
                + ` (run npm ci in ${root}): ${e.message}`);
        }
    }],

    ['home-2: Debian Chromium starts headless, fresh profile', async () => {
        mkdirSync(buildDir, { recursive: true });
        state.profile = mkdtempSync(path.join(buildDir, 'chromium-profile-'));
        state.context = await state.pw.chromium.launchPersistentContext(
            state.profile, {
                executablePath: chromiumPath,
                headless: true,
                args: CHROMIUM_ARGS,
                viewport: { width: 1280, height: 900 },
                locale: 'zh-CN',
            });
        state.page = state.context.pages()[0] || await state.context.newPage();
        // the page is rendered on the server: once loaded, all is there
        state.page.setDefaultTimeout(5000);

        state.page.on('console', (msg) => {
            if (msg.type() === 'error') {
                state.problems.push(`console: ${msg.text()}`);
            }
        });
        state.page.on('pageerror', (e) => {
            state.problems.push(`page error: ${e.message}`);
        });
        state.page.on('requestfailed', (r) => {
            state.problems.push(`request failed: ${r.url()} `
                + (r.failure() ? r.failure().errorText : ''));
        });
        state.page.on('response', (r) => {
            if (r.status() >= 400) {
                state.problems.push(`HTTP ${r.status()}: ${r.url()}`);
            }
        });
    }],

    ['home-3: GET / answers 200', async () => {
        state.response = await state.page.goto(`${base}/`,
            { waitUntil: 'load', timeout: 30000 });
        assert(state.response, 'no response');
        state.body = await state.response.text();
        assert(state.response.status() === 200,
            `status ${state.response.status()}`);
    }],

    ['home-4: the title contains 民生大莞家', async () => {
        const title = await state.page.title();
        assert(title.includes('民生大莞家'), `title is "${title}"`);
    }],

    ['home-5: the page is in Chinese (html lang="zh-CN")', async () => {
        const lang = await state.page.getAttribute('html', 'lang');
        assert(lang === 'zh-CN', `lang is "${lang}"`);
    }],

    ['home-6: the towns figure is 28', async () => {
        const v = await testId('figure-towns');
        assert(v === '28', `figure-towns is "${v}"`);
    }],

    ['home-7: the subdistricts figure is 4', async () => {
        const v = await testId('figure-subdistricts');
        assert(v === '4', `figure-subdistricts is "${v}"`);
    }],

    ['home-8: the lists name 4 subdistricts and 28 towns', async () => {
        const subs = await state.page.getByTestId('districts-subdistricts')
            .getByTestId('district').count();
        const towns = await state.page.getByTestId('districts-towns')
            .getByTestId('district').count();
        assert(subs === 4 && towns === 28,
            `listed ${subs} subdistricts and ${towns} towns`);
    }],

    ['home-9: the category list shows at least 10 topics', async () => {
        const n = await state.page.getByTestId('category-list')
            .getByTestId('category-topic').count();
        assert(n >= 10, `${n} topics`);
    }],

    ['home-10: every topic has leaves with handling days in 工作日', async () => {
        const topics = state.page.getByTestId('category-topic');
        const n = await topics.count();
        for (let i = 0; i < n; i++) {
            const leaves = await topics.nth(i).getByTestId('category-leaf')
                .count();
            assert(leaves > 0, `topic ${i + 1} has no leaf`);
        }
        const days = await state.page.locator('.leaf__days', {
            hasText: /\d+ 个工作日/ }).count();
        assert(days > 0, 'no leaf shows its handling days in 工作日');
    }],

    ['home-11: today is shown with its working-day status', async () => {
        const when = await state.page.getByTestId('figure-today')
            .getAttribute('datetime');
        assert(/^\d{4}-\d{2}-\d{2}$/.test(when || ''), `datetime "${when}"`);
        const wd = await testId('figure-working-day');
        assert(wd === '工作日' || wd === '休息日', `working day "${wd}"`);
        const years = await state.page.locator(
            '[data-testid="figure-calendar"] [data-year]').count();
        assert(years > 0, 'no calendar year shown');
    }],

    ['home-12: actions link to /submit, /follow, /disclosures', async () => {
        for (const [id, href] of [['action-submit', '/submit'],
                                  ['action-follow', '/follow'],
                                  ['action-disclosures', '/disclosures']]) {
            const got = await state.page.getByTestId(id).getAttribute('href');
            assert(got === href, `${id} links to "${got}"`);
        }
    }],

    ['home-13: no raw template markers ({{ {% {( ) leak', async () => {
        const dom = await state.page.content();
        for (const mark of ['{{', '{%', '{(']) {
            assert(!state.body.includes(mark), `"${mark}" in the response`);
            assert(!dom.includes(mark), `"${mark}" in the page`);
        }
    }],

    ['home-14: HTML content type and security headers', async () => {
        const h = await state.response.allHeaders();
        assert(/^text\/html;\s*charset=utf-8$/i.test(h['content-type'] || ''),
            `content-type "${h['content-type']}"`);
        // nginx's add_header and the page may both send it: each says nosniff
        const nosniff = (h['x-content-type-options'] || '').split(/,\s*/);
        assert(nosniff.every((v) => v === 'nosniff') && nosniff[0] !== '',
            `X-Content-Type-Options "${h['x-content-type-options']}"`);
        assert(/default-src 'self'/.test(h['content-security-policy'] || ''),
            `CSP "${h['content-security-policy']}"`);
        assert(h['referrer-policy'], 'no Referrer-Policy');
    }],

    ['home-15: the stylesheet is applied', async () => {
        const weight = await state.page.getByTestId('figure-towns').evaluate(
            (el) => getComputedStyle(el).fontWeight);
        assert(weight === '700', `figure font-weight ${weight}`);
    }],

    ['home-16: full-page screenshot build/screenshots/home.png', async () => {
        mkdirSync(shotDir, { recursive: true });
        const file = path.join(shotDir, 'home.png');
        await state.page.screenshot({ path: file, fullPage: true });
        const size = statSync(file).size;
        assert(size > 10000, `screenshot is ${size} bytes`);
    }],

    ['home-17: the first Tab reaches the skip link', async () => {
        await state.page.keyboard.press('Tab');
        const id = await state.page.evaluate(
            () => document.activeElement.getAttribute('data-testid'));
        assert(id === 'skip-link', `focus is on "${id}"`);
    }],

    ['home-18: a 375 px wide phone needs no sideways scrolling', async () => {
        await state.page.setViewportSize({ width: 375, height: 800 });
        const over = await state.page.evaluate(() =>
            document.documentElement.scrollWidth
                - document.documentElement.clientWidth);
        assert(over <= 0, `page is ${over} px wider than the screen`);
        await state.page.screenshot({
            path: path.join(shotDir, 'home-mobile.png'), fullPage: true });
    }],

    ['home-19: no console error, failed request or HTTP error', async () => {
        assert(state.problems.length === 0, state.problems.join('\n'));
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
