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

    // The category picker in two steps: a topic select is put before the
    // leaf select (whose optgroups are the topics), and the leaf select
    // then lists only that topic's leaves.  Without JavaScript the one
    // select with its groups does the same job.
    function twoLevel(leaf) {
        if (!leaf || !leaf.querySelector('optgroup')) {
            return;
        }

        var groups = Array.prototype.slice.call(
            leaf.querySelectorAll('optgroup'));
        var placeholder = leaf.options[0];
        var topic = document.createElement('select');
        var label = document.createElement('label');
        var wrap = document.createElement('div');

        topic.id = 'f-category_topic';
        label.htmlFor = topic.id;
        label.textContent = '诉求大类';
        topic.add(new Option('请选择大类', ''));
        groups.forEach(function (g, i) {
            topic.add(new Option(g.label, String(i)));
        });
        wrap.className = 'field';
        wrap.appendChild(label);
        wrap.appendChild(topic);
        leaf.parentNode.parentNode.insertBefore(wrap, leaf.parentNode);

        var chosen = leaf.value;

        function fill(i) {
            var keep = leaf.value;
            while (leaf.firstChild) {
                leaf.removeChild(leaf.firstChild);
            }
            leaf.appendChild(placeholder);
            if (i === '') {
                return;
            }
            groups[Number(i)].querySelectorAll('option').forEach(function (o) {
                leaf.appendChild(o);
            });
            leaf.value = keep;
            if (leaf.value !== keep) {
                leaf.value = '';
            }
        }

        groups.forEach(function (g, i) {
            if (chosen && g.querySelector('option[value="' + chosen + '"]')) {
                topic.value = String(i);
            }
        });
        fill(topic.value);
        topic.addEventListener('change', function () { fill(topic.value); });
    }

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

    if (form) {
        twoLevel(form.elements.category_code);
    }

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
