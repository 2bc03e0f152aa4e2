"""The inbox's web views, one module per concept."""
