"""Tessera distributor: segments out to ad platforms, TikTok first."""

__all__: list[str] = []
