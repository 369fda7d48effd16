"""The one exception type for problems a user can cause and fix."""


class PlaygroundError(ValueError):
    """Raised for bad input a user can correct: data, hyperparameters, model files.

    The message names the problem and the fix, e.g.
    ``"CSV has no numeric column; found: name, city"``. The CLI turns it into
    exit status 2 and one ``error: ...`` line; the dashboard shows it with
    ``st.error`` and keeps the previous data and model.
    """
