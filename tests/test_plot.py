"""The chart element's Python side: what it sends, and its fallback without plotly's bundle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import figures, plot


def _page():
    import numpy as np

    from dashboard import figures, plot

    plot.chart(figures.loss_figure(np.arange(5.0), np.linspace(1, 0.1, 5)), key="fig_loss")
    plot.chart(figures.loss_figure(np.arange(3.0), np.ones(3)), key="fig_other")


@pytest.fixture
def no_bundle(monkeypatch, tmp_path):
    plot.plotly_bundle.cache_clear()
    monkeypatch.setattr(plot, "static_js_dir", lambda: tmp_path)
    yield
    plot.plotly_bundle.cache_clear()


def test_streamlit_ships_the_plotly_bundle_the_chart_element_loads():
    src = plot.plotly_bundle()
    assert src is not None and src.startswith("./static/js/PlotlyChart.")
    assert (plot.static_js_dir() / src.rsplit("/", 1)[1]).stat().st_size > 1_000_000


def test_each_chart_is_one_element_with_its_key_its_figure_and_its_height():
    at = AppTest.from_function(_page).run()
    assert not at.exception
    els = at.get("bidi_component")
    assert len(els) == 2 and not at.get("plotly_chart")
    data = [json.loads(el.proto.json) for el in els]
    fig = json.loads(data[0]["figure"])
    assert fig["layout"]["title"]["text"] == "Loss" and fig["layout"]["uirevision"] == "loss"
    assert data[0]["height"] == fig["layout"]["height"]
    assert data[0]["revision"] != data[1]["revision"]  # different figures, different marks
    assert "fig_loss" in els[0].proto.id and "fig_other" in els[1].proto.id


def test_a_figure_serialised_once_draws_the_same_as_the_figure():
    fig = figures.loss_figure(np.arange(4.0), np.ones(4))
    drawn = plot.serialize(fig)
    assert drawn.height == fig.layout.height and json.loads(drawn.json) == json.loads(fig.to_json())


def test_without_plotly_s_bundle_charts_fall_back_to_streamlit_s_own(no_bundle):
    assert plot.plotly_bundle() is None
    at = AppTest.from_function(_page).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2 and not at.get("bidi_component")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"] == "Loss"
