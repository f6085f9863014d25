"""Customer intelligence mined from the graph and written back into it (issue 6).

One module per job: `rules` (association rules on any baskets), `value` (RFM, tiers, loyalty),
`churn` and `churn_model` (rule-based warning and a time-split predictive model), `crosssell`
(per-customer recommendations), `segments` (k-means with generated descriptions); `history`
reads the customer base from Neo4j, `writeback` writes the results back with provenance and
`pipeline` runs everything for `kcrm mine`.
"""





