"""RNN Playground's server: ``streamlit run serve.py`` starts the training engine, then serves
``app.py``.

The Dask cluster the runs train on (``dashboard.engine``) starts here, before the server answers
its first request, instead of in the first visitor's page: once ``/_stcore/health`` answers, a
page and a Start need nothing more to start. ``streamlit run app.py`` works too, with the cluster
starting on the first visit. Both take the same options and environment variables.
"""

from __future__ import annotations

import asyncio
import contextlib

import streamlit as st


@contextlib.asynccontextmanager
async def _engine_first(_app):
    from dashboard import engine

    await asyncio.to_thread(engine.start)
    yield


app = st.App("app.py", lifespan=_engine_first)
