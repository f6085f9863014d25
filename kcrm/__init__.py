"""kcrm: a customer knowledge graph (Neo4j) plus hybrid semantic search."""

__version__ = "0.1.0"
