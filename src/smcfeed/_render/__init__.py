"""Rendering outputs: format-neutral page views, RSS/Atom, JSON, OPML, HTML and Markdown."""
