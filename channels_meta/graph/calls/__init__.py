"""One typed function per Meta operation Padu performs, a module per concept: `tokens`
(codes and tokens), `connect` (the accounts a token reaches), `subscriptions` (webhooks
and grants), `templates` (WhatsApp templates), `sending` (texts and templates to
customers), `uploads` (files staff send), `customers` (their names and pictures),
`posts` (the Instagram posts comments are on) and `downloads` (files customers send).

This package is the only place that builds Graph paths, chooses Meta's host
(graph.facebook.com, graph.instagram.com for Instagram Login tokens, api.instagram.com
for Instagram's code exchange) and builds the app token (`base`). Every send first takes
a token from the outbound rate limiter; a wait longer than a send may block is
RateLimited, just as Meta's own rate limit is.
"""
