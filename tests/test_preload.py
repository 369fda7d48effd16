"""The HTML page names the Train page's browser code for preloading: which bundles, and the
middleware that inserts them into HTML pages only."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dashboard.preload import FIRST_PAGE_ELEMENTS, PreloadMiddleware, bundles, link_tags, static_js_dir


def write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(body)


def test_bundles_are_the_elements_and_their_imports_less_the_entrys(tmp_path: Path):
    write(tmp_path, "index.E1.js", 'import{a}from"./shared.S1.js";const x=1;')
    write(tmp_path, "shared.S1.js", "export const a=1;")
    plotly = 'import{a}from"./shared.S1.js";import"./plotly-core.C1.js";'
    write(tmp_path, "PlotlyChart.P1.js", plotly + "x" * 500)
    write(tmp_path, "plotly-core.C1.js", 'import{b}from"./deep.D1.js";' + "y" * 200)
    write(tmp_path, "deep.D1.js", "export const b=2;")
    write(tmp_path, "Button.B1.js", 'import{a}from"./shared.S1.js";')
    write(tmp_path, "Unused.U1.js", "export const u=3;")
    got = bundles(tmp_path, elements=("PlotlyChart", "Button"))
    assert set(got) == {"PlotlyChart.P1.js", "plotly-core.C1.js", "deep.D1.js", "Button.B1.js"}
    sizes = [(tmp_path / n).stat().st_size for n in got]
    assert sizes == sorted(sizes, reverse=True)


def test_the_installed_streamlit_has_the_bundles_named():
    js = static_js_dir()
    got = bundles()
    for element in FIRST_PAGE_ELEMENTS:
        assert any(n.split(".", 1)[0] == element for n in got), element
    assert all((js / n).is_file() for n in got)
    assert not any(n.startswith("index.") for n in got)


def test_a_missing_folder_preloads_nothing(tmp_path: Path):
    assert bundles(tmp_path / "nope") == []


def serve(middleware: PreloadMiddleware, path: str = "/") -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": []}
    # In a thread of its own: the browser tests' driver may keep an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, middleware(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start, body


def app_answering(content_type: bytes, parts: list[bytes], extra_headers=()):
    async def app(scope, receive, send):
        total = sum(len(p) for p in parts)
        headers = [(b"content-type", content_type), (b"content-length", str(total).encode()), *extra_headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


def test_html_pages_get_the_tags_before_head_ends_with_the_right_length():
    tags = link_tags(["PlotlyChart.P1.js"])
    page = [b"<html><head><title>t</title>", b"</head><body>", b"</body></html>"]
    start, body = serve(PreloadMiddleware(app_answering(b"text/html; charset=utf-8", page), tags))
    assert body == b"<html><head><title>t</title>" + tags + b"</head><body></body></html>"
    assert b'href="./static/js/PlotlyChart.P1.js"' in body
    assert dict(start["headers"])[b"content-length"] == str(len(body)).encode()


def test_other_responses_pass_untouched():
    tags = link_tags(["PlotlyChart.P1.js"])
    payload = [b'{"head": "</head>"}']
    _, body = serve(PreloadMiddleware(app_answering(b"application/json", payload), tags))
    assert body == payload[0]
    zipped = [b"\x1f\x8b</head>"]
    app = app_answering(b"text/html", zipped, extra_headers=[(b"content-encoding", b"gzip")])
    _, body = serve(PreloadMiddleware(app, tags))
    assert body == zipped[0]
