"""Durable state: SQLite (db.py) with every resolver statement (control.py), the Parquet
store (store.py), AES-GCM sealing (seal.py) and atomic private writes (atomic.py)."""
