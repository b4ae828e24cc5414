// portal.js: progressive enhancement of the public pages (/ and /wx/).
// Every page works without it.  It: shows the receipt's print button;
// moves focus to the error summary of a form shown again; keeps a draft
// of the submission form in sessionStorage so that text survives even a
// failed network request, and drops it once the receipt is shown.
'use strict';

(function () {
    var DRAFT = 'dgj-submit-draft';
    var KEPT = ['category_code', 'district_code', 'address', 'title',
                'content', 'name', 'phone'];

    function store() {
        try {
            return window.sessionStorage;
        } catch (e) {
            return null;
        }
    }

    document.querySelectorAll('[data-print]').forEach(function (b) {
        b.hidden = false;
        b.addEventListener('click', function () { window.print(); });
    });

    var summary = document.querySelector('[data-testid="error-summary"]');
    if (summary) {
        summary.focus();
    }

    var s = store();

    if (document.querySelector('[data-testid="receipt"]') && s) {
        s.removeItem(DRAFT);
    }

    var form = document.querySelector('[data-testid="submit-form"]');
    if (!form || !s) {
        return;
    }

    var draft = {};
    try {
        draft = JSON.parse(s.getItem(DRAFT) || '{}') || {};
    } catch (e) {
        draft = {};
    }

    KEPT.forEach(function (name) {
        var el = form.elements[name];
        if (el && !el.value && typeof draft[name] === 'string') {
            el.value = draft[name];
        }
    });

    form.addEventListener('input', function () {
        var d = {};
        KEPT.forEach(function (name) {
            var el = form.elements[name];
            if (el) {
                d[name] = el.value;
            }
        });
        s.setItem(DRAFT, JSON.stringify(d));
    });
}());
