"""Getting data in: source readers, the shipped sample company, validation and loading."""
