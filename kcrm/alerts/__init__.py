"""Alerts and saved searches: subscriptions, notifications from ingest and mining, webhooks."""
