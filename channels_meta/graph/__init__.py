"""The Graph layer: the only code that talks to Meta.

`calls` has one typed function per Meta operation Padu performs; `client` is the HTTP
client under it, `errors` what Meta's refusals become, `ratelimit` the outbound buckets
and `ids` the check every Meta id passes before it names anything.
"""
