"""The commands above the checks. Each builds a validated case, runs a selection of registered
checks through the one runner (`runner.run_checks`) and returns a `Report`; `cli.py` only parses
options and renders, and the Python API (`mltriage.diagnose`, `mltriage.drift`, ...) calls the
same functions."""
