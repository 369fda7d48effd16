"""RNN Playground: pick a sequence, press Start, watch a recurrent network written in NumPy learn it.

The entry point sets up the page, carries out what the buttons of the last run asked for, lists
the pages and runs the current one. The training fragment (dashboard.live) is drawn by the
Train page with its live charts, and here, before every other page, with the sidebar status
only, so training goes on whichever page is open.

Everything runs under ``if __name__ == "__main__"``: while Streamlit runs this script it is the
process's ``__main__`` module, and the Dask worker processes of the local cluster, started with
multiprocessing's "spawn", import ``__main__`` again; for them this file must do nothing.
"""


def main() -> None:
    import streamlit as st

    from dashboard import actions, comparison, layout, links, live, session
    from dashboard.sections import lessons, share

    st.set_page_config(
        page_title="RNN Playground",
        page_icon="🔁",
        layout="wide",
        # Open on a laptop or a projector, closed on a phone (where it would cover the page) and
        # for a lesson's link in presentation mode (the class sees the page, not the menu).
        initial_sidebar_state="collapsed" if links.presenting(st.query_params.to_dict()) else "auto",
        menu_items={
            "About": "RNN Playground: recurrent networks written from scratch in NumPy, trained live."
        },
    )

    layout.style()
    sess = session.get()
    sess.live_drawn = False

    # URL paths differ from the file names on purpose: Streamlit still runs a script named after a
    # file in pages/ directly when a request names it before st.navigation has run in the process
    # (the legacy pages-folder mode), which would skip this entry point and its session set-up.
    train = st.Page(
        "pages/train.py", title="Train", icon=":material/school:", url_path="training", default=True
    )
    pages = [
        train,
        st.Page("pages/data.py", title="Data", icon=":material/table_chart:", url_path="dataset"),
        st.Page("pages/predict.py", title="Predict", icon=":material/insights:", url_path="predictions"),
        st.Page("pages/model.py", title="Model", icon=":material/save:", url_path="model-files"),
        st.Page(
            "pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="side-by-side"
        ),
    ]
    paths = [p.url_path for p in pages]
    # A session opened from a shared link takes its settings and data before the first model is built.
    wanted = links.open_link(sess, paths)
    actions.apply_requests()
    comparison.apply_requests()

    page = st.navigation(pages)
    links.follow(sess, page, pages, wanted)
    layout.sidebar_closes_on_navigation()
    layout.presentation(sess.view.present)
    st.sidebar.markdown("### RNN Playground")
    sess.status_slot = st.sidebar.container()
    lessons.picker(st.sidebar, pages, page)
    share.copy_link(st.sidebar, page.url_path, paths)

    if page is not train:
        # Status only, drawn before the notices and the page: the sidebar then names the data and
        # model this run uses (just changed on the Data or Model page, say) as soon as the notice
        # saying so shows, instead of lagging behind while the page draws its previews.
        live.run(charts=False)

    for level, text in sess.take_flashes():
        getattr(st, level)(text)
    lessons.banner()

    page.run()


if __name__ == "__main__":
    main()
