"""Who is asking and what they may see: API keys, principals with roles and access groups, the audit log."""
