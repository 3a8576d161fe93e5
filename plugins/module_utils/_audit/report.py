# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's reports: JSON for machines, one self-contained HTML page and a short text table for people.

Pure string building from ``_audit.run_audit``'s result. The HTML page carries
its CSS inline and loads nothing, so it can be mailed, archived or opened offline.
"""

from __future__ import annotations

import json
from html import escape

from ansible_collections.mailauth.hardening.plugins.module_utils._audit import dmarc_readiness_report as _dmarc_readiness_report
from ansible_collections.mailauth.hardening.plugins.module_utils._audit.audit import CHECK_ORDER

GROUPS = (("SPF", "spf."), ("DKIM", "dkim."), ("DMARC", "dmarc."), ("STS", "mta_sts."), ("TLSRPT", "tls_rpt."),
          ("DNSBL", "dnsbl."), ("DNS", "dns."))
# Shown only when DNS could not be read for some domain: otherwise a column of "ok" says nothing.
ON_FAILURE_ONLY = ("dns.",)
# Shown only when some domain was checked for them (an inventory that uses neither sees no new columns).
ON_CHECK_ONLY = ("mta_sts.", "tls_rpt.")
CELL = {  # status -> (css class, symbol, words)
    "ok": ("ok", "\u2713", "passed"),
    "info": ("ok", "i", "passed, with a note"),
    "warning": ("warn", "!", "warning"),
    "error": ("err", "\u2717", "error"),
    "skipped": ("skip", "\u2013", "not checked"),
}
SEVERITY_ORDER = ("error", "warning", "info")
TEXT_STATUS = {"ok": "ok", "info": "ok", "warning": "warn", "error": "ERROR", "skipped": "-"}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2329;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:16px;margin:18px 0 6px}
.meta{color:#5b6670;margin-bottom:14px}
.counts span{display:inline-block;padding:4px 10px;margin-right:8px;border-radius:12px;font-weight:600}
table.grid{border-collapse:collapse;margin-top:12px}
.grid th,.grid td{border:1px solid #d0d6dc;padding:4px 5px;text-align:center}
.grid th.dom,.grid td.dom{text-align:left;font-weight:600;white-space:nowrap;padding-right:12px}
.grid thead th{background:#f3f5f7;font-weight:600;font-size:12px}
.grid thead tr.grp th{font-size:14px}
.grid td{min-width:26px;font-weight:700;font-size:16px}
.ok{background:#c8e6c9;color:#1b5e20}.warn{background:#ffe08a;color:#7a4f00}
.err{background:#f4a7a7;color:#8b0000}.skip{background:#eef0f2;color:#8a949c}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:4px;font-size:13px}
.finding{border-left:6px solid;padding:6px 10px;margin:6px 0;background:#fafbfc}
.finding.err{border-color:#c62828}.finding.warn{border-color:#e0a000}.finding.ok{border-color:#4caf50}
.finding .check{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:700;margin-right:6px}
.finding .sev{text-transform:uppercase;font-size:12px;font-weight:700;margin-right:6px}
.finding .fix{margin-top:3px;color:#26323b}.finding .fix b{color:#1d2329}
.clean{color:#1b5e20;font-weight:600}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
"""


def shown_groups(summary):
    """GROUPS without those in ON_FAILURE_ONLY that every domain passed (or skipped), and without those
    in ON_CHECK_ONLY that no domain was checked for."""
    def seen(prefix, statuses):
        return any(status in statuses for cells in summary["grid"].values()
                   for check, status in cells.items() if check.startswith(prefix))
    return [(name, prefix) for name, prefix in GROUPS
            if (prefix not in ON_FAILURE_ONLY or seen(prefix, ("warning", "error")))
            and (prefix not in ON_CHECK_ONLY or seen(prefix, ("ok", "info", "warning", "error")))]


def render_json(result):
    """The module result (findings, summary, ok, ...) as stable, indented JSON."""
    return json.dumps(result, indent=2, sort_keys=True) + "\n"


def _short(check):
    return check.split(".", 1)[1].replace("_", " ")


def _sort_key(finding):
    return (SEVERITY_ORDER.index(finding["severity"]), CHECK_ORDER.index(finding["check"]))


def render_html(result, title="Mail authentication audit", generated=None):
    """One self-contained page: counts, the domain x check grid, then every finding with its fix."""
    summary = result["summary"]
    counts = summary["counts"]
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>%s</title><style>%s</style></head><body>" % (escape(title), CSS),
           "<h1>%s</h1>" % escape(title)]
    meta = "%d domain%s checked" % (summary["domains"], "" if summary["domains"] == 1 else "s")
    if generated:
        meta += " &middot; %s" % escape(generated)
    if result.get("nameservers"):
        meta += " &middot; asked %s" % escape(", ".join(result["nameservers"]))
    out.append('<div class="meta">%s</div>' % meta)
    out.append('<div class="counts"><span class="err">%d error%s</span><span class="warn">%d warning%s</span>'
               '<span class="ok">%d note%s</span></div>' % (
                   counts["error"], "" if counts["error"] == 1 else "s",
                   counts["warning"], "" if counts["warning"] == 1 else "s",
                   counts["info"], "" if counts["info"] == 1 else "s"))
    out.append(_grid(summary))
    out.append('<div class="legend">' + "".join(
        '<span class="%s">%s %s</span>' % (CELL[s][0], CELL[s][1], CELL[s][2])
        for s in ("ok", "warning", "error", "skipped")) + "</div>")
    if result.get("disagreements"):
        out.append("<h2>Name servers disagree</h2><ul>")
        for item in result["disagreements"]:
            answers = "; ".join("%s: %s" % (server, answer if isinstance(answer, str) else ", ".join(answer) or "no record")
                                for server, answer in sorted(item["answers"].items()))
            out.append("<li><code>%s %s</code>: %s</li>" % (escape(item["name"]), escape(item["type"]), escape(answers)))
        out.append("</ul>")
    out.append("<h2>Findings</h2>")
    for domain in sorted(summary["grid"]):
        own = sorted((f for f in result["findings"] if f["domain"] == domain), key=_sort_key)
        out.append("<h3>%s</h3>" % escape(domain))
        if not own:
            out.append('<p class="clean">\u2713 Every check passed.</p>')
        for finding in own:
            out.append(_finding_html(finding))
    if "dmarc_readiness" in result:
        out.append(_dmarc_readiness_report.render_html(result["dmarc_readiness"], result["dmarc_thresholds"],
                                                       result.get("dmarc_unreadable", [])))
    out.append("</body></html>\n")
    return "\n".join(out)


def _grid(summary):
    groups = shown_groups(summary)
    checks = [c for c in summary["checks"] if c.startswith(tuple(prefix for _name, prefix in groups))]
    rows = ['<table class="grid"><thead><tr class="grp"><th class="dom" rowspan="2">domain</th>']
    for name, prefix in groups:
        span = sum(1 for c in checks if c.startswith(prefix))
        rows.append('<th colspan="%d">%s</th>' % (span, name))
    rows.append("</tr><tr>")
    rows.extend("<th>%s</th>" % escape(_short(check)) for check in checks)
    rows.append("</tr></thead><tbody>")
    for domain in sorted(summary["grid"]):
        rows.append('<tr><td class="dom">%s</td>' % escape(domain))
        for check in checks:
            css, symbol, words = CELL[summary["grid"][domain][check]]
            rows.append('<td class="%s" title="%s: %s">%s</td>' % (css, escape(check), words, symbol))
        rows.append("</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _finding_html(finding):
    css = {"error": "err", "warning": "warn", "info": "ok"}[finding["severity"]]
    fix = '<div class="fix"><b>Fix:</b> %s</div>' % escape(finding["fix"]) if finding.get("fix") else ""
    return ('<div class="finding %s"><span class="sev">%s</span><span class="check">%s</span>%s%s</div>'
            % (css, finding["severity"], escape(finding["check"]), escape(finding["message"]), fix))


def render_text(result, width=100):
    """A short table (one row per domain, one column per record kind) and the errors and warnings."""
    grid = result["summary"]["grid"]
    groups = shown_groups(result["summary"])
    domains = sorted(grid)
    name_width = max([len("domain")] + [len(d) for d in domains])
    lines = [("%-*s  %s" % (name_width, "domain", "  ".join("%-6s" % name for name, _prefix in groups))).rstrip()]
    for domain in domains:
        cells = []
        for _name, prefix in groups:
            statuses = [s for check, s in grid[domain].items() if check.startswith(prefix)]
            ran = [s for s in statuses if s != "skipped"]
            worst = max(ran, key=("ok", "info", "warning", "error").index) if ran else "skipped"
            cells.append("%-6s" % TEXT_STATUS[worst])
        lines.append(("%-*s  %s" % (name_width, domain, "  ".join(cells))).rstrip())
    counts = result["summary"]["counts"]
    lines.append("%d error(s), %d warning(s), %d note(s)" % (counts["error"], counts["warning"], counts["info"]))
    for finding in sorted(result["findings"], key=lambda f: (f["domain"],) + _sort_key(f)):
        if finding["severity"] == "info":
            continue
        line = "%-7s %s %s: %s" % (finding["severity"].upper(), finding["domain"], finding["check"], finding["message"])
        lines.append(line if len(line) <= width else line[:width - 3] + "...")
    text = "\n".join(lines) + "\n"
    if "dmarc_readiness" in result:
        text += _dmarc_readiness_report.render_text(result["dmarc_readiness"], result["dmarc_thresholds"],
                                                    result.get("dmarc_unreadable", []), width)
    return text
