"""The partner inbox: discovery and claims (watch.py), the per-file state machine
(ingest.py), start-up recovery (recovery.py), raw retention, status and the serve loop."""
