"""The web app's routes (Starlette), its token gate and its page templates (Jinja2).

Pages: ``/scenario`` (edit and save a scenario), ``/compare`` (run a comparison), ``/budget`` (allocate a
budget, by year and payer too: :mod:`.forms`), ``/results`` (result folders, each at ``/results/<folder>``, its
workbook at ``/results/<folder>/results.xlsx``), ``/jobs/<key>`` (a run's progress and *Cancel*),
``/files/<folder>/<file>`` (a file of a result folder), ``/lang/<en|zh>`` (the switch).
Runs are :class:`grassroots.app.jobs.JobStore` jobs: the command line in a worker process.

Safety: with a token (required off loopback) every request must carry it -- ``?token=`` in the URL (the
server then sets a SameSite=Strict cookie), the ``X-Grassroots-Token`` header or that cookie -- else 403.
Every file read or written goes through :func:`grassroots.app.folders.safe_path` or the scenarios folder
with a checked name; request bodies are limited to :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import functools
import hmac
import math
import threading
import urllib.parse
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse,
                                 Response)
from starlette.routing import Route

from . import editor, folders, forms
from .i18n import LANGS, from_accept_language, t
from .jobs import JobStore

MAX_BODY_BYTES = 512 * 1024
MAX_REPLICATIONS = 200
MAX_YEARS = 50
TOKEN_COOKIE = "grassroots_token"
TOKEN_HEADER = "x-grassroots-token"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS = ("science", "education", "engineering", "agriculture", "health")


@functools.lru_cache(maxsize=64)
def cli_supports(command: str, option: str) -> bool:
    """Whether ``grassroots COMMAND`` has ``option`` (e.g. ``--city``/``--county`` once the geo work lands):
    the pages offer only what the command line accepts."""
    import argparse

    from ..cli import build_parser
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return option in action.choices[command]._option_string_actions
    return False


# ----------------------------------------------------------------------------- token gate and body limit

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


class Gate:
    """ASGI middleware: the shared-secret token (when set), the request-body size limit, and two checks
    against other web sites reaching a local app through the planner's own browser: on loopback the
    ``Host`` header must name this computer (DNS rebinding), and a POST whose ``Origin`` is another site
    is refused (cross-site form posts)."""

    def __init__(self, app, token: str | None, loopback: bool = True):
        self.app, self.token, self.loopback = app, token, loopback

    def _foreign(self, scope) -> str | None:
        """Why a request comes from another web site, or None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if self.loopback and name not in LOOPBACK_NAMES:
            return f"Host {host!r} is not this computer"
        origin = headers.get("origin")
        if scope["type"] == "http" and scope.get("method") == "POST" and origin and origin != "null":
            if urllib.parse.urlsplit(origin).netloc != host:
                return f"a form posted from {origin!r}"
        return None

    def _ok(self, scope) -> tuple[bool, bool]:
        """(allowed, came in the URL)."""
        if not self.token:
            return True, False
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = [(query.get("token") or [""])[0], headers.get(TOKEN_HEADER, "")]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given.append(auth[7:].strip())
        for part in headers.get("cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == TOKEN_COOKIE:
                given.append(v)
        for i, g in enumerate(given):
            if g and hmac.compare_digest(g.encode(), self.token.encode()):
                return True, i == 0
        return False, False

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        foreign = self._foreign(scope)
        if foreign:
            resp = PlainTextResponse(f"403: refused: {foreign}\n", status_code=403)
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await resp(scope, receive, send)
        ok, in_url = self._ok(scope)
        if not ok:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            resp = PlainTextResponse("403: this app needs its token (open the address with ?token=..., "
                                     "or send the X-Grassroots-Token header)\n", status_code=403)
            return await resp(scope, receive, send)
        for k, v in scope.get("headers", []):
            if k.lower() == b"content-length" and v.isdigit() and int(v) > MAX_BODY_BYTES:
                resp = PlainTextResponse(f"413: request larger than {MAX_BODY_BYTES:,} bytes\n", status_code=413)
                return await resp(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg.get("type") == "http.request":
                seen += len(msg.get("body", b""))
                if seen > MAX_BODY_BYTES:
                    raise ValueError("request body too large")
            return msg

        async def send_with_cookie(message):
            if in_url and message["type"] == "http.response.start":
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message = dict(message, headers=list(message.get("headers", [])) + [(b"set-cookie", cookie.encode())])
            await send(message)

        return await self.app(scope, limited_receive, send_with_cookie)


# ----------------------------------------------------------------------------- the app

class App:
    """Routes over one results root."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.jobs = JobStore(self.root)
        self.env = Environment(loader=PackageLoader("grassroots.app", "templates"),
                               autoescape=select_autoescape(["html"]))

    # -- helpers
    def lang(self, request: Request) -> str:
        c = request.cookies.get("lang")
        return c if c in LANGS else from_accept_language(request.headers.get("accept-language"))

    def page(self, request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
        lang = self.lang(request)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        html = self.env.get_template(template).render(
            lang=lang, t=lambda k: t(k, lang), here=urllib.parse.quote(here, safe=""), path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    @functools.lru_cache(maxsize=4)  # noqa: B019 - one App per server; the list never changes
    def province_options(self, lang: str) -> list[tuple[str, str]]:
        import scenarios
        from ..report.labels import label
        return [(c, f"{c} {label(c, lang)}") for c in scenarios.province_codes()]

    def field_labels(self, lang: str) -> dict[str, str]:
        from ..report.labels import label
        return {f: label(f, lang) for f in FIELDS}

    def scenario_options(self) -> list[str]:
        import scenarios
        return scenarios.bundled_names() + [n for n in editor.saved(self.root) if n not in scenarios.bundled_names()]

    def warm(self) -> None:
        """Import the scenario schema, pandas and the report's labels while the server starts (the first
        page a person opens is then quicker); errors here are left to the pages themselves."""
        try:
            editor.params_by_section()
            for lang in LANGS:
                self.province_options(lang)
            self.field_labels("en")
            cli_supports("compare", "--city")
        except Exception:  # noqa: BLE001 - only a warm-up
            pass

    # -- language
    async def set_lang(self, request: Request):
        lang = request.path_params["lang"]
        nxt = request.query_params.get("next", "/")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        resp = RedirectResponse(nxt, status_code=303)
        if lang in LANGS:
            resp.set_cookie("lang", lang, samesite="strict", max_age=365 * 86400)
        return resp

    async def home(self, request: Request):
        return RedirectResponse("/scenario", status_code=303)

    async def healthz(self, request: Request):
        return PlainTextResponse("ok\n")

    # -- scenario page
    async def scenario(self, request: Request):
        form = dict(await request.form()) if request.method == "POST" else {}
        return await run_in_threadpool(self._scenario, request, form)

    def _scenario(self, request: Request, form: dict):
        import scenarios
        lang = self.lang(request)
        base = form.get("base") or request.query_params.get("base") or "baseline"
        base_ref = editor.resolve_ref(self.root, base)
        if base_ref is None:
            base, base_ref = "baseline", "baseline"
        base_sc = scenarios.load(base_ref)
        action = form.get("action", "")
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        name = (values.get("name") or f"{base}-edited").strip()
        description = values.get("description", "")
        changes, by_key, general, valid, saved_name = {}, {}, [], None, None
        if action in ("check", "save"):
            changes = editor.diff(base_sc, values)
            doc = editor.document(editor.extends_value(self.root, base), name, description,
                                  {k: new for k, (_, new) in changes.items()})
            if not editor.NAME_RE.match(name) or ".." in name:
                general.append(f"name: {name!r} (allowed: letters, digits, '-', '_', '.', at most 60)")
            sc, by_key, more = editor.check(doc, base_ref)
            general += more
            valid = sc is not None and not general
            if valid and action == "save":
                editor.save(self.root, name, editor.to_toml(doc))
                saved_name = name
        groups = []
        for section, rows in editor.params_by_section():
            items = []
            for r in rows:
                cur = scenarios.to_dict(scenarios.get_path(base_sc, r["key"]))
                shown = values.get(r["key"], editor.shown(cur))
                items.append({**r, "value": shown, "errors": by_key.get(r["key"], []),
                              "choices": r["type"][7:].split(", ") if r["type"].startswith("one of ") else None,
                              "changed": r["key"] in changes})
            title = editor.SECTIONS.get(section, (section, section))
            groups.append({"section": section, "title": title[1] if lang == "zh" else title[0], "items": items,
                           "open": any(i["changed"] or i["errors"] for i in items)})
        return self.page(request, "scenario.html", base=base, options=self.scenario_options(), groups=groups,
                         name=name, description=description, changes=changes, general=general, valid=valid,
                         saved_name=saved_name, upload_problems=[], checked=action in ("check", "save"))

    async def scenario_upload(self, request: Request):
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception:  # noqa: BLE001 - a malformed or oversized body: one line, no traceback
            return PlainTextResponse("400: the upload could not be read (a scenario file of at most 256 kB)\n",
                                     status_code=400)
        up = form.get("file")
        if up is None or not hasattr(up, "read"):
            return PlainTextResponse("400: no file\n", status_code=400)
        data = await up.read(editor.MAX_UPLOAD_BYTES + 1)
        path, problems = await run_in_threadpool(editor.store_upload, self.root, up.filename or "", data)
        if problems:
            return self.page(request, "upload.html", status=400, problems=problems, name=None)
        return self.page(request, "upload.html", problems=[], name=path.stem)

    async def scenario_file(self, request: Request):
        name = request.path_params["name"]
        if not editor.NAME_RE.match(name) or ".." in name:
            return PlainTextResponse("404\n", status_code=404)
        p = editor.scenarios_dir(self.root) / f"{name}.toml"
        if not p.is_file():
            return PlainTextResponse("404\n", status_code=404)
        return FileResponse(p, media_type="application/toml", filename=f"{name}.toml")

    # -- compare page
    async def compare(self, request: Request):
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(self._compare, request, form)

    def _ints(self, form, key, lo, hi, default, errors):
        raw = (form.get(key) if form is not None else None) or str(default)
        try:
            v = int(raw)
        except ValueError:
            errors[key] = f"{key}: {raw!r} (allowed: a whole number from {lo} to {hi})"
            return default
        if not lo <= v <= hi:
            errors[key] = f"{key}: {v} (allowed: a whole number from {lo} to {hi})"
        return v

    def _provinces(self, form, errors) -> list[str]:
        import scenarios
        provs = form.getlist("province") if form is not None else []
        bad = [p for p in provs if p not in scenarios.province_codes()]
        if bad:
            errors["province"] = f"province: {', '.join(bad)} (allowed: GB/T 2260 two-digit codes)"
        return [p for p in provs if p not in bad]

    def _place_options(self, command: str) -> list[str]:
        return [o for o in ("--city", "--county") if cli_supports(command, o)]

    def _places(self, form, command: str, errors) -> dict[str, list[str]]:
        """Prefectures and counties by code or name (``--city``/``--county``), when the command takes them;
        the command line resolves and checks the names (an unknown one fails the run with its message)."""
        out: dict[str, list[str]] = {}
        for opt in self._place_options(command):
            raw = (form.get(opt[2:]) if form is not None else None) or ""
            items = [x.strip() for x in raw.replace("，", ",").split(",") if x.strip()]
            bad = [x for x in items if len(x) > 40 or x.startswith("-")]
            if bad:
                errors[opt[2:]] = f"{opt[2:]}: {', '.join(bad)} (allowed: codes or names, comma-separated)"
            out[opt] = [x for x in items if x not in bad][:50]
        return out

    def _hashes(self, refs: list[str]) -> list[str]:
        import scenarios
        return [scenarios.sha256(scenarios.load(r)) for r in refs]

    def _compare(self, request: Request, form):
        import os
        lang = self.lang(request)
        errors: dict[str, str] = {}
        chosen = form.getlist("scenario") if form is not None else ["baseline", "policy-2016"]
        provs = self._provinces(form, errors) if form is not None else []
        years = self._ints(form, "years", 1, MAX_YEARS, 5, errors)
        reps = self._ints(form, "replications", 1, MAX_REPLICATIONS, 4, errors)
        seed = self._ints(form, "seed", 0, 2**31 - 1, 20160701, errors)
        workers = self._ints(form, "workers", 1, max(1, os.cpu_count() or 1), 1, errors)
        decompose = form is not None and form.get("decompose") == "on"
        places = self._places(form, "compare", errors)
        refs = [editor.resolve_ref(self.root, s) for s in chosen]
        if any(r is None for r in refs) or len(refs) < 2:
            errors["scenario"] = "scenario: choose at least two known scenarios (the first is the base)"
        if form is None or errors:
            return self.page(request, "compare.html", status=400 if errors else 200, errors=errors,
                             options=self.scenario_options(), chosen=chosen, provinces=self.province_options(lang),
                             chosen_provinces=provs, years=years, replications=reps, seed=seed, workers=workers,
                             decompose=decompose, place_options=self._place_options("compare"), places=places)
        argv = ["compare", *refs]
        for p in provs:
            argv += ["--province", p]
        for opt, values in places.items():
            for v in values:
                argv += [opt, v]
        argv += ["--years", str(years), "--replications", str(reps), "--seed", str(seed), "--lang", lang]
        if decompose:
            argv.append("--decompose")
        key = self.jobs.submit(argv + ["--workers", str(workers)], self._hashes(refs),
                               title=" vs ".join(chosen), simulations=len(refs))
        return RedirectResponse(f"/jobs/{key}", status_code=303)

    # -- budget page
    async def budget(self, request: Request):
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(self._budget, request, form)

    def _budget(self, request: Request, form):
        lang = self.lang(request)
        errors: dict[str, str] = {}
        scen = (form.get("scenario") if form is not None else None) or "policy-2016"
        ref = editor.resolve_ref(self.root, scen)
        if ref is None:
            errors["scenario"] = f"scenario: {scen!r} (allowed: a bundled or saved scenario)"
        provs = self._provinces(form, errors) if form is not None else ["64"]
        objective = (form.get("objective") if form is not None else None) or "shortfall"
        if objective not in ("shortfall", "equity", "cost"):
            errors["objective"] = f"objective: {objective!r} (allowed: shortfall, equity, cost)"
        fields = form.getlist("field") if form is not None else list(FIELDS)
        fields = [f for f in fields if f in FIELDS]

        def number(key, default, lo, hi):
            raw = (form.get(key) if form is not None else None) or str(default)
            try:
                v = float(raw)
            except ValueError:
                v = float("nan")
            if not (math.isfinite(v) and lo <= v <= hi):
                errors[key] = f"{key}: {raw!r} (allowed: a number from {lo:g} to {hi:g})"
            return v

        budget_m = number("budget_million", 200, 0, 1e7)
        target = number("target", 0.85, 0, 1)
        frontier = form is not None and form.get("frontier") == "on"
        confidence = None
        if form is not None and (form.get("confidence") or "").strip():
            confidence = number("confidence", 0.9, 0.01, 0.99)
        path_raw = (form.get("budget_path") if form is not None else None) or ""
        path = forms.budget_path(path_raw, errors)
        if path is not None and objective == "cost":
            errors["budget_path"] = ("budget_path: not with the smallest-budget objective (allowed: empty; "
                                     "that objective finds the fund itself)")
        payers = forms.payer_limits(form, errors)
        if form is None or errors:
            return self.page(request, "budget.html", status=400 if errors else 200, errors=errors,
                             options=self.scenario_options(), scenario=scen, provinces=self.province_options(lang),
                             chosen_provinces=provs, objective=objective, budget_million=budget_m, target=target,
                             fields=fields, all_fields=FIELDS, frontier=frontier, field_labels=self.field_labels(lang),
                             confidence=confidence, budget_path=path_raw, payers=forms.PAYERS,
                             payer_values={p: (form.get(f"payer_{p}") if form is not None else None) or ""
                                           for p in forms.PAYERS})
        common = []
        for p in provs:
            common += ["--province", p]
        common += ["--lang", lang] + forms.planning_argv(None, payers)
        budget = f"{budget_m * 1e6:.0f}"
        if 0 < len(fields) < len(FIELDS):          # the objective and targets count these fields only
            for f in fields:
                common += ["--field", f]
        if objective == "cost":
            argv = ["size-budget", ref, "--target", f"{target:g}", *common]
            if confidence is not None:   # simulated: the smallest fund reaching the target with this probability
                argv += ["--confidence", f"{confidence:g}", "--replications", "20"]
        else:
            money = forms.planning_argv(path, {}) if path else ["--budget", budget]   # by year, or every year
            argv = ["optimize", ref, *money, "--objective", objective, *common]   # --target: cost only
        hashes = self._hashes([ref])
        keys = [self.jobs.submit(argv, hashes, title=f"{argv[0]} {scen}")]
        if frontier:
            top = max(budget_m * 2e6, 1e6)
            keys.append(self.jobs.submit(["frontier", ref, "--budgets", f"0:{top:.0f}:8", *common], hashes,
                                         title=f"frontier {scen}"))
        query = urllib.parse.urlencode({"fields": ",".join(fields)}) if len(fields) < len(FIELDS) else ""
        return RedirectResponse(f"/jobs/{','.join(keys)}" + (f"?{query}" if query else ""), status_code=303)

    # -- jobs
    def _states(self, request: Request):
        keys = request.path_params["keys"].split(",")[:4]
        states = [self.jobs.state(k) for k in keys]
        return None if any(s is None for s in states) else states

    def _result_url(self, states, fields: str = "") -> str:
        q = {}
        if len(states) > 1:
            q["with"] = ",".join(s.out for s in states[1:])
        if fields:
            q["fields"] = fields
        return f"/results/{states[0].out}" + (f"?{urllib.parse.urlencode(q)}" if q else "")

    async def job(self, request: Request):
        states = await run_in_threadpool(self._states, request)
        if states is None:
            return self.page(request, "message.html", status=404, message="not_found")
        fields = request.query_params.get("fields", "")
        if all(s.status == "done" for s in states):
            return RedirectResponse(self._result_url(states, fields), status_code=303)
        return self.page(request, "job.html", states=states, keys=request.path_params["keys"],
                         result_url=self._result_url(states, fields))

    async def job_api(self, request: Request):
        states = await run_in_threadpool(self._states, request)
        if states is None:
            return JSONResponse({"error": "unknown job"}, status_code=404)
        return JSONResponse({"jobs": [s.as_dict() for s in states],
                             "done": all(s.status == "done" for s in states),
                             "result_url": self._result_url(states, request.query_params.get("fields", ""))})

    async def job_cancel(self, request: Request):
        keys = request.path_params["keys"]
        for k in keys.split(",")[:4]:
            await run_in_threadpool(self.jobs.cancel, k)
        return RedirectResponse(f"/jobs/{keys}", status_code=303)

    # -- results
    async def results(self, request: Request):
        rows = await run_in_threadpool(folders.list_results, self.root)
        jobs = await run_in_threadpool(self.jobs.jobs)
        return self.page(request, "results.html", rows=rows, jobs=[j for j in jobs if j.status != "done"])

    async def result(self, request: Request):
        return await run_in_threadpool(self._result, request)

    def _result(self, request: Request):
        lang = self.lang(request)
        folder = folders.safe_path(self.root, request.path_params["name"])
        m = folders.manifest(folder) if folder is not None and folder.is_dir() else None
        if m is None:
            return self.page(request, "message.html", status=404, message="not_found")
        fields = [f for f in request.query_params.get("fields", "").split(",") if f in FIELDS]
        extra = []
        for name in request.query_params.get("with", "").split(",")[:3]:
            f = folders.safe_path(self.root, name) if name else None
            if f is not None and folders.manifest(f) is not None:
                extra.append(self._one(f, lang, fields))
        return self.page(request, "result.html", main=self._one(folder, lang, fields), extra=extra)

    def _one(self, folder: Path, lang: str, fields: list[str]) -> dict:
        import base64
        m = folders.manifest(folder) or {}
        levers, alloc_rows, n_counties = folders.allocation(folder, lang, fields)
        figures = sorted((f for f in folders.files_of(folder) if f.endswith(".png")),
                         key=lambda f: ("trajector" not in f, "decompos" not in f, f))
        # the app draws a county map only when the result folder has none of its own
        png = None if any("map" in Path(f).name for f in figures) else folders.county_map(folder, lang)
        return {"name": folder.name, "manifest": m, "files": folders.files_of(folder),
                "figures": figures,
                "headline": folders.headline(folder, lang), "decomposition": folders.decomposition(folder, lang),
                "levers": levers, "alloc_rows": alloc_rows, "n_counties": n_counties,
                "one_more_million": folders.one_more_million(folder),
                "budget_summary": folders.budget_summary(folder, lang), "sized": folders.sized(folder, lang), "frontier": folders.frontier(folder, lang),
                "map_png": base64.b64encode(png).decode() if png else None, "fields": fields}

    async def excel(self, request: Request):
        """The result folder as one workbook (``grassroots.excel``, the workbook ``--excel`` writes): the
        folder's own ``results.xlsx`` when the command wrote one, else made now from its files."""
        folder = folders.safe_path(self.root, request.path_params["name"])
        m = folders.manifest(folder) if folder is not None and folder.is_dir() else None
        if m is None:
            return PlainTextResponse("404: no such result folder\n", status_code=404)
        name = f"{folder.name}.xlsx"
        if (folder / "results.xlsx").is_file():
            return FileResponse(folder / "results.xlsx", media_type=XLSX_TYPE, filename=name)
        from ..excel import workbook_bytes
        data = await run_in_threadpool(workbook_bytes, folder, m)
        return Response(data, media_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def file(self, request: Request):
        p = folders.safe_path(self.root, request.path_params["name"], request.path_params["rest"])
        if p is None or not p.is_file():
            return PlainTextResponse("404: no such file in the results folder\n", status_code=404)
        attach = not p.name.endswith((".html", ".png")) or request.query_params.get("download") == "1"
        return FileResponse(p, filename=p.name if attach else None,
                            content_disposition_type="attachment" if attach else "inline")


def create_app(root: str | Path = "results", token: str | None = None, loopback: bool = True):
    """The ASGI app over the results folder ``root``; with ``token`` every request must carry it;
    ``loopback``: served on 127.0.0.1 only (requests must name this computer in ``Host``)."""
    a = App(root)
    routes = [
        Route("/", a.home), Route("/healthz", a.healthz), Route("/lang/{lang}", a.set_lang),
        Route("/scenario", a.scenario, methods=["GET", "POST"]),
        Route("/scenario/upload", a.scenario_upload, methods=["POST"]),
        Route("/scenario/file/{name}", a.scenario_file),
        Route("/compare", a.compare, methods=["GET", "POST"]),
        Route("/budget", a.budget, methods=["GET", "POST"]),
        Route("/jobs/{keys}", a.job), Route("/api/jobs/{keys}", a.job_api),
        Route("/jobs/{keys}/cancel", a.job_cancel, methods=["POST"]),
        Route("/results", a.results), Route("/results/{name}", a.result),
        Route("/results/{name}/results.xlsx", a.excel),
        Route("/files/{name}/{rest:path}", a.file),
    ]
    app = Starlette(routes=routes)
    app.state.grassroots = a
    threading.Thread(target=a.warm, daemon=True).start()
    return Gate(app, token, loopback=loopback)
