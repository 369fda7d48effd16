"""Train (landing page): hyperparameters and presets, Start/Pause/Step/Reset, live panels."""

import streamlit as st

from dashboard import controls, live, state

st.title("Train")
ds = state.dataset()
st.caption(
    f"Data: **{state.data_spec().label}** (change it on the Data page). Press **Start** and watch the "
    "loss fall, the predictions bend onto the data and the hidden units light up."
)

settings, main = st.columns([1, 3], gap="medium")
with settings:
    with st.container(border=True):
        st.selectbox("Preset", list(controls.PRESETS), key="hp_preset")
        st.button(
            "Load preset", on_click=state.apply_preset, help="Fills in the settings; Reset applies them."
        )
    hp = controls.hyperparam_controls(text=ds is not None and ds.kind == "text")
    built = state.built_hyperparams()
    pending = hp.changes_needing_reset(built) if built is not None else []

with main:
    running = state.is_running()
    # A wrapping row rather than columns: on a projector's 1024 px the buttons keep their labels
    # and flow onto a second line instead of shrinking to "S", "P", "R".
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.button("Start", type="primary", on_click=state.start, disabled=running, key="btn_start")
        st.button("Pause", on_click=state.pause, disabled=not running, key="btn_pause")
        st.button("Step", on_click=state.step, help="One optimizer update.", key="btn_step")
        st.number_input("N", 1, 100_000, step=10, key="live_step_n", help="Steps taken by Step ×N.", width=90)
        st.button("Step ×N", on_click=state.step_n, key="btn_step_n")
        st.button(
            "Reset", on_click=state.request_reset, help="Re-initialise with the same seed.", key="btn_reset"
        )
        st.select_slider("Speed (updates per refresh)", controls.SPEED_CHOICES, key="live_speed", width=170)
    if pending:
        st.warning(
            "Changed settings that rebuild the model, applied on **Reset**: " + "; ".join(pending) + ". "
            "Learning rate and clipping apply at once.",
            icon=":material/restart_alt:",
        )
    live.run(charts=True)
