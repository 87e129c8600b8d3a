"""Rung 0, the workflow around a diagnosis: the checks of the commands that are not on the ladder
(`gate`, `replay`, `compare`, `latency`), each command's layer in its own files.

- `replay.py`: the step-by-step replay of input rows through the saved pipeline, shared by the
  replay checks (`replay_state`), and the steps that raise or produce NaN/inf
  (`replay.step_error`, `replay.non_finite`).
- `replay_output.py`: the replayed input against the training range and categories, the replayed
  output against the logged prediction (`replay.out_of_range`, `replay.prediction_mismatch`).
- `compare_state.py`: `mltriage compare`'s shared state (`compare_state`): SHAP on both sides,
  shares with bootstrap intervals, dependence curves, the raw columns' drift; the sizes it uses.
- `attribution_data.py`: what an attribution shift says about the data (`attribution.population_shift`,
  `attribution.preprocessing_bug`) and the evidence every attribution finding carries.
- `attribution_leakage.py`: a feature that became a near-perfect predictor (`attribution.new_leakage`),
  and which features a data finding explains.
- `attribution_models.py`: two model versions beyond the spread across seeds
  (`attribution.training_artifact`).
- `attribution_segment.py`: the features that drive a failing segment's errors
  (`attribution.segment_drivers`).
- `gate_state.py`: `mltriage gate`'s shared state (`gate_state`): both models' outputs on the same
  rows, the slices (named, and searched on a discovery half), every statistic on the same
  bootstrap resamples.
- `gate.py`: the candidate against the baseline (`gate.regression_overall`,
  `gate.regression_slice`, `gate.calibration_regression`, `gate.positive_rate_shift`).
- `gate_latency.py`: both models timed call by call in alternation (`gate.latency_regression`).
- `latency_state.py`: `mltriage latency`'s measurements (`latency_state`): per batch size, per
  pipeline step, thread pools, the queueing estimate at the target rate.
- `latency_options.py`: the options measured (batching, threads, a smaller model, surrogates) and
  their ranking (`latency_options`).
- `latency.py`: `latency.target_missed`, `latency.slow_step`.
"""
