"""RNN Playground's server: ``streamlit run serve.py`` starts the training engine, then serves
``app.py``.

The Dask cluster the runs train on (``dashboard.engine``) starts here, before the server answers
its first request, instead of in the first visitor's page; meanwhile the app's modules are
imported and plotly's figure machinery is warmed up with one small figure, and each worker
warms up on its own (``rnn_core.warm``). Every HTML page it serves names the Train page's browser
code for preloading (``dashboard.preload``), so a first visit fetches plotly's bundle while the
page's script runs instead of after. Once
``/_stcore/health`` answers, a page and a Start need nothing more to start. ``streamlit run
app.py`` works too, with all of that happening on the first visit. Both take the same options
and environment variables.
"""

from __future__ import annotations

import asyncio
import contextlib

import streamlit as st


@contextlib.asynccontextmanager
async def _engine_first(_app):
    from dashboard import engine

    cluster = asyncio.to_thread(engine.start)
    await asyncio.gather(cluster, asyncio.to_thread(_warm_up))
    yield


def _warm_up() -> None:
    """Import what the first page needs and build one figure (plotly loads its validators then)."""
    import numpy as np

    from dashboard import actions, figures, live  # noqa: F401
    from dashboard.sections import compare, data, model, predict, train  # noqa: F401

    figures.loss_figure(np.arange(3.0), np.ones(3)).to_plotly_json()


def _middleware() -> list:
    from starlette.middleware import Middleware

    from dashboard.preload import PreloadMiddleware

    return [Middleware(PreloadMiddleware)]


app = st.App("app.py", lifespan=_engine_first, middleware=_middleware())
