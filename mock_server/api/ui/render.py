"""The dashboard's sections as HTML fragments, rendered on the server.

One renderer for the first page and for live updates: ``/_mock/ui/state`` sends the
fragments of the sections that changed and the page swaps them in, row by row (each
row has an ``id`` and a ``data-v`` version, so a playing video or an open timeline is
left alone when its row did not change). Status is always text and a symbol as well as
a colour.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from html import escape
from typing import Any, Final

import orjson

from mock_server.service import views

STATUS_SYMBOLS: Final = {
    "pending": "◷",
    "processing": "▶",
    "completed": "✓",
    "failed": "✗",
    "delivered": "✓",
    "exhausted": "✗",
}


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def clock_text(at: float | None) -> str:
    """Server time as ``YYYY-MM-DD HH:MM:SS.s UTC``."""
    if at is None:
        return "—"
    whole = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))
    return f"{whole}.{int((at % 1) * 10)} UTC"


def short_time(at: float | None) -> str:
    if at is None:
        return "—"
    return time.strftime("%H:%M:%S", time.gmtime(at)) + f".{int((at % 1) * 10)}"


def time_tag(at: float | None) -> str:
    if at is None:
        return "—"
    return f'<time datetime="{e(at)}" title="{e(clock_text(at))}">{e(short_time(at))}</time>'


def status_badge(status: str, detail: str = "") -> str:
    symbol = STATUS_SYMBOLS.get(status, "•")
    extra = f" {e(detail)}" if detail else ""
    return (
        f'<span class="status status-{e(status)}"><span aria-hidden="true">{symbol}</span> '
        f"{e(status)}{extra}</span>"
    )


def http_badge(status: int) -> str:
    ok = 0 < status < 400
    word, symbol = ("ok", "✓") if ok else ("error", "✗")
    return (
        f'<span class="status status-{word}"><span aria-hidden="true">{symbol}</span> '
        f'{e(status)}<span class="sr-only"> ({word})</span></span>'
    )


def row(tag: str, row_id: str, body: str, cls: str = "") -> str:
    version = views.fingerprint(body)
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag} id="{e(row_id)}" data-v="{version}"{klass}>{body}</{tag}>'


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"<div><dt>{e(k)}</dt><dd>{v}</dd></div>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>'


def task_card(task: dict[str, Any]) -> str:
    tid = task["id"]
    detail = f"({task['error_code']})" if task["error_code"] else ""
    progress = (
        f'<progress max="100" value="{task["progress"]}" aria-label="Progress of {e(tid)}">'
        f'{task["progress"]} %</progress> <span class="pct">{task["progress"]} %</span>'
    )
    charge = "—" if task["charge"] is None else e(task["charge"])
    if task["status"] == "failed" and task["settled"]:
        charge = "0 (failed: not charged)"
    money = f"{e(task['reserved'])} reserved · charge {charge}"
    pairs = [
        ("Key", f"<code>{e(task['key'])}</code>"),
        ("Prompt", e(task["prompt"])),
        ("Model", e(task["model"])),
        ("Quality", e(task["quality"])),
        ("Aspect ratio", e(task["aspect_ratio"])),
        ("Duration", f"{e(task['duration'])} s"),
        ("Credits", money),
        ("Created", time_tag(task["created"])),
    ]
    if task["error_message"]:
        pairs.append(("Error", f"<code>{e(task['error_code'])}</code>: {e(task['error_message'])}"))
    if task["callback_url"]:
        pairs.append(("Callback", f"<code>{e(task['callback_url'])}</code>"))
    video = ""
    if task["results"]:
        src = e(task["results"][0])
        video = (
            f'<video controls preload="none" src="{src}" aria-label="Result video of {e(tid)}">'
            f'</video><p><a href="{src}">Open the result video</a></p>'
        )
    body = (
        f'<header class="task-head"><h3><code>{e(tid)}</code></h3>'
        f'<p class="task-status" data-status="{e(task["status"])}">'
        f"{status_badge(task['status'], detail)}</p>"
        f'<p class="task-progress">{progress}</p></header>'
        f"{facts(pairs)}"
        f'<details class="more" data-task="{e(tid)}"><summary id="open-{e(tid)}">'
        "Result and timeline"
        f' <span class="sr-only">of {e(tid)}</span></summary>'
        f'{video}<h4>Timeline</h4><ol class="timeline" aria-live="off">'
        f"<li>Open to load.</li></ol></details>"
    )
    return row("article", f"task-{tid}", body, "task card")


def tasks_section(fake: Any) -> str:
    rows, total = views.list_tasks(fake)
    if not rows:
        return '<p class="empty">No tasks yet. Create one through the API.</p>'
    shown = f'<p class="count">{len(rows)} newest of {total}</p>' if total > len(rows) else ""
    return shown + "".join(task_card(t) for t in rows)


def callbacks_section(fake: Any) -> str:
    deliveries = views.callbacks(fake)
    if not deliveries:
        return '<p class="empty">No callbacks yet: tasks with a callback_url call back here.</p>'
    return "".join(delivery_card(d) for d in deliveries)


def attempt_row(attempt: dict[str, Any]) -> str:
    if attempt.get("status") is not None:
        outcome = status_badge(attempt["outcome"], f"HTTP {attempt['status']}")
    else:
        kind = attempt.get("error_kind") or "error"
        outcome = status_badge("failed", f"{kind}: {attempt.get('error') or ''}")
    return (
        f'<tr><th scope="row">{e(attempt["number"])}</th>'
        f"<td>{time_tag(attempt.get('scheduled_at'))}</td>"
        f"<td>{time_tag(attempt.get('attempted_at'))}</td>"
        f"<td>{outcome}</td><td>{e(attempt.get('latency_ms'))} ms</td></tr>"
    )


def delivery_card(delivery: dict[str, Any]) -> str:
    attempts = "".join(attempt_row(a) for a in delivery["attempt_log"])
    if delivery["to_come"]:
        first, *rest = delivery["to_come"]
        later = ", ".join(short_time(t) for t in rest)
        coming = (
            f"Next attempt due {time_tag(first)}"
            + (f"; if it fails, at the earliest {e(later)}" if rest else "")
            + f" ({len(delivery['to_come'])} of {delivery['max_attempts']} still to come)"
        )
    else:
        coming = "No retries to come."
    body = (
        f"<h3><code>{e(delivery['task_id'])}</code> {status_badge(delivery['state'])}</h3>"
        f"<p><code>{e(delivery['url'])}</code></p>"
        '<div class="scroll" tabindex="0" role="region" '
        f'aria-label="Attempts for {e(delivery["task_id"])}"><table>'
        '<thead><tr><th scope="col">#</th><th scope="col">Scheduled</th>'
        '<th scope="col">Made</th><th scope="col">Answer or error</th>'
        f'<th scope="col">Latency</th></tr></thead><tbody>{attempts}</tbody></table></div>'
        f'<p class="to-come">{coming}</p>'
    )
    return row("article", f"cb-{delivery['task_id']}", body, "card")


def ledger_section(fake: Any) -> str:
    data = views.ledger(fake)
    if not data["balances"]:
        return '<p class="empty">No keys.</p>'
    cards = []
    for key, balance in data["balances"].items():
        entries = "".join(
            f"<tr><td>{time_tag(x['at'])}</td><td>{e(x['kind'])}</td>"
            f'<td class="num">{e(x["amount"])}</td><td><code>{e(x["task_id"] or "")}</code>'
            f"{e(x['note'] or '')}</td></tr>"
            for x in data["entries"].get(key, [])
        )
        body = (
            f"<h3><code>{e(key)}</code></h3>"
            + facts(
                [
                    ("Available", e(balance["credits"])),
                    ("Reserved", e(balance["reserved"])),
                    ("Charged", e(balance["charged"])),
                    ("Granted", e(balance["granted"])),
                ]
            )
            + '<div class="scroll" tabindex="0" role="region" '
            f'aria-label="Newest ledger entries of {e(key)}"><table>'
            f'<caption>Newest entries</caption><thead><tr><th scope="col">At</th>'
            '<th scope="col">Kind</th><th scope="col">Amount</th>'
            f'<th scope="col">Task or note</th></tr></thead><tbody>{entries}</tbody></table></div>'
        )
        cards.append(row("article", f"key-{key}", body, "card"))
    return "".join(cards)


def scenarios_section(fake: Any) -> str:
    rules = views.scenarios(fake)
    if not rules:
        return '<p class="empty">No scenario rules: the fake behaves normally.</p>'
    out = []
    for rule in rules:
        remaining = "unlimited" if rule["remaining"] is None else rule["remaining"]
        name = f" {e(rule['name'])}" if rule["name"] else ""
        body = (
            f"<h3><code>{e(rule['id'])}</code>{name}</h3>"
            + facts(
                [
                    ("Match", f"<code>{e(orjson.dumps(rule['match']).decode())}</code>"),
                    ("Effect", f"<code>{e(orjson.dumps(rule['effect']).decode())}</code>"),
                    ("Used", e(rule["used"])),
                    ("Remaining", e(remaining)),
                    ("Source", e(rule["source"])),
                ]
            )
            + f'<button type="button" class="danger" id="del-{e(rule["id"])}" '
            f'data-action="delete-rule" data-rule="{e(rule["id"])}">'
            f'Delete <span class="sr-only">rule</span> {e(rule["id"])}</button>'
        )
        out.append(row("article", f"rule-{rule['id']}", body, "card"))
    return "".join(out)


def journal_section(fake: Any, key: str | None, task_id: str | None) -> str:
    entries = views.journal(fake, key, task_id)
    if not entries:
        return '<p class="empty">No requests recorded yet (the journal is written each second).</p>'
    rows = []
    for entry in entries:
        notes = "".join(f"<li>{e(n)}</li>" for n in entry["notes"])
        rows.append(
            f"<tr><td>{time_tag(entry['at'])}</td><td>{e(entry['method'])}</td>"
            f'<td class="path"><code>{e(entry["path"])}</code></td>'
            f"<td>{http_badge(entry['status'])}</td>"
            f"<td><code>{e(entry['key'] or '')}</code></td>"
            f"<td>{e(round(entry['latency_ms'], 2))} ms</td>"
            f"<td>{'<ul>' + notes + '</ul>' if notes else ''}</td></tr>"
        )
    return (
        '<div class="scroll" tabindex="0" role="region" aria-label="Journal entries"><table>'
        '<thead><tr><th scope="col">At</th><th scope="col">Method</th><th scope="col">Path</th>'
        '<th scope="col">Status</th><th scope="col">Key</th><th scope="col">Latency</th>'
        f'<th scope="col">Contract notes</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )
