"""`mltriage monitor`: the production checklist run continuously over a prediction store.

Files:
    store.py     the store (DuckDB file or PostgreSQL): one schema, the interface every part uses
    windows.py   window summaries: building them from logged rows on the reference's bins,
                 merging them, and the metrics of a window (drift, shares, scores, performance)
    config.py    the monitor's settings (TOML): window, smoothing, alert rules, routes, sampling
    alerts.py    alert rules over the windows' metrics: streaks, escalation, resolution, cause
    routes.py    where alerts go: the log, a webhook, the exit code
    sampling.py  which full rows are kept (stratified by score, alerting windows, errors)
    server.py, static/  the dashboard (`monitor serve`)
    spark.py     window summaries computed with Spark (`monitor log --engine spark`)
The command logic is in mltriage.commands.monitor.
"""
