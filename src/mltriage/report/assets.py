"""The HTML report's style sheet and its small filter script (inline, no dependency, no request).
Everything is scoped under `.mlt` so a notebook cell's page is left alone."""

from __future__ import annotations

from .plots.svg import STYLE as CHART_STYLE

CSS = (
    """
.mlt{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1060px;margin:0 auto;
 color:#1f1f1f;line-height:1.45;font-size:15px;padding:0 12px}
.mlt h1{font-size:1.5em;margin:.6em 0 .1em}.mlt h2{font-size:1.25em;margin:1.4em 0 .4em;
 border-bottom:2px solid #e0e0e0;padding-bottom:.2em}.mlt h3{font-size:1.05em;margin:.9em 0 .3em}
.mlt .case,.mlt .dim{color:#666;font-size:.9em}.mlt code{background:#f1f1f1;padding:0 3px;border-radius:3px}
.mlt .verdict{font-size:1.2em;font-weight:600;margin:.6em 0;padding:.5em .8em;border-radius:6px;background:#f4f6f8}
.mlt .verdict.critical{background:#fdecea;color:#8e1b1b}.mlt .verdict.warning{background:#fff6e0;color:#6d4c00}
.mlt .verdict.clean{background:#e8f5e9;color:#1b5e20}
.mlt .cards{display:grid;gap:10px}.mlt .card{border:1px solid #ddd;border-left:6px solid #888;border-radius:6px;
 padding:.6em .9em;display:grid;grid-template-columns:7.5em 1fr;gap:.2em 1em}
.mlt .card.critical{border-left-color:#c62828}.mlt .card.warning{border-left-color:#f9a825}
.mlt .card .num{grid-row:span 5;font-size:1.5em;font-weight:700;line-height:1.1}
.mlt .card .num small{display:block;font-size:.48em;font-weight:400;color:#555}
.mlt .card .what{font-weight:600}.mlt .card.cond{opacity:.55}.mlt .lbl{color:#555;font-weight:600}
.mlt .sev{font-weight:700;font-size:.75em;padding:1px 6px;border-radius:3px;color:#fff;vertical-align:middle}
.mlt .sev.critical{background:#c62828}.mlt .sev.warning{background:#f9a825;color:#000}.mlt .sev.info{background:#1565c0}
.mlt nav{background:#fafafa;border:1px solid #e4e4e4;border-radius:6px;padding:.5em .9em;margin:1em 0}
.mlt nav ol{margin:.2em 0;padding-left:1.4em}.mlt nav li{margin:.1em 0}
.mlt .n{font-size:.8em;padding:0 5px;border-radius:8px;margin-left:3px;color:#fff}
.mlt .n.critical{background:#c62828}.mlt .n.warning{background:#f9a825;color:#000}.mlt .n.info{background:#1565c0}
.mlt .filters{margin-top:.4em;font-size:.9em}.mlt .filters label{margin-right:.8em;white-space:nowrap}
.mlt .finding{border:1px solid #e2e2e2;border-left:5px solid #888;border-radius:5px;padding:.5em .9em;margin:.7em 0}
.mlt .finding.critical{border-left-color:#c62828}.mlt .finding.warning{border-left-color:#f9a825}
.mlt .finding.info{border-left-color:#1565c0}.mlt .finding.cond{background:#f7f7f7}
.mlt .finding .head{font-size:1.02em}.mlt .finding .code{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700}
.mlt .ref{color:#555;font-style:italic}.mlt .fix{color:#1b5e20}.mlt .cond-note{color:#6a1b9a}
.mlt table{border-collapse:collapse;font-size:.85em;margin:.3em 0;display:block;overflow-x:auto}
.mlt td,.mlt th{border:1px solid #ddd;padding:2px 6px;text-align:left;white-space:nowrap}.mlt th{background:#f4f4f4}
.mlt figure.plot{margin:.8em 0;max-width:620px}.mlt .ptitle{font-weight:600;margin-bottom:.2em}.mlt figcaption{font-size:.85em;color:#555}
.mlt details>summary{cursor:pointer;color:#444}.mlt .scalars{font-size:.85em;color:#555}
.mlt footer{margin:2em 0 1em;font-size:.85em;color:#666}
"""
    + CHART_STYLE
)

# Filters by severity and rung: hides findings (and rung sections left empty) that are unticked.
# Without script (a notebook that does not run it) everything stays visible.
JS = """
(function(){var root=document.getElementById('%(root)s');if(!root)return;
function q(s){return Array.prototype.slice.call(root.querySelectorAll(s));}
function apply(){var sev={},rung={};
q('input[data-sev]').forEach(function(c){sev[c.getAttribute('data-sev')]=c.checked;});
q('input[data-rung]').forEach(function(c){rung[c.getAttribute('data-rung')]=c.checked;});
q('.finding').forEach(function(f){f.hidden=!(sev[f.getAttribute('data-severity')]&&rung[f.getAttribute('data-rung')]);});
q('section.rung').forEach(function(s){var r=s.getAttribute('data-rung');
var shown=q('section.rung[data-rung="'+r+'"] .finding').some(function(f){return !f.hidden;});
s.hidden=!rung[r]||(!shown&&!s.querySelector('.always'));});}
q('.filters input').forEach(function(c){c.addEventListener('change',apply);});apply();})();
"""
