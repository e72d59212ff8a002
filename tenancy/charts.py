"""Small charts drawn on the server as SVG, so pages need no chart script and the
Content-Security-Policy stays strict (no inline style: colours are SVG attributes and classes).

Every chart has a <title> and an aria-label saying in words what it shows, for a screen reader.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

INK, MUTED, LINE, BRAND = "#1f2933", "#535f6b", "#d9dee4", "#0b5cad"


def _svg(width, height, label, body, css_class="chart"):
    return mark_safe(
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="{escape(label)}"><title>{escape(label)}</title>{body}</svg>'
    )


def line_chart(points, label, *, width=640, height=180, top=None, y_text=str, x_text=str, fill=BRAND):
    """`points`: (x, y) with numeric x (e.g. a timestamp) and y; an area under a line, with the
    first and last x and the top and zero of y written on the axes."""
    if not points:
        return _svg(width, height, label, f'<text x="10" y="{height // 2}" fill="{MUTED}" font-size="13">No data yet</text>')
    left, right, pad_top, bottom = 70, 10, 10, 24
    xs = [x for x, _ in points]
    x0, x1 = min(xs), max(xs)
    y1 = top if top is not None else max(y for _, y in points) or 1
    span_x = (x1 - x0) or 1
    plot_w, plot_h = width - left - right, height - pad_top - bottom

    def at(x, y):
        return left + plot_w * (x - x0) / span_x, pad_top + plot_h * (1 - min(y, y1) / y1)

    coords = [at(x, y) for x, y in points]
    line = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    base = pad_top + plot_h
    area = f"{coords[0][0]:.1f},{base} {line} {coords[-1][0]:.1f},{base}"
    body = (
        f'<line x1="{left}" y1="{pad_top}" x2="{width - right}" y2="{pad_top}" stroke="{LINE}"/>'
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{MUTED}"/>'
        f'<polygon points="{area}" fill="{fill}" fill-opacity=".15"/>'
        f'<polyline points="{line}" fill="none" stroke="{fill}" stroke-width="2"/>'
        f'<text x="{left - 6}" y="{pad_top + 10}" text-anchor="end" fill="{INK}" font-size="12">{escape(y_text(y1))}</text>'
        f'<text x="{left - 6}" y="{base}" text-anchor="end" fill="{INK}" font-size="12">{escape(y_text(0))}</text>'
        f'<text x="{left}" y="{height - 6}" fill="{INK}" font-size="12">{escape(x_text(x0))}</text>'
        f'<text x="{width - right}" y="{height - 6}" text-anchor="end" fill="{INK}" font-size="12">{escape(x_text(x1))}</text>'
    )
    return _svg(width, height, label, body)


def sparkline(values, label, *, width=120, height=28, top=100):
    """A trend in a line's height: `values` oldest first (None: no value that day)."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return _svg(width, height, label, f'<line x1="0" y1="{height - 2}" x2="{width}" y2="{height - 2}" stroke="{LINE}"/>',
                    "sparkline")
    step = width / max(len(values) - 1, 1)
    line = " ".join(f"{i * step:.1f},{2 + (height - 4) * (1 - min(v, top) / top):.1f}" for i, v in known)
    body = f'<polyline points="{line}" fill="none" stroke="{BRAND}" stroke-width="1.5"/>'
    return _svg(width, height, label, body, "sparkline")
