"""Streamlit glue for RNN Playground: session state, controls, live training and figure builders.

Layering: ``app.py`` and ``pages/*.py`` import from here; this package imports ``rnn_core`` and
never the other way round. Figure builders in :mod:`dashboard.figures` are pure functions of
arrays, so they are tested without Streamlit or a browser.
"""
