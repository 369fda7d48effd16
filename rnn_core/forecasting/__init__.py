"""Forecast evaluation a practitioner can trust: multi-step errors by horizon from many origins,
the simple methods every forecast must beat, scaled errors, conformal intervals with their
coverage, target transforms for trending series, and the folds of a rolling-origin backtest.

Everything here is plain NumPy on series in original units; the model enters only as a function
that maps normalised windows to normalised next values, so the same code scores the network,
the baselines and any reference a test writes.
"""
