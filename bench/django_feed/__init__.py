"""A minimal Django project rendering the same hot feed with django.contrib.syndication.

Benchmark baseline only: run by bench/run.py under gunicorn. BENCH_CONTENT names the content
folder; its newest Spanish articles are read once at start-up (as a database would hold them)
and the feed is rendered by Django on every request.
"""
