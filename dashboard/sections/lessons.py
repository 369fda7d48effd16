"""The lessons in the app: the sidebar's picker and presentation switch, and the open lesson's
banner above every page (its text and a "Leave lesson" button).

Picking a lesson loads it as its link would (:func:`dashboard.links.decode` of ``lesson=<id>``):
its data and settings, the view choices it opens with, presentation mode on; the model is
rebuilt on the next run and the lesson's page opens.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import callbacks, controls, layout, links, session
from dashboard.lessons import LESSONS, number

PRESENT_HELP = (
    "For a projector: larger type and thicker lines; the Train page keeps Start, Pause, Step, "
    "Reset and the open lesson's own settings."
)

LEAVE_HELP = "Back to every setting; the settings stay as they are."


def start(lesson_id: str) -> None:
    """Button callback: open the lesson (its data is built, or the model reset, on the next run)."""
    sess = session.get()
    link = links.decode({"lesson": lesson_id})
    sess.settings, sess.sine = link.settings, link.sine
    links.show(sess, link)
    if link.spec == sess.data_spec:
        callbacks.request_reset()
    else:
        callbacks.request_data(link.spec)


def leave() -> None:
    """Button callback: close the lesson and presentation mode; the settings stay as they are."""
    view = session.get().view
    view.lesson, view.present = "", False


def picker(where, pages: Sequence, page) -> None:
    """The sidebar's "Lessons": a button per lesson and the presentation switch; a lesson picked
    on another page than its own switches to it."""
    sess = session.get()
    with where.expander("Lessons", icon=":material/co_present:", expanded=False):
        for lesson in LESSONS.values():
            clicked = st.button(
                f"{number(lesson.id)}. {lesson.title}",
                key=session.button_key(f"lesson_{lesson.id}"),
                on_click=start,
                args=(lesson.id,),
                type="primary" if sess.view.lesson == lesson.id else "secondary",
                width="stretch",
            )
            if clicked and lesson.page != page.url_path:
                st.switch_page(next(p for p in pages if p.url_path == lesson.page))
        st.toggle("Presentation mode", help=PRESENT_HELP, **controls.view_kwargs("present"))
        st.caption("Each lesson is a link too (Copy link, below): put it on a slide.")


def banner() -> None:
    """The open lesson's title, text and Leave button (nothing without a lesson)."""
    lesson = LESSONS.get(session.get().view.lesson)
    if lesson is None:
        return
    with st.container(border=True, key=layout.LESSON, gap="small"):
        with st.container(horizontal=True, vertical_alignment="center", key=layout.LESSON_HEAD):
            st.markdown(f"### Lesson {number(lesson.id)}: {lesson.title}")
            st.button("Leave lesson", on_click=leave, key=session.button_key("lesson_leave"),
                      icon=":material/close:", help=LEAVE_HELP)  # fmt: skip
        st.markdown(lesson.text)
