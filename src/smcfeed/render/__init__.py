"""Rendering: the format-neutral view of a feed page, and one module per output format."""
