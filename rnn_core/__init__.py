"""RNN Playground's engine: recurrent networks, data and training in NumPy, no UI."""
