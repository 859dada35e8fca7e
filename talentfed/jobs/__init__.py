"""Background jobs: the loops a node runs besides answering requests.

Each job is named (`runner.JOB_NAMES`): delivery, actor-refresh, analytics-refresh, domain-purge,
crawl.
`talentfed serve` runs them inside the web process and `talentfed worker` runs them without
the web server; both build the list with `runner.node_jobs`. Jobs never import the web layer:
what they compute is stored in the database, where the web layer reads it.
"""
