"""A TikTok Business API v1.3 emulator (a real HTTP server, or the same ASGI app in
process) for tests, benchmarks, the demo and trying the distributor without TikTok:
app.py (dispatch), endpoints.py (TikTok's endpoints), admin.py (/_sandbox/), faults.py,
state.py (advertisers, tokens, audiences, the synthetic user base), serve.py (uvicorn),
handle.py and process.py (handles for callers)."""
