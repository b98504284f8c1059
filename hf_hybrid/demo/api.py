"""A plain JSON search route beside the page: ``GET /api/search?q=…&k=10&lang=sw&lang=yo``.

Why: Gradio's own API (``POST /gradio_api/call/search``, then its event stream) is two requests through its
queue, a session state per caller and the page's components (tables, charts): 27.7 ms at p50 against 13.9 ms for
the encode and search it wraps, 19.0 ms through this route (``benchmarks/bench_demo.py``, ``benchmarks/RESULTS.md``). A
script that wants rankings, not a page, gets them from this route in one request, from the same
:class:`~hf_hybrid.demo.search.DemoSearch` (or :class:`~hf_hybrid.demo.worker.RemoteSearch`).

It keeps the page's limits: at most ``concurrency_limit`` searches run at once and ``max_queue`` may wait; more
are refused with 503, as the queue refuses them. Until the models are ready it answers 503 with the start-up
line; bad input is 400 with the one-line error the page shows.
"""

from __future__ import annotations

from hf_hybrid.demo.startup import Startup
from hf_hybrid.errors import UserError

SEARCH_ROUTE = "/api/search"


class SearchRoute:
    """The route's handler: validates through the search itself, runs it in a worker thread within the limits."""

    def __init__(self, startup: Startup):
        import anyio

        self.startup = startup
        self.labels = dict(zip(startup.config.models, startup.labels, strict=True))
        self.running = anyio.CapacityLimiter(startup.config.concurrency_limit)
        self.waiting = 0

    async def handle(self, request):
        """One search: ``q`` (the query), ``k`` (top-k, default as the page), ``lang`` (repeatable; none = all)."""
        from starlette.responses import JSONResponse

        from hf_hybrid.demo.app import startup_line

        search, config = self.startup.search, self.startup.config
        if search is None:
            return JSONResponse({"error": startup_line(self.startup)}, status_code=503)
        if self.waiting >= config.max_queue + config.concurrency_limit:
            return JSONResponse({"error": f"busy: {self.waiting} searches running or waiting; retry shortly"},
                                status_code=503)
        params = request.query_params
        self.waiting += 1
        try:
            results = await _in_thread(self.running, search.search, params.get("q"), params.get("k"),
                                       params.getlist("lang"))
        except UserError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        finally:
            self.waiting -= 1
        return JSONResponse({"query": params.get("q"), "results": [
            {"model": r.model, "label": self.labels.get(r.model, r.model), "hits": r.rows} for r in results]})


async def _in_thread(limiter, fn, *args):
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)


def add_search_route(fastapi_app, startup: Startup) -> None:
    """Serve :data:`SEARCH_ROUTE` from the app Gradio's ``launch`` made (``blocks.app``)."""
    fastapi_app.add_route(SEARCH_ROUTE, SearchRoute(startup).handle, methods=["GET"])
