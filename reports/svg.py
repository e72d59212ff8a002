"""The compliance trend as server-rendered SVG (R18.2, R18.3): no script, no CDN, nothing inline
but presentation attributes, so the dashboard's strict CSP holds and WeasyPrint draws it too."""

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def trend(points, label="Compliance") -> str:
    """`points`: [(short day label, ratio or None), …] in day order."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points) - 1)

    def x(i):
        return LEFT + i * step

    def y(ratio):
        return TOP + plot_h * (1 - ratio)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}">',
    ]
    for ratio in (0, 0.5, 1):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(ratio):.1f}" y2="{y(ratio):.1f}" '
                     'stroke="#d0d5dd" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(ratio) + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#475467">{int(ratio * 100)} %</text>')
    runs, run = [], []
    for i, (_, ratio) in enumerate(points):
        if ratio is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(f"{x(i):.1f},{y(ratio):.1f}")
    if run:
        runs.append(run)
    for run in runs:
        parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="#1570ef" stroke-width="2"/>')
    for i, (day, ratio) in enumerate(points):
        if ratio is not None:
            colour = "#12b76a" if ratio >= 0.95 else "#f79009" if ratio >= 0.8 else "#d92d20"
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(ratio):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(day)}: {ratio * 100:.1f} %</title></circle>')
        if i % 5 == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
                         f'fill="#475467">{escape(day)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- numbers and escaped labels only
