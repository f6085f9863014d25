"""Everything Neo4j: connection, the bundled local server, schema, loading and traversals."""
