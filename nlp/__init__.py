"""Text understanding shared by ingest and the graph: names, entity extraction, linking, topics."""
