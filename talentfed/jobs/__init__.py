"""Background jobs: the loops a node runs besides answering requests.

Each job is named (`runner.JOB_NAMES`): delivery, actor-refresh, analytics-refresh, domain-purge,
crawl. A single `talentfed serve` runs them inside the web process (unless `--no-jobs`) and
`talentfed worker` runs those of the queues it is given (`runner.QUEUES`) without the web
server; both build the list with `runner.node_jobs`. Jobs never import the web layer:
what they compute is stored in the database, where the web layer reads it.
"""
