"""`make bench`: the real server, over HTTP, on a large catalogue, against a hand-written floor.

catalogue.py  the throwaway database and its deterministic rows, loaded in bulk
screens.py    the GraphQL documents sent (home, category, catalogue, player, two writes)
floor.py      the same screens as plain SQL + orjson in a minimal Starlette app
processes.py  both servers as uvicorn subprocesses; statements read from the access log
load.py       the keep-alive load generator (asyncio, bounded in requests and time)
report.py     the table and the targets
run.py        one run, start to end; __main__.py its command line
"""
