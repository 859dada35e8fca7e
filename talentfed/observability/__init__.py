"""What a running node tells its operators: Prometheus metrics, log lines and their request ids.

Any layer may record here (federation/, jobs/, web/ alike); this package imports no other part
of talentfed. `GET /metrics` (web/metrics.py) and the logging set-up of `talentfed serve` and
`talentfed worker` read what it holds.
"""
