"""``python -m rnn_core train|bench``: see :mod:`rnn_core.cli`."""

from rnn_core.cli import main

raise SystemExit(main())
