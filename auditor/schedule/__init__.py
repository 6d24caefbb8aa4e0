"""Scheduled audits: jobs from audit.toml run by one APScheduler daemon per job store, recorded in history.

config.py   `[[schedules]]` / `[[notifications]]` / `[scheduler]` -> ScheduleConfig
units.py    a job's audit units (state × account × region), the executor seam, merged into one run
runner.py   one run of a job: the `audit run` pipeline, report, history, metrics, notifications
lock.py     exactly one active scheduler per job store (file lock / PostgreSQL advisory lock)
daemon.py   the APScheduler daemon: job store, events, signals, heartbeat, Prometheus metrics
notify.py   change detection and delivery (SNS, Slack-compatible webhooks), retried off the run's path
cloudwatch.py  PutMetricData after each run
cli.py      `audit schedule run|list|check|once`
"""
