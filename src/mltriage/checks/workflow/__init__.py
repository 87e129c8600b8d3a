"""Rung 0, the workflow around a diagnosis: the checks of the commands that are not on the ladder
(`gate`, `replay`, `compare`, `latency`), each command's layer in its own files.

- `replay.py`: the step-by-step replay of input rows through the saved pipeline, shared by the
  replay checks (`replay_state`), and the steps that raise or produce NaN/inf
  (`replay.step_error`, `replay.non_finite`).
- `replay_output.py`: the replayed input against the training range and categories, the replayed
  output against the logged prediction (`replay.out_of_range`, `replay.prediction_mismatch`).
"""
