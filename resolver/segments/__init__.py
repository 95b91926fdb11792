"""Segments: names, sidecars, versions made by committed files, and the catalogue the
distributor reads."""
