"""The engine in a background process: commands in, results out (see protocol.py)."""
