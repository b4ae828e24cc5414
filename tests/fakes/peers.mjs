#!/usr/bin/env node
//
// tests/fakes/peers.mjs: local fakes of the outside services the accounts
// code calls, for the tests and the demo (node >= 18, no npm packages).
// One HTTP server on 127.0.0.1:
//
//   POST /v1/sms/send                 SMS gateway: Bearer key checked,
//                                     message recorded, {"code":"OK"}
//   GET  /_fake/sms?phone=P           recorded messages (all without P)
//   GET  /sns/oauth2/access_token     WeChat code -> openid exchange
//   GET  /connect/oauth2/authorize    WeChat's browser page: redirects at
//                                     once to redirect_uri with a fresh
//                                     code bound to the demo openid
//   POST /_fake/wechat/codes          {"code","openid"}: a single-use code
//   POST /_fake/mode                  {"sms":"ok|error|timeout|down",
//                                      "wechat":"ok|error|timeout"}
//
// Usage: node tests/fakes/peers.mjs --port 0 --sms-key-file F
//            --wechat-appid A --wechat-secret-file F
//            [--wechat-demo-openid O] [--record-file F]
// Prints "PORT <n>" on stdout once listening; stops on SIGTERM/SIGINT.

import { createServer } from 'node:http';
import { appendFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const opts = {
    port: '0',
    'sms-key-file': null,
    'wechat-appid': 'wxdemo0000000000',
    'wechat-secret-file': null,
    'wechat-demo-openid': 'oDGJdemo_citizen_openid_0001',
    'record-file': null,
};

for (let i = 2; i < process.argv.length; i += 2) {
    const name = process.argv[i].replace(/^--/, '');
    if (!(name in opts) || i + 1 >= process.argv.length) {
        process.stderr.write(`peers.mjs: unknown or incomplete option ` +
                             `${process.argv[i]}\n`);
        process.exit(2);
    }
    opts[name] = process.argv[i + 1];
}

// files are read on each request, so a test can rotate them
function secret(file) {
    if (file === null) {
        return null;
    }
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

const mode = { sms: 'ok', wechat: 'ok' };
const messages = [];
const codes = new Map();        // code -> { openid, used }
const TIMEOUT_MS = 30000;

function reply(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
        ...headers,
    });
    res.end(text);
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
            size += c.length;
            if (size > 65536) {
                reject(new Error('body too large'));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return null;
    }
}

// the failure modes shared by both fakes; true when handled
function injected(kind, req, res) {
    if (kind === 'timeout') {
        const t = setTimeout(() => res.destroy(), TIMEOUT_MS);
        req.socket.on('close', () => clearTimeout(t));
        return true;
    }
    if (kind === 'down') {
        req.socket.destroy();
        return true;
    }
    return false;
}

async function smsSend(req, res) {
    const body = await readBody(req);

    if (injected(mode.sms, req, res)) {
        return;
    }

    const key = secret(opts['sms-key-file']);
    if (key === null || req.headers.authorization !== `Bearer ${key}`) {
        return reply(res, 401, { code: 'isv.INVALID_KEY',
                                 message: 'invalid API key' });
    }

    const m = parseJson(body);
    if (m === null || typeof m.phone !== 'string'
        || !/^1[3-9][0-9]{9}$/.test(m.phone)
        || typeof m.template !== 'string'
        || typeof m.params !== 'object' || m.params === null
        || typeof m.sign !== 'string')
    {
        return reply(res, 400, { code: 'isv.INVALID_PARAMETERS',
                                 message: 'phone, template, params, sign' });
    }

    if (mode.sms === 'error') {
        return reply(res, 200, { code: 'isv.BUSINESS_LIMIT_CONTROL',
                                 message: 'too many messages to this phone' });
    }

    const rec = { phone: m.phone, template: m.template, params: m.params,
                  sign: m.sign, at: new Date().toISOString() };
    messages.push(rec);
    if (opts['record-file'] !== null) {
        appendFileSync(opts['record-file'], JSON.stringify(rec) + '\n');
    }

    reply(res, 200, { code: 'OK', message: 'OK',
                      request_id: randomBytes(8).toString('hex') });
}

function wechatToken(req, res, url) {
    if (injected(mode.wechat, req, res)) {
        return;
    }

    if (mode.wechat === 'error') {
        return reply(res, 200, { errcode: -1,
                                 errmsg: 'system error, rid: fake' });
    }

    const q = url.searchParams;

    if (q.get('appid') !== opts['wechat-appid']) {
        return reply(res, 200, { errcode: 40013, errmsg: 'invalid appid' });
    }
    if (q.get('secret') !== secret(opts['wechat-secret-file'])) {
        return reply(res, 200, { errcode: 40125,
                                 errmsg: 'invalid appsecret' });
    }
    if (q.get('grant_type') !== 'authorization_code') {
        return reply(res, 200, { errcode: 40002,
                                 errmsg: 'invalid grant_type' });
    }

    const c = codes.get(q.get('code') ?? '');
    if (c === undefined) {
        return reply(res, 200, { errcode: 40029, errmsg: 'invalid code' });
    }
    if (c.used) {
        return reply(res, 200, { errcode: 40163, errmsg: 'code been used' });
    }
    c.used = true;

    reply(res, 200, {
        access_token: randomBytes(24).toString('base64url'),
        expires_in: 7200,
        refresh_token: randomBytes(24).toString('base64url'),
        openid: c.openid,
        scope: 'snsapi_base',
    });
}

function wechatAuthorize(req, res, url) {
    const q = url.searchParams;
    const target = q.get('redirect_uri');

    if (q.get('appid') !== opts['wechat-appid'] || target === null
        || !/^https?:\/\//.test(target))
    {
        return reply(res, 400, { errcode: 10003,
                                 errmsg: 'redirect_uri or appid invalid' });
    }

    const code = randomBytes(16).toString('hex');
    codes.set(code, { openid: opts['wechat-demo-openid'], used: false });

    const to = new URL(target);
    to.searchParams.set('code', code);
    to.searchParams.set('state', q.get('state') ?? '');

    res.writeHead(302, { Location: to.toString(), 'Content-Length': 0 });
    res.end();
}

async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;

    switch (route) {
    case 'POST /v1/sms/send':
        return smsSend(req, res);

    case 'GET /_fake/sms': {
        const phone = url.searchParams.get('phone');
        return reply(res, 200, messages.filter(
            (m) => phone === null || m.phone === phone));
    }

    case 'GET /sns/oauth2/access_token':
        return wechatToken(req, res, url);

    case 'GET /connect/oauth2/authorize':
        return wechatAuthorize(req, res, url);

    case 'POST /_fake/wechat/codes': {
        const b = parseJson(await readBody(req));
        if (b === null || typeof b.code !== 'string'
            || typeof b.openid !== 'string')
        {
            return reply(res, 400, { error: 'need {"code","openid"}' });
        }
        codes.set(b.code, { openid: b.openid, used: false });
        return reply(res, 200, { ok: true });
    }

    case 'POST /_fake/mode': {
        const b = parseJson(await readBody(req));
        const sms = ['ok', 'error', 'timeout', 'down'];
        const wx = ['ok', 'error', 'timeout'];
        if (b === null || (b.sms !== undefined && !sms.includes(b.sms))
            || (b.wechat !== undefined && !wx.includes(b.wechat)))
        {
            return reply(res, 400, { error: 'bad mode' });
        }
        Object.assign(mode, { sms: b.sms ?? mode.sms,
                              wechat: b.wechat ?? mode.wechat });
        return reply(res, 200, mode);
    }

    default:
        return reply(res, 404, { error: `no route ${route}` });
    }
}

const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
        if (!res.headersSent) {
            reply(res, 500, { error: String(e.message) });
        }
    });
});

server.listen(Number(opts.port), '127.0.0.1', () => {
    process.stdout.write(`PORT ${server.address().port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => process.exit(0));
}
