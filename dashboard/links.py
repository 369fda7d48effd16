"""Shareable links: a session's experiment as URL query parameters, and a link back into a session.

A link holds what defines an experiment, and only what differs from the defaults:

- every run setting of :data:`rnn_core.settings.SCHEMA` by its schema name, in the schema's own
  text format (``lr=0.01``, ``clip_norm=off``, ``bptt=full``); a float that format would round
  is written in full (``repr``), so the link reproduces it exactly;
- the data in use: ``data`` is ``sine`` (the default, never written), ``text`` (a built-in
  sample, named by ``text``) or a memory task (``echo``, ``adding``), with that source's own
  settings: the sine generator's schema settings (``sine_noise=0.1``), the text options of
  :data:`DATA_OPTIONS` (``text_lower``, ``text_val``, ``text_vocab``) or the memory task's
  (``memory_lag``, ``memory_windows``, ``memory_seed``), named like the Data page's choices;
- a lesson (:mod:`dashboard.lessons`): ``lesson=exploding`` stands for the lesson's data,
  settings and page, and the link's other parameters change them; ``present`` (``1``/``0``)
  switches presentation mode, on by default with a lesson and off without one;
- ``page``: the page's URL path (``page=dataset``). Opening a sub-page's own URL shows Streamlit's
  "Page not found" dialog in 1.67 (streamlit#8860), so the page travels as a parameter and the
  app switches to it on the link's first run.

An uploaded CSV or text, or pasted text, cannot travel: the link of such a session opens on the
default data, and :func:`encode` says why. Reading (:func:`decode`) checks every parameter on its
own: unknown, malformed or out-of-range ones are listed with the reason and left out, the rest
applies. :func:`encode` and :func:`decode` are pure; the functions below them read and write
``st.query_params`` for the app.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from dashboard import actions, lessons
from dashboard.session import Session, View
from dashboard.sources import DataSpec, digest, memory, sine
from dashboard.sources import text as text_source
from rnn_core.config import RunSettings, SineSettings
from rnn_core.data import MEMORY_TASKS, TEXT_SAMPLES
from rnn_core.data.loader import SHORT_NAMES as TEXT_SHORT_NAMES
from rnn_core.data.memory import MAX_SEED, MAX_VALUES
from rnn_core.errors import PlaygroundError
from rnn_core.settings import SCHEMA, Setting, group

RUN_SETTINGS = group("model", "data", "train")
SINE_SETTINGS = group("sine")
DATA_KINDS = ("sine", "text", *MEMORY_TASKS)
"""Values of ``data``: the sources a link can carry (a memory task by its own name)."""

_VIEW = View()
DATA_OPTIONS: dict[str, tuple[Setting, ...]] = {
    "text": (
        Setting("text_lower", "text", int(_VIEW.text_lower), "Lowercase", "1: lowercase the text", lo=0, hi=1,
                integer=True),
        Setting("text_val", "text", _VIEW.text_val, "Validation share", lo=0.05, hi=0.5),
        Setting("text_vocab", "text", _VIEW.text_vocab, "Vocabulary cap", "0 = none", lo=0, hi=5000,
                integer=True),
    ),
    "memory": (
        Setting("memory_lag", "memory", _VIEW.memory_lag, "Lag k", lo=1, hi=MAX_VALUES, integer=True,
                when="echo"),
        Setting("memory_windows", "memory", _VIEW.memory_windows, "Windows", lo=2, hi=MAX_VALUES // 2,
                integer=True),
        Setting("memory_seed", "memory", _VIEW.memory_seed, "Seed", lo=0, hi=MAX_SEED, integer=True),
    ),
}  # fmt: skip
"""The data sources' own options in a link, with the bounds of their Data page widgets and the
defaults of :class:`~dashboard.session.View`; the sine generator's are schema settings."""

_OPTION = {s.name: (kind, s) for kind, options in DATA_OPTIONS.items() for s in options}
_NAMES = ("data", "text", "page", "lesson", "present", *SCHEMA, *_OPTION)


# ---------------------------------------------------------------------------------- encode


def value_text(setting: Setting, value: Any) -> str:
    """``value`` in the setting's text format, or in full where that format would round it."""
    text = setting.format(value)
    try:
        if setting.parse(text) == value:
            return text
    except PlaygroundError:
        pass
    return repr(value)


def _changed(settings: Sequence[Setting], values: Mapping[str, Any]) -> dict[str, str]:
    return {s.name: value_text(s, values[s.name]) for s in settings if values[s.name] != s.default}


def sine_of(spec: DataSpec, hint: SineSettings | None = None) -> SineSettings:
    """The generator settings that build ``spec``: ``hint`` when it does (it also keeps the second
    sine's frequency while that sine is off, which the spec drops), else read from the spec."""
    if hint is not None and sine.spec(hint) == spec:
        return hint
    kw = dict(spec.options)
    values = {s.name: kw[s.name[5:]] for s in SINE_SETTINGS if s.name[5:] in kw}
    if kw.get("extra_sines"):
        extra = dict(kw["extra_sines"][0])
        values.update(sine_amplitude2=extra["amplitude"], sine_frequency2=extra["frequency"])
    return SineSettings(**values)


def _sample_label(spec: DataSpec) -> str | None:
    """The built-in sample ``spec`` reads, or None (a pasted text or an uploaded file)."""
    make = TEXT_SAMPLES.get(spec.name)
    return spec.name if make is not None and digest(make()) == spec.payload_id else None


def data_params(spec: DataSpec, sine_hint: SineSettings | None = None) -> tuple[dict[str, str], str]:
    """``(parameters, why not)`` of the data in use: empty parameters for the default sine, and
    a sentence saying why when the data cannot travel in a link."""
    opts = dict(spec.options)
    if spec.kind == "sine":
        sine_values = vars(sine_of(spec, sine_hint))
        return _changed(SINE_SETTINGS, sine_values), ""
    if spec.kind == "memory":
        values = {"memory_lag": opts.get("k"), "memory_windows": opts["windows"], "memory_seed": opts["seed"]}
        used = [s for s in DATA_OPTIONS["memory"] if not s.when or s.when == opts["task"]]
        return {"data": opts["task"], **_changed(used, values)}, ""
    label = _sample_label(spec) if spec.kind == "text" else None
    if label is None:
        what = "an uploaded file" if spec.kind == "csv" or spec.name != "pasted text" else "pasted text"
        return {}, (
            f"The data in use, {spec.label}, is {what} and cannot travel in a link: the link opens "
            "on the default sine data, with every other setting as here."
        )
    short = {v: k for k, v in TEXT_SHORT_NAMES.items()}.get(label, label)
    values = {
        "text_lower": int(opts["lowercase"]),
        "text_val": opts["val_fraction"],
        "text_vocab": opts.get("max_vocab", 0),
    }
    return {"data": "text", "text": short, **_changed(DATA_OPTIONS["text"], values)}, ""


def encode(
    settings: RunSettings,
    spec: DataSpec,
    *,
    sine_hint: SineSettings | None = None,
    page: str = "",
    lesson: str = "",
    present: bool = False,
) -> tuple[dict[str, str], str]:
    """``(query parameters, why the data cannot travel or "")`` of an experiment on ``page``
    (a page's URL path; "" for the default page), in ``lesson`` (an id, or "") and in
    presentation mode or not: with a lesson, only what differs from the lesson's own link."""
    data, why = data_params(spec, sine_hint)
    out = {"page": page} if page else {}
    out.update(data)
    out.update(_changed(RUN_SETTINGS, vars(settings)))
    if lesson:
        out = {"lesson": lesson, **_from_lesson(out, lesson_link(lesson))}
        if not present:
            out["present"] = "0"
    elif present:
        out["present"] = "1"
    return out, why


_DATA_KEYS = {"data", "text", *(s.name for s in SINE_SETTINGS), *_OPTION}


def _default_text(name: str) -> str:
    """A parameter's text when it is left out of a link ("" for ``page``: the default page)."""
    if name in SCHEMA:
        return value_text(SCHEMA[name], SCHEMA[name].default)
    if name in _OPTION:
        return value_text(_OPTION[name][1], _OPTION[name][1].default)
    return {"data": "sine"}.get(name, "")


def _from_lesson(params: dict[str, str], base: dict[str, str]) -> dict[str, str]:
    """The parameters of ``params`` that a link naming the lesson of ``base`` needs besides."""
    same_data = params.get("data", "sine") == base.get("data", "sine")
    out = {}
    for name in dict.fromkeys([*params, *base]):
        if name in _DATA_KEYS and not same_data:
            if name in params or name == "data":
                out[name] = params.get(name, "sine")
        elif params.get(name) != base.get(name):
            out[name] = params.get(name, _default_text(name))
    return out


@functools.cache
def lesson_link(lesson_id: str) -> dict[str, str]:
    """A lesson's experiment as the parameters of a link without it (as :func:`encode` writes them)."""
    lesson = lessons.LESSONS[lesson_id]
    raw = dict(lesson.data)
    raw.update({name: value_text(SCHEMA[name], v) for name, v in lesson.values.items()})
    link = decode(raw)
    if link.problems:
        raise PlaygroundError(f"lesson {lesson_id!r} does not make a link: {'; '.join(link.problems)}")
    return encode(link.settings, link.spec, sine_hint=link.sine, page=lesson.page)[0]


# ---------------------------------------------------------------------------------- decode


@dataclass
class Link:
    """What a link asks for, its parameters that were left out (each with why) and whether it
    held any parameter at all."""

    settings: RunSettings
    sine: SineSettings
    spec: DataSpec
    view: dict[str, Any] = field(default_factory=dict)
    page: str = ""
    problems: list[str] = field(default_factory=list)
    given: bool = False
    lesson: str = ""


def _unknown(name: str, raw: str) -> str:
    near = difflib.get_close_matches(name, _NAMES, n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    return f"`{name}={raw}`: no such setting{hint}"


def _parse(setting: Setting, raw: str, problems: list[str]) -> Any:
    try:
        return setting.parse(raw)
    except PlaygroundError as exc:
        problems.append(f"`{setting.name}={raw}`: {exc}")
        return setting.default


def _find_sample(raw: str) -> str | None:
    low = raw.strip().lower()
    labels = {**TEXT_SHORT_NAMES, **{label.lower(): label for label in TEXT_SAMPLES}}
    return labels.get(low)


def _data(kind: str, left: dict[str, str], problems: list[str]) -> tuple[DataSpec | None, dict[str, Any]]:
    """The spec and the Data page's choices of a link's text or memory data."""
    family = "memory" if kind in MEMORY_TASKS else kind
    values = {}
    for s in DATA_OPTIONS[family]:
        if s.name in left:
            raw = left.pop(s.name)
            if s.when and s.when != kind:
                problems.append(f"`{s.name}={raw}`: applies to {s.when} data only")
            else:
                values[s.name] = _parse(s, raw, problems)
    values = {s.name: values.get(s.name, s.default) for s in DATA_OPTIONS[family]}
    if family == "memory":
        view = {"data_kind": "memory", "memory_task": kind, **values}
        k, windows, seed = values["memory_lag"], values["memory_windows"], values["memory_seed"]
        return memory.spec(kind, k=k, windows=windows, seed=seed), view
    raw = left.pop("text", "")
    label = _find_sample(raw) if raw else text_source.default_sample(list(TEXT_SAMPLES))
    if label is None:
        samples = ", ".join(TEXT_SHORT_NAMES)
        problems.append(f"`text={raw}`: no built-in sample of that name; samples: {samples}")
        return None, {}
    lower, val, vocab = bool(values["text_lower"]), values["text_val"], values["text_vocab"]
    view = {"data_kind": "text", "text_source": "sample", "text_sample": label,
            "text_lower": lower, "text_val": val, "text_vocab": vocab}  # fmt: skip
    spec = text_source.spec(TEXT_SAMPLES[label](), label, lowercase=lower, val_fraction=val, max_vocab=vocab)
    return spec, view


def decode(params: Mapping[str, str], pages: Sequence[str] = ()) -> Link:
    """The experiment of a link's query parameters; ``pages``: the URL paths a link may name."""
    problems: list[str] = []
    left = {str(k): str(v) for k, v in params.items()}
    given = bool(left)
    lesson, present = _lesson(left, problems)
    raw_kind = left.pop("data", "sine")
    kind = raw_kind.strip().lower()
    if kind not in DATA_KINDS:
        problems.append(
            f"`data={raw_kind}`: not data a link can hold; data: {', '.join(DATA_KINDS)} (an uploaded "
            "CSV or text cannot travel in a link)"
        )
        kind = "sine"
    values = {}
    for name in [n for n in left if n in SCHEMA]:
        raw = left.pop(name)
        if SCHEMA[name].group == "sine" and kind != "sine":
            problems.append(f"`{name}={raw}`: applies to sine data only")
        else:
            values[name] = _parse(SCHEMA[name], raw, problems)
    settings = RunSettings(**{s.name: values[s.name] for s in RUN_SETTINGS if s.name in values})
    sine_settings = SineSettings(**{s.name: values[s.name] for s in SINE_SETTINGS if s.name in values})
    spec, view = sine.spec(sine_settings), {"data_kind": "sine"}
    if kind != "sine":
        got, got_view = _data(kind, left, problems)
        if got is not None:
            spec, view = got, got_view
    for name in [n for n in left if n in _OPTION or n == "text"]:
        family = _OPTION[name][0] if name in _OPTION else "text"
        problems.append(f"`{name}={left.pop(name)}`: applies to {family} data only")
    page = left.pop("page", "").strip()
    if page and page not in pages:
        problems.append(f"`page={page}`: no such page; pages: {', '.join(p for p in pages if p)}")
        page = ""
    problems.extend(_unknown(name, raw) for name, raw in left.items())
    view.update(lessons.LESSONS[lesson].view if lesson else {})
    view.update(lesson=lesson, present=present)
    return Link(settings, sine_settings, spec, view, page, problems, given, lesson)


_YES, _NO = ("1", "on", "true", "yes"), ("0", "off", "false", "no")


def _lesson(left: dict[str, str], problems: list[str]) -> tuple[str, bool]:
    """``(lesson id or "", presentation mode)`` of a link's ``lesson`` and ``present``; a lesson's
    own parameters go into ``left`` under the link's."""
    raw = left.pop("lesson", "")
    lesson = raw.strip().lower()
    if lesson and lesson not in lessons.LESSONS:
        problems.append(f"`lesson={raw}`: no such lesson; lessons: {', '.join(lessons.LESSONS)}")
        lesson = ""
    if lesson:
        mine = dict(left)
        left.clear()
        left.update({**lesson_link(lesson), **mine})
    raw_present = left.pop("present", None)
    if raw_present is None or raw_present.strip().lower() not in (*_YES, *_NO):
        if raw_present is not None:
            problems.append(f"`present={raw_present}`: must be 1 (presentation mode) or 0")
        return lesson, bool(lesson)
    return lesson, raw_present.strip().lower() in _YES


# ---------------------------------------------------------------------------------- the app's URL


def notice(problems: Sequence[str]) -> str:
    """The one message listing a link's parameters that were left out, each with why."""
    n = len(problems)
    head = f"**This link had {n} parameter{'s' if n > 1 else ''} that could not be used**, left out:"
    return "\n".join([head, *(f"- {p}" for p in problems), "", "The rest of the link was applied."])


def apply(sess: Session, link: Link) -> None:
    """Put a link's experiment into a session that has built nothing yet."""
    if link.spec.kind != "sine":
        _, err = actions.candidate(sess, link.spec, link.settings.seq_len)
        if err is not None:
            link.problems.append(f"the link's data, {link.spec.label}, was not used: {err}")
            link.spec, link.view = actions.DEFAULT_SPEC, {"data_kind": "sine"}
    sess.settings, sess.sine, sess.data_spec = link.settings, link.sine, link.spec
    show(sess, link)
    if link.problems:
        sess.flash("warning", notice(link.problems))


def presenting(params: Mapping[str, str]) -> bool:
    """Whether a link opens in presentation mode (without checking the rest of it)."""
    raw = str(params.get("present", "")).strip().lower()
    return raw in _YES or (
        raw not in _NO and str(params.get("lesson", "")).strip().lower() in lessons.LESSONS
    )


def show(sess: Session, link: Link) -> None:
    """Set the view choices of a link (the Data page's, the lesson's) in a session."""
    for key, value in link.view.items():
        setattr(sess.view, key, value)


def open_link(sess: Session, pages: Sequence[str]) -> str:
    """On a session's first run, apply the link it was opened with; the page it names ("" for
    none). Later runs leave the session alone."""
    if sess.link_read:
        return ""
    sess.link_read = True
    link = decode(st.query_params.to_dict(), pages)
    if not link.given:
        return ""
    apply(sess, link)
    return link.page


def current(sess: Session, page: str = "") -> tuple[dict[str, str], str]:
    """The link of the session's experiment on ``page``, and why its data cannot travel (or "")."""
    spec = sess.data_spec if sess.data_spec is not None else actions.DEFAULT_SPEC
    view = sess.view
    return encode(
        sess.settings, spec, sine_hint=sess.sine, page=page, lesson=view.lesson, present=view.present
    )


def follow(sess: Session, page, pages: Sequence, wanted: str) -> None:
    """Switch to the page a link named (its first run), else keep the URL's parameters in step
    with the session (Streamlit clears them on every page change)."""
    if wanted and wanted != page.url_path:
        target = next(p for p in pages if p.url_path == wanted)
        st.switch_page(target, query_params=current(sess, wanted)[0])
    params, _ = current(sess, page.url_path)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def base_url(browser_url: str | None, pages: Sequence[str]) -> str | None:
    """The app's root URL from the browser's URL of a page (None when the session has none)."""
    if not browser_url:
        return None
    url = browser_url.rstrip("/")
    for path in pages:
        if path and url.endswith("/" + path):
            return url[: -len(path) - 1]
    return url
