"""The web app for planners who do not use a command line (``grassroots app``; ``pip install ".[app]"``).

A small server-rendered app (Starlette + Jinja2 templates, served by uvicorn; no front-end build and no
asset fetched from the internet, so it works on an offline bureau intranet).  It does no modelling of its
own: every run is the ``grassroots`` command line itself, started in a worker process by :mod:`.jobs`
and writing the same result folders (so the manifest's ``reproduce`` line repeats it from a terminal).

Modules: :mod:`.jobs` (worker processes, progress, cancel, cache by scenario hash and options),
:mod:`.editor` (the scenario editor: levers grouped by clause, diff, validation, TOML),
:mod:`.folders` (reading result folders for the pages, confined to the results root),
:mod:`.i18n` (English and Chinese words of the pages), :mod:`.server` (routes, token, safety),
:mod:`.worker` (the process a job runs in).  Importing this package imports nothing heavy.
"""
