"""Event forwarding's parts that change nothing: what each event carries, how it is
signed, and which addresses may receive it. The writes are in `inbox.services.outbox`
(recording events) and `inbox.services.forwarding` (endpoints and deliveries)."""
