
tenant_patterns: list = []
