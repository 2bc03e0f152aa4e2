"""Meta's webhooks: the endpoint that stores each delivery, the dispatch that hands it to
the workers, the parsers that read it into the normalized events (the inbound contract
the inbox records) and the processing that routes them to channels."""
