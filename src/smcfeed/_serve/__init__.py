"""Serving: the swapped content state, the response cache, HTTP headers, access log, ASGI entry."""
