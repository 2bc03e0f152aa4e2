"""The Graph layer: the only code that talks to Meta.

`calls` has one typed function per Meta operation Padu performs, a module per concept;
`client` is the HTTP client under it, `errors` what Meta's refusals become, `ratelimit`
the outbound buckets, `ids` the check every Meta id (and every picture address Meta
gives) passes before it names anything, and `task_base` the Celery task base that waits
as long as Meta says.
"""
