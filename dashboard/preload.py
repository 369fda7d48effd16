"""Let a first visit fetch and compile the browser code of the Train page while the server runs it.

Streamlit's frontend loads the code of each kind of element (a chart, a slider, a metric) the
first time such an element arrives, after the page's script has run on the server: on a first
visit the browser then spends about a second fetching and compiling plotly's 4.7 MB bundle after
the page's content is known, with the page on screen and no chart. :class:`PreloadMiddleware`
adds ``<link rel="modulepreload">`` tags for those bundles to the HTML page, so the browser
fetches and compiles them while it waits for the server's first messages. Nothing else changes:
the bundles are Streamlit's own, found by name in its static folder (with the bundles they
import); a Streamlit without them gets the page unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

FIRST_PAGE_ELEMENTS = ("PlotlyChart", "Button", "Metric", "Selectbox", "NumberInput", "Slider", "Radio")
"""The kinds of element the Train page draws on a first visit, named as Streamlit's bundles are."""

_IMPORT = re.compile(rb'(?:from|import)\s*"\./([A-Za-z0-9_.\-]+\.js)"')


def static_js_dir() -> Path:
    import streamlit

    return Path(streamlit.__file__).parent / "static" / "static" / "js"


def _imports(js_dir: Path, name: str, cache: dict[str, list[str]]) -> list[str]:
    if name not in cache:
        try:
            cache[name] = [m.decode() for m in _IMPORT.findall((js_dir / name).read_bytes())]
        except OSError:
            cache[name] = []
    return cache[name]


def _closure(js_dir: Path, roots: Iterable[str], cache: dict[str, list[str]]) -> list[str]:
    seen: dict[str, None] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = None
        todo.extend(_imports(js_dir, name, cache))
    return list(seen)


def bundles(js_dir: Path | None = None, elements: Iterable[str] = FIRST_PAGE_ELEMENTS) -> list[str]:
    """File names (relative to ``static/js``) of the bundles of ``elements`` and of what they
    import, less what the page's entry bundle loads anyway; the biggest first."""
    js_dir = static_js_dir() if js_dir is None else js_dir
    try:
        names = os.listdir(js_dir)
    except OSError:
        return []
    wanted = set(elements)
    roots = [n for n in names if n.endswith(".js") and n.split(".", 1)[0] in wanted]
    cache: dict[str, list[str]] = {}
    entry = _closure(js_dir, [n for n in names if n.startswith("index.") and n.endswith(".js")], cache)
    extra = [n for n in _closure(js_dir, roots, cache) if n not in set(entry)]
    return sorted(extra, key=lambda n: -(js_dir / n).stat().st_size)


def link_tags(names: Iterable[str]) -> bytes:
    return "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{n}" />' for n in names).encode()


class PreloadMiddleware:
    """ASGI middleware: into every HTML page (uncompressed, status 200) insert ``tags`` before
    ``</head>``; every other response passes untouched."""

    def __init__(self, app, tags: bytes | None = None) -> None:
        self.app = app
        self.tags = link_tags(bundles()) if tags is None else tags

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not self.tags:
            await self.app(scope, receive, send)
            return
        held: dict = {}
        body: list[bytes] = []

        async def relay(message) -> None:
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                html = headers.get(b"content-type", b"").startswith(b"text/html")
                if message.get("status") == 200 and html and b"content-encoding" not in headers:
                    held["start"] = message
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = b"".join(body).replace(b"</head>", self.tags + b"</head>", 1)
                start = held.pop("start")
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, relay)
