"""The static export: every public output as files, and a web server configuration."""
