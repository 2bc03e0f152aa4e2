"""Every write of the privacy app: data requests carried out, retention enforced."""
