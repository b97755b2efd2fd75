"""A student's feedback: ``feedback.md`` and ``feedback.html`` (each task's points and messages)."""

from __future__ import annotations

from typing import Any

from grader.i18n import t
from grader.outputs.escape import md_code, md_text
from grader.outputs.html import escape, page
from grader.statuses import label
from grader.tasks import TASKS


def feedback_markdown(student: str, data: dict[str, Any], lang: str | None) -> str:
    """``feedback.md``. The student's name and every message line (which hold exception
    texts) are code spans (:func:`md_code`): no renderer makes HTML, a link or an image of
    them; the kit's own labels are escaped text (:func:`md_text`)."""
    t_ = md_text
    lines = [f"# Práctico 2: {md_code(student)}", "",
             f"**{t_(t('feedback_total', lang))}: {data['score']:g} / {data['max_score']:g}**",
             "", f"| {t_(t('feedback_task', lang))} | {t_(t('feedback_points', lang))} | "
             f"{t_(t('feedback_status', lang))} |", "|---|---|---|"]
    for task in TASKS:
        entry = data["tasks"][task.id]
        shown = label(entry["status"], lang)
        lines.append(f"| {md_code(task.id, in_table=True)} {t_(task.title(lang))} | "
                     f"{entry['score']:g} / "
                     f"{entry['max_score']:g} | {t_(shown)} |")
    for task in TASKS:
        entry = data["tasks"][task.id]
        if entry.get("message"):
            lines += ["", f"## {md_code(task.id)}: {t_(task.title(lang))}", ""]
            lines += [f"- {md_code(m)}" for m in entry["message"].splitlines() if m.strip()]
    return "\n".join(lines) + "\n"



_FEEDBACK_CSS = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
                 "td,th{padding:.3em .8em;border-bottom:1px solid #ddd}"
                 ".ok td:nth-child(2){color:#176317}.ko td:nth-child(2){color:#a01515}")



def feedback_html(student: str, data: dict[str, Any], lang: str | None) -> str:
    """``feedback.html``: the student's table and messages, in ``lang``."""
    esc = escape
    rows = []
    for task in TASKS:
        entry = data["tasks"][task.id]
        ok = entry["status"] == "passed"
        rows.append(
            f"<tr class=\"{'ok' if ok else 'ko'}\"><td><code>{esc(task.id)}</code> "
            f"{esc(task.title(lang))}</td><td>{entry['score']:g} / {entry['max_score']:g}</td>"
            f"<td>{esc(label(entry['status'], lang))}</td></tr>")
    details = []
    for task in TASKS:
        entry = data["tasks"][task.id]
        if entry.get("message"):
            items = "".join(f"<li>{esc(m)}</li>" for m in entry["message"].splitlines())
            details.append(f"<h2><code>{esc(task.id)}</code> {esc(task.title(lang))}</h2>"
                           f"<ul>{items}</ul>")
    title = t("feedback_title", lang, student=student)
    body = [
        f"<h1>{esc(title)}</h1>",
        f"<p><strong>{esc(t('feedback_total', lang))}: {data['score']:g} / "
        f"{data['max_score']:g}</strong></p>",
        f"<table><tr><th>{esc(t('feedback_task', lang))}</th>"
        f"<th>{esc(t('feedback_points', lang))}</th><th>{esc(t('feedback_status', lang))}</th>"
        f"</tr>{''.join(rows)}</table>{''.join(details)}",
    ]
    return page(title, body, lang, _FEEDBACK_CSS)

