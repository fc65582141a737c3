"""Benchmarks that print their figures: `python -m bench.ingest`, `python -m bench.allocate`.

Importing the package sets up Django, so each benchmark imports the project as usual.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
