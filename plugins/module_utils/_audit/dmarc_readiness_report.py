# -*- coding: utf-8 -*-
# Copyright: mailauth.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "DMARC readiness" section of the audit's HTML and text reports, from ``_dmarc_evidence``."""

from __future__ import annotations

from html import escape

KIND_WORDS = {"host": "inventory host", "listed": "listed legitimate", "unknown": "unknown"}
VERDICT_CSS = {"ok": "ok", "fixed": "ok", "forwarded": "skip", "fix": "err", "abuse": "warn"}
CSS = """
table.sources{border-collapse:collapse;margin:6px 0 14px}
.sources th,.sources td{border:1px solid #d0d6dc;padding:3px 6px;text-align:left;font-size:13px;vertical-align:top}
.sources th{background:#f3f5f7}.sources td.n{text-align:right;font-variant-numeric:tabular-nums}
"""


def _share(value):
    return "-" if value is None else "%.2f %%" % value


def _summary(entry):
    return ("%d message%s from %d report%s (%s) between %s and %s; %s aligned, %s of the legitimate mail "
            "(%d messages from inventory hosts and listed sources). Receivers saw p=%s." % (
                entry["messages"], "" if entry["messages"] == 1 else "s", entry["reports"],
                "" if entry["reports"] == 1 else "s", ", ".join(entry["reporters"]) or "none",
                entry["begin"] or "-", entry["end"] or "-", _share(entry["aligned_share"]),
                _share(entry["legitimate_aligned_share"]), entry["legitimate_messages"], entry["published"] or "-"))


def _source_row(source):
    known = KIND_WORDS[source["kind"]] + (" %s" % source["known_as"] if source["known_as"] else "")
    return ('<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td class="n">%d</td><td class="n">%d</td>'
            '<td class="n">%d</td><td class="%s">%s</td><td>%s</td></tr>' % (
                escape(source["address"]), escape(source["reverse_name"] or "-"), escape(known), source["messages"],
                source["aligned"], source["failed"], VERDICT_CSS[source["verdict"]], source["verdict"],
                "<br>".join(escape(fix) for fix in source["fixes"])))


def render_html(entries, thresholds, unreadable=()):
    """The section: per domain the verdict, what blocks it, and the table of sending sources."""
    out = ["<style>%s</style>" % CSS, "<h2>DMARC readiness</h2>",
           '<div class="meta">What receivers reported in the last %d days. Ready for the next stage: at least %d '
           'legitimate messages, at least %s %% of them aligned, and no legitimate source failing.</div>'
           % (thresholds["days"], thresholds["min_messages"], thresholds["min_aligned"])]
    for entry in entries:
        out.append("<h3>%s</h3><p>%s</p>" % (escape(entry["domain"]), escape(_summary(entry))))
        if entry["ready"]:
            out.append('<div class="finding ok"><span class="sev">ready</span>The legitimate mail aligns: the '
                       'policy can move to the next stage.</div>')
        for blocker in entry["blockers"]:
            out.append('<div class="finding err"><span class="sev">blocks</span>%s</div>' % escape(blocker))
        if entry["sources"]:
            out.append('<table class="sources"><thead><tr><th>source</th><th>reverse name</th><th>is</th>'
                       '<th>messages</th><th>aligned</th><th>failing</th><th>verdict</th><th>fix</th></tr></thead><tbody>')
            out.extend(_source_row(source) for source in entry["sources"])
            out.append("</tbody></table>")
        if entry["other_sources"]["count"]:
            other = entry["other_sources"]
            out.append("<p>and %d more sources with %d messages.</p>" % (other["count"], other["messages"]))
    if unreadable:
        out.append("<h3>Reports that could not be read (%d)</h3><ul>" % len(unreadable))
        out.extend("<li><code>%s</code>: %s</li>" % (escape(item["path"]), escape(item["problem"])) for item in unreadable)
        out.append("</ul>")
    return "\n".join(out)


def render_text(entries, thresholds, unreadable=(), width=100):
    """A line per domain, then what blocks it and the fix of each failing legitimate or unknown source."""
    name_width = max([len("domain")] + [len(e["domain"]) for e in entries])
    lines = ["", "DMARC readiness (last %d days)" % thresholds["days"],
             "%-*s  %8s  %8s  %13s  %s" % (name_width, "domain", "messages", "aligned", "legit aligned", "ready")]
    for entry in entries:
        lines.append("%-*s  %8d  %8s  %13s  %s" % (name_width, entry["domain"], entry["messages"],
                                                   _share(entry["aligned_share"]),
                                                   _share(entry["legitimate_aligned_share"]),
                                                   "yes" if entry["ready"] else "no"))
    for entry in entries:
        for blocker in entry["blockers"]:
            lines.append("BLOCKS  %s: %s" % (entry["domain"], blocker))
        for source in entry["sources"]:
            if source["verdict"] in ("fix", "abuse"):
                lines.append("%-7s %s %s: %s" % (
                    source["verdict"].upper(), entry["domain"], source["address"], source["fixes"][0]))
    if unreadable:
        lines.append("%d report file(s) could not be read; see the HTML report." % len(unreadable))
    return "\n".join(line if len(line) <= width else line[:width - 3] + "..." for line in lines) + "\n"
