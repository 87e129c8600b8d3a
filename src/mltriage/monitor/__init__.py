"""`mltriage monitor`: the production checklist run continuously over a prediction store.

Files:
    store.py       the store (DuckDB file or PostgreSQL): one schema, the interface every part uses
    windows.py     window summaries: features and scores counted on the reference's bins (all the
                   windows of a chunk at once), packed, merged
    metrics.py     the metrics of a window: drift (the statistics of production.data_drift,
                   vectorised over windows), missing/schema/OOD shares, volume, latency, CBPE
                   estimate, realised performance, concept gap
    config.py      the monitor's settings (TOML): window, smoothing, alert rules, routes, sampling
    reference.py   what `init` stores about the reference (profile, calibration, importance, sample)
    ingest.py      `log`: chunked reading, quarantine, scoring, summaries, one transaction a batch
    evaluate.py    `check`: metrics of closed windows, alerts replayed, diagnosed, routed; sampling
    alerts.py      alert rules over the windows' metrics: streaks, hysteresis, escalation, cause
    routes.py      where alerts go: the log, a webhook, the exit code
    sampling.py    which full rows are kept (stratified by score, alerting windows, errors)
    server.py, static/  the dashboard (`monitor serve`)
    spark.py, spark_profile.py  window summaries computed with Spark (`monitor log --engine spark`)
The command logic is in mltriage.commands.monitor; the CLI is `mltriage monitor ...`.
"""
