"""Baselines for `resolver hash`/`resolve`, run as child processes by resolve_bench.

python  : a straightforward pure-Python implementation (csv + hashlib + hmac), one row at
          a time, with light normalization (strip/lower; phone digits only).
duckdb  : plain DuckDB SQL, sha256(lower(trim(email))) etc., without real normalization.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
import sys


def pure_python(src: str, dst: str, keyed: bool) -> None:
    key = b"k" * 32
    digits = re.compile(r"[^0-9]")
    with (
        open(src, newline="", encoding="utf-8") as fin,
        open(dst, "w", newline="", encoding="utf-8") as fout,
    ):
        reader = csv.DictReader(fin)
        writer = csv.writer(fout)
        writer.writerow(["email_sha256", "phone_sha256", "maid_sha256"])
        for row in reader:
            email = row["email"].strip().lower()
            phone = digits.sub("", row["phone"])
            maid = row["idfa"].strip().lower()
            out = [
                hashlib.sha256(v.encode()).hexdigest() if v else "" for v in (email, phone, maid)
            ]
            if keyed:
                out = [hmac.new(key, v.encode(), "sha256").hexdigest() if v else "" for v in out]
            writer.writerow(out)


def duckdb_sql(src: str, dst: str) -> None:
    import duckdb

    con = duckdb.connect()
    # COPY ... TO takes no bound parameters; both paths are the benchmark's own temp files.
    con.execute(f"""
        COPY (SELECT sha256(lower(trim(email))) AS email_sha256,
                     sha256(regexp_replace(phone, '[^0-9]', '', 'g')) AS phone_sha256,
                     sha256(lower(trim(idfa))) AS maid_sha256
              FROM read_csv('{src}', all_varchar=true, header=true))
        TO '{dst}' (HEADER, DELIMITER ',')""")  # noqa: S608


if __name__ == "__main__":
    kind, src, dst = sys.argv[1:4]
    if kind == "duckdb":
        duckdb_sql(src, dst)
    else:
        pure_python(src, dst, keyed=kind == "python-keyed")
