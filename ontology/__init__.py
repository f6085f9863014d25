"""The schema as RDF: OWL classes and properties, SHACL shapes and the SKOS taxonomy."""
