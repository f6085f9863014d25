"""How well kcrm ranks and classifies, measured: search on BEIR datasets, experts, topics; one metrics module."""
