"""The inbox through the REST API: conversations, their messages, contacts, labels and
saved replies. Each view parses, resolves the member and the row through the tenant
access path, and calls the same service the web inbox calls."""
