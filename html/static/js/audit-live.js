// audit-live.js: keeps the live view of the auditor's console
// (/audit?view=live) fresh during attack/defence drills.  Every 3 s it asks
// GET /api/v1/audit/live?after=<cursor> for the records ingested since the
// last call, puts them on top of the table (newest first, at most 500
// rows) with their flags, and redraws the bursts of refusals.  A lapsed
// access token is renewed once through /api/v1/auth/refresh.  Values are
// put in with textContent only: a record's path or user agent is whatever
// an attacker sent.  No inline script: the page's CSP allows none.

(function () {
    'use strict';

    var rows = document.getElementById('audit-live-rows');
    if (!rows || !window.fetch) {
        return;
    }

    var INTERVAL = 3000;
    var MAX_ROWS = 500;
    var LABELS = {
        scanner: '扫描器',
        tool: '脚本工具',
        sqli: 'SQL注入',
        xss: 'XSS',
        traversal: '路径穿越',
        burst: '连续拒绝'
    };

    var cursor = rows.getAttribute('data-cursor') || '0';
    var bursts = document.getElementById('audit-bursts-rows');
    var updated = document.getElementById('audit-live-updated');
    var toggle = document.getElementById('audit-live-toggle');
    var paused = false;
    var busy = false;
    var stopped = false;

    function cookie(name) {
        var parts = document.cookie ? document.cookie.split('; ') : [];
        for (var i = 0; i < parts.length; i++) {
            var eq = parts[i].indexOf('=');
            if (parts[i].slice(0, eq) === name) {
                return decodeURIComponent(parts[i].slice(eq + 1));
            }
        }
        return '';
    }

    function text(v) {
        return v === null || v === undefined ? '' : String(v);
    }

    function showTime(s) {
        return text(s).replace('T', ' ').replace(/\+08:00$/, '');
    }

    function el(tag, cls, content) {
        var e = document.createElement(tag);
        if (cls) {
            e.className = cls;
        }
        if (content !== undefined) {
            e.textContent = content;
        }
        return e;
    }

    function cell(parts) {
        var td = document.createElement('td');
        parts.forEach(function (p, i) {
            if (i > 0) {
                td.appendChild(document.createElement('br'));
            }
            td.appendChild(p);
        });
        return td;
    }

    function statusClass(status) {
        if (status === 401 || status === 403 || status === 429) {
            return 'denied';
        }
        if (status >= 500) {
            return 'error';
        }
        return status >= 400 ? 'client-error' : 'ok';
    }

    function row(r) {
        var flags = (r.flags || []).filter(function (f) {
            return LABELS.hasOwnProperty(f);
        });
        var tr = el('tr', 'audit-row audit-row--new'
                          + (flags.length ? ' audit-row--flagged' : ''));
        tr.setAttribute('data-testid', 'audit-row');
        tr.setAttribute('data-id', text(r.id));
        tr.setAttribute('data-flags', flags.join(' '));

        tr.appendChild(cell([document.createTextNode(showTime(r.time))]));
        tr.firstChild.className = 'audit-time';

        var user = [document.createTextNode(
            r.user_id === null || r.user_id === undefined
                ? '匿名' : text(r.user_id))];
        if (r.roles) {
            user.push(el('span', 'audit-muted', text(r.roles)));
        }
        tr.appendChild(cell(user));
        tr.appendChild(cell([document.createTextNode(text(r.ip))]));

        var req = document.createElement('span');
        req.appendChild(el('span', 'audit-method', text(r.method)));
        req.appendChild(document.createTextNode(' '));
        var path = el('span', 'audit-path', text(r.path));
        path.setAttribute('data-testid', 'audit-path');
        req.appendChild(path);
        var ua = el('span', 'audit-muted audit-ua', text(r.ua));
        ua.title = text(r.ua);
        tr.appendChild(cell([req, ua]));
        tr.lastChild.className = 'audit-request';

        tr.appendChild(cell([
            el('span', 'audit-status audit-status--'
                       + statusClass(Number(r.status)), text(r.status)),
            el('span', 'audit-muted', text(r.ms) + ' ms')
        ]));
        tr.appendChild(cell([document.createTextNode(text(r.auth)),
                             el('span', 'audit-muted', text(r.limit))]));

        var act = [document.createTextNode(text(r.action))];
        if (r.object) {
            act.push(el('span', 'audit-muted', text(r.object)));
        }
        tr.appendChild(cell(act));

        var ftd = document.createElement('td');
        flags.forEach(function (f) {
            ftd.appendChild(el('span', 'audit-flag audit-flag--' + f,
                               LABELS[f]));
            ftd.appendChild(document.createTextNode(' '));
        });
        tr.appendChild(ftd);

        return tr;
    }

    function drawBursts(list) {
        if (!bursts) {
            return;
        }
        while (bursts.firstChild) {
            bursts.removeChild(bursts.firstChild);
        }
        list.forEach(function (b) {
            var s = b.by_status || {};
            var tr = document.createElement('tr');
            tr.setAttribute('data-testid', 'audit-burst');
            [b.ip, b.refusals, s['401'], s['403'], s['429'],
             showTime(b.first), showTime(b.last)].forEach(function (v) {
                tr.appendChild(el('td', '', text(v)));
            });
            bursts.appendChild(tr);
        });
    }

    function show(data) {
        var empty = document.querySelector('[data-testid="audit-empty"]');
        var recs = data.records || [];

        if (recs.length && empty) {
            empty.parentNode.removeChild(empty);
        }

        recs.forEach(function (r) {
            rows.insertBefore(row(r), rows.firstChild);
        });

        while (rows.children.length > MAX_ROWS) {
            rows.removeChild(rows.lastChild);
        }

        drawBursts(data.bursts || []);
        cursor = text(data.cursor);
        rows.setAttribute('data-cursor', cursor);
        if (updated) {
            updated.textContent = showTime(data.now);
        }
    }

    function stop(message) {
        stopped = true;
        if (updated) {
            updated.textContent = message;
        }
        if (toggle) {
            toggle.hidden = true;
        }
    }

    function refresh() {
        return fetch('/api/v1/auth/refresh', {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'X-CSRF-Token': cookie('dgj_csrf'),
                       'Accept': 'application/json' }
        }).then(function (res) {
            return res.ok;
        }, function () {
            return false;
        });
    }

    function poll(retried) {
        if (paused || busy || stopped) {
            return;
        }

        busy = true;

        fetch('/api/v1/audit/live?after=' + encodeURIComponent(cursor), {
            credentials: 'same-origin',
            headers: { 'Accept': 'application/json' }
        }).then(function (res) {
            if (res.status === 401 && !retried) {
                return refresh().then(function (ok) {
                    busy = false;
                    if (ok) {
                        poll(true);
                    } else {
                        stop('登录已过期，请重新登录后刷新本页');
                    }
                });
            }

            if (!res.ok) {
                busy = false;
                if (res.status === 401 || res.status === 403) {
                    stop('无权查看，请重新登录后刷新本页');
                }
                return null;
            }

            return res.json().then(function (data) {
                busy = false;
                show(data);
                if (data.more) {
                    poll(false);
                }
            });
        }).catch(function () {
            busy = false;
        });
    }

    if (toggle) {
        toggle.hidden = false;
        toggle.addEventListener('click', function () {
            paused = !paused;
            toggle.textContent = paused ? '继续' : '暂停';
            if (!paused) {
                poll(false);
            }
        });
    }

    window.setInterval(function () {
        poll(false);
    }, INTERVAL);
}());
